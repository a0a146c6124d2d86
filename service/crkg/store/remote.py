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

import base64
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Iterable, Sequence

import pyoxigraph as ox

from crkg.namespaces import GRAPH, PREFIXES
from crkg.store import guard
from crkg.store.base import (
    BackendUnavailable,
    QueryError,
    QueryResponse,
    QueryTimeout,
    Store,
)
from crkg.version import __version__

#: Wikidata's User-Agent policy asks every client to name itself and a way to reach its
#: maintainers (https://meta.wikimedia.org/wiki/User-Agent_policy); other endpoints
#: get the same courtesy.
USER_AGENT = f"crkg/{__version__} (+https://w3id.org/crkg/; Community Resilience Knowledge Graph)"

_XML = "application/sparql-results+xml"
_NTRIPLES = "application/n-triples"

def _only_queries(info):
    if info.form == "update":
        raise QueryError("updates are not accepted on the query endpoint (SPARQL 1.1 Protocol §2.2)")
    if info.form is None:
        raise QueryError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    return info


def inspect(sparql: str, allowlist: Sequence[str] = ()):
    """The embedded store's guard (``crkg.store.guard.check``), plus: queries only.

    Raises ``ServiceNotAllowed`` / ``QueryError`` before anything is sent; returns the
    guard's ``QueryInfo`` (query form, whether the query names its own dataset).
    """
    return _only_queries(guard.check(sparql, allowlist))


def query_form(sparql: str) -> str:
    """``select`` | ``ask`` | ``construct`` | ``describe``; ``QueryError`` for an update."""
    return _only_queries(guard.analyse(sparql)).form


def names_dataset(sparql: str) -> bool:
    """True when the query has its own ``FROM`` / ``FROM NAMED`` clauses."""
    return guard.analyse(sparql).has_dataset


def _retry_after(headers) -> str:
    value = headers.get("Retry-After") if headers is not None else None
    return f"; it asks to retry after {value} s" if value else ""


@dataclass
class HttpResult:
    status: int
    media_type: str
    body: bytes
    headers: object


