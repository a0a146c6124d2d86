"""Load crkg's named graphs into an external SPARQL 1.1 store (``crkg push``).

ARCHITECTURE.md, "Scale": a group that outgrows one machine moves the built graphs into
an existing engine (Virtuoso, Fuseki, GraphDB, Neptune) instead of a home-made one.
Each graph is replaced by ``crkg.store.graph_writer.GraphWriter`` (Graph Store PUT or
SPARQL Update); graphs under crkg's graph namespace the source no longer has are
dropped; after loading, the triples of each graph are counted in the target and compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import pyoxigraph as ox

from crkg.config import Config
from crkg.errors import CrkgError
from crkg.namespaces import GRAPH
from crkg.store.base import Store
from crkg.store.graph_writer import GraphWriter, Progress, batches
from crkg.store.queries import graph_construct

__all__ = ["GraphWriter", "PushReport", "batches", "graphs_of", "push"]


def graphs_of(store: Store, graphs: Sequence[str] | None = None) -> Iterator[tuple[str, list]]:
    """Each named graph of *store* with its triples (``pyoxigraph.Triple``), in IRI order."""
    for iri in sorted(graphs if graphs is not None else store.named_graphs()):
        response = store.query(
            graph_construct(f"<{iri}>"),
            media_type="application/n-triples", timeout=Config.EXPORT_TIMEOUT, max_rows=None)
        triples = [q.triple for q in ox.parse(response.body, format=ox.RdfFormat.N_TRIPLES)]
        yield iri, triples


@dataclass
class PushReport:
    #: graph IRI -> triples in the graph after the push
    graphs: dict[str, int]
    #: graphs under crkg's graph namespace that the source no longer has, dropped
    dropped: list[str]


def push(
    graphs: Iterable[tuple[str, Sequence]],
    writer: GraphWriter,
    *,
    prune: bool = True,
    progress: Progress = lambda _m: None,
) -> PushReport:
    """Replace each (graph IRI, triples) in the target; drop crkg graphs it no longer has.

    Raises ``CrkgError`` when a graph's triple count in the target differs from the
    source after loading (the push did not replace it cleanly).
    """
    writer.progress = progress
    pushed: dict[str, int] = {}
    for iri, triples in graphs:
        progress(f"graph {iri}: {len(triples)} triples")
        writer.replace(iri, triples)
        pushed[iri] = len(triples)
    dropped = []
    if prune:
        for iri in writer.graphs(str(GRAPH)):
            if iri not in pushed:
                progress(f"graph {iri}: not in the source, dropped")
                writer.drop(iri)
                dropped.append(iri)
    for iri, expected in pushed.items():
        found = writer.count(iri)
        if found != expected:
            raise CrkgError(f"after the push, graph {iri} holds {found} triples in the target, "
                            f"but the source has {expected}")
    progress(f"pushed {len(pushed)} graphs, {sum(pushed.values())} triples"
             + (f"; dropped {len(dropped)} stale graphs" if dropped else ""))
    return PushReport(pushed, dropped)
