"""The SPARQL 1.1 Protocol query operation at ``/sparql`` (https://www.w3.org/TR/sparql11-protocol/).

§2.1 query operation, all three forms:

* ``GET /sparql?query=...`` (§2.1.1);
* ``POST`` with ``application/x-www-form-urlencoded`` (§2.1.2);
* ``POST`` with ``application/sparql-query``, UTF-8 (§2.1.3), the other parameters in
  the URL;

each with ``default-graph-uri`` / ``named-graph-uri`` repeated (§2.1.4: given, they
replace the query's own dataset; absent, the default graph is the union of all named
graphs). The result format is chosen by ``Accept`` (q-values) or ``?format=``
(``crkg.web.conneg``): SELECT/ASK as SPARQL JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE as
Turtle, N-Triples, JSON-LD, RDF/XML; 406 when none is acceptable. ``Vary: Accept``.

A bare ``GET /sparql`` answers the service description (SPARQL 1.1 Service Description)
in an RDF format, or the query page to a browser (``Accept: text/html``).

Statuses for what the protocol calls a bad request (§2.1.4 / §4): 400 malformed query
(the parser's message), two ``query`` parameters, a missing query, bytes that are not
UTF-8, a graph IRI that is not an IRI, a SERVICE not on the allow-list, a query nested
too deeply; 403 an update (``update=``, ``application/sparql-update`` or an update in
``query``: this endpoint only answers queries); 405 another method (with ``Allow``); 415
a POST without one of the two media types, or ``application/sparql-query`` in another
charset; 413 a body over the cap and 414 a URL over it; 406 no acceptable format;
503 the time limit stopped the query (or every worker is busy).

Row cap: a result cut at ``MAX_ROWS`` rows (triples) is still a 200 with all the rows up
to the cap, and says so in three places: the headers ``X-CRKG-Truncated: true`` and
``X-CRKG-Max-Rows: N`` (exposed to browser scripts by CORS), and for SPARQL JSON / XML
results a ``link`` in the result ``head`` (``urn:crkg:truncated:max-rows=N``), which
SPARQLWrapper users see in ``results["head"]["link"]`` without looking at headers.

CORS: ``Access-Control-Allow-Origin: *`` on every answer; ``OPTIONS`` answers the
preflight, so other sites' query tools (YASGUI, notebooks in a browser) can call it.
"""

from __future__ import annotations

import importlib
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Response, abort, request

from crkg.formats import GRAPH, RDF_FORMATS, RESULT_FORMATS, for_answer, media_types
from crkg.namespaces import CRKG, FORMATS, SD
from crkg.store.base import UPDATE_REFUSED
from crkg.store.sparql_http import FORM_URLENCODED
from crkg.web.app import current_config, current_store
from crkg.web.conneg import HTML, negotiate
from crkg.web.urls import endpoint_url

bp = Blueprint("sparql", __name__)

RESULT_TYPES = media_types(RESULT_FORMATS)
RDF_TYPES = media_types(RDF_FORMATS)
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
METHODS = ["GET", "POST", "OPTIONS"]

#: headers a browser script may read (CORS)
EXPOSED = "X-CRKG-Truncated, X-CRKG-Max-Rows, Content-Type, Content-Length"




# ----------------------------------------------------------------------- parameters


