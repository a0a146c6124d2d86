"""The common ``/sparql`` request answered in plain WSGI, in front of Flask.

Issue 14 item 5 asks for a request's fixed cost within 1.5x of a bare WSGI app over
pyoxigraph. Flask's request context, URL matching, request and response objects and hooks
cost ~0.07 ms per request on the project's machine (measured against a plain WSGI
function answering the same bytes), a third of what crkg adds to a lookup. So a query sent
by ``GET`` or by ``POST`` with a ``Content-Length`` within the cap is read here and run
through the same protocol functions as the Flask view (``crkg.web.sparql_protocol``);
everything else goes to Flask untouched: ``HEAD``, ``OPTIONS``, the bare ``GET`` (service
description, query page), a body without ``Content-Length`` or over the cap (Flask's
413), every other path.

An error - a refusal of the protocol (``HTTPException``) or of the store (``QueryError``,
``QueryTimeout``, ``ClientOverShare``, ...), or anything unexpected - is rendered by the
app's own error handlers (``crkg.web.errors``) and ``after_request`` hooks in a Flask
request context, so an error answer is the same byte for byte whichever path raised it
(``tests/http/test_sparql_shortcut.py`` compares the two paths). The body of a ``POST``
is read once and handed on, so Flask can read it again.

The short-cut runs no Flask ``before_request`` hooks: the app registers none (a test
fails when one is added, so that it is added here too or the short-cut is narrowed). The
security headers and the caller of the request (``crkg.web.app._PerRequest``) wrap both
paths.
"""

from __future__ import annotations

import io

from werkzeug.http import parse_options_header

from crkg.web import sparql_protocol as protocol

PATH = "/sparql"
#: Vary: the answer's format depends on Accept
_FIXED_HEADERS = list(protocol.CORS_HEADERS) + [("Vary", "Accept")]


class SparqlShortcut:
    """WSGI middleware: answers a successful ``/sparql`` query, hands on the rest."""

    def __init__(self, app, config, store, wsgi_app):
        self.app = app  # the Flask app: its error handlers and hooks render the errors
        self.config = config
        self.store = store
        self.wsgi_app = wsgi_app  # what comes after: Flask's own WSGI app

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != PATH or method not in ("GET", "POST"):
            return self.wsgi_app(environ, start_response)
        body = b""
        if method == "POST":
            length = environ.get("CONTENT_LENGTH") or ""
            # waitress de-chunks a body and says its length; a server that hands on
            # Transfer-Encoding leaves the body's framing to Flask (werkzeug)
            size = int(length) if length.isdigit() else -1
            if not 0 <= size <= self.config.MAX_REQUEST_BYTES or "HTTP_TRANSFER_ENCODING" in environ:
                return self.wsgi_app(environ, start_response)
            body = environ["wsgi.input"].read(size) if size else b""
            environ["wsgi.input"] = io.BytesIO(body)  # readable again by Flask
        mimetype, options = parse_options_header(environ.get("CONTENT_TYPE") or "")
        req = protocol.ProtocolRequest(
            method=method,
            query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
            mimetype=mimetype.lower(),
            charset=options.get("charset"),
            accept=environ.get("HTTP_ACCEPT"),
            read_body=lambda: body,
        )
        try:
            params = protocol.parameters(req, self.config)
            query, format_param = protocol.the_query(req, params)
            if query is None:  # the service description or the query page: Flask's
                return self.wsgi_app(environ, start_response)
            call = protocol.prepare(req, query, format_param, params, self.store)
            headers, answer = protocol.answer(call, self.store, self.config)
        except Exception as exc:  # noqa: BLE001 - every error goes to the app's handlers
            return self._error(environ, start_response, exc)
        headers += _FIXED_HEADERS
        headers.append(("Content-Length", str(len(answer))))
        start_response("200 OK", headers)
        return [answer]

    def _error(self, environ, start_response, exc: Exception):
        """*exc* rendered as the Flask view's error would be (handlers, after_request)."""
        app = self.app
        with app.request_context(environ):
            try:
                rv = app.handle_user_exception(exc)
            except Exception as unhandled:  # no handler took it (crkg.web.errors takes all)
                rv = app.handle_exception(unhandled)
            response = app.process_response(app.make_response(rv))
        return response(environ, start_response)
