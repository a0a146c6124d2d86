"""Linked Data: every crkg IRI answers on this service.

Follows "Cool URIs for the Semantic Web" (W3C Interest Group Note, 2008) and the "Best
Practice Recipes for Publishing RDF Vocabularies" (W3C, 2008), recipe 3 (hash namespace,
content negotiation): one address answers HTML to a browser and Turtle, JSON-LD,
RDF/XML or N-Triples to an RDF client, chosen by ``Accept`` or ``?format=`` from the one
table in :mod:`crkg.web.conneg`, always with ``Vary: Accept``.

- ``/id/{kind}/...``        instance IRIs ``https://w3id.org/crkg/id/...``
- ``/ontology``             the ontology document; its hash IRIs ``ontology#Term`` cannot
                            be dereferenced one by one, so the HTML lists every term with
                            an anchor, and ``/ontology/{Term}`` is a page per term
- ``/graph/...``, ``/data`` dumps of each named graph, and a list of them
- ``/.well-known/void``     the VoID description of the dataset (RFC 8615 well-known URI
                            registered by the VoID Note, section 7.2)

Every description is a SPARQL ``CONSTRUCT`` asked through the Store interface, so these
pages work the same on the embedded store and on a remote SPARQL back end. The IRIs in
the RDF stay ``https://w3id.org/crkg/...``; ``Config.PUBLIC_BASE_URL`` only decides where
the links in the HTML pages point.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from crkg.namespaces import (
    BASE_IRI,
    CRKG,
    GRAPH,
    ID,
    INFERRED_GRAPH,
    LINKS_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    PREFIXES,
)
from crkg.version import __version__
from crkg.web.conneg import DATASET_FORMATS, HTML, RDF_FORMATS, negotiate

bp = Blueprint("linked_data", __name__)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
XSD = "http://www.w3.org/2001/XMLSchema#"
FORMATS_NS = "http://www.w3.org/ns/formats/"

RDF_TYPE = RDF + "type"
#: what names a resource, best first (the ontology header and VoID datasets use dcterms:title)
LABEL_PREDICATES = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title")
DEFINITION_PREDICATES = (SKOS + "definition", RDFS + "comment", DCTERMS + "description")
HAS_EVIDENCE = str(CRKG.hasEvidence)
EVIDENCE_DETAILS = (RDF_TYPE, str(CRKG.text), str(CRKG.locator), str(CRKG.saidBy))

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: The VoID document's own IRI and the dataset it describes (VoID Note §7.2).
VOID_DOCUMENT = BASE_IRI + ".well-known/void"
#: the same IRI the linksets name as their void:subjectsTarget
DATASET_IRI = str(ID) + "dataset/crkg"

#: Incoming links shown per resource; a class with thousands of instances stays answerable.
INCOMING_LIMIT = 1000
LANGUAGES = ("en", "zh")

RDF_MEDIA = [f.media_type for f in RDF_FORMATS]
DATASET_MEDIA = [f.media_type for f in DATASET_FORMATS]
FORMAT_BY_MEDIA = {f.media_type: f for f in RDF_FORMATS + DATASET_FORMATS}
FORMAT_BY_EXTENSION = {f.extension: f for f in RDF_FORMATS + DATASET_FORMATS}
FORMAT_LABELS = {
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF/XML",
    "application/n-quads": "N-Quads",
    "application/trig": "TriG",
}
#: W3C format IRIs (http://www.w3.org/ns/formats/) for void:feature.
FORMAT_IRIS = {
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
    "application/n-quads": "N-Quads",
    "application/trig": "TriG",
}

#: Names for common predicates that no graph labels (the ontology labels its own terms).
BUILTIN_LABELS = {
    RDF_TYPE: {"en": "type", "zh": "类型"},
    RDFS + "label": {"en": "label", "zh": "标签"},
    RDFS + "comment": {"en": "comment", "zh": "注释"},
    RDFS + "subClassOf": {"en": "subclass of", "zh": "子类"},
    RDFS + "subPropertyOf": {"en": "subproperty of", "zh": "子属性"},
    RDFS + "domain": {"en": "domain", "zh": "定义域"},
    RDFS + "range": {"en": "range", "zh": "值域"},
    RDFS + "isDefinedBy": {"en": "defined by", "zh": "定义于"},
    RDFS + "seeAlso": {"en": "see also", "zh": "参见"},
    OWL + "sameAs": {"en": "same as", "zh": "等同于"},
    SKOS + "prefLabel": {"en": "preferred label", "zh": "首选标签"},
    SKOS + "definition": {"en": "definition", "zh": "定义"},
    SKOS + "broader": {"en": "broader", "zh": "上位概念"},
    SKOS + "inScheme": {"en": "in scheme", "zh": "所属概念体系"},
}

#: Interface words of the HTML pages, in the reader's language.
UI = {
    "en": {
        "outgoing": "Properties and outgoing links",
        "incoming": "Incoming links",
        "incoming_none": "No other resource links here.",
        "evidence": "Evidence",
        "locator": "Section",
        "said_by": "Said by",
        "type": "Type",
        "property": "Property",
        "value": "Value",
        "inferred": "inferred",
        "inferred_note": "Values marked “inferred” were derived by OWL 2 RL reasoning (graph/inferred).",
        "download": "This description as",
        "query_this": "Query this resource in SPARQL",
        "iri": "IRI",
        "query": "Query",
        "ontology": "Ontology",
        "data": "Data",
        "void": "Dataset description",
        "labels": "Labels",
        "definition": "Definition",
        "is_of": "← {p}",
        "truncated": "Only the first {n} incoming links are shown.",
        "classes": "Classes",
        "object_properties": "Object properties",
        "datatype_properties": "Datatype properties",
        "annotation_properties": "Annotation properties",
        "individuals": "Codebook individuals",
        "other_terms": "Other terms",
        "term_page": "term page",
        "subclass_of": "Subclass of",
        "domain": "Domain",
        "range": "Range",
        "instance_of": "Instance of",
        "broader": "Broader",
        "graphs": "Named graphs",
        "graph": "Graph",
        "triples": "Triples",
        "dumps": "Downloads",
        "whole_dataset": "The whole dataset (all named graphs)",
        "language": "Language",
    },
    "zh": {
        "outgoing": "属性与出链",
        "incoming": "入链",
        "incoming_none": "没有其他资源链接到此处。",
        "evidence": "证据",
        "locator": "章节",
        "said_by": "讲述者",
        "type": "类型",
        "property": "属性",
        "value": "值",
        "inferred": "推理所得",
        "inferred_note": "标为“推理所得”的值由 OWL 2 RL 推理得出（graph/inferred）。",
        "download": "本描述的其他格式",
        "query_this": "用 SPARQL 查询此资源",
        "iri": "IRI",
        "query": "查询",
        "ontology": "本体",
        "data": "数据",
        "void": "数据集描述",
        "labels": "标签",
        "definition": "定义",
        "is_of": "← {p}",
        "truncated": "仅显示前 {n} 条入链。",
        "classes": "类",
        "object_properties": "对象属性",
        "datatype_properties": "数据属性",
        "annotation_properties": "注释属性",
        "individuals": "编码表个体",
        "other_terms": "其他术语",
        "term_page": "术语页面",
        "subclass_of": "父类",
        "domain": "定义域",
        "range": "值域",
        "instance_of": "类型",
        "broader": "上位概念",
        "graphs": "命名图",
        "graph": "图",
        "triples": "三元组数",
        "dumps": "下载",
        "whole_dataset": "整个数据集（全部命名图）",
        "language": "语言",
    },
}

_PREFIX_STRINGS = {p: str(ns) for p, ns in PREFIXES.items()}
#: Characters an IRIREF may not contain (SPARQL 1.1 §19.8, [139]); a path with one is no IRI of ours.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_PLAIN_JSON = re.compile(r"(?i)\bapplication/json(?![\w+.-])")
_TERM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------- store access


def _store():
    return current_app.extensions["crkg.store"]


def _timeout() -> float:
    return float(current_app.config.get("QUERY_TIMEOUT", 30.0))


def _construct(sparql: str) -> list[ox.Triple]:
    """Run a CONSTRUCT and return its triples (asked as N-Triples, which every engine speaks)."""
    response = _store().query(
        sparql, media_type="application/n-triples", timeout=_timeout(), max_rows=None
    )
    return [quad.triple for quad in ox.parse(response.body, format=ox.RdfFormat.N_TRIPLES)]


def _select(sparql: str) -> list[dict]:
    """Run a SELECT and return its bindings as SPARQL 1.1 Query Results JSON objects."""
    response = _store().query(
        sparql, media_type="application/sparql-results+json", timeout=_timeout(), max_rows=None
    )
    return json.loads(response.body)["results"]["bindings"]


def _iri_ref(iri: str) -> str:
    if _NOT_IN_IRI.search(iri):
        abort(404, description=f"{iri!r} is not an IRI this service publishes.")
    return f"<{iri}>"


# ----------------------------------------------------------------- negotiation, responses


def _choose(offered: list[str]) -> str:
    """The media type to answer with: ``?format=`` first, then ``Accept``; 406 if none fits."""
    wanted = request.args.get("format")
    if wanted and wanted.strip().lower() in {"html", HTML}:
        if HTML in offered:
            return HTML
        abort(406, description=f"format={wanted} is not offered here; offered: {', '.join(offered)}")
    accept = request.headers.get("Accept")
    if "application/ld+json" in offered:
        # a client asking for plain JSON about a resource means JSON-LD here (the shared
        # table maps application/json to SPARQL results, which these pages are not)
        if accept:
            accept = _PLAIN_JSON.sub("application/ld+json", accept)
        if wanted and wanted.strip().lower() in {"json", "application/json"}:
            wanted = "jsonld"
    chosen = negotiate(offered, accept, wanted, formats=RDF_FORMATS + DATASET_FORMATS)
    if chosen is None:
        asked = f"format={wanted}" if wanted else f"Accept: {request.headers.get('Accept')}"
        abort(406, description=f"Cannot answer {asked}; offered: {', '.join(offered)}")
    return chosen


@bp.after_request
def _vary(response: Response) -> Response:
    # Every answer of this blueprint depends on Accept (format) and, for HTML, on the
    # reader's language; caches must key on both.
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return response


def _sorted_triples(triples, first: str | None = None) -> list[ox.Triple]:
    """Group by subject (the described resource first) so Turtle nests readably and stably."""

    def key(t):
        s = t.subject.value if hasattr(t.subject, "value") else str(t.subject)
        return (0 if s == first else 1, s, 0 if t.predicate.value == RDF_TYPE else 1,
                t.predicate.value, str(t.object))

    return sorted(set(triples), key=key)


def _used_prefixes(triples) -> dict[str, str]:
    """The project prefixes that some IRI of *triples* starts with (no unused declarations)."""
    iris = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal) and term.datatype is not None:
                iris.add(term.datatype.value)
    return {p: ns for p, ns in _PREFIX_STRINGS.items() if any(i.startswith(ns) for i in iris)}


def _serialise(triples, media_type: str, first: str | None = None) -> bytes:
    fmt = FORMAT_BY_MEDIA[media_type]
    triples = _sorted_triples(triples, first)
    return ox.serialize(triples, format=fmt.oxigraph, prefixes=_used_prefixes(triples))


def _rdf_response(triples, media_type: str, first: str | None = None) -> Response:
    return Response(_serialise(triples, media_type, first), mimetype=media_type)


# ------------------------------------------------------------------- links and languages


def reader_lang() -> str:
    """``?lang=`` if given, else the first of en/zh in ``Accept-Language`` (by q), else en."""
    asked = (request.args.get("lang") or "").strip().lower()
    if asked[:2] in LANGUAGES:
        return asked[:2]
    for tag, _q in request.accept_languages:  # werkzeug sorts by quality
        primary = tag.lower().split("-")[0]
        if primary in LANGUAGES:
            return primary
    return "en"


def _public_base() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or (request.script_root + "/")
    return base if base.endswith("/") else base + "/"


def page_url(iri: str) -> str | None:
    """Where a browser reads about *iri* on this deployment, or None if not served here.

    ``https://w3id.org/crkg/{rest}`` maps to ``{PUBLIC_BASE_URL}{rest}``; the ontology's
    hash IRIs ``ontology#Term`` map to the term pages ``ontology/Term``.
    """
    base = _public_base()
    suffix = ""
    if request.args.get("lang") in LANGUAGES:
        suffix = "?" + urlencode({"lang": request.args["lang"]})
    if iri == ONTOLOGY_IRI:
        return base + "ontology" + suffix
    if iri.startswith(str(CRKG)):
        local = iri[len(str(CRKG)):]
        return base + "ontology/" + quote(local, safe="") + suffix if local else base + "ontology" + suffix
    if iri.startswith(str(ID)) or iri.startswith(str(GRAPH)):
        return base + quote(iri[len(BASE_IRI):], safe="/:@-._~!$&'()*+,;=") + suffix
    if iri == DATASET_IRI or iri == VOID_DOCUMENT:
        return base + ".well-known/void" + suffix
    return None


def curie(iri: str) -> str:
    best = None
    for prefix, ns in _PREFIX_STRINGS.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(best[1])):
            best = (prefix, ns)
    if best is None:
        return iri
    return f"{best[0]}:{iri[len(best[1]):]}"


def _alternates(path_url: str) -> list[dict]:
    """Links to the same description in each RDF format (``?format=``)."""
    return [
        {
            "label": FORMAT_LABELS[f.media_type],
            "media_type": f.media_type,
            "href": path_url + "?" + urlencode({"format": f.name}),
        }
        for f in RDF_FORMATS
    ]


# ---------------------------------------------------------------------- the description


#: How deep the description follows blank nodes (OWL lists and class expressions).
BLANK_DEPTH = 10


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
    """
    i = _iri_ref(iri)
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
    OPTIONAL {{ VALUES ?olp {{ rdfs:label skos:prefLabel dcterms:title }} ?o ?olp ?ol }}
  }}
  UNION
  {{
    {{ SELECT DISTINCT ?s ?ip WHERE {{ ?s ?ip {i} FILTER (!sameTerm(?s, {i})) }}
      LIMIT {INCOMING_LIMIT} }}
    OPTIONAL {{ VALUES ?slp {{ rdfs:label skos:prefLabel dcterms:title }} ?s ?slp ?sl }}
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
    VALUES ?ep {{ rdf:type crkg:text crkg:locator crkg:saidBy }}
    # as coded: the superclasses reasoning adds (prov:Entity, crkg:Evidence) say nothing here
    GRAPH ?eg {{ ?e ?ep ?ev }} FILTER (?eg != <{INFERRED_GRAPH}>)
    OPTIONAL {{ VALUES ?evlp {{ rdfs:label skos:prefLabel }} ?ev ?evlp ?evl }}
  }}
}}"""


def _inferred_only(iri: str) -> set[tuple[str, str, str]]:
    """(s, p, o) of the resource's triples found only in graph/inferred, to mark them."""
    i = _iri_ref(iri)
    g = f"<{INFERRED_GRAPH}>"
    rows = _select(
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
    triples = _construct(describe_query(iri))
    if not any(_value(t.subject) == iri or _value(t.object) == iri for t in triples):
        abort(404, description=f"<{iri}> is not in this graph.")
    return triples


def _value(term) -> str:
    return getattr(term, "value", str(term))


# --------------------------------------------------------------- HTML view of a description


@dataclass
class Index:
    """The triples of a description, indexed for rendering, with label look-up by language."""

    triples: list
    lang: str
    out: dict = field(default_factory=lambda: defaultdict(list))
    inc: dict = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self):
        for t in self.triples:
            self.out[_value(t.subject)].append(t)
            if isinstance(t.object, ox.NamedNode):
                self.inc[t.object.value].append(t)

    def literals(self, iri: str, predicates) -> list[ox.Literal]:
        return [
            t.object
            for t in self.out.get(iri, ())
            if t.predicate.value in predicates and isinstance(t.object, ox.Literal)
        ]

    def pick(self, literals) -> ox.Literal | None:
        """The value in the reader's language, else the other one, else untagged, else any."""
        order = [self.lang] + [lang for lang in LANGUAGES if lang != self.lang]
        for lang in order:
            for lit in sorted(literals, key=lambda x: x.value):
                if (lit.language or "").lower().split("-")[0] == lang:
                    return lit
        for lit in sorted(literals, key=lambda x: (x.language is not None, x.value)):
            return lit
        return None

    def label(self, iri: str) -> str:
        for predicate in LABEL_PREDICATES:
            lit = self.pick(self.literals(iri, (predicate,)))
            if lit is not None:
                return lit.value
        builtin = BUILTIN_LABELS.get(iri)
        if builtin:
            return builtin[self.lang]
        text = curie(iri)
        if text == iri and iri.startswith(str(ID)):
            return iri[len(str(ID)):]
        return text


