"""The Flask application factory (Flask tutorial pattern: ``create_app(config)``)."""

from __future__ import annotations

import importlib

from flask import Flask

from crkg.web.config import Config

#: Each concern is one blueprint: "module:attribute". The app is a thin wrapper.
BLUEPRINTS = (
    "crkg.web.sparql:bp",
    "crkg.web.linked_data:bp",
    "crkg.web.query_page:bp",
)


def create_app(config: Config | None = None, store=None) -> Flask:
    """Build the app. *store* (a ``crkg.store.base.Store``) overrides the configured one."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(config.as_flask())
    app.config["CRKG_CONFIG"] = config
    # Further wiring (store, error handlers, CORS, guards) is done by the web modules.
    for spec in BLUEPRINTS:
        module_name, attr = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # blueprint not written yet
        app.register_blueprint(getattr(module, attr))
    return app
