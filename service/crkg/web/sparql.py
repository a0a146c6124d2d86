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

The rules themselves are ``crkg.web.sparql_protocol``; a query that succeeds is answered by
the WSGI short-cut ``crkg.web.sparql_shortcut`` before Flask sees it, and this view answers
everything else (errors, ``HEAD``, ``OPTIONS``, the bare ``GET``).
"""

from __future__ import annotations

import importlib

from flask import Blueprint, Response, abort, request

from crkg.formats import GRAPH, RDF_FORMATS, RESULT_FORMATS, for_answer
from crkg.namespaces import CRKG, FORMATS, SD
from crkg.web import sparql_protocol as protocol
from crkg.web.app import current_config, current_store
from crkg.web.conneg import HTML, negotiate
from crkg.web.urls import endpoint_url

bp = Blueprint("sparql", __name__)

RDF_TYPES = list(protocol.RDF_TYPES)
METHODS = protocol.METHODS


def protocol_request() -> protocol.ProtocolRequest:
    """The protocol's view of Flask's request (the body read within Flask's size cap)."""
    return protocol.ProtocolRequest(
        method=request.method,
        query_string=request.query_string,
        mimetype=(request.mimetype or "").lower(),
        charset=request.mimetype_params.get("charset"),
        accept=request.headers.get("Accept"),
        read_body=lambda: request.get_data(cache=True),
    )


# ----------------------------------------------------------------------- the endpoint


@bp.route("/sparql", methods=METHODS)
def endpoint():
    # The common case (a query that succeeds) is answered by crkg.web.sparql_shortcut
    # before Flask sees it; this view answers the rest with the same protocol functions.
    if request.method == "OPTIONS":
        return _preflight()
    req = protocol_request()
    config = current_config()
    params = protocol.parameters(req, config)
    query, format_param = protocol.the_query(req, params)
    if query is None:
        return _bare_get(format_param)
    store = current_store()
    call = protocol.prepare(req, query, format_param, params, store)
    headers, body = protocol.answer(call, store, config)
    return Response(body, status=200, headers=headers)


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
    for name, value in protocol.CORS_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
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
    return Response(service_description(media_type), content_type=protocol.content_type(media_type))


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