def _term_view(term, index: Index, inferred: bool = False) -> dict:
    if isinstance(term, ox.NamedNode):
        return {
            "kind": "iri",
            "iri": term.value,
            "text": index.label(term.value),
            "href": page_url(term.value) or term.value,
            "curie": curie(term.value),
            "inferred": inferred,
        }
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value if term.datatype else None
        shown_type = None
        if datatype and not term.language and datatype != XSD + "string":
            shown_type = curie(datatype)
        return {
            "kind": "literal",
            "text": term.value,
            "lang": term.language,
            "datatype": shown_type,
            "inferred": inferred,
        }
    return {"kind": "blank", "text": _blank_text(term, index), "inferred": inferred}


def _blank_text(node, index: Index, depth: int = 0) -> str:
    """A blank node written out from its triples: ``( a b )`` for an RDF list,
    ``[ p o ; ... ]`` otherwise (Turtle's notation), terms as CURIEs."""
    triples = index.out.get(_value(node), [])
    if not triples or depth > BLANK_DEPTH:
        return "[ ]"

    def show(term):
        if isinstance(term, ox.NamedNode):
            return curie(term.value)
        if isinstance(term, ox.Literal):
            return f'"{term.value}"' + (f"@{term.language}" if term.language else "")
        return _blank_text(term, index, depth + 1)

    if any(t.predicate.value == RDF + "first" for t in triples):
        items, current, seen = [], node, set()
        while isinstance(current, ox.BlankNode) and _value(current) not in seen:
            seen.add(_value(current))
            out = {t.predicate.value: t.object for t in index.out.get(_value(current), [])}
            if RDF + "first" not in out:
                break
            items.append(show(out[RDF + "first"]))
            current = out.get(RDF + "rest")
        return "( " + " ".join(items) + " )"
    parts = sorted(f"{curie(t.predicate.value)} {show(t.object)}" for t in triples)
    return "[ " + " ; ".join(parts) + " ]"


