"""The SPARQL texts every store is asked (``crkg.store.queries``) parse, whatever the text."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from crkg.store.queries import escape_string, graph_construct, graph_size, graphs_under

AWKWARD = ['plain', 'a "quoted" word', "back\\slash", "two\nlines", "tab\tand\rreturn", "徐汇区"]


@pytest.mark.parametrize("text", AWKWARD)
def test_an_escaped_string_reads_back_as_the_text(text):
    store = ox.Store()
    solutions = store.query(f'SELECT ?x WHERE {{ BIND("{escape_string(text)}" AS ?x) }}')
    assert [s["x"].value for s in solutions] == [text]


def test_the_graph_queries_run_on_the_engine():
    store = ox.Store()
    g = ox.NamedNode('https://w3id.org/crkg/graph/study/a')
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("o"), g))
    assert len(list(store.query(graph_construct(f"<{g.value}>")))) == 1
    assert [s["n"].value for s in store.query(graph_size(f"<{g.value}>"))] == ["1"]
    assert [s["g"].value for s in store.query(graphs_under("https://w3id.org/crkg/graph/"))] == [g.value]
    assert list(store.query(graphs_under('https://w3id.org/"crkg\\'))) == []
