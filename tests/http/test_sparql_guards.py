"""The guards of the public endpoint (issue 4 item 3), through the Flask test client.

* SERVICE only to allow-listed endpoints, refused (400) before anything runs: a TCP
  listener on 127.0.0.1 stands in for the target and must see no connection; with the
  listener on the allow-list the same query does reach it (the control);
* the query time limit really stops a runaway query while another client is answered;
* the row cap, signalled in headers and in the result head;
* the request-size caps (413 body, 414 URL) and the nesting cap;
* random and broken input never gives a 5xx nor kills a query worker.
"""

from __future__ import annotations

import json
import random
import threading
import time
from urllib.parse import quote

import pytest

from crkg.store import guard
from crkg.store.base import QueryError, ServiceNotAllowed
from crkg.store.embedded import EmbeddedStore
from crkg.web.app import create_app
from crkg.web.config import TestConfig

MAX_ROWS = 5
TIMEOUT = 1.5
MAX_BYTES = 4096
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
#: 21 triples to the 9th power: runs for hours unless stopped
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x . ?y ?z ?aa }")


@pytest.fixture(scope="module")
def settings():
    return {"MAX_ROWS": MAX_ROWS, "QUERY_TIMEOUT": TIMEOUT, "MAX_REQUEST_BYTES": MAX_BYTES, "QUERY_WORKERS": 2,
            "WORKER_MEMORY_MB": 256}


def evasions(url: str) -> list[str]:
    """SERVICE clauses to *url*, written every way the grammar (and Oxigraph) allows."""
    base, _, last = url.rpartition("/")
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ service <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICESILENT<{url}>{{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE#comment\n<{url}>{{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o .SERVICE<{url}>{{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {{}}SERVICE<{url}>{{}} }}",
        f"PREFIX e: <{base}/> SELECT * WHERE {{ SERVICE e:{last} {{ ?s ?p ?o }} }}",
        f"PREFIX e: <{base}/> SELECT * WHERE {{ SERVICEe:{last} {{ ?s ?p ?o }} }}",
        f"PREFIX : <{base}/> SELECT * WHERE {{ SERVICE:{last} {{ ?s ?p ?o }} }}",
        f"BASE <{base}/> SELECT * WHERE {{ SERVICE <{last}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <{url[:-1]}\\u{ord(url[-1]):04X}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?u {{ <{url}> }} SERVICE $u {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
        f"ASK {{ SERVICE <{url}> {{ }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        # between strings, and where a lexer would take "<'>" for an IRI and the quote
        # that follows for the start of a string
        f"SELECT * WHERE {{ BIND('x' AS ?x) SERVICE <{url}> {{ BIND('y' AS ?y) }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c FILTER(?c <'> ?b) ') }} SERVICE <{url}> {{ }} #' }}",
    ]


# ------------------------------------------------------------------ SERVICE


def test_every_service_form_is_refused_and_never_connects(client, listener):
    for query in evasions(listener.url):
        r = client.get("/sparql", query_string={"query": query})
        assert r.status_code == 400, (query, r.data)
        assert b"SERVICE" in r.data
    time.sleep(0.3)
    assert listener.connections == 0


def test_other_iris_in_a_query_are_never_fetched(client, listener):
    """FROM, FROM NAMED, GRAPH, DESCRIBE name graphs of the store; nothing is dereferenced."""
    url = listener.url
    for query in [f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
                  f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
                  f"SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
                  f"DESCRIBE <{url}>"]:
        assert client.get("/sparql", query_string={"query": query}).status_code == 200, query
    time.sleep(0.3)
    assert listener.connections == 0


def test_allow_listed_service_does_connect(fixture_store, listener):
    """The control: the same listener does see a connection when the endpoint is allowed."""
    app = create_app(TestConfig(STORE_DIR=str(fixture_store), SERVICE_ALLOWLIST=(listener.url,), QUERY_WORKERS=1))
    try:
        client = app.test_client()
        query = f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}"
        assert client.get("/sparql", query_string={"query": query}).status_code == 200
        # ... but not another port on the same host
        other = listener.url.replace(str(listener.port), str(listener.port + 1 if listener.port < 65535 else 1))
        denied = client.get("/sparql", query_string={"query": f"SELECT * {{ SERVICE <{other}> {{}} }}"})
        assert denied.status_code == 400
    finally:
        app.extensions["crkg.store"].close()
    deadline = time.time() + 3
    while listener.connections == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert listener.connections >= 1