def _property_view(predicate: str, index: Index) -> dict:
    return {
        "iri": predicate,
        "text": index.label(predicate),
        "curie": curie(predicate),
        "href": page_url(predicate) or predicate,
    }


def _sort_key(view: dict):
    return (view.get("text") or "").lower()


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
        flag = (iri, p, _value(t.object)) in inferred
        outgoing[p].append(_term_view(t.object, index, flag))
    incoming: dict[str, list] = defaultdict(list)
    for t in index.inc.get(iri, ()):
        s = _value(t.subject)
        if s == iri or isinstance(t.subject, ox.BlankNode):
            # a blank node pointing here is part of an axiom (a list, a restriction):
            # it is in the RDF, but as a row of its own it would only read "( X )"
            continue
        p = t.predicate.value
        flag = (s, p, iri) in inferred
        incoming[p].append(_term_view(t.subject, index, flag))

    def rows(groups, incoming_side=False):
        result = []
        for p, values in groups.items():
            prop = _property_view(p, index)
            if incoming_side:
                prop["text"] = UI[lang]["is_of"].format(p=prop["text"])
            # one value may come from several graphs; show it once
            unique = {(v.get("iri") or v["text"], v.get("lang")): v for v in values}
            result.append({"property": prop, "values": sorted(unique.values(), key=_sort_key)})
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
                    (_term_view(x.object, index) for x in index.out.get(e, ()) if x.predicate.value == RDF_TYPE),
                    key=_sort_key,
                ),
                "locators": sorted(x.value for x in index.literals(e, (str(CRKG.locator),))),
                "texts": [{"text": x.value, "lang": x.language} for x in texts],
                "said_by": sorted(
                    (_term_view(x.object, index) for x in index.out.get(e, ()) if x.predicate.value == str(CRKG.saidBy)),
                    key=_sort_key,
                ),
            }
        )
    evidence.sort(key=lambda ev: (ev["locators"], ev["iri"]))

    incoming_count = len({_value(t.subject) for t in index.inc.get(iri, ()) if _value(t.subject) != iri})
    return {
        "iri": iri,
        "title": index.label(iri),
        "labels": [{"text": x.value, "lang": x.language} for x in labels],
        "definition": {"text": definition.value, "lang": definition.language} if definition else None,
        "types": sorted((_term_view(x, index) for x in types), key=_sort_key),
        "outgoing": rows(outgoing),
        "incoming": rows(incoming, incoming_side=True),
        "incoming_truncated": incoming_count >= INCOMING_LIMIT,
        "evidence": evidence,
        "any_inferred": bool(inferred),
    }


