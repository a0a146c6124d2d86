"""The store interface: the only way the rest of crkg talks to a query engine.

ARCHITECTURE.md, "Module boundaries": the embedded Oxigraph store and a remote
SPARQL 1.1 endpoint sit behind this same small interface, which is what lets
``crkg serve --backend`` swap engines without touching the web layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from crkg.errors import CrkgError


class QueryError(CrkgError):
    """The query is malformed or not allowed (HTTP 400). ``str()`` is the parser's message."""


class ServiceNotAllowed(QueryError):
    """The query names a ``SERVICE`` endpoint that is not on the allow-list (HTTP 400)."""


class QueryTimeout(CrkgError):
    """The query ran past its time limit and was stopped (HTTP 503)."""


class BackendUnavailable(CrkgError):
    """The engine could not be reached or died while answering (HTTP 502/503)."""


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
    """

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        media_type: str,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        timeout: float = 30.0,
        max_rows: int | None = None,
    ) -> QueryResponse:
        """Run a SPARQL query and return its results serialised as *media_type*.

        Raises ``QueryError`` for a malformed query or a ``SERVICE`` not allowed,
        ``QueryTimeout`` when the time limit stopped it.
        """

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs the store holds."""

    @abstractmethod
    def load(self, graphs: Iterable[tuple[str, bytes, str]]) -> None:
        """Replace each named graph: (graph IRI, serialised data, media type)."""

    def close(self) -> None:  # pragma: no cover - default has nothing to release
        """Release processes, files or connections."""
