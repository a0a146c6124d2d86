"""Content negotiation over the format table ``crkg.formats``, used by every blueprint.

RFC 9110 §12.5.1 (``Accept`` with q-values) and SPARQL 1.1 Protocol §2.1 / §2.2: the
client picks the result format with ``Accept``; a ``format`` parameter (the common
extension of Fuseki, Virtuoso and rdflib-endpoint) overrides it. This module only
parses and matches; which formats exist, their names and aliases are ``crkg.formats``.
"""

from __future__ import annotations

from crkg.formats import ALIASES, ALL_FORMATS, GRAPH_ALIASES, HTML, Format, canonical

__all__ = ["HTML", "negotiate", "parse_accept"]


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
    return candidate in (media_range, ALIASES.get(media_range), GRAPH_ALIASES.get(media_range))


def negotiate(
    offered: list[str],
    accept: str | None = None,
    format_param: str | None = None,
    formats: tuple[Format, ...] = ALL_FORMATS,
) -> str | None:
    """Pick one of *offered* media types, or ``None`` (the caller answers 406).

    A ``format`` parameter, when given, must name an offered format (by short name,
    alias or media type); otherwise ``Accept`` decides (RFC 9110 §12.5.1): each offered
    type gets the q-value of the most specific range that matches it, so
    ``*/*, text/csv;q=0`` excludes CSV; the highest q wins, then the more specific match,
    then the range the client listed first, then the first offered type.
    """
    if format_param:
        wanted: str | None = canonical(format_param, formats)
        if wanted not in offered:
            wanted = GRAPH_ALIASES.get(format_param.strip().lower())
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