def _render(template: str, lang: str, status: int = 200, **context) -> Response:
    html = render_template(
        template,
        lang=lang,
        ui=UI[lang],
        version=__version__,
        lang_links={code: request.path + "?" + urlencode({"lang": code}) for code in LANGUAGES},
        **context,
    )
    return Response(html, status=status, mimetype=HTML)


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
    media = _choose([HTML] + RDF_MEDIA)
    triples = _describe(iri)
    if media != HTML:
        return _rdf_response(triples, media, first=iri)
    lang = reader_lang()
    view = resource_view(iri, triples, lang, _inferred_only(iri))
    return _render("resource.html", lang, resource=view, alternates=_alternates(path_url),
                   incoming_limit=INCOMING_LIMIT, query_href=query_link(iri, view["title"]))


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


def _ontology_triples() -> list[ox.Triple]:
    return _construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}")


def _ontology_document(triples: list, media_type: str) -> bytes:
    """The ontology in *media_type*; Turtle and RDF/XML in the release's own byte-stable
    form (:mod:`crkg.build.ontology`: sorted, stable blank nodes, flat RDF/XML that the
    OWL API reads), so ``/ontology`` gives what ``dist/ontology/`` holds. Cached: the
    store is read-only while the service runs."""
    if media_type not in ("text/turtle", "application/rdf+xml"):
        return _serialise(triples, media_type, first=ONTOLOGY_IRI)
    cache = current_app.extensions.setdefault("crkg.ld_cache", {})
    key = ("ontology", id(_store()), media_type)
    if key not in cache:
        import rdflib

        from crkg.build.ontology import serialize_rdfxml, serialize_turtle

        graph = rdflib.Graph()
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        write = serialize_turtle if media_type == "text/turtle" else serialize_rdfxml
        cache[key] = write(graph)
    return cache[key]


