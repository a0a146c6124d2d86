""""Cite this": a study, a passage or an intervention as a formatted line and as BibTeX,
RIS and CSL-JSON (``/cite?iri=…&format=bibtex|ris|csl-json``).

Only what the graph states is written: the study's ``dcterms:title``, ``dcterms:creator``,
``dcterms:issued``, ``prism:publicationName`` and ``prism:doi`` where present; a field
the graph lacks (the first study's journal and year) is left out, never guessed. A
passage's or intervention's citation names its study, its ``crkg:locator`` and its
permanent IRI (``https://w3id.org/crkg/id/...``), which is also the ``URL``.

Formats: BibTeX (``@misc``, or ``@article`` for a ``fabio:JournalArticle``), RIS
(RIS format specification, Research Information Systems 2011: ``TY``…``ER``), CSL-JSON
(Citation Style Language 1.0.2 data schema: an array of items).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, request

from crkg.namespaces import CRKG, FABIO, ID, PREFIX_IRIS, PRISM
from crkg.web.languages import reader_lang
from crkg.web.page_queries import iri_ref as _iri_ref
from crkg.web.page_queries import select as _select

RDF, RDFS, DCTERMS = (PREFIX_IRIS[p] for p in ("rdf", "rdfs", "dcterms"))

bp = Blueprint("citations", __name__)

FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json", "json"),
}
GRAPH_NAME = {"en": "Community Resilience Knowledge Graph (crkg)", "zh": "社区韧性知识图谱（crkg）"}


@dataclass
class Work:
    """The study a citation points into, with only the fields the graph states."""

    iri: str
    titles: dict = field(default_factory=dict)  # lang -> title
    creators: list = field(default_factory=list)
    issued: str | None = None
    container: str | None = None
    doi: str | None = None
    journal_article: bool = False


@dataclass
class Citation:
    iri: str
    kind: str  # study | passage | intervention
    work: Work
    label: str | None = None
    locators: list = field(default_factory=list)

    def title(self, lang: str) -> str:
        t = self.work.titles
        return t.get(lang) or t.get("zh") or t.get("en") or next(iter(t.values()), self.work.iri)

    def line(self, lang: str) -> str:
        """The formatted reference: creators. Title. [year.] [journal.] [§ locator. label.] IRI."""
        parts = []
        if self.work.creators:
            parts.append(("、" if lang == "zh" else ", ").join(self.work.creators))
        parts.append(self.title(lang))
        if self.work.container:
            parts.append(self.work.container)
        if self.work.issued:
            parts.append(self.work.issued)
        if self.kind != "study":
            if self.locators:
                parts.append("§ " + ", ".join(self.locators))
            if self.label:
                parts.append(self.label)
            parts.append(GRAPH_NAME[lang])
        line = ". ".join(p.rstrip(".") for p in parts) + ". " + self.iri
        if self.work.doi:
            line += " doi:" + self.work.doi
        return line


def _key(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", iri[len(str(ID)):] if iri.startswith(str(ID)) else iri).strip("-")


def load_citation(iri: str, lang: str) -> Citation:
    """The citation of *iri*; 404 if it is no study, passage or intervention of the graph."""
    found = find_citation(iri, lang)
    if found is None:
        abort(404, description=f"<{iri}> is no study, passage or intervention of this graph.")
    return found


def find_citation(iri: str, lang: str) -> Citation | None:
    """The citation of *iri*, or None if it is no study, passage or intervention of a study
    in the graph (e.g. an intervention in no case)."""
    i = _iri_ref(iri)
    rows = _select(
        f"""PREFIX crkg: <{CRKG}> PREFIX rdf: <{RDF}> PREFIX rdfs: <{RDFS}>
SELECT ?kind ?study ?label ?loc WHERE {{
  {{ {i} a crkg:Study BIND("study" AS ?kind) BIND({i} AS ?study) }}
  UNION {{ {i} a crkg:Evidence ; crkg:inStudy ?study BIND("passage" AS ?kind) }}
  UNION {{ {i} a crkg:Intervention ; crkg:inCase/crkg:inStudy ?study BIND("intervention" AS ?kind) }}
  OPTIONAL {{ {i} rdfs:label ?label }}
  OPTIONAL {{ {i} crkg:locator ?loc }}
}}"""
    )
    if not rows:
        return None
    kind = rows[0]["kind"]["value"]
    study = rows[0]["study"]["value"]
    labels = {r["label"].get("xml:lang") or "": r["label"]["value"] for r in rows if "label" in r}
    label = labels.get(lang) or labels.get("en") or labels.get("zh") or labels.get("") or None
    locators = sorted({r["loc"]["value"] for r in rows if "loc" in r})
    work = Work(study)
    s = _iri_ref(study)
    for r in _select(
        f"""PREFIX dcterms: <{DCTERMS}> PREFIX prism: <{PRISM}> PREFIX rdf: <{RDF}>
