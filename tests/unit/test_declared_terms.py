"""Every crkg: IRI that shapes, queries, linksets, the context and the data use is
declared in the ontology (Brick's rule; issue 2 item 6). One source of truth: terms
are declared only in ontology/crkg.ttl, so a typo anywhere else fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from crkg.pipeline.ontology import load_ontology, undeclared_crkg_terms, undeclared_crkg_terms_in_text
from crkg.pipeline.studies import discover_studies, load_study
from crkg.paths import DATA_DIR, LINKS_DIR, QUERIES_DIR, SHAPES_DIR, STUDIES_DIR


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


def _files(folder: Path, pattern: str) -> list[Path]:
    found = sorted(folder.rglob(pattern))
    assert found, f"no {pattern} under {folder}: the check would pass vacuously"
    return found


@pytest.mark.parametrize("path", _files(SHAPES_DIR, "*.ttl") + _files(LINKS_DIR, "*.ttl"), ids=str)
def test_turtle_sources_use_only_declared_terms(path, ontology):
    graph = Graph().parse(path, format="turtle")
    assert not undeclared_crkg_terms(graph, ontology)


@pytest.mark.parametrize(
    "path", _files(QUERIES_DIR, "*.rq") + _files(SHAPES_DIR / "ontology-checks", "*.rq"), ids=str
)
def test_queries_use_only_declared_terms(path, ontology):
    assert not undeclared_crkg_terms_in_text(path.read_text(encoding="utf-8"), ontology)


def test_the_jsonld_context_maps_only_to_declared_terms(ontology):
    context = DATA_DIR / "context.jsonld"
    assert not undeclared_crkg_terms_in_text(context.read_text(encoding="utf-8"), ontology)


@pytest.mark.parametrize("folder", discover_studies(STUDIES_DIR), ids=lambda p: p.name)
def test_each_study_uses_only_declared_terms(folder, ontology):
    assert not undeclared_crkg_terms(load_study(folder).graph, ontology)
