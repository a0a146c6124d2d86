"""Linked Data: the description of one resource, as HTML or RDF.

- ``/id/{kind}/...``        instance IRIs ``https://w3id.org/crkg/id/...``
- ``/ontology/{Term}``      a page per ontology term (its hash IRI ``ontology#Term`` cannot
                            be dereferenced one by one); ``/ontology/{version}`` is the
                            ontology document (:mod:`crkg.web.ontology_doc`)

Negotiation and rendering (:mod:`crkg.web.pages`), links (:mod:`crkg.web.urls`) and the
view of RDF terms (:mod:`crkg.web.rdf_view`) are shared with the other pages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, request, url_for

from crkg.formats import HTML, RDF_FORMATS, media_types
from crkg.namespaces import CRKG, DCTERMS, ID, INFERRED_GRAPH, OWL, RDF, RDFS, SKOS
from crkg.version import __version__
from crkg.web.languages import UI, reader_lang
from crkg.web.ontology_doc import ontology
from crkg.web.page_queries import construct, iri_ref, select
from crkg.web.pages import choose, rdf_response, render, vary
from crkg.web.rdf_view import (
    BLANK_DEPTH,
    DEFINITION_PREDICATES,
    LABEL_PREDICATES,
    RDF_TYPE,
    Index,
    property_view,
    sort_key,
    term_value,
    term_view,
)
from crkg.web.urls import alternates, page_url

bp = Blueprint("resource_pages", __name__)
bp.after_request(vary)

RDF_MEDIA = media_types(RDF_FORMATS)

HAS_EVIDENCE = str(CRKG.hasEvidence)

#: Incoming links shown per resource; a class with thousands of instances stays answerable.
INCOMING_LIMIT = 1000
_TERM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


# ---------------------------------------------------------------------- the description


def _blank_closure(i: str) -> str:
    """Pattern for the triples of blank nodes reachable from *i* through blank nodes only
    (the blank-node part of a Concise Bounded Description): ``owl:propertyChainAxiom``
    lists, restrictions, ``owl:unionOf`` lists. Unrolled to ``BLANK_DEPTH`` because a
    property path cannot require its inner nodes to be blank."""
    lines = [f"    {i} ?bp0 ?bo0 . FILTER isBlank(?bo0)", "    ?bo0 ?bp1 ?bo1 ."]
    closing = ""
    for k in range(1, BLANK_DEPTH):
        lines.append("    " + "  " * k + f"OPTIONAL {{ ?bo{k} ?bp{k + 1} ?bo{k + 1} . FILTER isBlank(?bo{k})")
        closing += " }"
    lines.append("    " + closing.strip())
    return "\n".join(lines)


def _blank_template() -> str:
    return " ".join(f"?bo{k} ?bp{k + 1} ?bo{k + 1} ." for k in range(BLANK_DEPTH))


def describe_query(iri: str) -> str:
    """CONSTRUCT a resource's description: its outgoing and incoming triples, the labels of
    its neighbours and of the predicates used, and its evidence (text, locator, speaker).

    Reflexive triples that OWL 2 RL closure adds to everything (``x owl:sameAs x``,
    ``C rdfs:subClassOf C``) and typing as ``owl:Thing`` / ``rdfs:Resource`` are left out:
    they say nothing about this resource.

    Predicate lists are ``FILTER (?p IN (...))`` after a pattern whose subject is bound,
    not ``VALUES ?p {...}``: Oxigraph 0.5 evaluates such a ``VALUES`` against every triple
    with those predicates before joining, which took 3.7 s per page at 1e6 triples
    (bench/RESULTS.md, finding 1) against 12 ms this way, with the same triples.
    """
    i = iri_ref(iri)
    return f"""PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX owl: <{OWL}>