SELECT ?p ?o WHERE {{ {s} ?p ?o FILTER (?p IN (dcterms:title, dcterms:creator, dcterms:issued,
  prism:publicationName, prism:doi, rdf:type)) }}"""
    ):
        p, o = r["p"]["value"], r["o"]
        if p == DCTERMS + "title":
            work.titles.setdefault(o.get("xml:lang") or "", o["value"])
        elif p == DCTERMS + "creator":
            if o["value"] not in work.creators:
                work.creators.append(o["value"])
        elif p == DCTERMS + "issued":
            work.issued = o["value"]
        elif p == str(PRISM.publicationName):
            work.container = o["value"]
        elif p == str(PRISM.doi):
            work.doi = o["value"]
        elif p == RDF + "type" and o["value"] == str(FABIO.JournalArticle):
            work.journal_article = True
    work.creators.sort()
    return Citation(iri, kind, work, label if kind != "study" else None, locators)


# ------------------------------------------------------------------------------ formats

_BIB_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}",
                **{ch: "\\" + ch for ch in "{}%&#$_"}}


def _bib(text: str) -> str:
    """*text* as a BibTeX field value: TeX's special characters escaped, so a passage or
    title can never close the field or run a command."""
    return "".join(_BIB_ESCAPES.get(ch, ch) for ch in text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def bibtex(c: Citation, lang: str) -> str:
    entry = "article" if c.kind == "study" and c.work.journal_article else "misc"
    fields = []
    if c.work.creators:
        fields.append(("author", " and ".join("{" + _bib(a) + "}" for a in c.work.creators), True))
    title = c.title(lang)
    if c.kind != "study" and c.label:
        title = f"{c.label}. In: {title}"
    fields.append(("title", _bib(_one_line(title)), False))
    if c.work.container:
        fields.append(("journal" if entry == "article" else "howpublished", _bib(c.work.container), False))
    if c.work.issued:
        fields.append(("year", _bib(c.work.issued[:4]), False))
    if c.work.doi:
        fields.append(("doi", _bib(c.work.doi), False))
    if c.kind != "study":
        note = ("Section " if lang == "en" else "章节 ") + ", ".join(c.locators) if c.locators else ""
        note = "; ".join(x for x in (note, GRAPH_NAME[lang]) if x)
        fields.append(("note", _bib(note), False))
    fields.append(("url", c.iri, False))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value, _ in fields)
    return f"@{entry}{{{_key(c.iri)},\n{body}\n}}\n"


def ris(c: Citation, lang: str) -> str:
    lines = [("TY", "JOUR" if c.kind == "study" and c.work.journal_article else "GEN")]
    lines += [("AU", a) for a in c.work.creators]
    title = c.title(lang)
    if c.kind != "study" and c.label:
        lines.append(("TI", c.label))
        lines.append(("T2", title))
    else:
        lines.append(("TI", title))
    if c.work.container:
        lines.append(("JO", c.work.container))
    if c.work.issued:
        lines.append(("PY", c.work.issued[:4]))
    if c.work.doi:
        lines.append(("DO", c.work.doi))
    if c.kind != "study" and c.locators:
        lines.append(("SE", ", ".join(c.locators)))
    lines.append(("UR", c.iri))
    if c.kind != "study":
        lines.append(("PB", GRAPH_NAME[lang]))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines)


def csl_json(c: Citation, lang: str) -> str:
    item = {"id": _key(c.iri), "type": "article-journal" if c.kind == "study" and c.work.journal_article else "document"}
    if c.work.creators:
        item["author"] = [{"literal": a} for a in c.work.creators]
    if c.kind != "study" and c.label:
        item["title"] = c.label
        item["container-title"] = c.title(lang)
        item["publisher"] = GRAPH_NAME[lang]
        if c.locators:
            item["section"] = ", ".join(c.locators)
    else:
        item["title"] = c.title(lang)
        if c.work.container:
            item["container-title"] = c.work.container
    if c.work.issued:
        item["issued"] = {"date-parts": [[int(c.work.issued[:4])]]} if c.work.issued[:4].isdigit() else {"literal": c.work.issued}
    if c.work.doi:
        item["DOI"] = c.work.doi
    item["URL"] = c.iri
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


WRITERS = {"bibtex": bibtex, "ris": ris, "csl-json": csl_json}


def download_links(iri: str) -> list[dict]:
    from urllib.parse import urlencode

    from flask import url_for

    return [{"label": {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}[f],
             "href": url_for("citations.cite") + "?" + urlencode({"iri": iri, "format": f})}
            for f in FORMATS]


@bp.get("/cite")
def cite():
    """A citation file to download; ``format`` is one of :data:`FORMATS`."""
    iri = request.args.get("iri", "")
    fmt = (request.args.get("format") or "bibtex").lower()
    if fmt not in FORMATS:
        abort(400, description=f"format={fmt!r} is not offered; offered: {', '.join(FORMATS)}")
    if not iri.startswith(str(ID)):
        abort(404, description=f"{iri!r} is no IRI of this graph (they start with {ID}).")
    lang = reader_lang()
    c = load_citation(iri, lang)
    media, ext = FORMATS[fmt]
    response = Response(WRITERS[fmt](c, lang).encode("utf-8"), content_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{_key(iri)}.{ext}"'
    return response