@bp.get("/ontology")
def ontology():
    """The ontology document: Turtle or RDF/XML (Protégé "open from URL"), or HTML docs."""
    offered = [HTML, "text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"]
    media = _choose(offered)
    triples = _ontology_triples()
    if not triples:
        abort(404, description=f"The store holds no ontology (graph <{ONTOLOGY_GRAPH}> is empty).")
    if media != HTML:
        response = Response(_ontology_document(triples, media), mimetype=media)
        response.headers["Content-Location"] = url_for(
            "linked_data.ontology", format=FORMAT_BY_MEDIA[media].name
        )
        return response
    lang = reader_lang()
    return _render(
        "ontology.html", lang, doc=ontology_view(triples, lang), alternates=_alternates(request.path)
    )


def ontology_view(triples: list, lang: str) -> dict:
    """The ontology's terms grouped by kind, each with labels, definition and relations."""
    index = Index(triples, lang)
    ns = str(CRKG)
    kinds = {
        OWL + "Class": "classes",
        RDFS + "Class": "classes",
        OWL + "ObjectProperty": "object_properties",
        OWL + "DatatypeProperty": "datatype_properties",
        OWL + "AnnotationProperty": "annotation_properties",
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
                (_term_view(t.object, index) for t in index.out[subject]
                 if t.predicate.value == predicate and isinstance(t.object, ox.NamedNode)),
                key=_sort_key,
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
                "superclasses": related(RDFS + "subClassOf"),
                "domain": related(RDFS + "domain"),
                "range": related(RDFS + "range"),
                "types": [v for v in related(RDF_TYPE)
                          if v["iri"] not in kinds and v["iri"] != OWL + "NamedIndividual"],
                "broader": related(SKOS + "broader"),
            }
        )
    header = {
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
            {"property": _property_view(t.predicate.value, index), "value": _term_view(t.object, index)}
        )
    header["properties"].sort(key=lambda r: (r["property"]["text"].lower(), r["value"]["text"]))
    return {"header": header, "groups": [(k, v) for k, v in groups.items() if v]}


