"""Linked Data: the ontology document.

- ``/ontology``             the ontology document; its hash IRIs ``ontology#Term`` cannot
                            be dereferenced one by one, so the HTML lists every term with
                            an anchor, and ``/ontology/{Term}`` is a page per term
                            (:mod:`crkg.web.resource_pages`)

As Turtle or RDF/XML, ``/ontology`` answers the release files ``crkg build`` wrote beside
the store (``Store.release_file``), byte for byte what ``dist/ontology/`` holds; only
without them (a remote back end, a store loaded by hand) is the document written from
the store's ontology graph, by the release's own serialisers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, request, url_for

from crkg import formats
from crkg.formats import HTML, by_extension
from crkg.namespaces import CRKG, ONTOLOGY_GRAPH, ONTOLOGY_IRI, OWL, RDFS, SKOS
from crkg.paths import RELEASE_RDFXML, RELEASE_TURTLE
from crkg.store.queries import graph_construct
from crkg.web.languages import reader_lang
from crkg.web.page_queries import construct, current_store
from crkg.web.pages import choose, render, serialise, vary
from crkg.web.rdf_view import (
    DEFINITION_PREDICATES,
    LABEL_PREDICATES,
    RDF_TYPE,
    Index,
    property_view,
    sort_key,
    term_view,
)
from crkg.web.urls import alternates, page_url

bp = Blueprint("ontology_doc", __name__)
bp.after_request(vary)


def _ontology_triples() -> list[ox.Triple]:
    return construct(graph_construct(f"<{ONTOLOGY_GRAPH}>"))


#: Media type -> the release file ``crkg build`` wrote in it (beside the store, the same
#: bytes as ``dist/ontology/``); the media type is the file extension's (``crkg.formats``).
RELEASE_FILES = {fmt.media_type: name for name in (RELEASE_TURTLE, RELEASE_RDFXML)
                 if (fmt := by_extension(Path(name).suffix)) is not None}


def _release_document(media_type: str) -> bytes | None:
    """The build's own release file in *media_type*, if the store has one."""
    name = RELEASE_FILES.get(media_type)
    return current_store().release_file(name) if name else None


def _ontology_document(triples: list, media_type: str) -> bytes:
    """The ontology in *media_type*, written from the store's ontology graph.

    Used when the store has no release files (a remote back end, a store loaded by hand):
    Turtle and RDF/XML then in the release's own byte-stable form
    (:mod:`crkg.pipeline.ontology`: sorted, stable blank nodes, flat RDF/XML that the OWL
    API reads). Cached: the store is read-only while the service runs."""
    if media_type not in RELEASE_FILES:
        return serialise(triples, media_type, first=ONTOLOGY_IRI)
    cache = current_app.extensions.setdefault("crkg.ld_cache", {})
    key = ("ontology", id(current_store()), media_type)
    if key not in cache:
        import rdflib

        from crkg.pipeline.ontology import serialize_rdfxml, serialize_turtle

        graph = rdflib.Graph()
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        write = serialize_turtle if media_type == "text/turtle" else serialize_rdfxml
        cache[key] = write(graph)
    return cache[key]


@bp.get("/ontology")
def ontology():
    """The ontology document: Turtle or RDF/XML (Protégé "open from URL"), or HTML docs."""
    offered = [HTML, "text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"]
    media = choose(offered)
    release = _release_document(media)
    if release is not None:
        return _document_response(release, media)
    triples = _ontology_triples()
    if not triples:
        abort(404, description=f"The store holds no ontology (graph <{ONTOLOGY_GRAPH}> is empty).")
    if media != HTML:
        return _document_response(_ontology_document(triples, media), media)
    lang = reader_lang()
    return render(
        "ontology.html", lang, doc=ontology_view(triples, lang), alternates=alternates(request.path)
    )


def _document_response(body: bytes, media: str) -> Response:
    response = Response(body, mimetype=media)
    response.headers["Content-Location"] = url_for("ontology_doc.ontology", format=formats.get(media).name)
    return response


def ontology_view(triples: list, lang: str) -> dict:
    """The ontology's terms grouped by kind, each with labels, definition and relations."""
    index = Index(triples, lang)
    ns = str(CRKG)
    kinds = {
        str(OWL.Class): "classes",
        str(RDFS.Class): "classes",
        str(OWL.ObjectProperty): "object_properties",
        str(OWL.DatatypeProperty): "datatype_properties",
        str(OWL.AnnotationProperty): "annotation_properties",
    }
    groups: dict[str, list] = {k: [] for k in (
        "classes", "object_properties", "datatype_properties", "annotation_properties",
        "individuals", "other_terms")}
    for subject in sorted(index.out):
        if not subject.startswith(ns) or subject == ns:
            continue
        types = [t.object.value for t in index.out[subject] if t.predicate.value == RDF_TYPE
                 and isinstance(t.object, ox.NamedNode)]
        kind = next((kinds[t] for t in types if t in kinds), None)
        if kind is None:
            kind = "individuals" if types else "other_terms"

        def related(predicate):
            return sorted(
                (term_view(t.object, index) for t in index.out[subject]
                 if t.predicate.value == predicate and isinstance(t.object, ox.NamedNode)),
                key=sort_key,
            )

        definition = index.pick(index.literals(subject, DEFINITION_PREDICATES))
        labels = index.literals(subject, LABEL_PREDICATES)
        groups[kind].append(
            {
                "name": subject[len(ns):],
                "iri": subject,
                "href": page_url(subject),
                "label": index.label(subject),
                "labels": sorted(({"text": x.value, "lang": x.language} for x in labels),
                                 key=lambda x: (x["lang"] != lang, x["lang"] or "")),
                "definition": definition.value if definition else None,
                "definition_lang": definition.language if definition else None,
                "superclasses": related(str(RDFS.subClassOf)),
                "domain": related(str(RDFS.domain)),
                "range": related(str(RDFS.range)),
                "types": [v for v in related(RDF_TYPE)
                          if v["iri"] not in kinds and v["iri"] != str(OWL.NamedIndividual)],
                "broader": related(str(SKOS.broader)),
            }
        )
    header: dict[str, Any] = {
        "iri": ONTOLOGY_IRI,
        "title": index.label(ONTOLOGY_IRI) if index.out.get(ONTOLOGY_IRI) else "crkg ontology",
        "labels": sorted(
            ({"text": x.value, "lang": x.language} for x in index.literals(ONTOLOGY_IRI, LABEL_PREDICATES)),
            key=lambda x: (x["lang"] != lang, x["lang"] or "", x["text"]),
        ),
        "properties": [],
    }
    for t in index.out.get(ONTOLOGY_IRI, ()):
        if t.predicate.value in LABEL_PREDICATES or t.predicate.value == RDF_TYPE:
            continue
        header["properties"].append(
            {"property": property_view(t.predicate.value, index), "value": term_view(t.object, index)}
        )
    header["properties"].sort(key=lambda r: (r["property"]["text"].lower(), r["value"]["text"]))
    return {"header": header, "groups": [(k, v) for k, v in groups.items() if v]}