def test_service_refused_by_the_store_itself(fixture_store, listener):
    """EmbeddedStore checks too (defence in depth: `crkg query`, `crkg link` use it directly)."""
    with EmbeddedStore(fixture_store, workers=1) as store:
        for query in evasions(listener.url)[:3]:
            with pytest.raises(ServiceNotAllowed):
                store.query(query, media_type="application/sparql-results+json")
    assert listener.connections == 0


@pytest.fixture
def guard_calls(monkeypatch) -> list[str]:
    """The queries the guard reads (``guard.analyse`` does all of its work)."""
    calls: list[str] = []
    analyse = guard.analyse

    def counting(query: str):
        calls.append(query)
        return analyse(query)

    monkeypatch.setattr(guard, "analyse", counting)
    return calls


@pytest.mark.parametrize("query", [COUNT, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2"])
def test_the_guard_reads_each_query_once(client, guard_calls, query):
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 200, r.data
    assert guard_calls == [query]


def test_a_verdict_under_other_settings_is_not_trusted(fixture_store, listener):
    """The store checks again unless the verdict is its own: a QueryInfo from a check with
    another allow-list (or made up) does not let a SERVICE through."""
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    with EmbeddedStore(fixture_store, workers=1) as store:
        others = (guard.check(query, (listener.url,)), guard.QueryInfo(form="select"),
                  store.inspect("SELECT * WHERE { ?s ?p ?o }"))  # the store's, but for another text
        for info in others:
            with pytest.raises(ServiceNotAllowed):
                store.query(query, media_type="application/sparql-results+json", info=info)
    assert listener.connections == 0


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { ?service a <http://www.w3.org/ns/sparql-service-description#Service> }",
    "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * { ?s a sd:Service ; sd:endpoint ?e }",
    'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), "social service work")) }',
    "SELECT * WHERE { ?s <http://example.org/service/p> ?o } # a service comment",
    "SELECT * WHERE { ?s ?p ?o }",
])
def test_the_word_elsewhere_is_not_refused(client, query):
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 200, r.data


def test_guard_unit_resolves_prefixes_and_escapes():
    url = "http://allowed.example/sparql"
    assert guard.check(f"SELECT * {{ SERVICE <{url}> {{}} }}", [url]).services == [url]
    assert guard.check(f"PREFIX a: <http://allowed.example/> SELECT * {{ SERVICE a:sparql {{}} }}", [url])
    assert guard.check("SELECT * { SERVICE <http://allowed.example/\\u0073parql> {} }", [url])
    with pytest.raises(ServiceNotAllowed):  # the prefix declared twice: both must be allowed
        guard.check(f"PREFIX a: <http://allowed.example/> PREFIX a: <http://evil.example/> "
                    f"SELECT * {{ SERVICE a:sparql {{}} }}", [url])
    with pytest.raises(ServiceNotAllowed):
        guard.check("SELECT * { SERVICE ?x {} }", [url])
    assert guard.analyse("SELECT * { ?s ?p ?o }").services == []


def test_guard_is_cheap():
    query = ("PREFIX ex: <http://example.org/> SELECT ?s ?label WHERE { ?s a ex:Thing ; "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label FILTER(LANG(?label) = 'en') } LIMIT 100")
    start = time.process_time()
    for _ in range(200):
        guard.check(query)
    per_query = (time.process_time() - start) / 200
    assert per_query < 0.002, f"{per_query * 1000:.2f} ms per query"


@pytest.mark.parametrize("hostile,refused", [
    ("service" * 150_000, True), ("service#" * 120_000, True), ("service<" * 120_000, True),
    ("service " * 120_000, True), ("SERVICE <" + "a" * 1_000_000 + ">", True),
    ("SERVICE #" + "x" * 1_000_000 + "\n<http://e/>", True), ("x:" + "service" * 150_000, False),
])
def test_guard_work_is_bounded_on_hostile_text(hostile, refused):
    """A megabyte built to make the guard quadratic is read in well under a second,
    and whatever the guard could not look through is refused (fail-closed)."""
    start = time.process_time()
    info = guard.analyse(hostile)
    assert time.process_time() - start < 2.0
    assert (guard.UNRESOLVED in info.services) is refused
    if refused:
        with pytest.raises(ServiceNotAllowed):
            guard.check(hostile)


@pytest.mark.parametrize("hostile", [
    '"\\' * 300_000, "'\\" * 300_000, '"""' + "a" * 1_000_000, ('"""a""b') * 150_000,
    ("<a" + "b" * 50) * 20_000, ("a" * 1000 + ":") * 1000, "PREFIX a: <b> " * 70_000,
])
def test_query_form_lexing_is_linear(hostile):
    start = time.process_time()
    guard.analyse(hostile)
    assert time.process_time() - start < 2.0


# ------------------------------------------------------------------ nesting


@pytest.mark.parametrize("query", [
    "SELECT * WHERE " + "{" * 1000 + "}" * 1000,
    "SELECT * WHERE " + "{" * 1000,
    "ASK { FILTER(" + "(" * 1000 + "1" + ")" * 1000 + ") }",
])
def test_deep_nesting_is_400_and_the_worker_survives(app, client, query):
    restarts = app.extensions["crkg.store"].restarts
    r = client.post("/sparql", data=query.encode(), content_type="application/sparql-query")
    assert r.status_code == 400
    assert b"nested too deeply" in r.data
    assert app.extensions["crkg.store"].restarts == restarts


def test_nesting_within_the_limit_is_answered(client):
    query = "SELECT * WHERE " + "{" * 150 + "}" * 150
    assert client.get("/sparql", query_string={"query": query}).status_code == 200
    with pytest.raises(QueryError):
        guard.check("SELECT * WHERE " + "{" * 201)


# ------------------------------------------------------------------ row cap


def test_row_cap_cuts_select_and_says_so(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert r.headers["X-CRKG-Truncated"] == "true"
    assert r.headers["X-CRKG-Max-Rows"] == str(MAX_ROWS)
    data = json.loads(r.data)
    assert len(data["results"]["bindings"]) == MAX_ROWS
    assert data["head"]["link"] == [f"urn:crkg:truncated:max-rows={MAX_ROWS}"]
    assert data["head"]["vars"] == ["o", "p", "s"]


@pytest.mark.parametrize("accept", ["text/csv", "text/tab-separated-values", "application/sparql-results+xml"])
def test_row_cap_in_other_result_formats(client, accept):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"},
                   headers={"Accept": accept})
    assert r.headers["X-CRKG-Truncated"] == "true"
    if accept == "application/sparql-results+xml":
        assert r.data.count(b"<result>") == MAX_ROWS
        assert b'<link href="urn:crkg:truncated:max-rows=5"/></head>' in r.data
    else:
        assert len(r.data.decode().strip().splitlines()) == MAX_ROWS + 1  # + header


def test_row_cap_with_no_variables_is_still_json(client):
    query = "SELECT * WHERE { " + " UNION ".join(["{}"] * (MAX_ROWS + 2)) + " }"
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.headers["X-CRKG-Truncated"] == "true"
    data = json.loads(r.data)
    assert data["head"] == {"vars": [], "link": [f"urn:crkg:truncated:max-rows={MAX_ROWS}"]} or \
        data["head"] == {"link": [f"urn:crkg:truncated:max-rows={MAX_ROWS}"]}
    assert len(data["results"]["bindings"]) == MAX_ROWS


def test_row_cap_keeps_the_order(client):
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY DESC(STR(?s)) ?p ?o"
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    cut = r.data.decode().splitlines()[1:]
    full_rows = client.get("/sparql", query_string={"query": query + " LIMIT 5"}, headers={"Accept": "text/csv"})
    assert cut == full_rows.data.decode().splitlines()[1:]


def test_row_cap_cuts_construct(client):
    r = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                   headers={"Accept": "application/n-triples"})
    assert r.headers["X-CRKG-Truncated"] == "true"
    assert len(r.data.decode().strip().splitlines()) == MAX_ROWS


