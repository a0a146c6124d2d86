"""The SPARQL 1.1 Protocol query operation (https://www.w3.org/TR/sparql11-protocol/), apart
from the web framework.

Two callers share it, so that there is one implementation of the protocol's rules:

* the Flask view ``crkg.web.sparql.endpoint`` (every ``/sparql`` request that the
  short-cut leaves to Flask: errors, ``HEAD``, ``OPTIONS``, the bare ``GET``);
* the WSGI short-cut ``crkg.web.sparql_shortcut`` in front of Flask, which answers the
  common case - a query by ``GET`` or ``POST`` that succeeds - without Flask's request
  and response objects (issue 14 item 5: the fixed cost of a request).

A request is read into a :class:`ProtocolRequest` (method, raw query string, media type,
``Accept``, body); :func:`parameters` decodes it strictly, :func:`prepare` turns it into
a :class:`QueryCall` (guard verdict, dataset, negotiated format) and :func:`answer` runs
it. Every refusal is a werkzeug ``HTTPException`` (``abort``), rendered by the app's one
error handler (``crkg.web.errors``) whichever caller raised it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable
from urllib.parse import unquote_to_bytes

from werkzeug.exceptions import abort

from crkg.formats import RDF_FORMATS, RESULT_FORMATS, media_types
from crkg.store.base import UPDATE_REFUSED
from crkg.store.sparql_http import FORM_URLENCODED
from crkg.web.conneg import negotiate

RESULT_TYPES = tuple(media_types(RESULT_FORMATS))
RDF_TYPES = tuple(media_types(RDF_FORMATS))
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
METHODS = ["GET", "POST", "OPTIONS"]

#: headers a browser script may read (CORS)
EXPOSED = "X-CRKG-Truncated, X-CRKG-Max-Rows, Content-Type, Content-Length"
#: on every answer at /sparql, errors included: other sites' scripts may read it, and the
#: format depends on ``Accept``
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", EXPOSED),
)


@dataclass(frozen=True)
class ProtocolRequest:
    """What the protocol reads of an HTTP request."""

    method: str
    query_string: bytes
    #: the media type of ``Content-Type``, lower case ('' when there is none)
    mimetype: str
    #: the ``charset`` parameter of ``Content-Type``, if any
    charset: str | None
    accept: str | None
    #: the body (called only for a POST; the caller enforces the size cap)
    read_body: Callable[[], bytes]


@dataclass(frozen=True)
class QueryCall:
    """A query the protocol accepted: what the store is asked to run."""

    query: str
    info: object  # crkg.store.guard.QueryInfo, the store's verdict
    media_type: str
    default_graphs: list[str]
    named_graphs: list[str]


# ----------------------------------------------------------------------- parameters


def _decode_pairs(raw: bytes, where: str, limit: int) -> list[tuple[str, str]]:
    """Parse ``a=b&c=d`` strictly: the percent-decoded bytes must be UTF-8 (else 400).

    Not werkzeug's ``request.args``/``request.form``: they replace undecodable bytes with
    U+FFFD, which would run a different query from the one sent.
    """
    parts = [p for p in raw.split(b"&") if p]
    if len(parts) > limit:
        abort(400, description=f"the {where} has more than {limit} parameters")
    out = []
    for part in parts:
        key, _, value = part.partition(b"=")
        try:
            out.append((
                unquote_to_bytes(key.replace(b"+", b" ")).decode("utf-8"),
                unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8"),
            ))
        except UnicodeDecodeError as exc:
            abort(400, description=f"the {where} is not UTF-8 (byte {exc.start}: {exc.reason})")
    return out


def parameters(req: ProtocolRequest, config) -> list[tuple[str, str]]:
    """Every protocol parameter of the request, as (name, value) in order (§2.1.1-§2.1.3)."""
    limit = config.MAX_REQUEST_BYTES
    if len(req.query_string) > limit:
        abort(414, description=f"the URL is longer than {limit} bytes: send long queries by POST")
    params = _decode_pairs(req.query_string, "URL query string", config.MAX_PARAMETERS)
    if req.method in ("GET", "HEAD"):
        return params
    media = req.mimetype
    if media == FORM_URLENCODED:
        return params + _decode_pairs(req.read_body(), "form body", config.MAX_PARAMETERS)
    if media == SPARQL_QUERY:
        charset = (req.charset or "utf-8").strip().lower()
        if charset not in ("utf-8", "utf8"):
            abort(415, description=f"{SPARQL_QUERY} must be UTF-8, not charset={charset}")
        if any(name == "query" for name, _ in params):
            abort(400, description=f"a {SPARQL_QUERY} body and a query= parameter: give one query")
        try:
            text = req.read_body().decode("utf-8")
        except UnicodeDecodeError as exc:
            abort(400, description=f"the query is not UTF-8 (byte {exc.start}: {exc.reason})")
        return params + [("query", text)]
    if media == SPARQL_UPDATE:
        abort(403, description=UPDATE_REFUSED)
    given = f"Content-Type {req.mimetype}" if req.mimetype else "no Content-Type"
    abort(415, description=f"POST a query as {FORM_URLENCODED} or {SPARQL_QUERY} ({given})")


def the_query(req: ProtocolRequest, params) -> tuple[str | None, str | None]:
    """(the one ``query`` parameter or None, the ``format`` parameter or None); 403 for an
    update, 400 for two queries or a POST without one."""
    if any(k == "update" for k, _ in params):
        abort(403, description=UPDATE_REFUSED)
    queries = [v for k, v in params if k == "query"]
    if len(queries) > 1:
        abort(400, description=f"{len(queries)} query parameters: give exactly one query")
    format_param = next((v for k, v in params if k == "format"), None)
    if not queries:
        if req.method in ("GET", "HEAD"):
            return None, format_param  # the service description
        abort(400, description="no query: give the query in a query= parameter or a "
                               f"{SPARQL_QUERY} body")
    return queries[0], format_param


def _graph_iris(params, name: str) -> list[str]:
    iris = [v for k, v in params if k == name]
    if iris:
        import pyoxigraph as ox

        for iri in iris:
            try:
                ox.NamedNode(iri)
            except ValueError as exc:
                abort(400, description=f"{name}={iri!r} is not an IRI: {exc}")
    return iris


@lru_cache(maxsize=512)
def _negotiated(offered: tuple[str, ...], accept: str | None, format_param: str | None) -> str | None:
    # clients send the same few Accept headers over and over; the cache is bounded, so
    # varied headers cost a parse each, never memory
    return negotiate(list(offered), accept, format_param)


def prepare(req: ProtocolRequest, query: str, format_param: str | None, params, store) -> QueryCall:
    """Check *query* (the guard runs once, here, with the store's settings; the store
    trusts its verdict) and pick the answer's format (406 when none is acceptable)."""
    if not query.strip():
        abort(400, description="the query is empty")
    default_graphs = _graph_iris(params, "default-graph-uri")
    named_graphs = _graph_iris(params, "named-graph-uri")
    info = store.inspect(query)  # raises before anything runs
    if info.form == "update":
        abort(403, description=UPDATE_REFUSED)
    offered = RDF_TYPES if info.form in ("construct", "describe") else RESULT_TYPES
    media_type = _negotiated(offered, req.accept, format_param)
    if media_type is None:
        asked = f"format={format_param}" if format_param else f"Accept: {req.accept}"
        kind = "a graph" if offered is RDF_TYPES else "query results"
        abort(406, description=f"cannot answer {asked} for {kind}; offered: {', '.join(offered)}")
    return QueryCall(query, info, media_type, default_graphs, named_graphs)