# ---------------------------------------------------------------------- graphs and dumps


def _graph_names() -> list[str]:
    """The store's named graphs under ``https://w3id.org/crkg/graph/``, as local names."""
    prefix = str(GRAPH)
    return sorted(g[len(prefix):] for g in _store().named_graphs() if g.startswith(prefix))


def _graph_counts() -> dict[str, int]:
    rows = _select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


def _graph_body(graph_iri: str, media_type: str) -> bytes:
    """One named graph serialised by the engine itself (no per-triple Python work)."""
    sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {_iri_ref(graph_iri)} {{ ?s ?p ?o }} }}"
    return _store().query(sparql, media_type=media_type, timeout=_timeout(), max_rows=None).body


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
    fmt = FORMAT_BY_MEDIA[media_type]
    if media_type in RDF_MEDIA:
        (name,) = graph_names
        body = _graph_body(str(GRAPH) + name, media_type)
        response = Response(body, mimetype=media_type)
    else:
        store, timeout = _store(), _timeout()
        graphs = [str(GRAPH) + n for n in graph_names]

        def nquads():
            for g in graphs:
                sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
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
                ox.serialize(quads, format=fmt.oxigraph, prefixes=_used_prefixes(quads)),
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
    counts = _graph_counts()
    graphs = []
    for name in _graph_names():
        iri = str(GRAPH) + name
        graphs.append(
            {
                "name": name,
                "iri": iri,
                "href": page_url(iri),
                "triples": counts.get(iri, 0),
                "dumps": [
                    {"label": FORMAT_LABELS[f.media_type], "href": url_for("linked_data.dump", name=f"{name}.{f.extension}")}
                    for f in RDF_FORMATS + DATASET_FORMATS[:1]
                ],
            }
        )
    whole = [
        {"label": FORMAT_LABELS[f.media_type], "href": url_for("linked_data.dump", name=f"{DATASET_DUMP}.{f.extension}")}
        for f in DATASET_FORMATS
    ]
    return _render("data.html", lang, graphs=graphs, whole=whole, total=sum(g["triples"] for g in graphs))