def test_exactly_the_cap_is_not_truncated(client):
    for query, accept in [("SELECT * WHERE { ?s ?p ?o } LIMIT 5", "text/csv"),
                          ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5", "text/turtle"),
                          ("SELECT * WHERE { ?s ?p ?o } LIMIT 4", "application/sparql-results+json")]:
        r = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
        assert r.status_code == 200
        assert "X-CRKG-Truncated" not in r.headers, query


# ------------------------------------------------------------------ time limit


def test_runaway_query_is_stopped_while_another_client_is_served(app):
    results = {}

    def runaway():
        start = time.monotonic()
        r = app.test_client().get("/sparql", query_string={"query": RUNAWAY})
        results["runaway"] = (r.status_code, r.data, time.monotonic() - start)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)  # the runaway query is running in one worker
    start = time.monotonic()
    quick = app.test_client().get("/sparql", query_string={"query": COUNT})
    quick_seconds = time.monotonic() - start
    thread.join(TIMEOUT + 10)
    status, body, seconds = results["runaway"]
    assert quick.status_code == 200
    assert quick_seconds < 1.0, quick_seconds
    assert status == 503
    assert b"time limit" in body
    assert TIMEOUT - 0.1 <= seconds < TIMEOUT + 2.0, seconds
    # the killed worker was replaced: the store answers again at full strength
    for _ in range(3):
        assert app.test_client().get("/sparql", query_string={"query": COUNT}).status_code == 200