# ----------------------------------------------------------------------- the answer


def answer(call: QueryCall, store, config) -> tuple[list[tuple[str, str]], bytes]:
    """Run *call*: (the response headers but CORS and Content-Length, the body).

    Row cap: a result cut at ``MAX_ROWS`` rows (triples) is still a 200 with all the rows
    up to the cap, and says so in ``X-CRKG-Truncated``/``X-CRKG-Max-Rows`` and, for SPARQL
    JSON / XML results, a ``link`` in the result head.
    """
    result = store.query(
        call.query,
        media_type=call.media_type,
        default_graph_uris=call.default_graphs,
        named_graph_uris=call.named_graphs,
        timeout=config.QUERY_TIMEOUT,
        max_rows=config.MAX_ROWS,
        info=call.info,
    )
    body = result.body
    headers = [("Content-Type", content_type(result.media_type))]
    if result.truncated:
        body = _mark_truncated(body, result.media_type, config.MAX_ROWS)
        headers += [("X-CRKG-Truncated", "true"), ("X-CRKG-Max-Rows", str(config.MAX_ROWS))]
    return headers, body


def content_type(media_type: str) -> str:
    if media_type.startswith("text/"):
        return f"{media_type}; charset=utf-8"
    return media_type


def _mark_truncated(body: bytes, media_type: str, max_rows: int) -> bytes:
    """Add ``link`` to the result head (SPARQL 1.1 JSON results §3.1, XML results §2.3)."""
    link = f"urn:crkg:truncated:max-rows={max_rows}"
    start = b'{"head":{'
    if media_type == "application/sparql-results+json" and body.startswith(start):
        rest = body[len(start):]
        separator = b"" if rest.startswith(b"}") else b","
        return start + b'"link":["' + link.encode() + b'"]' + separator + rest
    if media_type == "application/sparql-results+xml" and b"</head>" in body:
        return body.replace(b"</head>", b'<link href="' + link.encode() + b'"/></head>', 1)
    return body
