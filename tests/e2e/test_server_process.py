"""``crkg serve`` as a real process: real clients, and the guards against the real server.

Issue 4 item 6: SPARQLWrapper (SELECT, ASK, CONSTRUCT) and rdflib's SPARQLStore; a
runaway query stopped by the time limit while a second client is served; a SERVICE to
a local listener refused with no connection made; random, broken, huge and deeply nested
input never answered with a 5xx, and the server keeps answering; Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from SPARQLWrapper import CSV, JSON, POSTDIRECTLY, TURTLE, SPARQLWrapper

from conftest import QUERY_TIMEOUT, Server, processes_mentioning, query_workers_of

pytestmark = pytest.mark.slow

EX = "http://example.org/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x . ?y ?z ?aa }")


def get(server, query: str, accept: str = "application/sparql-results+json", timeout: float = 30):
    """(status, body, seconds) of a GET query; HTTP errors are returned, not raised."""
    url = server.endpoint + "?" + urllib.parse.urlencode({"query": query})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=timeout) as r:
            return r.status, r.read(), time.monotonic() - start
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.monotonic() - start


def raw_request(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ------------------------------------------------------------------ real clients


def test_sparqlwrapper_select(server):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(f"""PREFIX ex: <{EX}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?person ?age WHERE {{ ?person a ex:Person ; ex:age ?age }} ORDER BY ?person""")
    client.setReturnFormat(JSON)
    results = client.queryAndConvert()
    got = [(b["person"]["value"], int(b["age"]["value"])) for b in results["results"]["bindings"]]
    assert got == [(f"{EX}alice", 42), (f"{EX}bob", 37)]


def test_sparqlwrapper_select_csv_by_post(server):
    client = SPARQLWrapper(server.endpoint)
    client.setMethod("POST")
    client.setQuery(f'SELECT ?l WHERE {{ <{EX}alice> <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANG(?l) = "zh") }}')
    client.setReturnFormat(CSV)
    assert client.queryAndConvert().decode("utf-8").splitlines() == ["l", "爱丽丝"]


def test_sparqlwrapper_ask(server):
    client = SPARQLWrapper(server.endpoint)
    client.setReturnFormat(JSON)
    client.setMethod("POST")
    client.setRequestMethod(POSTDIRECTLY)  # the body is the query: application/sparql-query
    client.setQuery(f"ASK {{ <{EX}alice> <{EX}knows> <{EX}bob> }}")
    assert client.queryAndConvert()["boolean"] is True
    client.setQuery(f"ASK {{ <{EX}bob> <{EX}knows> <{EX}alice> }}")
    assert client.queryAndConvert()["boolean"] is False


def test_sparqlwrapper_construct(server):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(f"CONSTRUCT {{ ?a <{EX}friendOf> ?b }} WHERE {{ ?a <{EX}knows> ?b }}")
    client.setReturnFormat(TURTLE)
    import rdflib

    graph = rdflib.Graph().parse(data=client.queryAndConvert(), format="turtle")
    assert {(str(s), str(o)) for s, _, o in graph} == {
        (f"{EX}alice", f"{EX}bob"), (f"{EX}carol", f"{EX}alice"), (f"{EX}carol", f"{EX}bob")}


def test_rdflib_sparqlstore(server):
    from rdflib import Graph, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(store=SPARQLStore(query_endpoint=server.endpoint, returnFormat="json"))
    rows = list(graph.query(f"SELECT ?who WHERE {{ <{EX}springfield> <{EX}resident> ?who }} ORDER BY ?who"))
    assert [str(r[0]) for r in rows] == [f"{EX}alice", f"{EX}carol"]
    assert (URIRef(f"{EX}alice"), URIRef(f"{EX}knows"), URIRef(f"{EX}bob")) in graph


# ------------------------------------------------------------------ guards


def test_runaway_query_is_stopped_while_a_second_client_is_served(server):
    outcome = {}

    def runaway():
        outcome["runaway"] = get(server, RUNAWAY)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.4)  # the runaway query is now running
    quick = get(server, COUNT)
    thread.join(QUERY_TIMEOUT + 15)
    status, body, seconds = outcome["runaway"]
    assert quick[0] == 200 and json.loads(quick[1])["results"]["bindings"][0]["n"]["value"] == "21"
    assert quick[2] < 1.0, f"the second client waited {quick[2]:.2f} s"
    assert status == 503, body
    assert b"time limit" in body
    assert QUERY_TIMEOUT - 0.1 <= seconds < QUERY_TIMEOUT + 2.5, f"the runaway query took {seconds:.2f} s"
    for _ in range(4):  # the killed query worker was replaced
        assert get(server, COUNT)[0] == 200


def test_service_to_a_local_listener_is_refused_without_a_connection(server, listener):
    base, _, last = listener.url.rpartition("/")
    for query in [
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}",
        f"PREFIX e: <{base}/> SELECT * WHERE {{ SERVICEe:{last} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?u {{ <{listener.url}> }} SERVICE ?u {{ ?s ?p ?o }} }}",
    ]:
        status, body, _ = get(server, query)
        assert status == 400, (query, body)
        assert b"SERVICE" in body
    time.sleep(0.5)
    assert listener.connections == 0


def test_bad_input_never_gives_a_5xx_and_the_server_keeps_answering(server):
    rng = random.Random(7)
    cases = [
        ("POST", "/sparql", bytes(rng.randrange(256) for _ in range(2000)), {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", b"SELECT * WHERE { ?s ?p \"\xc3\x28\" }", {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", b"query=SELECT%20%FF%FE", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("GET", "/sparql?query=%E4%B8", b"", {}),
        ("POST", "/sparql", b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 1_100_000, {"Content-Type": "application/sparql-query"}),
        ("GET", "/sparql?query=" + urllib.parse.quote("SELECT * #" + "x" * 1_100_000), b"", {}),
        ("POST", "/sparql", ("SELECT * WHERE " + "{" * 10000).encode(), {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", ("SELECT * WHERE " + "{" * 10000 + "}" * 10000).encode(), {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", b"", {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", b"\x00" * 1000, {"Content-Type": "application/sparql-query; charset=utf-8"}),
        ("GET", "/sparql?query=SELECT%20*%20WHERE%20%7B%7D&default-graph-uri=%00%01", b"", {}),
        ("PUT", "/sparql", b"x", {}),
    ]
    for method, path, body, headers in cases:
        status, answer = raw_request(server, method, path, body, headers)
        assert 400 <= status < 500, (method, path[:80], body[:80], status, answer[:200])
        assert get(server, COUNT)[0] == 200
    # a long flat chain is valid: answered, not a crashed worker (the default 8 MB stack
    # overflows at ~10 000 operators; the query workers run with a larger one)
    status, answer = raw_request(server, "GET", "/sparql?query=" + urllib.parse.quote(
        "ASK { FILTER(" + "!" * 20000 + "true) }"))
    assert (status, json.loads(answer)["boolean"]) == (200, True)
    # bytes that are not HTTP at all
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(bytes(rng.randrange(256) for _ in range(3000)) + b"\r\n\r\n")
        reply = sock.recv(100)
    assert not reply.startswith(b"HTTP/1.1 5"), reply
    status, _, seconds = get(server, COUNT)
    assert status == 200 and seconds < 1.0


def test_ctrl_c_stops_the_server_and_its_query_workers(e2e_store, tmp_path):
    # its own store path, so its query processes can be told from the module server's
    store = tmp_path / "store"
    store.symlink_to(e2e_store.resolve())
    srv = Server(store, workers=1)
    ready = srv.wait_ready()
    assert any(str(store) in p for p in [" ".join(srv.stderr)]) or srv.stderr, srv.stderr
    workers = query_workers_of(srv.process.pid)
    assert workers, "no query worker processes found"
    start = time.monotonic()
    assert srv.stop(signal.SIGINT) == 0, "\n".join(srv.stderr)
    stopped = time.monotonic() - start

    def alive() -> list[int]:
        """The workers still running (a zombie, not yet reaped, has stopped)."""
        running = []
        for pid in workers:
            try:
                state = Path(f"/proc/{pid}/stat").read_text(errors="replace").rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ("Z", "X"):
                running.append(pid)
        return running

    deadline = time.monotonic() + 3
    while (alive() or processes_mentioning(str(store))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive() == [] and processes_mentioning(str(store)) == []
    assert stopped < 10, f"stopping took {stopped:.1f} s"
    assert ready < 5, f"the first query was answered {ready:.2f} s after start"
