"""One error handler: every HTTP error has the same body shape, plain text or JSON.

STYLE.md (microblog-api): one handler gives every error the same shape. The body is

* ``text/plain``: ``400 Bad Request: <message>`` and a newline (the default: SPARQL
  clients such as SPARQLWrapper show the body to their user as it is), or
* ``application/json`` when the client prefers JSON (``Accept`` ranks a JSON type above
  ``text/plain``): ``{"error": {"status": 400, "title": "Bad Request", "message": "..."}}``.

Bad input never gives a 5xx: the store's ``QueryError`` (and ``ServiceNotAllowed``) is a
400; only ``QueryTimeout`` and ``BackendUnavailable`` (the engine stopped or is busy) are
503, and an unexpected exception is a 500 with the same shape (and is logged).

Other blueprints raise ``flask.abort(status, description="...")`` or
``crkg.web.errors.error_response(status, message)``.
"""

from __future__ import annotations

import json

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from crkg.store.base import BackendUnavailable, QueryError, QueryTimeout
from crkg.web.conneg import parse_accept

_JSON_TYPES = {"application/json", "application/problem+json", "application/sparql-results+json",
               "application/ld+json"}

#: Headers of a werkzeug HTTPException worth keeping (``Allow`` on 405, ``Retry-After``).
_KEEP = {"allow", "retry-after", "www-authenticate"}


def _wants_json(accept: str | None) -> bool:
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        if media in _JSON_TYPES or media.endswith("+json"):
            return True
        if media in ("text/plain", "text/*", "*/*", "text/html", "text/csv", "text/turtle"):
            return False
    return False


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """The body every error has (see the module docstring)."""
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    if _wants_json(request.headers.get("Accept") if request else None):
        body = json.dumps({"error": {"status": status, "title": title, "message": message}},
                          ensure_ascii=False)
        media = "application/json"
    else:
        body = f"{status} {title}: {message}\n"
        media = "text/plain; charset=utf-8"
    response = Response(body, status=status, content_type=media)
    response.headers["Vary"] = "Accept"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    kept = {k: v for k, v in exc.get_headers() if k.lower() in _KEEP}
    allowed = getattr(exc, "valid_methods", None)  # werkzeug's MethodNotAllowed
    if exc.code == 405 and allowed:
        kept["Allow"] = ", ".join(allowed)
    return error_response(exc.code or 500, exc.description or "", kept)


def _query_error(exc: QueryError) -> Response:
    return error_response(400, str(exc))


def _query_timeout(exc: QueryTimeout) -> Response:
    return error_response(503, str(exc), {"Retry-After": "5"})


def _backend_unavailable(exc: BackendUnavailable) -> Response:
    return error_response(503, str(exc), {"Retry-After": "5"})


def _unexpected(exc: Exception) -> Response:
    from flask import current_app

    if isinstance(exc, HTTPException):
        return _http_error(exc)
    current_app.logger.exception("unexpected error while answering %s %s", request.method, request.path)
    return error_response(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    """Register the handler for every HTTP error and every crkg store error."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(QueryTimeout, _query_timeout)
    app.register_error_handler(BackendUnavailable, _backend_unavailable)
    app.register_error_handler(Exception, _unexpected)