# ------------------------------------------------------------------ memory limit


def test_a_query_over_the_memory_limit_is_503_and_the_worker_is_replaced(app, client):
    # sorting a 4-million-row cross product needs far more than the 256 MiB allowed
    hungry = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o } ORDER BY ?a ?o ?m"
    restarts = app.extensions["crkg.store"].restarts
    r = client.get("/sparql", query_string={"query": hungry})
    assert r.status_code == 503
    assert b"memory" in r.data
    assert app.extensions["crkg.store"].restarts == restarts + 1
    assert client.get("/sparql", query_string={"query": COUNT}).status_code == 200


# ------------------------------------------------------------------ size caps


def test_body_over_the_cap_is_413(client):
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_BYTES
    r = client.post("/sparql", data=query.encode(), content_type="application/sparql-query")
    assert r.status_code == 413
    r = client.post("/sparql", data={"query": query})
    assert r.status_code == 413


def test_url_over_the_cap_is_414(client):
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_BYTES
    r = client.get("/sparql?query=" + quote(query))
    assert r.status_code == 414
    assert b"POST" in r.data


# ------------------------------------------------------------------ robustness


def test_random_input_never_gives_a_5xx_nor_kills_a_worker(app, client):
    rng = random.Random(20261128)
    restarts = app.extensions["crkg.store"].restarts
    tokens = ["SELECT", "*", "WHERE", "{", "}", "?s", "?p", "?o", ".", "(", ")", "FILTER", "<http://x>",
              '"', "'", "#", "\\u0000", "OPTIONAL", "UNION", "GRAPH", "COUNT", "GROUP BY", "\x00", "ASK",
              "CONSTRUCT", "DESCRIBE", "VALUES", "BIND", "AS", "||", "&&", "!", "^", "/", "|", "*", "+", "<<", ">>"]
    statuses = []
    for i in range(120):
        kind = i % 4
        if kind == 0:
            r = client.post("/sparql", data=bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))),
                            content_type="application/sparql-query")
        elif kind == 1:
            raw = "".join(f"%{rng.randrange(256):02X}" for _ in range(rng.randrange(1, 100)))
            r = client.get("/sparql?query=" + raw)
        elif kind == 2:
            query = " ".join(rng.choice(tokens) for _ in range(rng.randrange(1, 60)))
            r = client.post("/sparql", data={"query": query}, headers={"Accept": rng.choice(
                ["*/*", "text/csv", "application/json", "x/y;q=zz", ",,;;", ""])})
        else:
            r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                                    "default-graph-uri": "".join(chr(rng.randrange(1, 0x3000)) for _ in range(20)),
                                                    "format": rng.choice(["csv", "", "%%", "json", "\x00"])})
        statuses.append(r.status_code)
        assert r.status_code < 500, (i, r.status_code, r.data[:200])
    assert 400 in statuses
    assert app.extensions["crkg.store"].restarts == restarts
    assert client.get("/sparql", query_string={"query": COUNT}).status_code == 200
