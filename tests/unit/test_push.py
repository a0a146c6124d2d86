"""``crkg push`` batching and ``RemoteStore``'s protocol side, against a local endpoint.

The "remote" is ``tests/fixtures/wikidata/endpoint.py`` (pyoxigraph behind werkzeug on
127.0.0.1) serving the Linked Data fixture dataset; Virtuoso itself is exercised in
``tests/e2e/test_virtuoso.py``.
"""

from __future__ import annotations

import importlib.util
import json

import pyoxigraph as ox
import pytest

from crkg.link.push import batches
from crkg.namespaces import GRAPH, LINKS_GRAPH
from crkg.paths import REPO_ROOT
from crkg.store.base import QueryError, ServiceNotAllowed
from crkg.store.remote import RemoteStore, names_dataset, query_form

FIXTURES = REPO_ROOT / "tests" / "fixtures"
DATASET = FIXTURES / "ld" / "dataset.trig"


def _endpoint_class():
    spec = importlib.util.spec_from_file_location("fixture_endpoint", FIXTURES / "wikidata" / "endpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LocalEndpoint


@pytest.fixture
def endpoint():
    with _endpoint_class()([DATASET]) as server:
        yield server


@pytest.fixture
def reference() -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(DATASET))
    return store


def _b(i):
    return ox.BlankNode(f"b{i}")


def test_batches_keep_blank_node_groups_whole():
    p = ox.NamedNode("http://example.org/p")
    triples = [ox.Triple(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(str(i))) for i in range(10)]
    # _:b1 -> _:b2 -> _:b3 form one group of four triples, _:b9 another of two
    triples += [ox.Triple(ox.NamedNode("http://example.org/x"), p, _b(1)), ox.Triple(_b(1), p, _b(2)),
                ox.Triple(_b(2), p, _b(3)), ox.Triple(_b(3), p, ox.Literal("end")),
                ox.Triple(_b(9), p, ox.Literal("a")), ox.Triple(_b(9), p, ox.Literal("b"))]
    out = list(batches(triples, 3))
    assert sorted(map(str, (t for b in out for t in b))) == sorted(map(str, triples))
    for label in ("b1", "b9"):
        holding = [i for i, b in enumerate(out) if any(label in str(t) for t in b)]
        assert len(holding) == 1, label
    assert max(len(b) for b in out) == 4  # the one group bigger than the batch size
    assert list(batches([], 3)) == []


@pytest.mark.parametrize("sparql,form", [
    ("PREFIX a: <http://x/select#> # ASK in a comment\nSELECT * { ?s ?p 'CONSTRUCT' }", "select"),
    ("ask{}", "ask"),
    ("BASE <http://x/> CONSTRUCT WHERE { ?s ?p ?o }", "construct"),
    ("DESCRIBE <http://x/>", "describe"),
])
def test_query_form(sparql, form):
    assert query_form(sparql) == form


def test_updates_and_non_queries_are_refused():
    for bad in ("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", "DROP ALL", "hello"):
        with pytest.raises(QueryError):
            query_form(bad)


def test_dataset_clause_detection():
    assert names_dataset("SELECT * FROM <http://x/g> { ?s ?p ?o }")
    assert not names_dataset('SELECT * { ?s ?p "FROM" } # FROM')


def _rows(solutions) -> list:
    """Rows as sorted tuples, blank nodes all alike (their labels are the engine's)."""
    names = [v.value for v in solutions.variables]
    return sorted(tuple("_:" if isinstance(s[n], ox.BlankNode) else str(s[n]) for n in names)
                  for s in solutions)


QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    f"SELECT ?s FROM <{LINKS_GRAPH}> WHERE {{ ?s ?p ?o }}",
    "ASK { ?s a ?c }",
]


@pytest.mark.parametrize("sparql", QUERIES)
def test_remote_answers_equal_the_embedded_semantics(endpoint, reference, sparql):
    """Union default graph, GRAPH over crkg's graphs, FROM honoured, as the embedded store."""
    remote = RemoteStore(endpoint.url)
    body = remote.query(sparql, media_type="application/sparql-results+json").body
    got = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    want = reference.query(sparql, use_default_graph_as_union=True)
    if isinstance(want, ox.QueryBoolean):
        assert bool(got) == bool(want)
    else:
        assert _rows(got) == _rows(want) != []
    sent = endpoint.requests[-1]
    assert "crkg/" in sent["user_agent"]
    assert sent["accept"] == "application/sparql-results+xml"


def test_remote_sends_the_crkg_graphs_as_the_dataset(endpoint):
    remote = RemoteStore(endpoint.url)
    assert remote.named_graphs() == sorted(
        str(GRAPH[g]) for g in ("inferred", "links", "ontology", "study/xu-chen-shanghai"))


def test_remote_formats_and_row_cap(endpoint, reference):
    remote = RemoteStore(endpoint.url)
    total = len(list(reference.query("SELECT * { ?s ?p ?o }", use_default_graph_as_union=True)))
    capped = remote.query("SELECT * { ?s ?p ?o }", media_type="text/csv", max_rows=5)
    assert capped.truncated and capped.query_form == "select"
    assert len(capped.body.decode().strip().splitlines()) == 6  # header + 5
    full = remote.query("SELECT * { ?s ?p ?o }", media_type="application/sparql-results+json", max_rows=total)
    assert not full.truncated and len(json.loads(full.body)["results"]["bindings"]) == total
    graph = remote.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{LINKS_GRAPH}> {{ ?s ?p ?o }} }}",
                         media_type="text/turtle")
    assert graph.query_form == "construct" and graph.media_type == "text/turtle"
    triples = list(ox.parse(graph.body, format=ox.RdfFormat.TURTLE))
    assert len(triples) == len(list(reference.quads_for_pattern(None, None, None, ox.NamedNode(str(LINKS_GRAPH)))))


def test_remote_errors_map_to_store_errors(endpoint):
    remote = RemoteStore(endpoint.url)
    with pytest.raises(QueryError):
        remote.query("SELECT * { ?s ?p }", media_type="application/sparql-results+json")
    endpoint.fail_with = (503, {"Retry-After": "9"})
    from crkg.store.base import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="retry after 9 s"):
        remote.query("SELECT * { ?s ?p ?o }", media_type="application/sparql-results+json")


def test_remote_applies_the_service_allow_list(endpoint):
    remote = RemoteStore(endpoint.url, service_allowlist=("http://127.0.0.1:9/allowed",))
    with pytest.raises(ServiceNotAllowed):
        remote.query("SELECT * { SERVICE <http://169.254.169.254/latest> { ?s ?p ?o } }",
                     media_type="application/sparql-results+json")
    assert endpoint.requests == [], "a refused query must not reach the back end"
