"""Every serialisation crkg reads or writes, in one table.

Each :class:`Format` ties together what used to be spelled in several places: the media
type (IANA registry, the ``Content-Type`` crkg answers with), the short name of
``?format=`` and ``crkg query --format`` (the common extension of Fuseki, Virtuoso and
rdflib-endpoint), the file extensions (dumps, ``crkg validate``'s file reading), the label
shown in the HTML pages, the W3C format IRI (https://www.w3.org/ns/formats/, used by the
SPARQL 1.1 Service Description ``sd:resultFormat`` and VoID ``void:feature``), the
pyoxigraph format and the rdflib parser name.

Users: the endpoint (``crkg.web.sparql``), the Linked Data pages and dumps
(``crkg.web``), the embedded store and its writer (``crkg.store.embedded``, which hands
the query worker canonical media types only), the remote store, ``crkg query`` and
``crkg validate``. Content *negotiation* (``Accept`` and q-values) is
``crkg.web.conneg``, over these tables.

Imports only pyoxigraph and ``crkg.namespaces``: no Flask, so the store and the commands
can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph

from crkg.namespaces import FORMATS, PREFIX_IRIS, RDF, XSD

#: What a format can hold: SELECT/ASK results, one RDF graph, or a dataset (named graphs).
RESULTS = "results"
GRAPH = "graph"
DATASET = "dataset"

#: Not an RDF format, but offered beside them by the pages (a browser's ``Accept``).
HTML = "text/html"


@dataclass(frozen=True)
class Format:
    media_type: str
    #: short name accepted by ``?format=`` and ``crkg query --format``
    name: str
    #: RESULTS | GRAPH | DATASET
    kind: str
    #: file extensions without the dot; the first is the one crkg writes (dumps)
    extensions: tuple[str, ...]
    #: the name shown to a reader (download links)
    label: str
    #: local name of the W3C format IRI
    w3c: str
    #: rdflib's parser name, for reading files with rdflib (``crkg validate``)
    rdflib: str | None = None

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @property
    def iri(self) -> str:
        """The W3C format IRI (https://www.w3.org/ns/formats/)."""
        return str(FORMATS[self.w3c])

    @property
    def oxigraph(self):
        """The pyoxigraph format object (``QueryResultsFormat`` or ``RdfFormat``)."""
        table = pyoxigraph.QueryResultsFormat if self.kind == RESULTS else pyoxigraph.RdfFormat
        return table.from_media_type(self.media_type)


#: SELECT / ASK results (SPARQL 1.1 Query Results JSON, XML, CSV, TSV).
RESULT_FORMATS: tuple[Format, ...] = (
    Format("application/sparql-results+json", "json", RESULTS, ("srj",), "SPARQL JSON", "SPARQL_Results_JSON"),
    Format("application/sparql-results+xml", "xml", RESULTS, ("srx",), "SPARQL XML", "SPARQL_Results_XML"),
    Format("text/csv", "csv", RESULTS, ("csv",), "CSV", "SPARQL_Results_CSV"),
    Format("text/tab-separated-values", "tsv", RESULTS, ("tsv",), "TSV", "SPARQL_Results_TSV"),
)

#: RDF graphs (CONSTRUCT / DESCRIBE results, Linked Data pages, dumps).
RDF_FORMATS: tuple[Format, ...] = (
    Format("text/turtle", "turtle", GRAPH, ("ttl",), "Turtle", "Turtle", "turtle"),
    Format("application/n-triples", "ntriples", GRAPH, ("nt",), "N-Triples", "N-Triples", "nt"),
    Format("application/ld+json", "jsonld", GRAPH, ("jsonld", "json"), "JSON-LD", "JSON-LD", "json-ld"),
    Format("application/rdf+xml", "rdfxml", GRAPH, ("rdf", "owl", "xml"), "RDF/XML", "RDF_XML", "xml"),
)

#: Datasets (several named graphs), for dumps.
DATASET_FORMATS: tuple[Format, ...] = (
    Format("application/n-quads", "nquads", DATASET, ("nq",), "N-Quads", "N-Quads", "nquads"),
    Format("application/trig", "trig", DATASET, ("trig",), "TriG", "TriG", "trig"),
)

ALL_FORMATS: tuple[Format, ...] = RESULT_FORMATS + RDF_FORMATS + DATASET_FORMATS
#: What a graph-shaped answer (a description, a dump) can be written as.
GRAPH_FORMATS: tuple[Format, ...] = RDF_FORMATS + DATASET_FORMATS

#: The format of an answer when the one asked for does not fit its kind.
DEFAULT_RESULT = "application/sparql-results+json"
DEFAULT_GRAPH = "text/turtle"

#: Other names clients use for the same formats in ``?format=`` or ``Accept``.
ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "text/tsv": "text/tab-separated-values",
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/json-ld": "application/ld+json",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "n-triples": "application/n-triples",
    "json-ld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "xml-rdf": "application/rdf+xml",
    "rdf/xml": "application/rdf+xml",
    "srj": "application/sparql-results+json",
    "srx": "application/sparql-results+xml",
}