PREFIX skos: <{SKOS}>
PREFIX crkg: <{CRKG}>
PREFIX dcterms: <{DCTERMS}>
CONSTRUCT {{
  {i} ?p ?o . ?o ?olp ?ol .
  ?s ?ip {i} . ?s ?slp ?sl .
  ?pp rdfs:label ?pl .
  ?e ?ep ?ev . ?ev ?evlp ?evl .
  {_blank_template()}
}}
WHERE {{
  {{
    {i} ?p ?o .
    FILTER (!(sameTerm(?o, {i}) && ?p IN (owl:sameAs, owl:equivalentClass,
              owl:equivalentProperty, rdfs:subClassOf, rdfs:subPropertyOf)))
    FILTER (!sameTerm(?o, owl:Thing) && !sameTerm(?o, rdfs:Resource))
    OPTIONAL {{ ?o ?olp ?ol FILTER (?olp IN (rdfs:label, skos:prefLabel, dcterms:title)) }}
  }}
  UNION
  {{
    {{ SELECT DISTINCT ?s ?ip WHERE {{ ?s ?ip {i} FILTER (!sameTerm(?s, {i})) }}
      LIMIT {INCOMING_LIMIT} }}
    OPTIONAL {{ ?s ?slp ?sl FILTER (?slp IN (rdfs:label, skos:prefLabel, dcterms:title)) }}
  }}
  UNION
  {{
    {{ SELECT DISTINCT ?pp WHERE {{ {{ {i} ?pp ?x }} UNION {{ ?y ?pp {i} }} }} }}
    ?pp rdfs:label ?pl .
  }}
  UNION
  {{
{_blank_closure(i)}
  }}
  UNION
  {{
    {i} crkg:hasEvidence ?e .
    # as coded: the superclasses reasoning adds (prov:Entity, crkg:Evidence) say nothing here
    GRAPH ?eg {{ ?e ?ep ?ev }}
    FILTER (?ep IN (rdf:type, crkg:text, crkg:locator, crkg:saidBy) && ?eg != <{INFERRED_GRAPH}>)
    OPTIONAL {{ ?ev ?evlp ?evl FILTER (?evlp IN (rdfs:label, skos:prefLabel)) }}
  }}
}}"""


def _inferred_only(iri: str) -> set[tuple[str, str, str]]:
    """(s, p, o) of the resource's triples found only in graph/inferred, to mark them."""
    i = iri_ref(iri)
    g = f"<{INFERRED_GRAPH}>"
    rows = select(
        f"""SELECT ?s ?p ?o WHERE {{
  {{ GRAPH {g} {{ {i} ?p ?o }} BIND ({i} AS ?s)
     FILTER NOT EXISTS {{ GRAPH ?g {{ {i} ?p ?o }} FILTER (?g != {g}) }} }}
  UNION
  {{ GRAPH {g} {{ ?s ?p {i} }} BIND ({i} AS ?o)
     FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p {i} }} FILTER (?g != {g}) }} }}
}} LIMIT {2 * INCOMING_LIMIT}"""
    )
    return {(r["s"]["value"], r["p"]["value"], r["o"]["value"]) for r in rows}


def _describe(iri: str) -> list[ox.Triple]:
    triples = construct(describe_query(iri))
    if not any(term_value(t.subject) == iri or term_value(t.object) == iri for t in triples):
        abort(404, description=f"<{iri}> is not in this graph.")
    return triples


