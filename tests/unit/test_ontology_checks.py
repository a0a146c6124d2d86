"""The ODK-style checks ``shapes/ontology-checks/*-violation.rq`` return no rows on the
ontology, and each one does catch the defect it is written for (a broken copy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from crkg.pipeline.ontology import load_ontology
from crkg.namespaces import CRKG
from crkg.paths import SHAPES_DIR

CHECKS_DIR = SHAPES_DIR / "ontology-checks"
CHECKS = sorted(CHECKS_DIR.glob("*-violation.rq"))


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_ontology()


def _copy(graph: Graph) -> Graph:
    out = Graph()
    out += graph
    return out


def _rows(graph: Graph, check: Path) -> list:
    return list(graph.query(check.read_text(encoding="utf-8")))


def test_the_checks_exist():
    assert len(CHECKS) >= 10, f"no *-violation.rq found in {CHECKS_DIR}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.name)
def test_check_finds_no_violation(onto, check):
    assert _rows(onto, check) == []


def _drop_label(lang):
    def mutate(g):
        for label in list(g.objects(CRKG.Case, RDFS.label)):
            if label.language == lang:
                g.remove((CRKG.Case, RDFS.label, label))
        return CRKG.Case
    return mutate


def _second_label(g):
    g.add((CRKG.Case, RDFS.label, Literal("another case label", lang="en")))
    return CRKG.Case


def _drop_definition(g):
    g.remove((CRKG.Case, SKOS.definition, None))
    return CRKG.Case


def _drop_is_defined_by(g):
    g.remove((CRKG.Case, RDFS.isDefinedBy, None))
    return CRKG.Case


def _pun(g):
    g.add((CRKG.Case, RDF.type, OWL.ObjectProperty))
    return CRKG.Case


def _undeclared_predicate(g):
    g.add((CRKG.Case, URIRef("http://example.org/undeclared"), Literal("x")))
    return URIRef("http://example.org/undeclared")


def _undeclared_class(g):
    g.add((CRKG.Case, RDFS.subClassOf, URIRef("http://example.org/Undeclared")))
    return URIRef("http://example.org/Undeclared")


def _imports(g):
    g.add((URIRef("https://w3id.org/crkg/ontology"), OWL.imports, URIRef("http://www.w3.org/ns/prov-o")))
    return URIRef("http://www.w3.org/ns/prov-o")


def _out_of_scheme(g):
    g.remove((CRKG.Micro, SKOS.inScheme, None))
    return CRKG.Micro


def _theory_gap(g):
    g.remove((CRKG.ResourceNetworkIntegration, CRKG.fosters, None))
    return CRKG.ResourceNetworkIntegration


MUTATIONS = {
    "missing-english-label-violation.rq": _drop_label("en"),
    "missing-chinese-label-violation.rq": _drop_label("zh"),
    "duplicate-label-violation.rq": _second_label,
    "missing-definition-violation.rq": _drop_definition,
    "missing-is-defined-by-violation.rq": _drop_is_defined_by,
    "punning-violation.rq": _pun,
    "undeclared-predicate-violation.rq": _undeclared_predicate,
    "undeclared-class-violation.rq": _undeclared_class,
    "imports-violation.rq": _imports,
    "codebook-scheme-violation.rq": _out_of_scheme,
    "theory-violation.rq": _theory_gap,
}


def test_every_check_has_a_broken_example():
    assert sorted(MUTATIONS) == sorted(p.name for p in CHECKS)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_check_catches_its_defect(onto, name):
    broken = _copy(onto)
    culprit = MUTATIONS[name](broken)
    rows = _rows(broken, CHECKS_DIR / name)
    assert rows, f"{name} missed the defect"
    assert any(culprit in row for row in rows), f"{name} did not name {culprit}"
