"""Content negotiation: one table from media type to serialisation, used by every blueprint.

RFC 9110 §12.5.1 (``Accept`` with q-values) and SPARQL 1.1 Protocol §2.1 / §2.2: the
client picks the result format with ``Accept``; a ``format`` parameter (the common
extension of Fuseki, Virtuoso and rdflib-endpoint) overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph


@dataclass(frozen=True)
class Format:
    media_type: str
    #: short name accepted by ``?format=``
    name: str
    #: the pyoxigraph format object (QueryResultsFormat or RdfFormat)
    oxigraph: object
    extension: str


#: SELECT / ASK results (SPARQL 1.1 Query Results JSON, XML, CSV, TSV).
RESULT_FORMATS: tuple[Format, ...] = (
    Format("application/sparql-results+json", "json", pyoxigraph.QueryResultsFormat.JSON, "srj"),
    Format("application/sparql-results+xml", "xml", pyoxigraph.QueryResultsFormat.XML, "srx"),
    Format("text/csv", "csv", pyoxigraph.QueryResultsFormat.CSV, "csv"),
    Format("text/tab-separated-values", "tsv", pyoxigraph.QueryResultsFormat.TSV, "tsv"),
)

#: RDF graphs (CONSTRUCT / DESCRIBE results, Linked Data pages, dumps).
RDF_FORMATS: tuple[Format, ...] = (
    Format("text/turtle", "turtle", pyoxigraph.RdfFormat.TURTLE, "ttl"),
    Format("application/n-triples", "ntriples", pyoxigraph.RdfFormat.N_TRIPLES, "nt"),
    Format("application/ld+json", "jsonld", pyoxigraph.RdfFormat.JSON_LD, "jsonld"),
    Format("application/rdf+xml", "rdfxml", pyoxigraph.RdfFormat.RDF_XML, "rdf"),
)

#: Datasets (several named graphs), for dumps.
DATASET_FORMATS: tuple[Format, ...] = (
    Format("application/n-quads", "nquads", pyoxigraph.RdfFormat.N_QUADS, "nq"),
    Format("application/trig", "trig", pyoxigraph.RdfFormat.TRIG, "trig"),
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


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an ``Accept`` header with their q-values, best first.

    Ties keep header order but more specific ranges win over wildcards (RFC 9110 §12.5.1).
    Unparsable q-values count as 0 rather than failing the request.
    """
    if not header:
        return [("*/*", 1.0)]
    ranges = []
    for index, part in enumerate(header.split(",")):
        fields = [p.strip() for p in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, index))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def negotiate(
    offered: list[str],
    accept: str | None = None,
    format_param: str | None = None,
    formats: tuple[Format, ...] = RESULT_FORMATS + RDF_FORMATS,
) -> str | None:
    """Pick one of *offered* media types, or ``None`` (the caller answers 406).

    A ``format`` parameter, when given, must name an offered format (by short name,
    alias or media type); otherwise the ``Accept`` header decides, the first offered
    type winning when the client accepts anything.
    """
    if format_param:
        wanted = _canonical(format_param, formats)
        return wanted if wanted in offered else None
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        media = ALIASES.get(media, media)
        if media == "*/*":
            return offered[0]
        if media.endswith("/*"):
            major = media[:-1]
            for candidate in offered:
                if candidate.startswith(major):
                    return candidate
            continue
        if media in offered:
            return media
    return None
