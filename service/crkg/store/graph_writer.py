"""Replace named graphs in an external SPARQL 1.1 store (``crkg push``, ``RemoteStore.load``).

Two ways in, both replacing each graph so that a second push never duplicates:

- SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/
  §5.3): one ``PUT ?graph=IRI`` per graph, the graph as N-Triples;
- SPARQL 1.1 Update (https://www.w3.org/TR/sparql11-update/ §3.1.1, §3.2.4):
  ``DROP SILENT GRAPH`` then ``INSERT DATA`` in batches (``INSERT {...} WHERE {}`` for a
  batch with blank nodes, which Virtuoso refuses in ``INSERT DATA``). Blank nodes are
  scoped to one request (§3.1.1), so the triples that share a blank node always travel
  in the same batch.

In the store package (not ``crkg.link``): the remote store loads through it, and
``crkg.link.push`` builds on it, so the dependency runs one way only. Every request goes
through the one client, ``crkg.store.sparql_http``.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import pyoxigraph as ox

from crkg.config import Config
from crkg.errors import CrkgError
from crkg.store.queries import graph_size, graphs_under
from crkg.store.sparql_http import FORM_URLENCODED, HttpClient, raise_for_status

Progress = Callable[[str], None]


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
    timeout: float = Config.PUSH_TIMEOUT
    batch_size: int = Config.PUSH_BATCH_SIZE
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
            headers={"Content-Type": FORM_URLENCODED})
        if result.status in (401, 403) or b"No permission" in result.body:
            hint = ("; give --user and --password of an account allowed to update"
                    " (Virtuoso: use its authenticated endpoint /sparql-auth).")
            try:
                raise_for_status(result, self.update_url, query=False)
            except CrkgError as exc:
                raise type(exc)(f"{exc}{hint}") from None
        raise_for_status(result, self.update_url, query=False)

    def _put(self, iri: str, triples: Sequence) -> None:
        base = self.graph_store_url or ""
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}{urllib.parse.urlencode({'graph': iri})}"
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""
        result = self._http.request(
            "PUT", url, data=body, timeout=self.timeout, what="graph store",
            headers={"Content-Type": "application/n-triples"})
        raise_for_status(result, url, query=False)
        self.progress(f"  {iri}: {len(triples)} triples (PUT)")

    def _select(self, sparql: str) -> list:
        return self._http.select(self.query_url or self.update_url, sparql, timeout=self.timeout)

    def count(self, iri: str) -> int:
        rows = self._select(graph_size(f"<{iri}>"))
        return int(rows[0]["n"].value) if rows else 0

    def graphs(self, prefix: str) -> list[str]:
        return sorted(r["g"].value for r in self._select(graphs_under(prefix)))
