"""The Flask application factory (Flask tutorial pattern: ``create_app(config)``).

``create_app`` wires what every blueprint relies on:

* the store, as ``app.extensions["crkg.store"]`` (a ``crkg.store.base.Store``): the
  embedded Oxigraph store at ``config.STORE_DIR`` opened read-only by
  ``config.QUERY_WORKERS`` query processes, or ``crkg.store.remote.RemoteStore`` when
  ``config.BACKEND`` names a SPARQL endpoint, or the *store* argument (tests);
* one error handler for every HTTP error (``crkg.web.errors``);
* the request body cap (``MAX_CONTENT_LENGTH`` = ``config.MAX_REQUEST_BYTES``: 413);
* the security headers on every response (``SECURITY_HEADERS``, a default
  Content-Security-Policy) and the jinja test ``web_iri`` (links only to http(s) IRIs);
* the caller of each request's queries (client address, hang-up check) for the store's
  admission rules (``crkg.store.admission``);
* the WSGI short-cut for a successful ``/sparql`` query (``crkg.web.sparql_shortcut``).

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

    return EmbeddedStore.from_config(config, admit=True)


#: Headers on every response (issue 13). The policy allows scripts and styles from this
#: origin only - never inline, so nothing from the data can run; a page that needs more
#: (the query page: YASGUI's inline styles) sets its own ``Content-Security-Policy``.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors for browsers without CSP 2
    # query strings hold queries: other sites see this origin at most
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
_ALL_SECURITY_HEADERS = tuple(
    ((name, value), name.lower())
    for name, value in (("Content-Security-Policy", CONTENT_SECURITY_POLICY), *SECURITY_HEADERS.items())
)


def is_web_iri(value) -> bool:
    """An ``http``/``https`` IRI: the only kind a page turns into a link (not ``javascript:``)."""
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


class _PerRequest:
    """WSGI middleware around the Flask app: what every request needs, at least cost.

    * its queries run on behalf of its client (``crkg.store.admission``): the address and
      waitress's hang-up check (``crkg.web.front``; other servers have none);
    * the security headers are added to every response that has not set its own.

    A middleware rather than Flask hooks: three hooks (and werkzeug header look-ups) were
    a measurable part of the ~0.15 ms the app spends on a lookup (bench/fixed_cost.py).
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        from crkg.store.admission import Caller, enter_caller, leave_caller

        disconnected = environ.get("waitress.client_disconnected")
        client = environ.get("REMOTE_ADDR")
        caller = Caller(client, disconnected) if disconnected else Caller(client)

        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h, low in _ALL_SECURITY_HEADERS if low not in present)
            return start_response(status, headers, exc_info)

        token = enter_caller(caller)
        try:
            return self.wsgi_app(environ, start)
        finally:
            leave_caller(token)


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
    from crkg.web.sparql_shortcut import SparqlShortcut

    # the common /sparql query skips Flask (crkg.web.sparql_shortcut); both paths get the
    # security headers and the request's caller
    app.wsgi_app = _PerRequest(SparqlShortcut(app, config, store, app.wsgi_app))
    app.jinja_env.tests["web_iri"] = is_web_iri
    for spec in BLUEPRINTS:
        # A missing blueprint module is an error, never a silently smaller service.
        module_name, attr = spec.split(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
    return app
