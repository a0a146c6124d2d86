"""A remote SPARQL 1.1 endpoint (Virtuoso, Fuseki, GraphDB, ...) behind crkg's Store interface.

ARCHITECTURE.md, "Scale": beyond one machine the same service runs on an existing
SPARQL engine; ``crkg push`` loads the built graphs into it and this store proxies the
queries (SPARQL 1.1 Protocol, https://www.w3.org/TR/sparql11-protocol/ §2.1).

Answers must equal the embedded store's, so this store

- gives every query the embedded store's dataset: the default graph is the union of
  crkg's named graphs, and ``GRAPH ?g`` ranges over them only. A Virtuoso default graph
  is the union of *every* graph it holds, including its own system graphs, so unless the
  query or the caller names a dataset, the crkg graphs are sent as ``default-graph-uri``
  and ``named-graph-uri`` (Protocol §2.1.4);
- asks the engine for one exchange format (SPARQL XML results, N-Triples) and
  re-serialises with Oxigraph into the media type asked for, so formats, the row cap and
  lexical forms are the embedded store's (Virtuoso's JSON writes ``true`` as ``"1"``);
- applies the same guard (``SERVICE`` only to allow-listed endpoints, no updates) before
  anything is sent, and maps the engine's failures to ``QueryError`` (400),
  ``QueryTimeout`` and ``BackendUnavailable``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Iterable, Sequence

import pyoxigraph as ox

from crkg import formats
from crkg.config import Config
from crkg.namespaces import GRAPH, XSD
from crkg.store import guard
from crkg.store.base import (
    BackendUnavailable,
    QueryError,
    QueryResponse,
    QueryTimeout,
    Store,
)
from crkg.store.queries import graphs_under
from crkg.store.sparql_http import SPARQL_XML, USER_AGENT, HttpClient

_NTRIPLES = "application/n-triples"
_XSD_STRING = str(XSD.string)


def _only_queries(info):
    if info.form == "update":
        raise QueryError("updates are not accepted on the query endpoint (SPARQL 1.1 Protocol §2.2)")
    if info.form is None:
        raise QueryError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    return info


def query_form(sparql: str) -> str:
    """``select`` | ``ask`` | ``construct`` | ``describe``; ``QueryError`` for an update."""
    return _only_queries(guard.analyse(sparql)).form


def names_dataset(sparql: str) -> bool:
    """True when the query has its own ``FROM`` / ``FROM NAMED`` clauses."""
    return guard.analyse(sparql).has_dataset


class RemoteStore(Store):
    """Queries proxied to a SPARQL 1.1 endpoint, with the embedded store's semantics."""

    def __init__(
        self,
        query_url: str,
        *,
        config: Config | None = None,
        timeout: float | None = None,
        user: str | None = None,
        password: str | None = None,
        service_allowlist: Sequence[str] | None = None,
        graph_prefix: str = str(GRAPH),
        update_url: str | None = None,
        graph_store_url: str | None = None,
        graphs_ttl: float | None = None,
        user_agent: str = USER_AGENT,
    ):
        # A ``crkg.config.Config`` supplies what is not given: the same time limit, guard
        # and SERVICE allow-list as the embedded store.
        config = config or Config()
        self.query_url = query_url
        self.timeout = float(config.QUERY_TIMEOUT if timeout is None else timeout)
        self.service_allowlist = tuple(config.SERVICE_ALLOWLIST if service_allowlist is None
                                       else service_allowlist)
        self.max_nesting = config.MAX_NESTING
        self.push_timeout = config.PUSH_TIMEOUT
        self.graph_prefix = graph_prefix
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.user, self.password = user, password
        self._http = HttpClient(user, password, user_agent)
        self._graphs: tuple[float, list[str]] | None = None
        self._graphs_ttl = config.GRAPHS_CACHE_SECONDS if graphs_ttl is None else graphs_ttl
        self._lock = threading.Lock()

    # -- Store -----------------------------------------------------------------

    def query(self, sparql, *, media_type, default_graph_uris=(), named_graph_uris=(),
              timeout=None, max_rows=None, info: guard.QueryInfo | None = None) -> QueryResponse:
        info = _only_queries(self._checked(sparql, info))
        form = info.form
        params = [("query", sparql)]
        if default_graph_uris or named_graph_uris:
            params += [("default-graph-uri", g) for g in default_graph_uris]
            params += [("named-graph-uri", g) for g in named_graph_uris]
        elif not info.has_dataset:
            graphs = self.named_graphs() or [str(GRAPH["none"])]
            params += [("default-graph-uri", g) for g in graphs]
            params += [("named-graph-uri", g) for g in graphs]
        graph_form = form in ("construct", "describe")
        accept = f"{_NTRIPLES}, text/plain;q=0.9" if graph_form else SPARQL_XML
        result = self._post(params, accept, timeout or self.timeout)
        state = result.headers.get("X-SQL-State") if result.headers is not None else None
        if state and state.startswith("S1TAT"):
            # Virtuoso's "anytime" answer: partial results when its time limit struck.
            raise QueryTimeout(f"the back end stopped the query at its time limit: "
                               f"{result.headers.get('X-SQL-Message', '')}")
        if graph_form:
            return self._graph_response(result, media_type, form, max_rows)
        return self._results_response(result, media_type, form, max_rows)

    def named_graphs(self) -> list[str]:
        """crkg's named graphs in the engine (those under ``graph_prefix``), cached briefly."""
        with self._lock:
            now = time.monotonic()
            if self._graphs and now - self._graphs[0] < self._graphs_ttl:
                return list(self._graphs[1])
        sparql = graphs_under(self.graph_prefix)
        solutions = self._http.select(self.query_url, sparql, timeout=self.timeout, what="SPARQL back end")
        graphs = sorted(s["g"].value for s in solutions if s["g"] is not None)
        with self._lock:
            self._graphs = (time.monotonic(), graphs)
        return list(graphs)

    def forget_graphs(self) -> None:
        """Drop the cached list of graphs (after a push)."""
        with self._lock:
            self._graphs = None

    def load(self, graphs: Iterable[tuple[str, bytes, str]]) -> None:
        """Replace each named graph in the engine (needs ``update_url`` or ``graph_store_url``)."""
        from crkg.store.graph_writer import GraphWriter

        if not (self.update_url or self.graph_store_url):
            raise BackendUnavailable("this remote store is read-only: give an update or graph store URL")
        writer = GraphWriter(self.update_url or self.query_url, graph_store_url=self.graph_store_url,
                             user=self.user, password=self.password, timeout=self.push_timeout)
        for iri, data, media in graphs:
            known = formats.by_media_type(media)
            if known is None or known.kind == formats.RESULTS:
                raise QueryError(f"cannot load {iri}: unknown media type {media}")
            fmt = known.oxigraph
            triples = [q.triple for q in ox.parse(data, format=fmt, without_named_graphs=True)]
            writer.replace(iri, triples)
        self.forget_graphs()

    # -- helpers ---------------------------------------------------------------

    def _post(self, params, accept: str, timeout: float):
        (_, sparql), rest = params[0], params[1:]
        return self._http.query(self.query_url, sparql, accept=accept, timeout=timeout,
                                params=rest, what="SPARQL back end")

    def _results_response(self, result, media_type, form, max_rows) -> QueryResponse:
        known = formats.by_media_type(media_type)
        if known is None or known.kind != formats.RESULTS:
            raise QueryError(f"unsupported result media type {media_type}")
        media_type, fmt = known.media_type, known.oxigraph
        in_fmt = ox.QueryResultsFormat.from_media_type(result.media_type) or ox.QueryResultsFormat.XML
        body = result.body
        if in_fmt == ox.QueryResultsFormat.XML and b"<bnode>" in body:
            # Virtuoso labels blank nodes "nodeID://b10000", not a valid blank node label.
            body = _BNODE_XML.sub(lambda m: b"<bnode>" + _BNODE_UNSAFE.sub(b"_", m.group(1)) + b"</bnode>", body)
        try:
            parsed = ox.parse_query_results(body, format=in_fmt)
        except (SyntaxError, ValueError) as exc:
            raise BackendUnavailable(f"the back end sent unreadable results: {exc}") from exc
        if isinstance(parsed, ox.QueryBoolean):
            return QueryResponse(parsed.serialize(format=fmt) or b"", media_type, form)
        variables = [v.value for v in parsed.variables]
        rows: list[ox.QuerySolution] = []
        truncated = False
        for solution in parsed:
            if max_rows is not None and len(rows) >= max_rows:
                truncated = True
                break
            rows.append(solution)
        body = _solutions_json(variables, rows)
        if fmt != ox.QueryResultsFormat.JSON:
            body = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON).serialize(format=fmt)
        return QueryResponse(body, media_type, form, truncated)

    def _graph_response(self, result, media_type, form, max_rows) -> QueryResponse:
        known = formats.by_media_type(media_type)
        if known is None or known.kind == formats.RESULTS:
            raise QueryError(f"unsupported RDF media type {media_type}")
        media_type = known.media_type
        in_fmt = ox.RdfFormat.from_media_type(result.media_type) or ox.RdfFormat.N_TRIPLES
        try:
            triples = [q.triple for q in ox.parse(result.body, format=in_fmt, without_named_graphs=True)]
        except (SyntaxError, ValueError) as exc:
            raise BackendUnavailable(f"the back end sent unreadable RDF: {exc}") from exc
        truncated = max_rows is not None and len(triples) > max_rows
        if truncated:
            triples = triples[:max_rows]
        # the prefixes the graph uses, as the embedded store's answer declares them
        return QueryResponse(formats.serialize_rdf(triples, known), media_type, form, truncated)


_BNODE_XML = re.compile(rb"<bnode>([^<]*)</bnode>")
_BNODE_UNSAFE = re.compile(rb"[^A-Za-z0-9_]")


def _term_json(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(term.subject),
                                            "predicate": _term_json(term.predicate),
                                            "object": _term_json(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _solutions_json(variables: list[str], rows) -> bytes:
    """SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/)."""
    bindings = []
    for solution in rows:
        binding = {}
        for name in variables:
            term = solution[name]
            if term is not None:
                binding[name] = _term_json(term)
        bindings.append(binding)
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")