class HttpClient:
    """Plain HTTP with optional Basic or Digest authentication, one User-Agent."""

    def __init__(self, user: str | None = None, password: str | None = None,
                 user_agent: str = USER_AGENT):
        handlers = []
        if user is not None:
            # Whichever scheme the server challenges with (Virtuoso: Digest; Fuseki,
            # GraphDB: Basic) is answered.
            passwords_any = _AnyUriPasswords(user, password or "")
            handlers += [urllib.request.HTTPDigestAuthHandler(passwords_any),
                         urllib.request.HTTPBasicAuthHandler(passwords_any)]
            self._passwords = passwords_any
        self._opener = urllib.request.build_opener(*handlers)
        self.user_agent = user_agent
        self.user, self.password = user, password

    def _preauthorize(self, req: urllib.request.Request, timeout: float) -> None:
        """Answer the server's challenge before sending a large body.

        urllib sends the whole body, gets 401 and sends it again; Virtuoso resets the
        connection while a multi-megabyte body is still being sent to it (measured:
        a 9 MB Graph Store PUT failed with "connection reset by peer"). A HEAD request
        fetches the challenge first, so the body travels once, already authorised.
        """
        probe = urllib.request.Request(req.full_url, method="HEAD")
        probe.add_header("User-Agent", self.user_agent)
        try:
            with urllib.request.build_opener().open(probe, timeout=timeout):
                return  # no authentication asked for
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
            exc.close()
        except (urllib.error.URLError, OSError):
            return  # the real request will report it
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            chal = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            handler = urllib.request.HTTPDigestAuthHandler(self._passwords)
            auth = handler.get_authorization(req, chal)
            if auth:
                req.add_unredirected_header("Authorization", f"Digest {auth}")
        elif scheme.lower() == "basic":
            token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {token}")

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict | None = None, timeout: float = 30.0, what: str = "endpoint") -> HttpResult:
        """Send one request; ``BackendUnavailable`` / ``QueryTimeout`` say what failed."""
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("User-Agent", self.user_agent)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if self.user is not None and data is not None and len(data) > 65536:
            self._preauthorize(req, timeout)
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                body = resp.read()
                return HttpResult(resp.status, resp.headers.get_content_type(), body, resp.headers)
        except urllib.error.HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            return HttpResult(exc.code, exc.headers.get_content_type() if exc.headers else "",
                              body, exc.headers)
        except (socket.timeout, TimeoutError) as exc:
            raise QueryTimeout(f"the {what} {url} did not answer within {timeout:g} s") from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise QueryTimeout(f"the {what} {url} did not answer within {timeout:g} s") from exc
            raise BackendUnavailable(f"cannot reach the {what} {url}: {reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise BackendUnavailable(f"cannot reach the {what} {url}: {exc}") from exc


class _AnyUriPasswords(urllib.request.HTTPPasswordMgr):
    """One user and password for every realm and URI (the endpoint's own)."""

    def __init__(self, user: str, password: str):
        super().__init__()
        self._credentials = (user, password)

    def find_user_password(self, realm, authuri):
        return self._credentials


def error_message(result: HttpResult, limit: int = 600) -> str:
    text = result.body.decode("utf-8", "replace").strip()
    # Virtuoso appends the whole query (with its own rewritten dataset clauses).
    text = text.split("\n\nSPARQL query:", 1)[0].strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def raise_for_status(result: HttpResult, url: str, *, query: bool = True) -> None:
    """Map an engine's HTTP failure to the store's errors (no return when not 2xx)."""
    status = result.status
    if 200 <= status < 300:
        return
    message = error_message(result)
    if status == 400 and query:
        raise QueryError(message or "the endpoint rejected the query (HTTP 400)")
    if status in (408, 504):
        raise QueryTimeout(f"the endpoint {url} stopped the query (HTTP {status}): {message}")
    if status in (429, 503):
        raise BackendUnavailable(
            f"the endpoint {url} is rate-limiting or overloaded (HTTP {status})"
            f"{_retry_after(result.headers)}: {message}")
    if status in (401, 403):
        raise BackendUnavailable(f"the endpoint {url} refused the credentials (HTTP {status}): {message}")
    if status == 404:
        raise BackendUnavailable(f"no SPARQL endpoint at {url} (HTTP 404)")
    if status == 500 and query and re.search(r"\b(37000|SP0\d\d|22023|SQ\d{3})\b", message):
        # Virtuoso answers a query its SPARQL compiler rejects with 500 and SQL state 37000.
        raise QueryError(message)
    if status == 500 and re.search(r"\bS1T00\b|timeout", message, re.I):
        raise QueryTimeout(f"the endpoint {url} stopped the query: {message}")
    raise BackendUnavailable(f"the endpoint {url} failed (HTTP {status}): {message}")


class RemoteStore(Store):
    """Queries proxied to a SPARQL 1.1 endpoint, with the embedded store's semantics."""

    def __init__(
        self,
        query_url: str,
        *,
        config=None,
        timeout: float | None = None,
        user: str | None = None,
        password: str | None = None,
        service_allowlist: Sequence[str] | None = None,
        graph_prefix: str = str(GRAPH),
        update_url: str | None = None,
        graph_store_url: str | None = None,
        graphs_ttl: float = 60.0,
        user_agent: str = USER_AGENT,
    ):
        # A ``crkg.web.config.Config`` supplies what is not given: the same time limit
        # and SERVICE allow-list as the embedded store.
        if timeout is None:
            timeout = float(getattr(config, "QUERY_TIMEOUT", 30.0))
        if service_allowlist is None:
            service_allowlist = tuple(getattr(config, "SERVICE_ALLOWLIST", ()))
        self.query_url = query_url
        self.timeout = timeout
        self.service_allowlist = tuple(service_allowlist)
        self.graph_prefix = graph_prefix
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.user, self.password = user, password
        self._http = HttpClient(user, password, user_agent)
        self._graphs: tuple[float, list[str]] | None = None
        self._graphs_ttl = graphs_ttl
        self._lock = threading.Lock()

    # -- Store -----------------------------------------------------------------

    def query(self, sparql, *, media_type, default_graph_uris=(), named_graph_uris=(),
              timeout=30.0, max_rows=None) -> QueryResponse:
        info = inspect(sparql, self.service_allowlist)
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
        accept = f"{_NTRIPLES}, text/plain;q=0.9" if graph_form else _XML
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
        prefix = self.graph_prefix.replace("\\", "\\\\").replace('"', '\\"')
        sparql = ('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } '
                  f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}')
        result = self._post([("query", sparql)], _XML, self.timeout)
        solutions = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.XML)
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
        from crkg.link.push import GraphWriter

        if not (self.update_url or self.graph_store_url):
            raise BackendUnavailable("this remote store is read-only: give an update or graph store URL")
        writer = GraphWriter(self.update_url or self.query_url, graph_store_url=self.graph_store_url,
                             user=self.user, password=self.password, timeout=max(self.timeout, 60))
        for iri, data, media in graphs:
            fmt = ox.RdfFormat.from_media_type(media)
            if fmt is None:
                raise QueryError(f"cannot load {iri}: unknown media type {media}")
            triples = [q.triple for q in ox.parse(data, format=fmt, without_named_graphs=True)]
            writer.replace(iri, triples)
        self.forget_graphs()

    # -- helpers ---------------------------------------------------------------

    def _post(self, params, accept: str, timeout: float):
        data = urllib.parse.urlencode(params).encode("utf-8")
        result = self._http.request(
            "POST", self.query_url, data=data, timeout=timeout, what="SPARQL back end",
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        raise_for_status(result, self.query_url)
        return result

    def _results_response(self, result, media_type, form, max_rows) -> QueryResponse:
        fmt = ox.QueryResultsFormat.from_media_type(media_type)
        if fmt is None:
            raise QueryError(f"unsupported result media type {media_type}")
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
            return QueryResponse(parsed.serialize(format=fmt), media_type, form)
        variables = [v.value for v in parsed.variables]
        rows, truncated = [], False
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
        fmt = ox.RdfFormat.from_media_type(media_type)
        if fmt is None:
            raise QueryError(f"unsupported RDF media type {media_type}")
        in_fmt = ox.RdfFormat.from_media_type(result.media_type) or ox.RdfFormat.N_TRIPLES
        try:
            triples = [q.triple for q in ox.parse(result.body, format=in_fmt, without_named_graphs=True)]
        except (SyntaxError, ValueError) as exc:
            raise BackendUnavailable(f"the back end sent unreadable RDF: {exc}") from exc
        truncated = max_rows is not None and len(triples) > max_rows
        if truncated:
            triples = triples[:max_rows]
        prefixes = {p: str(ns) for p, ns in PREFIXES.items()} if fmt in (
            ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        body = ox.serialize(triples, format=fmt, prefixes=prefixes) if prefixes else ox.serialize(triples, format=fmt)
        return QueryResponse(body or b"", media_type, form, truncated)


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
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(term.subject),
                                            "predicate": _term_json(term.predicate),
                                            "object": _term_json(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _solutions_json(variables: list[str], rows) -> bytes:
    """SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/)."""
    import json

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

