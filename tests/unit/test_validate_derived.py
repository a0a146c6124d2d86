"""Constraints the shapes relax for derived resources (``crkgsh:relaxedForDerived``): a
derived intervention missing them is a warning, a hand-coded one still a violation."""

from __future__ import annotations

from rdflib import Graph

from crkg.namespaces import SH
from crkg.pipeline.validate import validate

BASE = """
@prefix crkg: <https://w3id.org/crkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
ex:i a crkg:Intervention ;
    rdfs:label "sandbag brigades"@en ;
    crkg:locator "Interview A1, l. 3" ;
"""


def _result(extra: str):
    return validate(Graph().parse(data=BASE + extra + " .", format="turtle"))


def test_a_derived_intervention_lacking_its_links_conforms_with_warnings():
    result = _result("    crkg:derivedBy crkg:CoCodingRule")
    assert result.conforms, result.format()
    missing = {str(v.path).rsplit("#", 1)[-1] for v in result.violations if v.severity == SH.Warning}
    assert {"performedBy", "inCase", "usesMode", "inPhase"} <= missing


def test_a_hand_coded_intervention_lacking_them_does_not_conform():
    result = _result("    rdfs:comment \"hand-coded\"@en")
    assert not result.conforms
    violated = {str(v.path).rsplit("#", 1)[-1] for v in result.violations if v.severity == SH.Violation}
    assert {"performedBy", "inCase", "usesMode", "inPhase"} <= violated
