"""The service description says what the build of the served store did (issue 15): whether
HermiT checked the ontology, and whether the OWL 2 RL inferences are in the graph."""

from __future__ import annotations

import pyoxigraph as ox

from crkg.namespaces import CRKG, SD
from crkg.pipeline.artefacts import build_info
from crkg.web.app import create_app
from crkg.web.config import TestConfig


def _description(store_dir) -> list:
    app = create_app(TestConfig(STORE_DIR=str(store_dir)))
    try:
        response = app.test_client().get("/sparql", headers={"Accept": "text/turtle"})
    finally:
        app.extensions["crkg.store"].close()
    assert response.status_code == 200
    return list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))


def _value(triples, prop) -> str | None:
    values = [t.object.value for t in triples if t.predicate == ox.NamedNode(str(prop))]
    assert len(values) <= 1
    return values[0] if values else None


def test_the_build_facts_of_the_served_store(built):
    info = build_info(built.store_dir)
    assert info and isinstance(info["hermit"]["ran"], bool)
    triples = _description(built.store_dir)
    assert any(t.predicate == ox.NamedNode(str(SD.defaultDataset)) for t in triples)
    assert _value(triples, CRKG.hermitChecked) == str(info["hermit"]["ran"]).lower()
    assert _value(triples, CRKG.inferencesMaterialised) == "true"


def test_a_store_without_build_facts_states_none(fixture_store):
    """A store written by other means (the SPARQL fixture) has no build record: unknown
    stays unknown, no triple."""
    triples = _description(fixture_store)
    assert _value(triples, CRKG.hermitChecked) is None
