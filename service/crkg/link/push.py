"""Load crkg's named graphs into an external SPARQL 1.1 store (``crkg push``).

ARCHITECTURE.md, "Scale": a group that outgrows one machine moves the built graphs into
an existing engine (Virtuoso, Fuseki, GraphDB, Neptune) instead of a home-made one.

Two ways in, both replacing each graph so that a second push never duplicates:

- SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/
  §5.3): one ``PUT ?graph=IRI`` per graph, the graph as N-Triples;
- SPARQL 1.1 Update (https://www.w3.org/TR/sparql11-update/ §3.1.1, §3.2.4):
  ``DROP SILENT GRAPH`` then ``INSERT DATA`` in batches (``INSERT {...} WHERE {}`` for a
  batch with blank nodes, which Virtuoso refuses in ``INSERT DATA``). Blank nodes are
  scoped to one request (§3.1.1), so the triples that share a blank node always travel
  in the same batch.

After loading, the triples of each graph are counted in the target and compared.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import pyoxigraph as ox

from crkg.errors import CrkgError
from crkg.namespaces import GRAPH
from crkg.store.base import Store
from crkg.store.remote import HttpClient, raise_for_status

Progress = Callable[[str], None]


def graphs_of(store: Store, graphs: Sequence[str] | None = None) -> Iterator[tuple[str, list]]:
    """Each named graph of *store* with its triples (``pyoxigraph.Triple``), in IRI order."""
    for iri in sorted(graphs if graphs is not None else store.named_graphs()):
        response = store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
            media_type="application/n-triples", timeout=3600.0, max_rows=None)
        triples = [q.triple for q in ox.parse(response.body, format=ox.RdfFormat.N_TRIPLES)]
        yield iri, triples


def batches(triples: Sequence, size: int) -> Iterator[list]:
    """Batches of about *size* triples; triples linked by a blank node stay together."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def bnodes(t) -> list[str]:
        return [term.value for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)]

    for t in triples:
        ids = bnodes(t)
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[b] = a
    units: dict[object, list] = {}
    for index, t in enumerate(triples):
        ids = bnodes(t)
        key = ("b", find(ids[0])) if ids else ("t", index)
        units.setdefault(key, []).append(t)
    batch: list = []
    for unit in units.values():
        if batch and len(batch) + len(unit) > size:
            yield batch
            batch = []
        batch.extend(unit)
    if batch:
        yield batch


@dataclass
class GraphWriter:
    """Replaces named graphs in one SPARQL 1.1 store."""

    update_url: str
    graph_store_url: str | None = None
    query_url: str | None = None
    user: str | None = None
    password: str | None = None
    timeout: float = 120.0
    batch_size: int = 100
    progress: Progress = field(default=lambda _m: None)

    def __post_init__(self):
        self._http = HttpClient(self.user, self.password)

    def replace(self, iri: str, triples: Sequence) -> None:
        """Make graph *iri* hold exactly *triples*."""
        if self.graph_store_url:
            self._put(iri, triples)
            return
        sent = 0
        chunks = list(batches(triples, self.batch_size)) or [[]]
        for number, chunk in enumerate(chunks):
            body = "".join(f"{t} .\n" for t in chunk)
            if not chunk:
                update = ""
            elif any(isinstance(x, ox.BlankNode) for t in chunk for x in (t.subject, t.object)):
                # Virtuoso 7 refuses blank nodes in INSERT DATA (SP031 "not allowed in a
                # constant clause"); a template with one empty solution inserts the same
                # triples, its blank nodes fresh and shared within the request (§3.1.3).
                update = f"INSERT {{ GRAPH <{iri}> {{\n{body}}} }} WHERE {{}}"
            else:
                update = f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}}} }}"
            if number == 0:
                update = f"DROP SILENT GRAPH <{iri}>" + (f" ;\n{update}" if update else "")
            self.update(update)
            sent += len(chunk)
            self.progress(f"  {iri}: {sent}/{len(triples)} triples")

    def drop(self, iri: str) -> None:
        self.update(f"DROP SILENT GRAPH <{iri}>")

    def update(self, update: str) -> None:
        data = urllib.parse.urlencode({"update": update}).encode("utf-8")
        result = self._http.request(
            "POST", self.update_url, data=data, timeout=self.timeout, what="update endpoint",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        if result.status in (401, 403) or b"No permission" in result.body:
            hint = ("; give --user and --password of an account allowed to update"
                    " (Virtuoso: use its authenticated endpoint /sparql-auth).")
            try:
                raise_for_status(result, self.update_url, query=False)
            except CrkgError as exc:
                raise type(exc)(f"{exc}{hint}") from None
        raise_for_status(result, self.update_url, query=False)

    def _put(self, iri: str, triples: Sequence) -> None:
        separator = "&" if "?" in self.graph_store_url else "?"
        url = f"{self.graph_store_url}{separator}{urllib.parse.urlencode({'graph': iri})}"
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""
        result = self._http.request(
            "PUT", url, data=body, timeout=self.timeout, what="graph store",
            headers={"Content-Type": "application/n-triples"})
        raise_for_status(result, url, query=False)
        self.progress(f"  {iri}: {len(triples)} triples (PUT)")

    def _select(self, sparql: str) -> list:
        url = self.query_url or self.update_url
        data = urllib.parse.urlencode({"query": sparql}).encode("utf-8")
        result = self._http.request(
            "POST", url, data=data, timeout=self.timeout, what="SPARQL endpoint",
            headers={"Accept": "application/sparql-results+xml",
                     "Content-Type": "application/x-www-form-urlencoded"})
        raise_for_status(result, url)
        return list(ox.parse_query_results(result.body, format=ox.QueryResultsFormat.XML))

    def count(self, iri: str) -> int:
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"].value) if rows else 0

    def graphs(self, prefix: str) -> list[str]:
        prefix = prefix.replace("\\", "\\\\").replace('"', '\\"')
        rows = self._select('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } '
                            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}')
        return sorted(r["g"].value for r in rows)


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
