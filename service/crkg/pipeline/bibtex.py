"""BibTeX (``references.bib`` of a study) → FaBiO / CiTO / PRISM triples.

The mapping (documented in ``data/README.md``):

=================  ==========================================================
BibTeX             RDF
=================  ==========================================================
``@article``       ``fabio:JournalArticle``
``@book``          ``fabio:Book``
``@incollection``  ``fabio:BookChapter`` (also ``@inbook``)
``@misc``          ``fabio:Expression`` (a work whose kind is not verified)
key                the IRI ``https://w3id.org/crkg/id/work/{key}``
title              ``dcterms:title`` and ``rdfs:label``
langid             the language tag of the title (``english`` → ``@en``)
author             ``dcterms:creator`` (one literal per author, as in the record)
year               ``dcterms:issued`` (``xsd:gYear``)
journal            ``prism:publicationName`` (``booktitle`` likewise for chapters)
volume / number    ``prism:volume`` / ``prism:issueIdentifier``
pages              ``prism:startingPage`` / ``prism:endingPage`` (or ``prism:pageRange``)
publisher          ``dcterms:publisher``
editor             ``dcterms:contributor`` (``"… (ed.)"``)
doi                ``prism:doi`` and ``skos:exactMatch <https://doi.org/{doi}>``
note               ``crkg:codingNote`` (``@en``): where the record was verified
=================  ==========================================================

Every work also gets ``dcterms:bibliographicCitation`` (a one-line citation built
from these fields). The study ``cito:cites`` the works its reference slots
``crkg:refersTo``; candidate works (``crkg:candidateWork``) are not cited, because
the identification is not established. A BibTeX field outside this table is an error:
nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bibtexparser
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from crkg.errors import CrkgError
from crkg.namespaces import CITO, CRKG, FABIO, ID, PRISM

TYPES = {
    "article": FABIO.JournalArticle,
    "book": FABIO.Book,
    "incollection": FABIO.BookChapter,
    "inbook": FABIO.BookChapter,
    "misc": FABIO.Expression,
}
FIELDS = {"author", "title", "year", "journal", "booktitle", "volume", "number", "pages",
          "publisher", "editor", "doi", "note", "langid"}
#: biblatex ``langid`` → the language tag of ``dcterms:title`` and ``rdfs:label``.
LANGUAGES = {"english": "en", "chinese": "zh", "german": "de", "french": "fr", "japanese": "ja"}


@dataclass
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]
    path: Path
    line: int  # 1-based


def read_bibtex(path: Path) -> list[BibEntry]:
    """Parse one ``.bib`` file; syntax errors, duplicate keys, unknown types and fields
    raise :class:`CrkgError` naming file, line and key."""
    path = Path(path)
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    for block in library.failed_blocks:
        first = block.raw.strip().splitlines()[0] if block.raw.strip() else ""
        reason = getattr(block, "error", None) or type(block).__name__
        raise CrkgError(f"{path}:{block.start_line + 1}: BibTeX error in {first!r}: {reason}")
    entries = []
    for e in library.entries:
        line = e.start_line + 1
        etype = e.entry_type.lower()
        if etype not in TYPES:
            raise CrkgError(f"{path}:{line} (entry {e.key}): unsupported entry type @{etype} "
                            f"(supported: {', '.join('@' + t for t in TYPES)})")
        fields = {}
        for f in e.fields:
            name = f.key.lower()
            if name not in FIELDS:
                raise CrkgError(f"{path}:{f.start_line + 1} (entry {e.key}): unknown BibTeX field "
                                f"{f.key!r} (known: {', '.join(sorted(FIELDS))})")
            fields[name] = " ".join(str(f.value).split())
        if "title" not in fields:
            raise CrkgError(f"{path}:{line} (entry {e.key}): a title is required")
        entries.append(BibEntry(e.key, etype, fields, path, line))
    return entries


def work_iri(key: str) -> URIRef:
    return URIRef(ID[f"work/{key}"])


def _authors(value: str) -> list[str]:
    return [a.strip() for a in value.split(" and ") if a.strip()]


def citation(entry: BibEntry) -> str:
    """A one-line citation from the record's own fields (no style, nothing added)."""
    f = entry.fields
    parts = []
    if "author" in f:
        parts.append(", ".join(_authors(f["author"])))
    parts.append(f["title"])
    venue = f.get("journal") or f.get("booktitle") or ""
    if "editor" in f:
        venue = f"in {f['editor']} (ed.), {venue}".strip(", ")
    if "volume" in f:
        venue += f" {f['volume']}"
    if "number" in f:
        venue += f"({f['number']})"
    if "pages" in f:
        venue += f":{f['pages'].replace('--', '-')}"
    if "publisher" in f:
        venue = f"{venue}, {f['publisher']}" if venue else f["publisher"]
    if venue.strip():
        parts.append(venue.strip())
    if "year" in f:
        parts.append(f["year"])
    if "doi" in f:
        parts.append(f"doi:{f['doi']}")
    # A part that already ends with a full stop (an author's initial "Daniel P.", a title
    # ending in an abbreviation) takes no second one: "Aldrich, Daniel P. Building ...".
    return "".join(p + ("" if i == len(parts) - 1 else " " if p.endswith(".") else ". ")
                   for i, p in enumerate(parts))