@bp.get("/data/<path:name>")
def dump(name: str):
    """A dump: ``/data/{graph}.{ext}`` (one named graph) or ``/data/crkg.nq`` (all of them)."""
    stem, _, ext = name.rpartition(".")
    if stem and ext in FORMAT_BY_EXTENSION:
        media = FORMAT_BY_EXTENSION[ext].media_type
    else:
        stem, media = name, None
    names = _graph_names()
    if stem == DATASET_DUMP:
        media = media or _choose(DATASET_MEDIA)
        if media not in DATASET_MEDIA:
            abort(406, description="The whole dataset has several graphs: ask for N-Quads or TriG.")
        return _dump_response(names, media, stem.replace("/", "-"))
    if stem not in names:
        abort(404, description=f"No named graph <{GRAPH}{stem}> in this store.")
    media = media or _choose(RDF_MEDIA + DATASET_MEDIA)
    return _dump_response([stem], media, stem.replace("/", "-"))


@bp.get("/graph/<path:name>")
def graph(name: str):
    """A named graph IRI ``https://w3id.org/crkg/graph/{name}``: its contents, negotiated."""
    if name not in _graph_names():
        abort(404, description=f"No named graph <{GRAPH}{name}> in this store.")
    media = _choose([HTML] + RDF_MEDIA + DATASET_MEDIA)
    if media == HTML:
        # a graph is too big for one page: a browser gets the list with its downloads
        return Response(status=303, headers={"Location": url_for("linked_data.data_index") + "#" + name})
    return _dump_response([name], media, None)


