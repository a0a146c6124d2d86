"""Virtuoso as crkg's external back end, for real (ARCHITECTURE.md, "Scale").

Starts Debian's ``virtuoso-t`` on two free loopback ports with a throw-away database in
a temporary folder, pushes the built store into it with the real ``crkg push`` command
(SPARQL Update with Digest authentication, then again by the Graph Store Protocol), and
checks that the service on ``RemoteStore(virtuoso)`` answers every competency question,
the dataset-shape queries and a Linked Data page exactly as on the embedded store.
Virtuoso is shut down at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest

from crkg.namespaces import GRAPH, ID, LINKS_GRAPH
from crkg.paths import QUERIES_DIR
from crkg.store import guard

pytestmark = [pytest.mark.slow, pytest.mark.virtuoso]

CQ_FILES = sorted(QUERIES_DIR.glob("cq/*.rq"))
USER, PASSWORD = "dba", "dba"  # the throw-away database's built-in administrator

INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 0
O_DIRECT = 0
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Virtuoso:
    """One throw-away ``virtuoso-t`` in the foreground; no demo database, no VAD packages."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.http_port, self.sql_port = _free_port(), _free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.sparql = f"{self.base}/sparql"
        self.sparql_auth = f"{self.base}/sparql-auth"
        self.graph_store = f"{self.base}/sparql-graph-crud-auth"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Virtuoso":
        binary = shutil.which("virtuoso-t")
        if binary is None:
            pytest.fail("virtuoso-t is missing: apt-get install virtuoso-opensource (.ci/run does)")
        ini = self.workdir / "virtuoso.ini"
        ini.write_text(INI.format(d=self.workdir, sql_port=self.sql_port, http_port=self.http_port))
        self.log = (self.workdir / "stdout.log").open("wb")
        self.process = subprocess.Popen([binary, "-c", str(ini), "+foreground", "+wait"],
                                        cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"virtuoso-t exited with {self.process.returncode}: {self._tail()}")
            try:
                url = f"{self.sparql}?query=ASK%7B%7D"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"virtuoso-t did not come up within {timeout} s: {self._tail()}")

    def _tail(self) -> str:
        log = self.workdir / "virtuoso.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: only it
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def source_dir(built) -> Path:
    """The real sources, built (validated, reasoned) into a temporary embedded store."""
    return built.store_dir


def _crkg(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("crkg")
    command = [exe] if exe else [sys.executable, "-c", "from crkg.cli import main; main()"]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def pushed(virtuoso, source_dir):
    """`crkg push` by SPARQL Update (Digest auth), as a user runs it."""
    done = _crkg("push", "--endpoint", virtuoso.sparql_auth, "--user", USER, "--password", PASSWORD,
                 "--store", str(source_dir))
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def embedded(source_dir):
    from crkg.store.embedded import EmbeddedStore

    store = EmbeddedStore(source_dir)
    yield store
    store.close()


@pytest.fixture(scope="module")
def remote(virtuoso, pushed):
    from crkg.store.remote import RemoteStore

    store = RemoteStore(virtuoso.sparql, timeout=60)
    yield store
    store.close()


def _app(store):
    from crkg.web.app import create_app
    from crkg.web.config import TestConfig

    app = create_app(TestConfig(QUERY_TIMEOUT=60.0, MAX_ROWS=1_000_000), store=store)
    return app.test_client()


@pytest.fixture(scope="module")
def clients(embedded, remote):
    return _app(embedded), _app(remote)


# ------------------------------------------------------------------ comparing answers

_NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}