def resource_view(iri: str, triples: list, lang: str, inferred: set) -> dict:
    """Everything the resource template shows, as plain data."""
    index = Index(triples, lang)
    labels = sorted(
        index.literals(iri, LABEL_PREDICATES), key=lambda x: (x.language != lang, x.language or "", x.value)
    )
    definitions = index.literals(iri, DEFINITION_PREDICATES)
    definition = index.pick(definitions)
    types = [t.object for t in index.out.get(iri, ()) if t.predicate.value == RDF_TYPE]

    outgoing: dict[str, list] = defaultdict(list)
    for t in index.out.get(iri, ()):
        p = t.predicate.value
        if p in LABEL_PREDICATES:
            continue
        flag = (iri, p, term_value(t.object)) in inferred
        outgoing[p].append(term_view(t.object, index, flag))
    incoming: dict[str, list] = defaultdict(list)
    for t in index.inc.get(iri, ()):
        s = term_value(t.subject)
        if s == iri or isinstance(t.subject, ox.BlankNode):
            # a blank node pointing here is part of an axiom (a list, a restriction):
            # it is in the RDF, but as a row of its own it would only read "( X )"
            continue
        p = t.predicate.value
        flag = (s, p, iri) in inferred
        incoming[p].append(term_view(t.subject, index, flag))

    def rows(groups, incoming_side=False):
        result = []
        for p, values in groups.items():
            prop = property_view(p, index)
            if incoming_side:
                prop["text"] = UI[lang]["is_of"].format(p=prop["text"])
            # one value may come from several graphs; show it once
            unique = {(v.get("iri") or v["text"], v.get("lang")): v for v in values}
            result.append({"property": prop, "values": sorted(unique.values(), key=sort_key)})
        # rdf:type first, then by the property's label
        result.sort(key=lambda r: (r["property"]["iri"] != RDF_TYPE, r["property"]["text"].lower()))
        return result

    evidence = []
    for t in index.out.get(iri, ()):
        if t.predicate.value != HAS_EVIDENCE or not isinstance(t.object, ox.NamedNode):
            continue
        e = t.object.value
        texts = index.literals(e, (str(CRKG.text),))
        texts.sort(key=lambda x: (x.language != "zh", x.language or "", x.value))
        evidence.append(
            {
                "iri": e,
                "href": page_url(e) or e,
                "label": index.label(e),
                "types": sorted(
                    (term_view(x.object, index) for x in index.out.get(e, ()) if x.predicate.value == RDF_TYPE),
                    key=sort_key,
                ),
                "locators": sorted(x.value for x in index.literals(e, (str(CRKG.locator),))),
                "texts": [{"text": x.value, "lang": x.language} for x in texts],
                "said_by": sorted(
                    (term_view(x.object, index) for x in index.out.get(e, ()) if x.predicate.value == str(CRKG.saidBy)),
                    key=sort_key,
                ),
            }
        )
    evidence.sort(key=lambda ev: (ev["locators"], ev["iri"]))

    incoming_count = len({term_value(t.subject) for t in index.inc.get(iri, ()) if term_value(t.subject) != iri})
    return {
        "iri": iri,
        "title": index.label(iri),
        "labels": [{"text": x.value, "lang": x.language} for x in labels],
        "definition": {"text": definition.value, "lang": definition.language} if definition else None,
        "types": sorted((term_view(x, index) for x in types), key=sort_key),
        "outgoing": rows(outgoing),
        "incoming": rows(incoming, incoming_side=True),
        "incoming_truncated": incoming_count >= INCOMING_LIMIT,
        "evidence": evidence,
        "any_inferred": bool(inferred),
    }


def query_link(iri: str, title: str) -> str:
    """The query page with a tab that asks for this resource's properties (YASGUI reads
    ``#query=...&tabTitle=...`` and runs it)."""
    sparql = (
        f"PREFIX rdfs: <{RDFS}>\n"
        "SELECT ?property ?value ?valueLabel\nWHERE {\n"
        f"  <{iri}> ?property ?value .\n"
        "  OPTIONAL { ?value rdfs:label ?valueLabel }\n}\nORDER BY ?property ?value\n"
    )
    fragment = urlencode({"query": sparql, "tabTitle": title[:30]}, quote_via=quote)
    return url_for("query_page.index") + "#" + fragment


def _resource_response(iri: str, path_url: str) -> Response:
    media = choose([HTML] + RDF_MEDIA)
    triples = _describe(iri)
    if media != HTML:
        return rdf_response(triples, media, first=iri)
    lang = reader_lang()
    view = resource_view(iri, triples, lang, _inferred_only(iri))
    from crkg.web.views_panel import panel  # the evidence views' part of the page

    return render("resource.html", lang, resource=view, alternates=alternates(path_url),
                  incoming_limit=INCOMING_LIMIT, query_href=query_link(iri, view["title"]),
                  views_panel=panel(iri, {t["iri"] for t in view["types"] if t.get("iri")}, lang))


# ------------------------------------------------------------------------------ routes


@bp.get("/id/<path:rest>")
def instance(rest: str):
    """An instance IRI ``https://w3id.org/crkg/id/{rest}``."""
    return _resource_response(str(ID) + rest, request.path)


@bp.get("/ontology/<name>")
def ontology_term(name: str):
    """A term ``https://w3id.org/crkg/ontology#{name}``, or a version IRI ``ontology/{version}``."""
    if name == __version__:
        return ontology()
    if not _TERM_NAME.match(name):
        abort(404, description=f"No ontology term named {name!r}.")
    return _resource_response(str(CRKG) + name, request.path)