# ---------------------------------------------------------------------------------- VoID


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
    base = request.url_root if not current_app.config.get("PUBLIC_BASE_URL") else _public_base()
    base = base if base.endswith("/") else base + "/"
    N = ox.NamedNode
    ds = N(DATASET_IRI)
    t = ox.Triple
    a = N(RDF_TYPE)
    out = [
        t(N(VOID_DOCUMENT), a, N(VOID + "DatasetDescription")),
        t(N(VOID_DOCUMENT), N(DCTERMS + "title"), _lit("VoID description of crkg", "en")),
        t(N(VOID_DOCUMENT), N("http://xmlns.com/foaf/0.1/primaryTopic"), ds),
        t(ds, a, N(VOID + "Dataset")),
        t(ds, N(DCTERMS + "title"), _lit("Community Resilience Knowledge Graph", "en")),
        t(ds, N(DCTERMS + "title"), _lit("社区韧性知识图谱", "zh")),
        t(ds, N(DCTERMS + "description"), _lit(
            "Coded qualitative case studies of community resilience: interventions, actors, "
            "resilience modes and goals, with the evidence passages that support them.", "en")),
        t(ds, N(DCTERMS + "license"), N(LICENSE)),
        t(ds, N(OWL + "versionInfo"), _lit(__version__)),
        t(ds, N(VOID + "sparqlEndpoint"), N(base + "sparql")),
        t(ds, N(VOID + "dataDump"), N(base + f"data/{DATASET_DUMP}.nq")),
        t(ds, N(VOID + "uriSpace"), _lit(str(ID))),
        t(ds, N(VOID + "feature"), N(FORMATS_NS + "N-Quads")),
        t(ds, N(VOID + "feature"), N(FORMATS_NS + "TriG")),
        t(ds, N(VOID + "rootResource"), N(ONTOLOGY_IRI)),
    ]
    counts = _graph_counts()
    total = 0
    for name in _graph_names():
        g = N(str(GRAPH) + name)
        n = counts.get(g.value, 0)
        total += n
        out += [
            t(ds, N(VOID + "subset"), g),
            t(g, a, N(VOID + "Dataset")),
            t(g, N(VOID + "triples"), _lit(n, datatype=XSD + "integer")),
            t(g, N(DCTERMS + "license"), N(LICENSE)),
        ]
        for f in RDF_FORMATS[:2]:
            out.append(t(g, N(VOID + "dataDump"), N(base + f"data/{name}.{f.extension}")))
    out.append(t(ds, N(VOID + "triples"), _lit(total, datatype=XSD + "integer")))

    used = _select(
        "SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t FILTER isIRI(?t) } }"
    )
    vocabularies = set()
    for row in used:
        iri = row["t"]["value"]
        for prefix, ns in _PREFIX_STRINGS.items():
            if iri.startswith(ns) and prefix not in {"rdf", "xsd"}:
                vocabularies.add(ns.rstrip("#") if ns.endswith("#") else ns)
    for v in sorted(vocabularies):
        out.append(t(ds, N(VOID + "vocabulary"), N(v)))

    for row in _select(f"SELECT DISTINCT ?s WHERE {{ ?s a <{CRKG}Study> }} ORDER BY ?s LIMIT 3"):
        out.append(t(ds, N(VOID + "exampleResource"), N(row["s"]["value"])))

    # graph/links describes the linksets, the datasets they link, and this dataset's
    # subsets there (the linking engineer's VoID): all of it belongs in this description
    described = _construct(
        f"""CONSTRUCT {{ ?x ?p ?o }} WHERE {{ GRAPH <{LINKS_GRAPH}> {{
  {{ ?x a <{VOID}Linkset> }} UNION {{ ?x a <{VOID}Dataset> }}
  UNION {{ <{DATASET_IRI}> <{VOID}subset> ?x }} UNION {{ VALUES ?x {{ <{DATASET_IRI}> }} }}
  ?x ?p ?o }} }}"""
    )
    out += described
    for x in described:
        if x.predicate.value == RDF_TYPE and x.object.value == VOID + "Linkset":
            out.append(t(ds, N(VOID + "subset"), x.subject))
    return out


@bp.get("/.well-known/void")
def void():
    media = _choose(RDF_MEDIA + [HTML])
    triples = void_triples()
    if media != HTML:
        return _rdf_response(triples, media, first=DATASET_IRI)
    lang = reader_lang()
    turtle = _serialise(triples, "text/turtle", first=DATASET_IRI).decode("utf-8")
    return _render("void.html", lang, turtle=turtle, alternates=_alternates(request.path))