def _norm(term):
    """A term as compared: blank nodes are all alike, numbers compare by value."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return "_:"
    if isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC:
        try:
            return ("number", Decimal(term.value).normalize())
        except InvalidOperation:
            return ("number", term.value)
    return str(term)


def answer(client, sparql: str):
    """The answer of /sparql: a multiset of rows, a boolean, or a set of triples."""
    response = client.post("/sparql", data={"query": sparql},
                           headers={"Accept": "application/sparql-results+json, application/n-triples;q=0.9"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    media = response.mimetype
    if media == "application/n-triples":
        return Counter(tuple(_norm(t) for t in (q.subject, q.predicate, q.object))
                       for q in ox.parse(response.get_data(), format=ox.RdfFormat.N_TRIPLES))
    parsed = ox.parse_query_results(response.get_data(), format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = [v.value for v in parsed.variables]
    return Counter(tuple((n, _norm(s[n])) for n in names) for s in parsed)


@pytest.mark.parametrize("path", CQ_FILES or [None], ids=[p.stem for p in CQ_FILES] or ["none"])
def test_competency_question_same_answer(clients, path):
    assert path is not None, f"no competency questions in {QUERIES_DIR / 'cq'}"
    sparql = path.read_text(encoding="utf-8")
    on_embedded, on_virtuoso = (answer(c, sparql) for c in clients)
    if isinstance(on_embedded, Counter):
        assert on_embedded, "no rows on the embedded store: equal answers would prove nothing"
    assert on_virtuoso == on_embedded


DATASET_QUERIES = {
    "every triple of the union default graph": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "graphs and their sizes": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "FROM one graph": f"SELECT (COUNT(*) AS ?n) FROM <{LINKS_GRAPH}> WHERE {{ ?s ?p ?o }}",
    "ASK": f"ASK {{ <{ID['city/shanghai']}> ?p ?o }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{LINKS_GRAPH}> {{ ?s ?p ?o }} }}",
}


@pytest.mark.parametrize("name", DATASET_QUERIES)
def test_dataset_semantics_are_the_embedded_stores(clients, name):
    """Virtuoso's default graph would be every graph it holds (its system graphs too)."""
    on_embedded, on_virtuoso = (answer(c, DATASET_QUERIES[name]) for c in clients)
    assert on_embedded, f"{name}: no answer on the embedded store"
    assert on_virtuoso == on_embedded


def test_linked_data_page_is_the_same(clients):
    path = "/id/city/shanghai"
    pages = [c.get(path, headers={"Accept": "application/n-triples"}) for c in clients]
    assert [p.status_code for p in pages] == [200, 200]
    graphs = [Counter(tuple(_norm(t) for t in (q.subject, q.predicate, q.object))
                      for q in ox.parse(p.get_data(), format=ox.RdfFormat.N_TRIPLES)) for p in pages]
    assert graphs[0] and graphs[1] == graphs[0]
    html = [c.get(path, headers={"Accept": "text/html"}) for c in clients]
    assert [h.status_code for h in html] == [200, 200]
    assert "Q8686" in html[1].get_data(as_text=True)


def test_linked_data_pages_of_every_kind_are_the_same(clients, embedded):
    """One resource of each kind (id/{kind}/...): the same description on both back ends."""
    body = embedded.query(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}")) }}',
                          media_type="application/sparql-results+json").body
    firsts: dict[str, str] = {}
    for b in sorted(json.loads(body)["results"]["bindings"], key=lambda b: b["s"]["value"]):
        iri = b["s"]["value"]
        firsts.setdefault(iri[len(str(ID)):].split("/")[0], iri)
    assert len(firsts) >= 5, firsts
    differing = []
    for iri in firsts.values():
        path = "/" + iri[len("https://w3id.org/crkg/"):]
        pages = [c.get(path, headers={"Accept": "application/n-triples"}) for c in clients]
        graphs = [Counter(tuple(_norm(t) for t in (q.subject, q.predicate, q.object))
                          for q in ox.parse(p.get_data(), format=ox.RdfFormat.N_TRIPLES)) for p in pages]
        if [p.status_code for p in pages] != [200, 200] or graphs[0] != graphs[1]:
            differing.append((path, [p.status_code for p in pages], graphs[1] - graphs[0], graphs[0] - graphs[1]))
    assert not differing


def test_second_push_by_graph_store_replaces_never_duplicates(virtuoso, source_dir, remote, embedded):
    def sizes(store):
        body = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                           media_type="application/sparql-results+json").body
        return {b["g"]["value"]: int(b["n"]["value"]) for b in json.loads(body)["results"]["bindings"]
                if b["g"]["value"].startswith(str(GRAPH))}

    expected = sizes(embedded)
    assert sizes(remote) == expected
    again = _crkg("push", "--endpoint", virtuoso.sparql_auth, "--graph-store", virtuoso.graph_store,
                  "--user", USER, "--password", PASSWORD, "--store", str(source_dir))
    assert again.returncode == 0, again.stderr
    remote.forget_graphs()
    assert sizes(remote) == expected
    assert "triples (PUT)" in again.stderr


