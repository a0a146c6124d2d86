"""What the Linked Data blueprints share: store access, content negotiation, links and
languages, and the HTML view of RDF terms.

Follows "Cool URIs for the Semantic Web" (W3C Interest Group Note, 2008) and the "Best
Practice Recipes for Publishing RDF Vocabularies" (W3C, 2008), recipe 3 (hash namespace,
content negotiation): one address answers HTML to a browser and Turtle, JSON-LD,
RDF/XML or N-Triples to an RDF client, chosen by ``Accept`` or ``?format=`` from the one
table in :mod:`crkg.web.conneg`, always with ``Vary: Accept``.

The pages, one blueprint each (every crkg IRI answers on this service):

- :mod:`crkg.web.resource_pages`  ``/id/{kind}/...`` and ``/ontology/{Term}``
- :mod:`crkg.web.ontology_doc`    ``/ontology``, the ontology document
- :mod:`crkg.web.dumps`           ``/graph/...``, ``/data``: the named graphs and their dumps
- :mod:`crkg.web.void`            ``/.well-known/void``, the VoID description

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
from flask import Response, abort, current_app, render_template, request

from crkg.namespaces import (
    BASE_IRI,
    CRKG,
    GRAPH,
    ID,
    ONTOLOGY_IRI,
    PREFIXES,
)
from crkg.version import __version__
from crkg.web.conneg import DATASET_FORMATS, HTML, RDF_FORMATS, negotiate

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = RDF + "type"
#: what names a resource, best first (the ontology header and VoID datasets use dcterms:title)
LABEL_PREDICATES = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title")
DEFINITION_PREDICATES = (SKOS + "definition", RDFS + "comment", DCTERMS + "description")

#: The VoID document's own IRI and the dataset it describes (VoID Note §7.2).
VOID_DOCUMENT = BASE_IRI + ".well-known/void"
#: the same IRI the linksets name as their void:subjectsTarget
DATASET_IRI = str(ID) + "dataset/crkg"

LANGUAGES = ("en", "zh")

RDF_MEDIA = [f.media_type for f in RDF_FORMATS]
FORMAT_BY_MEDIA = {f.media_type: f for f in RDF_FORMATS + DATASET_FORMATS}
FORMAT_LABELS = {
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF/XML",
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


def _graph_names() -> list[str]:
    """The store's named graphs under ``https://w3id.org/crkg/graph/``, as local names."""
    prefix = str(GRAPH)
    return sorted(g[len(prefix):] for g in _store().named_graphs() if g.startswith(prefix))


def _graph_counts() -> dict[str, int]:
    rows = _select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


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


def _vary(response: Response) -> Response:
    # Every answer of these blueprints depends on Accept (format) and, for HTML, on the
    # reader's language; caches must key on both. Each blueprint registers it:
    # ``bp.after_request(_vary)``.
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


# --------------------------------------------------------------- HTML view of a description


#: How deep the description follows blank nodes (OWL lists and class expressions).
BLANK_DEPTH = 10


def _value(term) -> str:
    return getattr(term, "value", str(term))


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
