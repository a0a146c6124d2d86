"""Fixtures of the shape tests: the shapes and the ontology, parsed once per session."""

from __future__ import annotations

import pytest
from rdflib import Graph

from crkg.pipeline.validate import default_ontology, load_shapes


@pytest.fixture(scope="session")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="session")
def ontology() -> Graph:
    graph = default_ontology()
    assert graph is not None and len(graph), "ontology/crkg.ttl is missing: the shapes are run with it"
    return graph