def _decode_pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Parse ``a=b&c=d`` strictly: the percent-decoded bytes must be UTF-8 (else 400).

    Not ``request.args``/``request.form``: werkzeug replaces undecodable bytes with U+FFFD,
    which would run a different query from the one sent.
    """
    parts = [p for p in raw.split(b"&") if p]
    limit = current_config().MAX_PARAMETERS
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


def _parameters() -> list[tuple[str, str]]:
    """Every protocol parameter of the request, as (name, value) in order."""
    limit = current_config().MAX_REQUEST_BYTES
    if len(request.query_string) > limit:
        abort(414, description=f"the URL is longer than {limit} bytes: send long queries by POST")
    params = _decode_pairs(request.query_string, "URL query string")
    if request.method in ("GET", "HEAD"):
        return params
    media = (request.mimetype or "").lower()
    if media == FORM_URLENCODED:
        return params + _decode_pairs(request.get_data(cache=True), "form body")
    if media == SPARQL_QUERY:
        charset = request.mimetype_params.get("charset", "utf-8").strip().lower()
        if charset not in ("utf-8", "utf8"):
            abort(415, description=f"{SPARQL_QUERY} must be UTF-8, not charset={charset}")
        if any(name == "query" for name, _ in params):
            abort(400, description=f"a {SPARQL_QUERY} body and a query= parameter: give one query")
        body = request.get_data(cache=True)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            abort(400, description=f"the query is not UTF-8 (byte {exc.start}: {exc.reason})")
        return params + [("query", text)]
    if media == SPARQL_UPDATE:
        abort(403, description=UPDATE_REFUSED)
    given = f"Content-Type {request.mimetype}" if request.mimetype else "no Content-Type"
    abort(415, description=f"POST a query as {FORM_URLENCODED} or {SPARQL_QUERY} ({given})")


def _graph_iris(params, name: str) -> list[str]:
    import pyoxigraph as ox

    iris = [v for k, v in params if k == name]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            abort(400, description=f"{name}={iri!r} is not an IRI: {exc}")
    return iris


# ----------------------------------------------------------------------- the endpoint


@bp.route("/sparql", methods=METHODS)
def endpoint():
    if request.method == "OPTIONS":
        return _preflight()
    params = _parameters()
    names = [k for k, _ in params]
    if "update" in names:
        abort(403, description=UPDATE_REFUSED)
    queries = [v for k, v in params if k == "query"]
    if len(queries) > 1:
        abort(400, description=f"{len(queries)} query parameters: give exactly one query")
    format_param = next((v for k, v in params if k == "format"), None)
    if not queries:
        if request.method in ("GET", "HEAD"):
            return _bare_get(format_param)
        abort(400, description="no query: give the query in a query= parameter or a "
                               f"{SPARQL_QUERY} body")
    query = queries[0]
    if not query.strip():
        abort(400, description="the query is empty")
    default_graphs = _graph_iris(params, "default-graph-uri")
    named_graphs = _graph_iris(params, "named-graph-uri")
    config = current_config()
    # The guard runs once, here, with the store's settings; the store trusts its verdict.
    info = current_store().inspect(query)  # raises 400 before anything runs
    if info.form == "update":
        abort(403, description=UPDATE_REFUSED)
    offered = RDF_TYPES if info.form in ("construct", "describe") else RESULT_TYPES
    media_type = negotiate(offered, request.headers.get("Accept"), format_param)
    if media_type is None:
        asked = f"format={format_param}" if format_param else f"Accept: {request.headers.get('Accept')}"
        kind = "a graph" if offered is RDF_TYPES else "query results"
        abort(406, description=f"cannot answer {asked} for {kind}; offered: {', '.join(offered)}")
    result = current_store().query(
        query,
        media_type=media_type,
        default_graph_uris=default_graphs,
        named_graph_uris=named_graphs,
        timeout=config.QUERY_TIMEOUT,
        max_rows=config.MAX_ROWS,
        info=info,
    )
    body = result.body
    response = Response(status=200)
    if result.truncated:
        body = _mark_truncated(body, result.media_type, config.MAX_ROWS)
        response.headers["X-CRKG-Truncated"] = "true"
        response.headers["X-CRKG-Max-Rows"] = str(config.MAX_ROWS)
    response.set_data(body)
    response.headers["Content-Type"] = _content_type(result.media_type)
    return response


def _content_type(media_type: str) -> str:
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


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers") or "Accept, Content-Type"
    )
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = ", ".join(METHODS)
    return response


@bp.after_app_request
def _headers(response: Response) -> Response:
    # Every answer at /sparql, errors included (also the 405 and 413 raised before the
    # view runs), can be read by another site's script.
    if request.path != "/sparql":
        return response
    headers = response.headers
    # plain header list operations: ``response.vary`` parses and re-serialises the
    # header, a measurable part of a ~0.2 ms request (issue 14, bench/fixed_cost.py)
    present = {name.lower(): value for name, value in headers.items()}
    if "access-control-allow-origin" not in present:
        headers.add("Access-Control-Allow-Origin", "*")
    if "access-control-expose-headers" not in present:
        headers.add("Access-Control-Expose-Headers", EXPOSED)
    vary = present.get("vary")
    if vary is None:
        headers.add("Vary", "Accept")
    elif "accept" not in {v.strip().lower() for v in vary.split(",")}:
        headers["Vary"] = vary + ", Accept"
    return response


# ----------------------------------------------------------------------- bare GET


def _bare_get(format_param: str | None) -> Response:
    accept = request.headers.get("Accept")
    # HTML only when the client asks for it (a browser), not for */* (curl, scripts)
    if format_param is None and negotiate(RDF_TYPES + [HTML], accept, None) == HTML:
        page = _query_page()
        if page is not None:
            return page
    media_type = negotiate(RDF_TYPES, accept, format_param)
    if media_type is None:
        abort(406, description=f"the service description is offered as {', '.join(RDF_TYPES)}")
    return Response(service_description(media_type), content_type=_content_type(media_type))


def _query_page() -> Response | None:
    try:
        module = importlib.import_module("crkg.web.query_page")
    except ModuleNotFoundError as exc:
        if exc.name != "crkg.web.query_page":
            raise
        return None
    render = getattr(module, "render_query_page", None)
    return render() if render else None


def _build_facts() -> str:
    """What the build of the served store did (``crkg.pipeline.artefacts.build_info``):
    whether HermiT checked the ontology and whether the OWL 2 RL inferences are in. Nothing
    for a remote back end or a store written by other means (unknown stays unknown)."""
    from crkg.pipeline.artefacts import build_info

    path = getattr(current_store(), "path", None)
    info = build_info(path) if path else None
    if not info:
        return ""
    facts = ""
    ran = (info.get("hermit") or {}).get("ran")
    if isinstance(ran, bool):
        facts += f"    crkg:hermitChecked {str(ran).lower()} ;\n"
    reason = (info.get("options") or {}).get("reason")
    if isinstance(reason, bool):
        facts += f"    crkg:inferencesMaterialised {str(reason).lower()} ;\n"
    return facts


def service_description(media_type: str) -> bytes:
    """SPARQL 1.1 Service Description of this endpoint, serialised as *media_type*."""
    import pyoxigraph as ox

    endpoint = endpoint_url()
    named = "".join(
        f"  sd:namedGraph [ a sd:NamedGraph ; sd:name <{iri}> ] ;\n" for iri in current_store().named_graphs()
    )
    turtle = f"""@prefix sd: <{SD}> .
@prefix crkg: <{CRKG}> .
<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query ;
  sd:feature sd:UnionDefaultGraph ;
  sd:resultFormat {", ".join(f"<{f.iri}>" for f in RESULT_FORMATS + RDF_FORMATS)} ;
  sd:defaultDataset [
    a sd:Dataset ;
{named}{_build_facts()}    sd:defaultGraph [ a sd:Graph ]
  ] .
"""
    fmt = for_answer(media_type, GRAPH).oxigraph
    triples = ox.parse(turtle, format=ox.RdfFormat.TURTLE)
    prefixes = {"sd": str(SD), "formats": str(FORMATS), "crkg": str(CRKG)}
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""
    return ox.serialize(triples, format=fmt) or b""
