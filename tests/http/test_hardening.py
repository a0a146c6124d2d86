"""Issue 13 through the Flask test client and the store: headers, links, admission.

* every HTML page carries a Content-Security-Policy with no inline script, ``nosniff``,
  frame protection and a referrer policy;
* an IRI from the data that is not http(s) (``javascript:``) is shown as text, never a link;
* the service description names the served address, not the request's ``Host``;
* the admission rules of ``crkg.store.admission`` on a real ``EmbeddedStore``: 429 for a
  client over its share (with ``Retry-After``), 503 only when every long slot is taken,
  a hung-up client's query stopped within a second, a dead worker replaced at once.
"""

from __future__ import annotations

import threading
import time
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest

from crkg.store.admission import Admission, Caller, ClientOverShare, QueryCancelled, ServiceBusy, calling
from crkg.store.embedded import EmbeddedStore, write_store
from crkg.web.app import create_app
from crkg.web.config import TestConfig

from test_linked_data import INTERVENTION, STUDY_GRAPH, fixture_graphs

JAVASCRIPT_IRI = "javascript:alert(document.cookie)"
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x . ?y ?z ?aa }")
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    """The Linked Data fixture plus one triple whose object is a ``javascript:`` IRI."""
    graphs = fixture_graphs()
    extra = ox.serialize([ox.Triple(ox.NamedNode(str(INTERVENTION)),
                                    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
                                    ox.NamedNode(JAVASCRIPT_IRI))], format=ox.RdfFormat.N_TRIPLES)
    graphs[str(STUDY_GRAPH)] = graphs[str(STUDY_GRAPH)] + extra
    path = tmp_path_factory.mktemp("hostile-store") / "store"
    write_store(path, [(g, body, "application/n-triples") for g, body in graphs.items()])
    return path


@pytest.fixture(scope="module")
def ld_client(hostile_store):
    app = create_app(TestConfig(STORE_DIR=str(hostile_store)))
    yield app.test_client()
    app.extensions["crkg.store"].close()


def _html_routes(client) -> list[str]:
    """Every GET route without parameters, and pages with them that exist in the fixture."""
    app = client.application
    paths = sorted({r.rule for r in app.url_map.iter_rules()
                    if "GET" in r.methods and not r.arguments and not r.rule.startswith("/static")})
    paths += ["/id/intervention/xu-chen-shanghai/N-mask-registration", "/ontology/Intervention",
              "/id/no-such-thing", "/sparql"]
    return paths


def test_every_html_page_has_the_security_headers(ld_client):
    html = 0
    for path in _html_routes(ld_client):
        response = ld_client.get(path, headers={"Accept": "text/html"})
        if not response.mimetype == "text/html":
            continue
        html += 1
        csp = response.headers.get("Content-Security-Policy", "")
        assert csp, path
        script = next(d for d in csp.split(";") if d.strip().startswith(("script-src", "default-src")))
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (path, csp)
        directives = {d.strip().split()[0] for d in csp.split(";") if d.strip()}
        assert {"script-src", "object-src", "frame-ancestors", "base-uri"} <= directives, (path, csp)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), path
        assert response.headers.get("Referrer-Policy"), path
    assert html >= 6, f"only {html} HTML pages found"


