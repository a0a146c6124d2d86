"""Content negotiation: one table from media type to serialisation, used by every blueprint.

RFC 9110 §12.5.1 (``Accept`` with q-values) and SPARQL 1.1 Protocol §2.1 / §2.2: the
client picks the result format with ``Accept``; a ``format`` parameter (the common
extension of Fuseki, Virtuoso and rdflib-endpoint) overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph


W3C_FORMATS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    media_type: str
    #: short name accepted by ``?format=``
    name: str
    #: the pyoxigraph format object (QueryResultsFormat or RdfFormat)
    oxigraph: object
    extension: str
    #: the W3C format IRI (https://www.w3.org/ns/formats/), for service descriptions and VoID
    w3c: str = ""

    @property
    def iri(self) -> str:
        return W3C_FORMATS + self.w3c


#: SELECT / ASK results (SPARQL 1.1 Query Results JSON, XML, CSV, TSV).
RESULT_FORMATS: tuple[Format, ...] = (
    Format("application/sparql-results+json", "json", pyoxigraph.QueryResultsFormat.JSON, "srj", "SPARQL_Results_JSON"),
    Format("application/sparql-results+xml", "xml", pyoxigraph.QueryResultsFormat.XML, "srx", "SPARQL_Results_XML"),
    Format("text/csv", "csv", pyoxigraph.QueryResultsFormat.CSV, "csv", "SPARQL_Results_CSV"),
    Format("text/tab-separated-values", "tsv", pyoxigraph.QueryResultsFormat.TSV, "tsv", "SPARQL_Results_TSV"),
)

#: RDF graphs (CONSTRUCT / DESCRIBE results, Linked Data pages, dumps).
RDF_FORMATS: tuple[Format, ...] = (
    Format("text/turtle", "turtle", pyoxigraph.RdfFormat.TURTLE, "ttl", "Turtle"),
    Format("application/n-triples", "ntriples", pyoxigraph.RdfFormat.N_TRIPLES, "nt", "N-Triples"),
    Format("application/ld+json", "jsonld", pyoxigraph.RdfFormat.JSON_LD, "jsonld", "JSON-LD"),
    Format("application/rdf+xml", "rdfxml", pyoxigraph.RdfFormat.RDF_XML, "rdf", "RDF_XML"),
)

#: Datasets (several named graphs), for dumps.
DATASET_FORMATS: tuple[Format, ...] = (
    Format("application/n-quads", "nquads", pyoxigraph.RdfFormat.N_QUADS, "nq", "N-Quads"),
    Format("application/trig", "trig", pyoxigraph.RdfFormat.TRIG, "trig", "TriG"),
)

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

HTML = "text/html"


def by_media_type(formats: tuple[Format, ...]) -> dict[str, Format]:
    return {f.media_type: f for f in formats}


def _canonical(token: str, formats: tuple[Format, ...]) -> str | None:
    token = token.strip().lower()
    names = {f.name: f.media_type for f in formats}
    if token in names:
        return names[token]
    token = ALIASES.get(token, token)
    return token


#: A media range that also names a format of the other table: ``application/json`` is
#: SPARQL JSON results for SELECT/ASK but JSON-LD for a graph.
_ALSO = {
    "application/json": "application/ld+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "json": "application/ld+json",
    "xml": "application/rdf+xml",
}


def _ranges(header: str | None) -> list[tuple[str, float, int, int]]:
    """(media range, q, specificity, position) for each range of an ``Accept`` header."""
    if header is None or not header.strip():
        return [("*/*", 1.0, 0, 0)]
    ranges = []
    for index, part in enumerate(header.split(",")):
        fields = [p.strip() for p in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":  # seen from old clients; means */*
            media = "*/*"
        q = 1.0
        for param in fields[1:]:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
                if q != q:  # NaN
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, index))
    return ranges


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an ``Accept`` header with their q-values, best first.

    Ties keep header order but more specific ranges win over wildcards (RFC 9110 §12.5.1).
    Unparsable q-values count as 0 rather than failing the request.
    """
    ranges = sorted(_ranges(header), key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def _matches(media_range: str, candidate: str) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return candidate.startswith(media_range[:-1])
    return candidate in (media_range, ALIASES.get(media_range), _ALSO.get(media_range))


def negotiate(
    offered: list[str],
    accept: str | None = None,
    format_param: str | None = None,
    formats: tuple[Format, ...] = RESULT_FORMATS + RDF_FORMATS,
) -> str | None:
    """Pick one of *offered* media types, or ``None`` (the caller answers 406).

    A ``format`` parameter, when given, must name an offered format (by short name,
    alias or media type); otherwise ``Accept`` decides (RFC 9110 §12.5.1): each offered
    type gets the q-value of the most specific range that matches it, so
    ``*/*, text/csv;q=0`` excludes CSV; the highest q wins, then the more specific match,
    then the range the client listed first, then the first offered type.
    """
    if format_param:
        wanted = _canonical(format_param.split(";")[0], formats)
        if wanted not in offered:
            wanted = _ALSO.get(format_param.strip().lower())
        return wanted if wanted in offered else None
    ranges = _ranges(accept)
    best, best_key = None, None
    for order, candidate in enumerate(offered):
        matching = [r for r in ranges if _matches(r[0], candidate)]
        if not matching:
            continue
        media, q, specificity, position = max(matching, key=lambda r: (r[2], -r[3]))
        if q <= 0:
            continue
        key = (q, specificity, -position, -order)
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best
