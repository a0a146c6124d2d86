"""What every Linked Data page does with a request: negotiate, serialise, render.

"Best Practice Recipes for Publishing RDF Vocabularies" (W3C, 2008), recipe 3 (hash
namespace, content negotiation): one address answers HTML to a browser and Turtle,
JSON-LD, RDF/XML or N-Triples to an RDF client, chosen by ``Accept`` or ``?format=`` from
the one table in :mod:`crkg.formats`, always with ``Vary: Accept``.

The pages, one blueprint each (every crkg IRI answers on this service):

- :mod:`crkg.web.resource_pages`  ``/id/{kind}/...`` and ``/ontology/{Term}``
- :mod:`crkg.web.ontology_doc`    ``/ontology``, the ontology document
- :mod:`crkg.web.dumps`           ``/graph/...``, ``/data``: the named graphs and their dumps
- :mod:`crkg.web.void`            ``/.well-known/void``, the VoID description

Their other helpers: the reader's language (:mod:`crkg.web.languages`), links
(:mod:`crkg.web.urls`), the queries they ask (:mod:`crkg.web.page_queries`) and the view
of RDF terms (:mod:`crkg.web.rdf_view`).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, abort, render_template, request

from crkg.formats import GRAPH_FORMATS, HTML, RESULTS, by_media_type, serialize_rdf
from crkg.version import __version__
from crkg.web.conneg import negotiate
from crkg.web.languages import LANGUAGES, UI
from crkg.web.rdf_view import RDF_TYPE

def choose(offered: list[str]) -> str:
    """The media type to answer with: ``?format=`` first, then ``Accept``; 406 if none fits."""
    wanted = request.args.get("format")
    if wanted and wanted.strip().lower() in {"html", HTML}:
        if HTML in offered:
            return HTML
        abort(406, description=f"format={wanted} is not offered here; offered: {', '.join(offered)}")
    accept = request.headers.get("Accept")
    # plain JSON (Accept or format=) about a resource means JSON-LD: crkg.formats.GRAPH_ALIASES
    chosen = negotiate(offered, accept, wanted, formats=GRAPH_FORMATS)
    if chosen is None:
        asked = f"format={wanted}" if wanted else f"Accept: {request.headers.get('Accept')}"
        abort(406, description=f"Cannot answer {asked}; offered: {', '.join(offered)}")
    return chosen


def vary(response: Response) -> Response:
    # Every answer of these blueprints depends on Accept (format) and, for HTML, on the
    # reader's language; caches must key on both. Each blueprint registers it:
    # ``bp.after_request(vary)``.
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return response


def sorted_triples(triples, first: str | None = None) -> list[ox.Triple]:
    """Group by subject (the described resource first) so Turtle nests readably and stably."""

    def key(t):
        s = t.subject.value if hasattr(t.subject, "value") else str(t.subject)
        return (0 if s == first else 1, s, 0 if t.predicate.value == RDF_TYPE else 1,
                t.predicate.value, str(t.object))

    return sorted(set(triples), key=key)


def serialise(triples, media_type: str, first: str | None = None) -> bytes:
    """*triples* in *media_type* (a graph format), sorted, with the prefixes they use."""
    fmt = by_media_type(media_type)
    if fmt is None or fmt.kind == RESULTS:
        raise ValueError(f"{media_type} is not an RDF format")
    return serialize_rdf(sorted_triples(triples, first), fmt)


def rdf_response(triples, media_type: str, first: str | None = None) -> Response:
    return Response(serialise(triples, media_type, first), mimetype=media_type)


def render(template: str, lang: str, status: int = 200, **context) -> Response:
    """An HTML page in the reader's language, with links to the page in each language."""
    html = render_template(
        template,
        lang=lang,
        ui=UI[lang],
        version=__version__,
        lang_links={code: request.path + "?" + urlencode({"lang": code}) for code in LANGUAGES},
        **context,
    )
    return Response(html, status=status, mimetype=HTML)
