"""The store interface: the only way the rest of crkg talks to a query engine.

ARCHITECTURE.md, "Module boundaries": the embedded Oxigraph store and a remote
SPARQL 1.1 endpoint sit behind this same small interface, which is what lets
``crkg serve --backend`` swap engines without touching the web layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from crkg.config import Config
from crkg.store import guard
from crkg.store.errors import BackendUnavailable, QueryError, QueryTimeout, ServiceNotAllowed

__all__ = ["BackendUnavailable", "QueryError", "QueryTimeout", "ServiceNotAllowed",
           "QueryResponse", "Store", "UPDATE_REFUSED"]

UPDATE_REFUSED = "updates are refused on this endpoint: it answers SPARQL queries only"


@dataclass
class QueryResponse:
    """A serialised query result, ready to send."""

    body: bytes
    media_type: str
    #: "select" | "ask" | "construct" | "describe"
    query_form: str
    #: True when the row cap cut the result; the web layer signals it in a header.
    truncated: bool = False
    extra: dict = field(default_factory=dict)


class Store(ABC):
    """A read-mostly RDF dataset with named graphs and a SPARQL 1.1 query engine.

    The default graph of a query with no explicit dataset is the union of all named
    graphs (asserted and inferred).

    Every query passes the guard (``crkg.store.guard.check``: the ``SERVICE`` allow-list,
    the nesting cap) with the store's own settings, exactly once: a caller that needs
    the query form first (content negotiation) calls :meth:`inspect` and hands its result
    to :meth:`query` as *info*; without *info*, ``query`` runs the guard itself.
    """

    #: endpoints a ``SERVICE`` clause may call; empty refuses every ``SERVICE``
    service_allowlist: tuple = ()
    #: deepest bracket nesting a query may have
    max_nesting: int = Config.MAX_NESTING

    def inspect(self, sparql: str) -> guard.QueryInfo:
        """The guard's verdict on *sparql* under this store's settings (raises
        ``ServiceNotAllowed`` / ``QueryError`` before anything runs)."""
        info = guard.check(sparql, self.service_allowlist, self.max_nesting)
        info.checked = self._guard_settings(sparql)
        return info

    def _checked(self, sparql: str, info: guard.QueryInfo | None) -> guard.QueryInfo:
        """*info* if this store's guard produced it for this text and these settings, else
        a fresh check; updates refused."""
        if info is None or info.checked != self._guard_settings(sparql):
            info = self.inspect(sparql)
        if info.form == "update":
            raise QueryError(UPDATE_REFUSED)
        return info

    def _guard_settings(self, sparql: str) -> tuple:
        # the text itself: a verdict on one query never lets another through (the same
        # string object compares in constant time)
        return (sparql, frozenset(self.service_allowlist), self.max_nesting)

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        media_type: str,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        timeout: float = Config.QUERY_TIMEOUT,
        max_rows: int | None = None,
        info: guard.QueryInfo | None = None,
    ) -> QueryResponse:
        """Run a SPARQL query and return its results serialised as *media_type*.

        *info*: this store's :meth:`inspect` of the same text, so the guard runs once.
        Raises ``QueryError`` for a malformed query, an update or a ``SERVICE`` not
        allowed, ``QueryTimeout`` when the time limit stopped it.
        """

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs the store holds."""

    @abstractmethod
    def load(self, graphs: Iterable[tuple[str, bytes, str]]) -> None:
        """Replace each named graph: (graph IRI, serialised data, media type)."""

    def release_file(self, name: str) -> bytes | None:
        """A file of the ontology release ``crkg build`` wrote for this store
        (``crkg.paths.RELEASE_*``), or None when there is none (a remote back end, a store
        loaded by hand)."""
        return None

    def close(self) -> None:  # pragma: no cover - default has nothing to release
        """Release processes, files or connections."""
