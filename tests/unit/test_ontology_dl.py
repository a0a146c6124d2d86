"""The ontology parses, stays inside OWL 2 DL (structural checks) and HermiT finds it
consistent with every class satisfiable."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from crkg.pipeline.ontology import load_ontology
from crkg.errors import CrkgError

PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))

#: The OWL 2 datatype map (OWL 2 Structural Specification, section 4), plus rdfs:Literal.
OWL2_DATATYPES = {
    RDFS.Literal, OWL.real, OWL.rational, RDF.PlainLiteral, RDF.XMLLiteral,
    *(XSD[n] for n in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger "
        "long int short byte unsignedLong unsignedInt unsignedShort unsignedByte double float "
        "string normalizedString token language Name NCName NMTOKEN boolean hexBinary "
        "base64Binary anyURI dateTime dateTimeStamp"
    ).split()),
}


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_ontology()


@pytest.fixture(scope="session")
def hermit_report():
    """One HermiT (JVM) run for the ontology alone, strict about datatypes."""
    from crkg.pipeline.reason import check_consistency

    return check_consistency(load_ontology(), ignore_unsupported_datatypes=False)


def test_parses_and_is_an_owl_ontology(onto):
    assert (URIRef("https://w3id.org/crkg/ontology"), RDF.type, OWL.Ontology) in onto
    assert len(onto) > 1000


def test_broken_turtle_is_a_crkg_error_naming_the_file(tmp_path):
    bad = tmp_path / "crkg.ttl"
    bad.write_text("@prefix crkg: <https://w3id.org/crkg/ontology#> .\ncrkg:A a \n", encoding="utf-8")
    with pytest.raises(CrkgError, match="crkg.ttl"):
        load_ontology(bad)


@pytest.mark.jvm
def test_hermit_consistent_and_every_class_satisfiable(hermit_report):
    assert hermit_report.consistent
    assert hermit_report.unsatisfiable == []
    assert hermit_report.triples > 1000


def _typed(onto, kind):
    return {s for s in onto.subjects(RDF.type, kind) if isinstance(s, URIRef)}


def test_no_class_property_punning(onto):
    classes = _typed(onto, OWL.Class) | _typed(onto, RDFS.Class)
    for kind in PROPERTY_KINDS:
        assert classes & _typed(onto, kind) == set()


def test_no_property_of_two_kinds(onto):
    obj, dat, ann = (_typed(onto, k) for k in PROPERTY_KINDS)
    assert obj & dat == set() and obj & ann == set() and dat & ann == set()


def test_every_used_property_is_declared(onto):
    declared = set().union(*(_typed(onto, k) for k in PROPERTY_KINDS))
    used = {p for p in onto.predicates() if not str(p).startswith(BUILTIN)}
    assert sorted(used - declared) == []


def test_every_used_class_is_declared(onto):
    classes = _typed(onto, OWL.Class) | {OWL.Thing}
    used = set()
    for p in (RDFS.subClassOf, OWL.disjointWith):
        used |= {o for o in onto.objects(None, p) if isinstance(o, URIRef)}
    for prop in _typed(onto, OWL.ObjectProperty):
        used |= {o for p in (RDFS.domain, RDFS.range) for o in onto.objects(prop, p) if isinstance(o, URIRef)}
    for individual in _typed(onto, OWL.NamedIndividual):
        used |= {o for o in onto.objects(individual, RDF.type) if o != OWL.NamedIndividual}
    for lst in onto.objects(None, OWL.unionOf):
        used |= set(onto.items(lst))
    assert sorted(used - classes) == []


def test_every_individual_used_by_an_object_property_is_declared(onto):
    individuals = _typed(onto, OWL.NamedIndividual)
    for prop in _typed(onto, OWL.ObjectProperty):
        for s, o in onto.subject_objects(prop):
            if isinstance(s, URIRef) and (s, RDF.type, OWL.NamedIndividual) in onto:
                assert o in individuals, f"{s} {prop} {o}: object not declared as an individual"


def test_data_property_ranges_are_owl2_datatypes(onto):
    for prop in _typed(onto, OWL.DatatypeProperty):
        for rng in onto.objects(prop, RDFS.range):
            assert rng in OWL2_DATATYPES, f"{prop}: range {rng} is not in the OWL 2 datatype map"


def test_no_owl_imports(onto):
    assert list(onto.objects(None, OWL.imports)) == []


def _non_simple(onto) -> set:
    """Transitive properties, properties with a chain, and everything above them."""
    base = _typed(onto, OWL.TransitiveProperty) | set(onto.subjects(OWL.propertyChainAxiom, None))
    out = set(base)
    changed = True
    while changed:
        changed = False
        for sub, sup in onto.subject_objects(RDFS.subPropertyOf):
            if sub in out and sup not in out:
                out.add(sup)
                changed = True
        for a, b in onto.subject_objects(OWL.inverseOf):
            for x, y in ((a, b), (b, a)):
                if x in out and y not in out:
                    out.add(y)
                    changed = True
    return out


def test_non_simple_properties_carry_no_simple_only_axioms(onto):
    """OWL 2 DL global restriction (Structural Specification 11.2): functional,
    inverse-functional, irreflexive, asymmetric, disjoint properties and cardinality
    restrictions need simple properties."""
    non_simple = _non_simple(onto)
    assert {CRKG_IN_COMMUNITY, CRKG_THEORY, CRKG_WITHIN} <= non_simple
    for kind in (OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.IrreflexiveProperty,
                 OWL.AsymmetricProperty):
        assert _typed(onto, kind) & non_simple == set(), kind
    for restriction in onto.subjects(RDF.type, OWL.Restriction):
        if any(onto.objects(restriction, p) for p in (OWL.cardinality, OWL.minCardinality, OWL.maxCardinality,
                                                      OWL.qualifiedCardinality, OWL.minQualifiedCardinality,
                                                      OWL.maxQualifiedCardinality)):
            assert onto.value(restriction, OWL.onProperty) not in non_simple
    for a, b in onto.subject_objects(OWL.propertyDisjointWith):
        assert a not in non_simple and b not in non_simple


def test_anonymous_expressions_are_blank_nodes(onto):
    for lst in onto.objects(None, OWL.unionOf):
        assert isinstance(lst, BNode)
    for lst in onto.objects(None, OWL.propertyChainAxiom):
        assert isinstance(lst, BNode)


CRKG_IN_COMMUNITY = URIRef("https://w3id.org/crkg/ontology#inCommunity")
CRKG_THEORY = URIRef("https://w3id.org/crkg/ontology#theoreticallyContributesTo")
CRKG_WITHIN = URIRef("https://w3id.org/crkg/ontology#withinArea")
