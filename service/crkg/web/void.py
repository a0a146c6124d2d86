"""Linked Data: the VoID description of the dataset.

- ``/.well-known/void``     the VoID description of the dataset (RFC 8615 well-known URI
                            registered by the VoID Note, section 7.2)
"""

from __future__ import annotations

import functools

import pyoxigraph as ox
from flask import Blueprint, request

from crkg.formats import DATASET_FORMATS, HTML, RDF_FORMATS, media_types
from crkg.namespaces import (
    CRKG,
    CRKG_DATASET,
    DCTERMS,
    FOAF,
    GRAPH,
    ID,
    LINKS_GRAPH,
    ONTOLOGY_IRI,
    OWL,
    PREFIX_IRIS,
    VOID,
    VOID_DOCUMENT,
    XSD,
)
from crkg.store.generation import current as current_generation
from crkg.version import __version__
from crkg.web.dumps import DATASET_DUMP
from crkg.web.languages import reader_lang
from crkg.web.page_queries import construct, current_store, graph_counts, graph_names, select
from crkg.web.pages import choose, rdf_response, render, serialise, vary
from crkg.web.rdf_view import RDF_TYPE
from crkg.web.urls import absolute_base, alternates

bp = Blueprint("void", __name__)
bp.after_request(vary)

DATASET_IRI = str(CRKG_DATASET)
RDF_MEDIA = media_types(RDF_FORMATS)

LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def _lit(value, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    if datatype:
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype))
    return ox.Literal(str(value))


def void_triples() -> list[ox.Triple]:
    """The VoID description (W3C Interest Group Note "Describing Linked Datasets with the
    VoID Vocabulary", 2011): the dataset, one ``void:subset`` per named graph with its size
    and dumps, the SPARQL endpoint, the vocabularies used, the licence, and the
    ``void:Linkset`` descriptions kept in graph/links."""
    base = absolute_base()
    N = ox.NamedNode
    ds = N(DATASET_IRI)
    t = ox.Triple
    a = N(RDF_TYPE)
    out = [
        t(N(VOID_DOCUMENT), a, N(VOID.DatasetDescription)),
        t(N(VOID_DOCUMENT), N(DCTERMS.title), _lit("VoID description of crkg", "en")),
        t(N(VOID_DOCUMENT), N(FOAF.primaryTopic), ds),
        t(ds, a, N(VOID.Dataset)),
        t(ds, N(DCTERMS.title), _lit("Community Resilience Knowledge Graph", "en")),
        t(ds, N(DCTERMS.title), _lit("社区韧性知识图谱", "zh")),
        t(ds, N(DCTERMS.description), _lit(
            "Coded qualitative case studies of community resilience: interventions, actors, "
            "resilience modes and goals, with the evidence passages that support them.", "en")),
        t(ds, N(DCTERMS.license), N(LICENSE)),
        t(ds, N(OWL.versionInfo), _lit(__version__)),
        t(ds, N(VOID.sparqlEndpoint), N(base + "sparql")),
        t(ds, N(VOID.dataDump), N(base + f"data/{DATASET_DUMP}.nq")),
        t(ds, N(VOID.uriSpace), _lit(str(ID))),
        *(t(ds, N(VOID.feature), N(f.iri)) for f in DATASET_FORMATS),
        t(ds, N(VOID.rootResource), N(ONTOLOGY_IRI)),
    ]
    built = _build_counts()
    if built is not None:  # written by the build beside the store: no query per request
        counts = built["graphs"]
        prefix = str(GRAPH)
        names = sorted(g[len(prefix):] for g, n in counts.items() if n and g.startswith(prefix))
    else:
        counts, names = graph_counts(), graph_names()
    total = 0
    for name in names:
        g = N(str(GRAPH) + name)
        n = counts.get(g.value, 0)
        total += n
        out += [
            t(ds, N(VOID.subset), g),
            t(g, a, N(VOID.Dataset)),
            t(g, N(VOID.triples), _lit(n, datatype=XSD.integer)),
            t(g, N(DCTERMS.license), N(LICENSE)),
        ]
        for f in RDF_FORMATS[:2]:
            out.append(t(g, N(VOID.dataDump), N(base + f"data/{name}.{f.extension}")))
    out.append(t(ds, N(VOID.triples), _lit(total, datatype=XSD.integer)))

    if built is not None:
        used = built["predicates"] + built["classes"]
        examples = built["studies"][:3]
    else:
        rows = select("SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t FILTER isIRI(?t) } }")
        used = [row["t"]["value"] for row in rows]
        rows = select(f"SELECT DISTINCT ?s WHERE {{ ?s a <{CRKG}Study> }} ORDER BY ?s LIMIT 3")
        examples = [row["s"]["value"] for row in rows]
    vocabularies = set()
    for iri in used:
        for prefix, ns in PREFIX_IRIS.items():
            if iri.startswith(ns) and prefix not in {"rdf", "xsd"}:
                vocabularies.add(ns.rstrip("#") if ns.endswith("#") else ns)
    for v in sorted(vocabularies):
        out.append(t(ds, N(VOID.vocabulary), N(v)))

    for example in examples:
        out.append(t(ds, N(VOID.exampleResource), N(example)))

    # graph/links describes the linksets, the datasets they link, and this dataset's
    # subsets there (the linking engineer's VoID): all of it belongs in this description
    described = construct(
        f"""CONSTRUCT {{ ?x ?p ?o }} WHERE {{ GRAPH <{LINKS_GRAPH}> {{
  {{ ?x a <{VOID}Linkset> }} UNION {{ ?x a <{VOID}Dataset> }}
  UNION {{ <{DATASET_IRI}> <{VOID}subset> ?x }} UNION {{ VALUES ?x {{ <{DATASET_IRI}> }} }}
  ?x ?p ?o }} }}"""
    )
    out += described
    for x in described:
        if x.predicate.value == RDF_TYPE and x.object == N(VOID.Linkset):
            out.append(t(ds, N(VOID.subset), x.subject))
    return out


def _build_counts() -> dict | None:
    """The VoID counts ``crkg build`` wrote inside the store generation being served
    (``crkg.pipeline.artefacts``), or None: a remote ``--backend``, a store not made by
    the build. Issue 9 item 3: the build counts, requests do not."""
    path = getattr(current_store(), "path", None)
    return _counts_of(str(current_generation(path))) if path else None


@functools.lru_cache(maxsize=4)
def _counts_of(generation: str) -> dict | None:
    # a generation folder never changes once swapped in: its counts can be kept
    from crkg.pipeline.artefacts import void_counts

    return void_counts(generation)


@bp.get("/.well-known/void")
def void():
    media = choose(RDF_MEDIA + [HTML])
    triples = void_triples()
    if media != HTML:
        return rdf_response(triples, media, first=DATASET_IRI)
    lang = reader_lang()
    turtle = serialise(triples, "text/turtle", first=DATASET_IRI).decode("utf-8")
    return render("void.html", lang, turtle=turtle, alternates=alternates(request.path))