#: A name that means a results format but, asked of a graph, the graph format of the same
#: syntax: ``application/json`` is SPARQL JSON results for SELECT/ASK, JSON-LD for a graph.
GRAPH_ALIASES = {
    "application/json": "application/ld+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "json": "application/ld+json",
    "xml": "application/rdf+xml",
}

_BY_MEDIA = {f.media_type: f for f in ALL_FORMATS}


def _bare(token: str) -> str:
    """A media type or name without parameters (``; charset=...``), lower case."""
    return token.split(";")[0].strip().lower()


def by_media_type(media_type: str | None) -> Format | None:
    """The format of *media_type* (or one of its aliases), ignoring parameters."""
    if not media_type:
        return None
    token = _bare(media_type)
    return _BY_MEDIA.get(ALIASES.get(token, token))


def get(media_type: str) -> Format:
    """The format of a media type crkg offers (one from these tables); ``KeyError`` for
    another. For media types that were negotiated already, so cannot be unknown."""
    found = by_media_type(media_type)
    if found is None:
        raise KeyError(media_type)
    return found


def canonical(token: str, formats: tuple[Format, ...] = ALL_FORMATS) -> str:
    """The media type a ``format=`` value or ``Accept`` range names among *formats*: a short
    name, an alias or a media type. A token naming nothing known comes back as given."""
    token = _bare(token)
    for f in formats:
        if token == f.name:
            return f.media_type
    return ALIASES.get(token, token)


def by_name(name: str, formats: tuple[Format, ...] = ALL_FORMATS) -> Format | None:
    """The format among *formats* that *name* (short name, alias, media type) names."""
    found = _BY_MEDIA.get(canonical(name, formats))
    if found is None or found not in formats:
        found = _BY_MEDIA.get(GRAPH_ALIASES.get(_bare(name), ""))
    return found if found in formats else None


def by_extension(extension: str, formats: tuple[Format, ...] = GRAPH_FORMATS) -> Format | None:
    """The format a file extension (with or without the dot) stands for among *formats*."""
    extension = extension.lower().lstrip(".")
    return next((f for f in formats if extension in f.extensions), None)


def media_types(formats: tuple[Format, ...]) -> list[str]:
    return [f.media_type for f in formats]


def names(formats: tuple[Format, ...]) -> list[str]:
    return [f.name for f in formats]


def for_answer(media_type: str | None, kind: str) -> Format:
    """The format an answer of *kind* (RESULTS, or GRAPH for CONSTRUCT/DESCRIBE) is written
    in: the one *media_type* names if it fits that kind, else the kind's default."""
    found = by_media_type(media_type)
    if kind == RESULTS:
        return found if found is not None and found.kind == RESULTS else _BY_MEDIA[DEFAULT_RESULT]
    return found if found is not None and found.kind in (GRAPH, DATASET) else _BY_MEDIA[DEFAULT_GRAPH]


#: Datatypes a plain or language-tagged literal has without writing them (RDF 1.1 §3.3).
_IMPLICIT_DATATYPES = {str(XSD.string), str(RDF.langString)}


def used_prefixes(items, prefixes: dict[str, str] | None = None) -> dict[str, str]:
    """The bindings of *prefixes* (default: the project's) that some IRI of *items*
    (pyoxigraph triples or quads) starts with: no unused declarations in the output."""
    iris = set()
    for item in items:
        for term in (item.subject, item.predicate, item.object, getattr(item, "graph_name", None)):
            if isinstance(term, pyoxigraph.NamedNode):
                iris.add(term.value)
            elif isinstance(term, pyoxigraph.Literal) and term.datatype.value not in _IMPLICIT_DATATYPES:
                iris.add(term.datatype.value)
    table = PREFIX_IRIS if prefixes is None else prefixes
    return {p: ns for p, ns in table.items() if any(i.startswith(ns) for i in iris)}


def serialize_rdf(items, fmt: Format, prefixes: dict[str, str] | None = None) -> bytes:
    """*items* (triples, or quads for a dataset format) written in *fmt* by the engine,
    with the prefixes they use (Turtle, TriG and RDF/XML declare them; the line formats
    and JSON-LD have none). The query worker, which imports nothing of crkg, picks its
    prefixes the same way from the N-Triples it has."""
    items = list(items)
    return pyoxigraph.serialize(items, format=fmt.oxigraph, prefixes=used_prefixes(items, prefixes)) or b""
