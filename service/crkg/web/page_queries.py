"""The queries the Linked Data pages ask, through the Store interface.

Every description is a SPARQL ``CONSTRUCT`` or ``SELECT`` asked of
``app.extensions["crkg.store"]`` (a ``crkg.store.base.Store``), so the pages work the
same on the embedded store and on a remote SPARQL back end. Answers are asked in the
formats every engine speaks (N-Triples, SPARQL JSON results), uncapped: a page needs all
of its description, and the time limit is the service's ``QUERY_TIMEOUT``.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar

import pyoxigraph as ox
from flask import abort

from crkg.config import Config
from crkg.namespaces import GRAPH
from crkg.web import app as web_app

__all__ = ["construct", "current_store", "graph_counts", "graph_names", "iri_ref", "query_timeout", "select",
           "using_store"]

#: A store the page queries ask instead of the app's (:func:`using_store`).
_OVERRIDE: ContextVar = ContextVar("crkg_page_store", default=None)


@contextmanager
def using_store(store):
    """Ask the page queries of *store* (a ``crkg.store.base.Store``) in this block, outside
    any request: the build computes the evidence views' tables this way
    (``crkg.web.view_tables``), with the same queries the pages ask."""
    token = _OVERRIDE.set(store)
    try:
        yield store
    finally:
        _OVERRIDE.reset(token)


def current_store():
    """The store the page queries ask: :func:`using_store`'s, else the app's."""
    store = _OVERRIDE.get()
    return store if store is not None else web_app.current_store()

#: Characters an IRIREF may not contain (SPARQL 1.1 §19.8, [139]); a path with one is no IRI of ours.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def query_timeout() -> float:
    if _OVERRIDE.get() is not None:
        return float(Config.QUERY_TIMEOUT)
    return float(web_app.current_config().QUERY_TIMEOUT)


def construct(sparql: str) -> list[ox.Triple]:
    """Run a CONSTRUCT and return its triples (asked as N-Triples, which every engine speaks)."""
    response = current_store().query(
        sparql, media_type="application/n-triples", timeout=query_timeout(), max_rows=None
    )
    return [quad.triple for quad in ox.parse(response.body, format=ox.RdfFormat.N_TRIPLES)]


def select(sparql: str) -> list[dict]:
    """Run a SELECT and return its bindings as SPARQL 1.1 Query Results JSON objects."""
    response = current_store().query(
        sparql, media_type="application/sparql-results+json", timeout=query_timeout(), max_rows=None
    )
    return json.loads(response.body)["results"]["bindings"]


def iri_ref(iri: str) -> str:
    """``<iri>`` for a query, or 404 when *iri* cannot be an IRI (a path we never publish)."""
    if _NOT_IN_IRI.search(iri):
        abort(404, description=f"{iri!r} is not an IRI this service publishes.")
    return f"<{iri}>"


def graph_names() -> list[str]:
    """The store's named graphs under ``https://w3id.org/crkg/graph/``, as local names."""
    prefix = str(GRAPH)
    return sorted(g[len(prefix):] for g in current_store().named_graphs() if g.startswith(prefix))


def graph_counts() -> dict[str, int]:
    """Triples per named graph IRI."""
    rows = select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
