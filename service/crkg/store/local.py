"""A pyoxigraph store open in this process, behind the Store interface.

For the build (``crkg.pipeline.build``), which asks the new store generation - written,
not yet swapped in - the queries the evidence views ask (``crkg.web.view_tables``), so the
views' tables come from the same queries as the pages computing them live. Queries are
answered as a query worker answers them (``query_worker.answer``: formats, row cap), in
this process: no worker, no time limit and no admission, because the build asks only its
own queries of its own store.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from crkg.config import Config
from crkg.namespaces import PREFIX_IRIS
from crkg.store import guard, query_worker
from crkg.store.base import QueryResponse, Store
from crkg.store.embedded import query_request, response_of


class LocalStore(Store):
    """*store*, a ``pyoxigraph.Store`` (read-write or read-only), answering queries."""

    def __init__(self, store, prefixes: dict | None = None):
        self.store = store
        self.prefixes = dict(PREFIX_IRIS if prefixes is None else prefixes)

    def query(self, sparql: str, *, media_type: str, default_graph_uris: Sequence[str] = (),
              named_graph_uris: Sequence[str] = (), timeout: float = Config.QUERY_TIMEOUT,
              max_rows: int | None = None, info: guard.QueryInfo | None = None) -> QueryResponse:
        info = self._checked(sparql, info)
        request = query_request(sparql, info, media_type, default_graph_uris, named_graph_uris,
                                max_rows, self.prefixes)
        return response_of(query_worker.answer(self.store, None, request))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if hasattr(g, "value"))

    def load(self, graphs: Iterable[tuple[str, bytes, str]]) -> None:
        raise NotImplementedError("a LocalStore only answers queries")