def test_push_with_wrong_password_exits_2(virtuoso, source_dir):
    done = _crkg("push", "--endpoint", virtuoso.sparql_auth, "--user", USER, "--password", "wrong",
                 "--store", str(source_dir))
    assert done.returncode == 2
    assert "refused the credentials (HTTP 401)" in done.stderr


def test_anonymous_update_is_refused(virtuoso, source_dir):
    done = _crkg("push", "--endpoint", virtuoso.sparql, "--store", str(source_dir))
    assert done.returncode == 2, done.stderr


# ------------------------------------------------------------ served, as a user runs it

class Served:
    """`crkg serve` as its own process on a free loopback port."""

    def __init__(self, *args: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = shutil.which("crkg")
        command = [exe] if exe else [sys.executable, "-c", "from crkg.cli import main; main()"]
        self.process = subprocess.Popen(
            command + ["serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"crkg serve {' '.join(args)} exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/sparql?query=ASK%7B%7D", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"crkg serve {' '.join(args)} did not answer within 60 s")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process.stderr.close()


@pytest.fixture(scope="module")
def served(virtuoso, pushed, source_dir):
    embedded_server = Served("--store", str(source_dir))
    try:
        backend_server = Served("--store", str(source_dir), "--backend", virtuoso.sparql)
    except BaseException:
        embedded_server.stop()
        raise
    yield embedded_server, backend_server
    backend_server.stop()
    embedded_server.stop()


def _sparqlwrapper_answer(url: str, sparql: str):
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(f"{url}/sparql", agent="crkg-tests")
    client.setMethod(POST)
    client.setQuery(sparql)
    # SPARQLWrapper guesses the form with a regex that words in comments fool ("# ...
    # describe ..."); the guard's lexer knows it.
    client.queryType = guard.analyse(sparql).form.upper()
    results = client.queryType in ("SELECT", "ASK")
    client.setReturnFormat(JSON if results else TURTLE)
    with client.query().response as response:
        raw = response.read()
    if results:
        parsed = ox.parse_query_results(raw, format=ox.QueryResultsFormat.JSON)
        if isinstance(parsed, ox.QueryBoolean):
            return bool(parsed)
        names = [v.value for v in parsed.variables]
        return Counter(tuple((n, _norm(s[n])) for n in names) for s in parsed)
    return Counter(tuple(_norm(t) for t in (q.subject, q.predicate, q.object))
                   for q in ox.parse(raw, format=ox.RdfFormat.TURTLE))


def test_served_backend_answers_every_competency_question_as_embedded(served):
    """`crkg serve --backend` against `crkg serve`, over HTTP, with SPARQLWrapper."""
    assert CQ_FILES
    embedded_server, backend_server = served
    for path in CQ_FILES:
        sparql = path.read_text(encoding="utf-8")
        want = _sparqlwrapper_answer(embedded_server.url, sparql)
        assert _sparqlwrapper_answer(backend_server.url, sparql) == want, path.name


def test_remote_store_load_replaces_a_graph(virtuoso, pushed):
    """RemoteStore.load: the Store interface's write side, by SPARQL Update with Digest."""
    from crkg.link.push import GraphWriter
    from crkg.store.remote import RemoteStore

    graph = str(GRAPH["test/remote-load"])
    store = RemoteStore(virtuoso.sparql, update_url=virtuoso.sparql_auth, user=USER, password=PASSWORD)
    first = b'<https://w3id.org/crkg/id/x/a> <http://www.w3.org/2000/01/rdf-schema#label> "a"@en .\n'
    second = (b'<https://w3id.org/crkg/id/x/b> <http://www.w3.org/2000/01/rdf-schema#label> "b"@zh .\n'
              b'<https://w3id.org/crkg/id/x/b> <https://w3id.org/crkg/ontology#n> _:n .\n'
              b'_:n <http://www.w3.org/2000/01/rdf-schema#label> "n" .\n')
    try:
        store.load([(graph, first, "application/n-triples")])
        store.load([(graph, second, "application/n-triples")])
        assert graph in store.named_graphs()
        body = store.query("SELECT ?s ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o }",
                           media_type="application/sparql-results+json", default_graph_uris=[graph]).body
        rows = sorted((b["s"]["type"], b["o"]["value"]) for b in json.loads(body)["results"]["bindings"])
        assert rows == [("bnode", "n"), ("uri", "b")]
    finally:
        GraphWriter(virtuoso.sparql_auth, user=USER, password=PASSWORD).drop(graph)
        store.forget_graphs()
    assert graph not in store.named_graphs()
