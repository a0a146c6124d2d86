"""Checks on the shapes file itself: messages, namespaces, no redeclared terms, and the
ontology's own individuals (which are validated with every study) conform."""

from __future__ import annotations

import pyshacl
import pytest
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from crkg.pipeline.validate import validate
from crkg.namespaces import CRKG, CRKGSH

#: Predicates that make a shape a constraint: every SHACL Core parameter, and sh:sparql.
CONSTRAINT_PARAMETERS = set(ALL_CONSTRAINT_PARAMETERS) | {SH.sparql}
#: Parameters that only accompany another (sh:qualifiedMinCount goes with
#: sh:qualifiedValueShape; sh:flags with sh:pattern), and sh:property, whose results
#: come from the property shape (with its own message).
COMPANION_PARAMETERS = {SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.flags,
                        SH.property}


def _reporting_shapes(shapes: Graph) -> set:
    """Shapes whose violations are reported: the node shapes and their property shapes.

    (Shapes nested as parameter values - the members of sh:or, a qualified value shape -
    are only evaluated by the constraint that holds them, which reports instead.)
    """
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    props = {p for n in node_shapes for p in shapes.objects(n, SH.property)}
    return node_shapes | props


def _constraints_of(shapes: Graph, shape) -> set:
    return {p for p in shapes.predicates(shape, None) if p in CONSTRAINT_PARAMETERS} - COMPANION_PARAMETERS


def _messages(shapes: Graph, node) -> dict[str, str]:
    return {m.language: str(m) for m in shapes.objects(node, SH.message) if isinstance(m, Literal)}


def test_the_shapes_are_well_formed_shacl(shapes):
    """pySHACL's meta-validation: the shapes graph against SHACL's own shapes (shacl-shacl)."""
    copy = Graph()
    copy += shapes
    conforms, _report, text = pyshacl.validate(Graph(), shacl_graph=copy, meta_shacl=True)
    assert conforms, text


def test_every_shape_is_named_in_the_shapes_namespace(shapes):
    for shape in _reporting_shapes(shapes):
        assert isinstance(shape, URIRef) and shape.startswith(str(CRKGSH)), shape


def test_every_listed_property_shape_exists(shapes):
    """A misspelt name in a node shape's sh:property list would check nothing."""
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    for node_shape in node_shapes:
        for prop in shapes.objects(node_shape, SH.property):
            assert (prop, RDF.type, SH.PropertyShape) in shapes, f"{node_shape} lists {prop}, which is not defined"
            assert (prop, SH.path, None) in shapes, f"{prop} has no sh:path"


def test_every_constraint_has_a_message_in_english_and_chinese(shapes):
    checked = 0
    for shape in _reporting_shapes(shapes):
        constraints = _constraints_of(shapes, shape) - {SH.sparql}
        if constraints:
            checked += 1
            messages = _messages(shapes, shape)
            assert messages.get("en") and messages.get("zh"), f"{shape}: no sh:message in en and zh"
        for sparql in shapes.objects(shape, SH.sparql):
            checked += 1
            messages = _messages(shapes, sparql)
            assert messages.get("en") and messages.get("zh"), f"{sparql}: no sh:message in en and zh"
    assert checked > 80


def test_one_constraint_per_property_shape(shapes):
    """So that the shape's message describes exactly the rule that failed."""
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    for shape in _reporting_shapes(shapes) - node_shapes:
        constraints = _constraints_of(shapes, shape)
        # min and max inclusive together state one rule, a range
        if constraints == {SH.minInclusive, SH.maxInclusive}:
            continue
        assert len(constraints) == 1, f"{shape} has several constraints {sorted(constraints)}"
    for shape in node_shapes:  # node-level constraints share the node shape's one message
        node_level = _constraints_of(shapes, shape) - {SH.sparql}
        assert len(node_level) <= 1, f"{shape} has several node-level constraints {sorted(node_level)}"


def test_shapes_declare_no_ontology_terms(shapes):
    for s in set(shapes.subjects()):
        assert not (isinstance(s, URIRef) and s.startswith(str(CRKG))), f"the shapes say something about {s}"
    declaring = {RDFS.Class, OWL.Class, RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty,
                 OWL.AnnotationProperty, OWL.NamedIndividual}
    assert not [s for s, o in shapes.subject_objects(RDF.type) if o in declaring]


def test_every_crkg_term_the_shapes_use_is_declared_in_the_ontology(shapes, ontology):
    used = {t for triple in shapes for t in triple if isinstance(t, URIRef) and t.startswith(str(CRKG))}
    assert len(used) > 40
    undeclared = sorted(t for t in used if (t, RDF.type, None) not in ontology)
    assert undeclared == [], "crkg terms used in the shapes but not declared in ontology/crkg.ttl"


def test_the_ontologys_own_individuals_conform(ontology):
    """Codebook individuals (goals with their Table 1 conditions, community types,
    mechanisms ...) are targeted too when a study is validated with the ontology."""
    result = validate(Graph(), ontology=ontology)
    assert result.conforms, result.format(graph=ontology)


@pytest.mark.parametrize(
    "locator",
    ["一", "五", "二.3", "四.2", "三.3.(1)", "三.1.(2)", "表1", "图1", "十", "十二.1", "2.3", "1",
     # issue 10: the locators a scholar uses besides printed sections
     "p. 5", "pp. 12–13", "pp. 12-13", "¶14", "¶¶14–15", "l. 7", "ll. 7–9", "turn 14",
     "turns 14–16", "00:12:31", "00:12:31–00:13:05", "Table 2", "Fig. 3", "chars 120–245",
     "Interview A1, ¶14", "p. 12, ¶3", "Transcript B, turn 4, 00:03:10"],
)
def test_locator_pattern_accepts_printed_section_numbers(locator):
    assert _locator_results(locator) == []


@pytest.mark.parametrize(
    "locator",
    ["", " 三", "三 .1", "三.3.(1) 激发公民意识", "三．3", "三.3.（1）", "三.3(1)", "三.(1)", "三.0",
     "表", "表1.1", "III.3", "四.2.", "二、3", "p.5", "p. 0", "pp. 12", "page 12", "12:31",
     "00:61:00", "turn", "Interview A1", "Interview A1,¶14", "p. 12,¶3"],
)
def test_locator_pattern_rejects_other_strings(locator):
    assert [v.component for v in _locator_results(locator)] == [SH.PatternConstraintComponent]


def test_locator_pattern_is_the_converters_grammar(shapes):
    """One grammar: the shape's sh:pattern is crkg.pipeline.locators.PATTERN, whose parts
    the converter reads into the structured locator."""
    from crkg.pipeline.locators import PATTERN

    assert str(shapes.value(CRKGSH.Locator_pattern, SH.pattern)) == PATTERN


def _locator_results(locator: str):
    node = URIRef("http://example.org/item")
    data = Graph()
    data.add((node, CRKG.locator, Literal(locator)))
    return validate(data, ontology=Graph()).violations
