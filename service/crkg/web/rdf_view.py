"""The RDF view model: the triples of a description, indexed, labelled and turned into
plain dicts the templates show.

Labels are chosen in the reader's language (``crkg.web.languages``), terms link to their
pages on this deployment (``crkg.web.urls``), blank nodes (OWL lists, restrictions) are
written out in Turtle's notation, and IRIs without a label are shown as CURIEs of the
project's prefixes (``crkg.namespaces``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from crkg.namespaces import DCTERMS, ID, OWL, PREFIX_IRIS, RDF, RDFS, SKOS, XSD
from crkg.web.languages import LANGUAGES
from crkg.web.urls import page_url

RDF_TYPE = str(RDF.type)
_RDF_FIRST, _RDF_REST = str(RDF.first), str(RDF.rest)
_XSD_STRING = str(XSD.string)
#: what names a resource, best first (the ontology header and VoID datasets use dcterms:title)
LABEL_PREDICATES = (str(RDFS.label), str(SKOS.prefLabel), str(DCTERMS.title))
DEFINITION_PREDICATES = (str(SKOS.definition), str(RDFS.comment), str(DCTERMS.description))

#: Names for common predicates that no graph labels (the ontology labels its own terms).
BUILTIN_LABELS = {
    RDF_TYPE: {"en": "type", "zh": "类型"},
    str(RDFS.label): {"en": "label", "zh": "标签"},
    str(RDFS.comment): {"en": "comment", "zh": "注释"},
    str(RDFS.subClassOf): {"en": "subclass of", "zh": "子类"},
    str(RDFS.subPropertyOf): {"en": "subproperty of", "zh": "子属性"},
    str(RDFS.domain): {"en": "domain", "zh": "定义域"},
    str(RDFS.range): {"en": "range", "zh": "值域"},
    str(RDFS.isDefinedBy): {"en": "defined by", "zh": "定义于"},
    str(RDFS.seeAlso): {"en": "see also", "zh": "参见"},
    str(OWL.sameAs): {"en": "same as", "zh": "等同于"},
    str(SKOS.prefLabel): {"en": "preferred label", "zh": "首选标签"},
    str(SKOS.definition): {"en": "definition", "zh": "定义"},
    str(SKOS.broader): {"en": "broader", "zh": "上位概念"},
    str(SKOS.inScheme): {"en": "in scheme", "zh": "所属概念体系"},
}


def curie(iri: str) -> str:
    best = None
    for prefix, ns in PREFIX_IRIS.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(best[1])):
            best = (prefix, ns)
    if best is None:
        return iri
    return f"{best[0]}:{iri[len(best[1]):]}"


#: How deep the description follows blank nodes (OWL lists and class expressions).
BLANK_DEPTH = 10


def term_value(term) -> str:
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
            self.out[term_value(t.subject)].append(t)
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


def term_view(term, index: Index, inferred: bool = False) -> dict[str, Any]:
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
        if datatype and not term.language and datatype != _XSD_STRING:
            shown_type = curie(datatype)
        return {
            "kind": "literal",
            "text": term.value,
            "lang": term.language,
            "datatype": shown_type,
            "inferred": inferred,
        }
    return {"kind": "blank", "text": blank_text(term, index), "inferred": inferred}


def blank_text(node, index: Index, depth: int = 0) -> str:
    """A blank node written out from its triples: ``( a b )`` for an RDF list,
    ``[ p o ; ... ]`` otherwise (Turtle's notation), terms as CURIEs."""
    triples = index.out.get(term_value(node), [])
    if not triples or depth > BLANK_DEPTH:
        return "[ ]"

    def show(term):
        if isinstance(term, ox.NamedNode):
            return curie(term.value)
        if isinstance(term, ox.Literal):
            return f'"{term.value}"' + (f"@{term.language}" if term.language else "")
        return blank_text(term, index, depth + 1)

    if any(t.predicate.value == _RDF_FIRST for t in triples):
        items, current, seen = [], node, set()
        while isinstance(current, ox.BlankNode) and term_value(current) not in seen:
            seen.add(term_value(current))
            out = {t.predicate.value: t.object for t in index.out.get(term_value(current), [])}
            if _RDF_FIRST not in out:
                break
            items.append(show(out[_RDF_FIRST]))
            current = out.get(_RDF_REST)
        return "( " + " ".join(items) + " )"
    parts = sorted(f"{curie(t.predicate.value)} {show(t.object)}" for t in triples)
    return "[ " + " ; ".join(parts) + " ]"


def property_view(predicate: str, index: Index) -> dict:
    return {
        "iri": predicate,
        "text": index.label(predicate),
        "curie": curie(predicate),
        "href": page_url(predicate) or predicate,
    }


def sort_key(view: dict[str, Any]) -> str:
    return (view.get("text") or "").lower()