def test_every_other_answer_says_nosniff(ld_client):
    for path in ("/sparql?query=ASK%7B%7D", "/id/intervention/xu-chen-shanghai/N-mask-registration?format=turtle"):
        response = ld_client.get(path)
        assert response.status_code == 200
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_a_javascript_iri_from_the_data_is_text_not_a_link(ld_client):
    response = ld_client.get("/id/intervention/xu-chen-shanghai/N-mask-registration",
                             headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert JAVASCRIPT_IRI in page.replace("&#40;", "(").replace("&#41;", ")"), "the IRI is not shown"
    anchors = _Anchors()
    anchors.feed(page)
    assert anchors.hrefs, "the page has no links at all"
    assert not [h for h in anchors.hrefs if h.strip().lower().startswith("javascript:")], anchors.hrefs


def test_service_description_ignores_the_host_header(fixture_store):
    app = create_app(TestConfig(STORE_DIR=str(fixture_store)))
    try:
        body = app.test_client().get("/sparql", headers={"Host": "evil.example", "Accept": "text/turtle"}).data
    finally:
        app.extensions["crkg.store"].close()
    assert b"evil.example" not in body
    assert b"<http://localhost/sparql>" in body


def test_service_description_uses_the_public_base(fixture_store):
    app = create_app(TestConfig(STORE_DIR=str(fixture_store), PUBLIC_BASE_URL="https://kg.example.org/"))
    try:
        body = app.test_client().get("/sparql", headers={"Host": "evil.example", "Accept": "text/turtle"}).data
    finally:
        app.extensions["crkg.store"].close()
    assert b"<https://kg.example.org/sparql>" in body and b"evil.example" not in body


# ----------------------------------------------------------------------- admission


def test_admission_counts_per_client_and_long_slots():
    adm = Admission(per_client=2, long_total=2, long_per_client=1, retry_after=7)
    adm.enter("a")
    adm.enter("a")
    with pytest.raises(ClientOverShare) as over:
        adm.enter("a")
    assert over.value.retry_after == 7
    adm.enter("b")  # another client is not affected
    slot_a = adm.escalate("a")
    with pytest.raises(ClientOverShare):
        adm.escalate("a")  # a's long share is used
    adm.escalate("b")
    with pytest.raises(ServiceBusy):
        adm.escalate("c")  # every long slot is taken (none old enough to give way): full
    adm.settle(slot_a)
    adm.settle(slot_a)  # once only
    adm.escalate("c")
    adm.leave("a")
    with pytest.raises(ClientOverShare) as cooling:
        adm.enter("a")  # a's long query was stopped: it cools down for Retry-After
    assert 1 <= cooling.value.retry_after <= 7
    adm.enter("a", bounded=True)  # a lookup that cannot run away is still answered
    assert adm.snapshot()["long"] == 2
    assert adm.snapshot()["refused"] == {"client": 1, "client-long": 1, "service-long": 1, "cooling": 1}


def test_the_oldest_long_query_gives_way_after_preempt_after():
    adm = Admission(per_client=4, long_total=1, long_per_client=1, retry_after=3, preempt_after=0.2)
    old = adm.escalate("runaway")
    with pytest.raises(ServiceBusy):
        adm.escalate("x")  # the slot is younger than 0.2 s
    time.sleep(0.25)
    new = adm.escalate("y")  # now the old one gives way
    assert old.preempted.is_set() and not new.preempted.is_set()
    assert adm.snapshot()["long"] == 1 and adm.snapshot()["preempted"] == 1
    adm.settle(old)  # its owner stops it: the slot it lost is not given back twice
    assert adm.snapshot()["long"] == 1
    adm.settle(new)
    assert adm.snapshot()["long"] == 0


def test_a_cool_down_ends_after_retry_after():
    adm = Admission(per_client=2, long_total=0, long_per_client=1, retry_after=1)
    with pytest.raises(ServiceBusy):
        adm.escalate("a")
    with pytest.raises(ClientOverShare):
        adm.enter("a")
    adm.enter("b")  # other clients are not cooled
    time.sleep(1.05)
    adm.enter("a")


def _store(path, **kw) -> EmbeddedStore:
    adm = Admission(per_client=kw.pop("per_client", 4), long_total=kw.pop("long_total", 1),
                    long_per_client=kw.pop("long_per_client", 1), retry_after=3,
                    preempt_after=kw.pop("preempt_after", float("inf")))
    return EmbeddedStore(path, workers=kw.pop("workers", 1), admission=adm,
                         short_budget=kw.pop("short_budget", 0.3), **kw)


def _wait_long(store, count: int, limit: float = 5.0) -> None:
    """Until *count* queries have left the fast lane (the short budget is CPU time)."""
    deadline = time.monotonic() + limit
    while store.pool_size()["long"] != count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.pool_size()["long"] == count


def _run(store, query, caller, outcome, key, timeout=20.0):
    def target():
        with calling(caller):
            try:
                outcome[key] = store.query(query, media_type=JSON, timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - the test looks at which
                outcome[key] = exc
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_a_client_over_its_share_gets_429_and_cheap_queries_keep_answering(fixture_store):
    store = _store(fixture_store, per_client=1, long_total=1)
    try:
        outcome = {}
        first = _run(store, RUNAWAY, Caller("10.0.0.1"), outcome, "first", timeout=6.0)
        _wait_long(store, 1)  # past the budget: it holds the one long slot
        with calling(Caller("10.0.0.1")), pytest.raises(ClientOverShare):
            store.query("ASK {}", media_type=JSON)  # the same client, over its share of 1
        with calling(Caller("10.0.0.2")):
            start = time.process_time()
            assert store.query("ASK {}", media_type=JSON).body  # another client: answered
            assert time.process_time() - start < 0.5
            with pytest.raises(ServiceBusy):  # no long slot left: the whole service is full
                store.query(RUNAWAY, media_type=JSON, timeout=3.0)
        first.join(10)
        assert type(outcome["first"]).__name__ == "QueryTimeout"
    finally:
        store.close()


def test_a_long_query_gives_its_slot_to_a_newer_one_after_preempt_after(fixture_store):
    store = _store(fixture_store, long_total=1, preempt_after=0.5)
    try:
        outcome = {}
        first = _run(store, RUNAWAY, Caller("10.0.0.5"), outcome, "first", timeout=20.0)
        _wait_long(store, 1)
        time.sleep(0.6)
        second = _run(store, RUNAWAY, Caller("10.0.0.6"), outcome, "second", timeout=3.0)
        first.join(10)
        assert isinstance(outcome["first"], ServiceBusy), outcome["first"]
        assert "to give its slot" in str(outcome["first"])
        second.join(10)
        assert type(outcome["second"]).__name__ == "QueryTimeout"  # it kept the slot
        assert store.admission.snapshot()["long"] == 0
    finally:
        store.close()


def test_a_hung_up_client_gives_its_worker_back_within_a_second(fixture_store):
    store = _store(fixture_store)
    gone = threading.Event()
    try:
        outcome = {}
        thread = _run(store, RUNAWAY, Caller("10.0.0.3", gone.is_set), outcome, "q")
        _wait_long(store, 1)
        gone.set()
        start = time.monotonic()
        thread.join(5)
        assert isinstance(outcome["q"], QueryCancelled)
        deadline = start + 1.0
        while store.pool_size()["long"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.pool_size()["long"] == 0, "the long query's worker still runs"
        assert time.monotonic() - start < 1.0
        with calling(Caller("10.0.0.4")):  # its long slot is free again
            assert store.query("ASK {}", media_type=JSON).body
            assert store.admission.snapshot()["long"] == 0
    finally:
        store.close()


def test_a_dead_worker_is_replaced_at_once(fixture_store):
    store = EmbeddedStore(fixture_store, workers=2)
    try:
        victim = next(iter(store._all))
        pid = victim.process.pid
        victim.process.kill()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            pids = {w.process.pid for w in store._all}
            if pid not in pids and len(pids) == 2:
                break
            time.sleep(0.02)
        assert pid not in {w.process.pid for w in store._all} and len(store._all) == 2
        assert store.restarts == 1
        for _ in range(4):
            assert store.query("ASK {}", media_type=JSON).body
    finally:
        store.close()


# ----------------------------------------------------------------------- bounded queries

BOUNDED = [
    "ASK {}",
    "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }",
    "PREFIX ex: <http://example.org/> SELECT * { ex:a ?p ?o . } LIMIT 5",
    "SELECT DISTINCT ?s WHERE { ?s a <http://example.org/C> } LIMIT 10 OFFSET 3",
    'SELECT ?s WHERE { ?s ?p "a } . ?x ?y ?z . {" }',  # braces inside a string, read alike
]
UNBOUNDED = [
    "SELECT * WHERE { ?s ?p ?o }",  # a whole-store scan
    "SELECT ?s WHERE { ?s <http://example.org/p> ?o }",  # a whole predicate
    "SELECT * WHERE { <http://example.org/a> ?p ?o . ?x ?y ?z }",  # a join
    "SELECT * WHERE { <http://example.org/a> ?p ?o } # comment",
    "SELECT * WHERE { <http://example.org/a> <http://example.org/p>* ?o }",  # a path
    "SELECT * WHERE { <http://example.org/a> ?p ?o } ORDER BY ?o",
    "SELECT (COUNT(*) AS ?n) WHERE { <http://example.org/a> ?p ?o }",
    "SELECT * FROM <http://example.org/g> WHERE { <http://example.org/a> ?p ?o }",
    "SELECT * WHERE { <http://example.org/a> ?p ?o OPTIONAL { ?o ?q ?r } }",
    "SELECT * WHERE { <http://example.org/a> ?p ?o FILTER(?o > 1) }",
    "SELECT * WHERE { SERVICE <http://example.org/s> { ?a ?b ?c } }",
    "SELECT * WHERE { <http://example.org/a> ?p ?o } VALUES ?o { 1 }",
    "SELECT * WHERE { <http://example.org/a> ?p 'x' }",
    "SELECT * WHERE { <http://example.org/\\u0061> ?p ?o }",  # escapes: refused outright
    "CONSTRUCT WHERE { <http://example.org/a> ?p ?o }",
    RUNAWAY,
]


@pytest.mark.parametrize("query", BOUNDED)
def test_lookups_are_bounded(query):
    from crkg.store import guard

    assert guard.analyse(query).bounded


@pytest.mark.parametrize("query", UNBOUNDED)
def test_anything_else_is_not_bounded(query):
    from crkg.store import guard

    assert not guard.analyse(query).bounded


def test_a_bounded_query_needs_no_worker_process(fixture_store):
    store = EmbeddedStore(fixture_store, workers=1)
    try:
        outcome = {}
        thread = _run(store, RUNAWAY, Caller(), outcome, "runaway", timeout=2.0)
        time.sleep(0.3)  # the only worker is busy with the runaway
        start = time.monotonic()
        body = store.query("SELECT ?p ?o WHERE { <http://example.org/alice> ?p ?o }", media_type=JSON,
                           timeout=1.0).body
        assert time.monotonic() - start < 0.5
        assert b"http://example.org/Person" in body
        thread.join(10)
        assert type(outcome["runaway"]).__name__ == "QueryTimeout"
    finally:
        store.close()
