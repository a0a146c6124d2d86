"""The Flask application factory (Flask tutorial pattern: ``create_app(config)``).

``create_app`` wires what every blueprint relies on:

* the store, as ``app.extensions["crkg.store"]`` (a ``crkg.store.base.Store``): the
  embedded Oxigraph store at ``config.STORE_DIR`` opened read-only by
  ``config.QUERY_WORKERS`` query processes, or ``crkg.store.remote.RemoteStore`` when
  ``config.BACKEND`` names a SPARQL endpoint, or the *store* argument (tests);
* one error handler for every HTTP error (``crkg.web.errors``);
* the request body cap (``MAX_CONTENT_LENGTH`` = ``config.MAX_REQUEST_BYTES``: 413).

A store the factory opened is closed with the process (``atexit``); a store passed in
belongs to the caller.
"""

from __future__ import annotations

import atexit
import importlib

from flask import Flask, current_app

from crkg.web import errors
from crkg.config import Config

#: Each concern is one blueprint: "module:attribute". The app is a thin wrapper.
BLUEPRINTS = (
    "crkg.web.sparql:bp",
    "crkg.web.resource_pages:bp",
    "crkg.web.ontology_doc:bp",
    "crkg.web.dumps:bp",
    "crkg.web.void:bp",
    "crkg.web.query_page:bp",
    # the evidence views (issue 12)
    "crkg.web.studies:bp",
    "crkg.web.evidence:bp",
    "crkg.web.search:bp",
    "crkg.web.citations:bp",
)

STORE_KEY = "crkg.store"
CONFIG_KEY = "CRKG_CONFIG"


def current_store():
    """The store of the app handling the request (a ``crkg.store.base.Store``)."""
    return current_app.extensions[STORE_KEY]


def current_config() -> Config:
    """The ``crkg.config.Config`` the app handling the request was made with."""
    return current_app.config[CONFIG_KEY]


def open_store(config: Config):
    """The store *config* names: a remote endpoint (``BACKEND``) or the embedded store."""
    if config.BACKEND:
        from crkg.store.remote import RemoteStore

        return RemoteStore(config.BACKEND, config=config)
    from crkg.store.embedded import EmbeddedStore

    return EmbeddedStore.from_config(config)


def create_app(config: Config | None = None, store=None) -> Flask:
    """Build the app. *store* (a ``crkg.store.base.Store``) overrides the configured one."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(config.as_flask())
    app.config[CONFIG_KEY] = config
    app.config["MAX_CONTENT_LENGTH"] = config.MAX_REQUEST_BYTES
    if store is None:
        store = open_store(config)
        atexit.register(store.close)
    app.extensions[STORE_KEY] = store
    errors.init_app(app)
    for spec in BLUEPRINTS:
        # A missing blueprint module is an error, never a silently smaller service.
        module_name, attr = spec.split(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
    return app
