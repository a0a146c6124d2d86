"""Linked Data: the named graphs and their dumps.

- ``/graph/...``            named graph IRIs ``https://w3id.org/crkg/graph/...``, negotiated
- ``/data``                 the list of the named graphs with their sizes and dumps
- ``/data/{graph}.{ext}``   a dump of one named graph; ``/data/crkg.nq`` the whole dataset
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, abort, url_for

from crkg import formats
from crkg.formats import DATASET_FORMATS, GRAPH_FORMATS, HTML, RDF_FORMATS, media_types, serialize_rdf
from crkg.namespaces import GRAPH
from crkg.store.queries import graph_construct
from crkg.web.languages import reader_lang
from crkg.web.page_queries import current_store, graph_counts, graph_names, iri_ref, query_timeout
from crkg.web.pages import choose, render, vary
from crkg.web.urls import page_url

bp = Blueprint("dumps", __name__)
bp.after_request(vary)

RDF_MEDIA = media_types(RDF_FORMATS)
DATASET_MEDIA = media_types(DATASET_FORMATS)
#: the extension a dump's file name ends in (the format's first: ``ttl``, ``nq``, ...)
FORMAT_BY_EXTENSION = {f.extension: f for f in GRAPH_FORMATS}


def _graph_body(graph_iri: str, media_type: str) -> bytes:
    """One named graph serialised by the engine itself (no per-triple Python work)."""
    sparql = graph_construct(iri_ref(graph_iri))
    return current_store().query(sparql, media_type=media_type, timeout=query_timeout(), max_rows=None).body


def _as_quads(ntriples: bytes, graph_iri: str) -> bytes:
    """N-Triples lines with the graph name appended: N-Quads (RDF 1.1 N-Quads §2)."""
    suffix = f" <{graph_iri}> .\n".encode()
    out = []
    for line in ntriples.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        out.append(line[:-1].rstrip() + suffix)  # drop the final "."
    return b"".join(out)


def _dump_response(graph_names: list[str], media_type: str, filename: str | None) -> Response:
    fmt = formats.get(media_type)
    if media_type in RDF_MEDIA:
        (name,) = graph_names
        body = _graph_body(str(GRAPH) + name, media_type)
        response = Response(body, mimetype=media_type)
    else:
        store, timeout = current_store(), query_timeout()
        graphs = [str(GRAPH) + n for n in graph_names]

        def nquads():
            for g in graphs:
                sparql = graph_construct(f"<{g}>")
                body = store.query(sparql, media_type="application/n-triples", timeout=timeout,
                                   max_rows=None).body
                yield _as_quads(body, g)

        if media_type == "application/n-quads":
            # streamed graph by graph: the whole dataset never sits in memory at once
            response = Response(nquads(), mimetype=media_type)
        else:
            data = b"".join(nquads())
            quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
            response = Response(
                serialize_rdf(quads, fmt),
                mimetype=media_type,
            )
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}.{fmt.extension}"'
    return response


#: ``/data/{DATASET_DUMP}.nq`` is the whole dataset; any other name is one named graph.
DATASET_DUMP = "crkg"


@bp.get("/data")
def data_index():
    """The named graphs and their dumps (HTML)."""
    lang = reader_lang()
    counts = graph_counts()
    graphs = []
    for name in graph_names():
        iri = str(GRAPH) + name
        graphs.append(
            {
                "name": name,
                "iri": iri,
                "href": page_url(iri),
                "triples": counts.get(iri, 0),
                "dumps": [
                    {"label": f.label, "href": url_for("dumps.dump", name=f"{name}.{f.extension}")}
                    for f in RDF_FORMATS + DATASET_FORMATS[:1]
                ],
            }
        )
    whole = [
        {"label": f.label, "href": url_for("dumps.dump", name=f"{DATASET_DUMP}.{f.extension}")}
        for f in DATASET_FORMATS
    ]
    return render("data.html", lang, graphs=graphs, whole=whole, total=sum(g["triples"] for g in graphs))


@bp.get("/data/<path:name>")
def dump(name: str):
    """A dump: ``/data/{graph}.{ext}`` (one named graph) or ``/data/crkg.nq`` (all of them)."""
    stem, _, ext = name.rpartition(".")
    if stem and ext in FORMAT_BY_EXTENSION:
        media = FORMAT_BY_EXTENSION[ext].media_type
    else:
        stem, media = name, None
    names = graph_names()
    if stem == DATASET_DUMP:
        media = media or choose(DATASET_MEDIA)
        if media not in DATASET_MEDIA:
            abort(406, description="The whole dataset has several graphs: ask for N-Quads or TriG.")
        return _dump_response(names, media, stem.replace("/", "-"))
    if stem not in names:
        abort(404, description=f"No named graph <{GRAPH}{stem}> in this store.")
    media = media or choose(RDF_MEDIA + DATASET_MEDIA)
    return _dump_response([stem], media, stem.replace("/", "-"))


@bp.get("/graph/<path:name>")
def graph(name: str):
    """A named graph IRI ``https://w3id.org/crkg/graph/{name}``: its contents, negotiated."""
    if name not in graph_names():
        abort(404, description=f"No named graph <{GRAPH}{name}> in this store.")
    media = choose([HTML] + RDF_MEDIA + DATASET_MEDIA)
    if media == HTML:
        # a graph is too big for one page: a browser gets the list with its downloads
        return Response(status=303, headers={"Location": url_for("dumps.data_index") + "#" + name})
    return _dump_response([name], media, None)