def bibtex_to_graph(entries: list[BibEntry], graph: Graph, study_iri: URIRef,
                    cited: set[str]) -> Graph:
    """Add the works of *entries* to *graph*; the study ``cito:cites`` the *cited* keys."""
    for e in entries:
        w = work_iri(e.key)
        f = e.fields
        graph.add((w, RDF.type, TYPES[e.entry_type]))
        lang = None
        if "langid" in f:
            lang = LANGUAGES.get(f["langid"].lower())
            if lang is None:
                raise CrkgError(f"{e.path}:{e.line} (entry {e.key}): unknown langid {f['langid']!r} "
                                f"(known: {', '.join(sorted(LANGUAGES))})")
        graph.add((w, DCTERMS.title, Literal(f["title"], lang=lang)))
        graph.add((w, RDFS.label, Literal(f["title"], lang=lang)))
        graph.add((w, DCTERMS.bibliographicCitation, Literal(citation(e))))
        for author in _authors(f.get("author", "")):
            graph.add((w, DCTERMS.creator, Literal(author)))
        if "year" in f:
            if not f["year"].isdigit() or len(f["year"]) != 4:
                raise CrkgError(f"{e.path}:{e.line} (entry {e.key}): year must be four digits")
            graph.add((w, DCTERMS.issued, Literal(f["year"], datatype=XSD.gYear)))
        venue = f.get("journal") or f.get("booktitle")
        if venue:
            graph.add((w, PRISM.publicationName, Literal(venue)))
        if "volume" in f:
            graph.add((w, PRISM.volume, Literal(f["volume"])))
        if "number" in f:
            graph.add((w, PRISM.issueIdentifier, Literal(f["number"])))
        if "pages" in f:
            start, sep, end = f["pages"].partition("--")
            if sep:
                graph.add((w, PRISM.startingPage, Literal(start.strip())))
                graph.add((w, PRISM.endingPage, Literal(end.strip())))
            else:
                graph.add((w, PRISM.pageRange, Literal(f["pages"])))
        if "publisher" in f:
            graph.add((w, DCTERMS.publisher, Literal(f["publisher"])))
        if "editor" in f:
            graph.add((w, DCTERMS.contributor, Literal(f"{f['editor']} (ed.)")))
        if "doi" in f:
            doi = f["doi"]
            if not doi.startswith("10."):
                raise CrkgError(f"{e.path}:{e.line} (entry {e.key}): a DOI starts with '10.' (got {doi!r})")
            graph.add((w, PRISM.doi, Literal(doi)))
            # skos:exactMatch, not owl:sameAs: under OWL semantics the reasoner would copy every
            # statement about the work onto the DOI IRI and each slot would refer to two works.
            graph.add((w, SKOS.exactMatch, URIRef(f"https://doi.org/{doi}")))
        if "note" in f:
            graph.add((w, CRKG.codingNote, Literal(f["note"], lang="en")))
        if e.key in cited:
            graph.add((study_iri, CITO.cites, w))
    return graph
