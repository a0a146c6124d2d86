"""Timing primitives: one query's latency, throughput of concurrent clients.

A *target* is something that answers SPARQL: an HTTP endpoint (crkg, the rdflib peer,
Virtuoso) or pyoxigraph called in-process. Every target returns serialised bytes
(SPARQL JSON for SELECT/ASK, Turtle for CONSTRUCT), so the in-process floor pays for
serialisation as the endpoints do. HTTP clients keep their connection alive, as
SPARQLWrapper or a browser would; queries are sent by POST form (long queries do not
fit a URL).
"""

from __future__ import annotations

import http.client
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

JSON = "application/sparql-results+json"
TURTLE = "text/turtle"


class Failed(RuntimeError):
    """A request did not succeed; the message says which and what came back."""


@dataclass
class Request:
    """One request: a SPARQL query, or a Linked Data page (``path``) where the target has pages."""

    label: str
    query: str | None = None
    path: str | None = None
    accept: str = JSON


@dataclass
class Target:
    name: str
    #: http://host:port of an HTTP target; None for in-process
    base: str | None = None
    sparql_path: str = "/sparql"
    #: pid whose process tree is the serving processes (memory)
    pid: int | None = None
    #: in-process: (query, accept) -> bytes
    call: Callable[[str, str], bytes] | None = None
    #: the target serves /id/... pages itself; otherwise pages are answered by the
    #: equivalent CONSTRUCT query
    has_pages: bool = False
    extra: dict = field(default_factory=dict)

    def client(self, source: str | None = None) -> "Client":
        return Client(self, source)


class Client:
    """One client (one keep-alive connection) of a target, from the local address *source*
    if given (a loopback address of its own: see :func:`throughput`)."""

    def __init__(self, target: Target, source: str | None = None):
        self.target = target
        self.conn = None
        self.source = source
        if target.base:
            parts = urllib.parse.urlsplit(target.base)
            self.host, self.port = parts.hostname, parts.port

    def _http(self, method: str, path: str, body: bytes | None, headers: dict) -> bytes:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=600,
                    source_address=(self.source, 0) if self.source else None)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if resp.status != 200:
                raise Failed(f"{self.target.name} {method} {path}: HTTP {resp.status}: {data[:300]!r}")
            return data
        raise AssertionError("unreachable")

    def run(self, request: Request, construct_for_page: Callable[[str], str]) -> bytes:
        t = self.target
        if request.path is not None and not t.has_pages:
            request = Request(request.label, query=construct_for_page(request.path), accept=TURTLE)
        if t.call is not None:
            return t.call(request.query, request.accept)
        if request.path is not None:
            return self._http("GET", request.path, None, {"Accept": request.accept})
        body = urllib.parse.urlencode({"query": request.query}).encode()
        return self._http("POST", t.sparql_path, body, {
            "Accept": request.accept, "Content-Type": "application/x-www-form-urlencoded"})

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def page_construct(path: str, id_base: str = "https://w3id.org/crkg/id/") -> str:
    """The query a Linked Data page of ``/id/...`` amounts to: the resource's triples both ways."""
    iri = id_base + path.removeprefix("/id/")
    return (f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} "
            f"WHERE {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}")


def latency(target: Target, request: Request, repeats: int, warmup: int = 1,
            budget: float | None = None) -> tuple[list[float], bytes]:
    """Seconds for each of *repeats* sequential runs (after *warmup* unmeasured runs).

    Stops early (with at least one measured run) once *budget* seconds are spent, so
    a peer that takes minutes per query does not hold the whole benchmark up. Returns
    the times and the last response body.
    """
    client = target.client()
    body = b""
    try:
        spent = 0.0
        for _ in range(warmup):
            t0 = time.perf_counter()
            body = client.run(request, page_construct)
            spent += time.perf_counter() - t0
            if budget is not None and spent > budget:
                # the warm-up alone took the budget: measure that one run
                return [spent / max(warmup, 1)], body
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            body = client.run(request, page_construct)
            times.append(time.perf_counter() - t0)
            spent += times[-1]
            if budget is not None and spent > budget:
                break
        return times, body
    finally:
        client.close()


@dataclass
class Throughput:
    requests: int
    seconds: float
    errors: int
    latencies: list[float]
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(0.95 * len(xs)))]


def throughput(target: Target, requests: list[Request], *, clients: int = 8,
               duration: float = 10.0) -> Throughput:
    """*clients* threads, each with its own connection, cycle through *requests* for *duration* s.

    Each client starts at a different offset of the list, so they do not all ask the
    same thing at once. On Linux, where all of 127.0.0.0/8 is the loopback, each client
    connects from a loopback address of its own (127.0.1.k), so a server that shares its
    capacity among clients by address (crkg's admission rules, issue 13: at most 4
    queries at once per client) sees *clients* users, as in ``bench.soak``; elsewhere they
    share 127.0.0.1.
    """
    lock = threading.Lock()
    done: list[float] = []
    errors = [0]
    first_error: list[str] = []
    start_barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    loopback = sys.platform.startswith("linux") and target.base is not None \
        and urllib.parse.urlsplit(target.base).hostname == "127.0.0.1"

    def worker(offset: int):
        client = target.client(f"127.0.1.{offset + 1}" if loopback else None)
        i = offset
        start_barrier.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                req = requests[i % len(requests)]
                i += clients
                t0 = time.perf_counter()
                try:
                    client.run(req, page_construct)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors[0] += 1
                        if not first_error:
                            first_error.append(str(exc)[:300])
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    done.append(dt)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + duration
    t0 = time.perf_counter()
    start_barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors[0] and not done:
        raise Failed(f"{target.name}: every request failed; first: {first_error[0]}")
    return Throughput(len(done), elapsed, errors[0], done, first_error[0] if first_error else "")


def inprocess_target(store_dir: str, name: str = "pyoxigraph in-process") -> Target:
    """pyoxigraph on the same on-disk store, read-only, results serialised like an endpoint's."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_dir))

    def call(query: str, accept: str) -> bytes:
        result = store.query(query, use_default_graph_as_union=True)
        if isinstance(result, ox.QueryTriples):
            return result.serialize(format=ox.RdfFormat.TURTLE)
        return result.serialize(format=ox.QueryResultsFormat.JSON)

    return Target(name, call=call, extra={"store": store})
