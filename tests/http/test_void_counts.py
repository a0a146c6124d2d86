"""Issue 9 item 3: the VoID description takes its counts from the build, not from queries."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

from crkg.web.app import create_app
from crkg.web.config import TestConfig


@pytest.fixture
def built_app(built):
    app = create_app(TestConfig(STORE_DIR=str(built.store_dir)))
    yield app
    app.extensions["crkg.store"].close()


def test_void_counts_come_from_the_build(built, built_app):
    store = built_app.extensions["crkg.store"]
    queries: list[str] = []
    original = store.query

    def counting(sparql, **kwargs):
        queries.append(sparql)
        return original(sparql, **kwargs)

    store.query = counting
    r = built_app.test_client().get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert len(queries) <= 1, queries  # only the linksets' own description is read
    g = Graph().parse(data=r.get_data(as_text=True), format="turtle")
    db = ox.Store.read_only(str(built.store_dir))
    total = 0
    for name in db.named_graphs():
        n = len(list(db.quads_for_pattern(None, None, None, name)))
        assert int(g.value(URIRef(name.value), VOID.triples)) == n, name
        total += n
    top = URIRef("https://w3id.org/crkg/id/dataset/crkg")
    assert int(g.value(top, VOID.triples)) == total
    assert URIRef("https://w3id.org/crkg/id/study/xu-chen-shanghai") in set(g.objects(top, VOID.exampleResource))
    assert URIRef("https://w3id.org/crkg/ontology") in set(g.objects(top, VOID.vocabulary))


def test_void_from_the_counts_is_the_void_from_queries(built_app, monkeypatch):
    from rdflib.compare import isomorphic

    from crkg.web import void

    client = built_app.test_client()
    fast = client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    monkeypatch.setattr(void, "_build_counts", lambda: None)
    slow = client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    assert isomorphic(Graph().parse(data=fast, format="nt"), Graph().parse(data=slow, format="nt"))
