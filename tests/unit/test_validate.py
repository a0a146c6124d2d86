"""crkg.pipeline.validate: the result objects, the report, the ontology's role, the caches."""

from __future__ import annotations

import os
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import SH

from crkg.pipeline.validate import ValidationResult, load_shapes, validate
from crkg.namespaces import CRKG, CRKGSH

PREFIXES = """\
@prefix crkg: <https://w3id.org/crkg/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
"""

UNLABELLED_SOCIAL_WORKER = PREFIXES + 'ex:w a crkg:SocialWorker ; crkg:locator "三.3.(1)" .\n'

DUPLICATE_REFERENCES = PREFIXES + """
ex:study a crkg:Study ; rdfs:label "Study"@en ; dcterms:language "en" .
ex:r1 a crkg:Reference ; rdfs:label "[1]"@en ; crkg:inStudy ex:study ;
    crkg:referenceNumber "1"^^xsd:positiveInteger .
ex:r1b a crkg:Reference ; rdfs:label "[1] again"@en ; crkg:inStudy ex:study ;
    crkg:referenceNumber "1"^^xsd:positiveInteger .
"""

EX = "http://example.org/"


def _graph(text: str) -> Graph:
    return Graph().parse(data=text, format="turtle")


def test_violation_fields():
    result = validate(_graph(UNLABELLED_SOCIAL_WORKER))
    assert not result.conforms
    [v] = result.violations
    assert v.focus == URIRef(EX + "w")
    assert v.path == URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    assert v.component == SH.MinCountConstraintComponent
    assert v.component_name == "MinCountConstraintComponent"
    assert v.severity == SH.Violation and v.severity_name == "Violation"
    assert v.shape == CRKGSH.Label_required
    assert "needs a label" in v.message and v.message == v.messages["en"]
    assert "至少一种语言的名称" in v.message_in("zh")


def test_the_ontology_makes_subclass_instances_targets():
    # SocialWorker ⊑ ... ⊑ Actor is in the ontology: without it the node is no Actor
    data = _graph(UNLABELLED_SOCIAL_WORKER)
    assert not validate(data).conforms  # default ontology
    assert validate(data, ontology=Graph()).conforms


def test_report_names_source_file_line_and_item_key():
    result = validate(_graph(UNLABELLED_SOCIAL_WORKER))
    source_map = {URIRef(EX + "w"): (Path("data/studies/x/actors.yaml"), "W", 12)}
    text = result.format(source_map)
    assert "data/studies/x/actors.yaml:12: item 'W'" in text
    assert "rdfs:label" in text and "needs a label" in text


def test_report_locates_the_value_too():
    result = validate(_graph(DUPLICATE_REFERENCES))
    [v] = result.violations
    assert v.component == SH.SPARQLConstraintComponent
    assert v.focus == URIRef(EX + "study") and v.path == CRKG.referenceNumber
    assert v.value == URIRef(EX + "r1")
    assert "Reference number 1" in v.messages["en"] and "参考文献编号 1" in v.messages["zh"]
    source_map = {
        str(URIRef(EX + "study")): ("study.yaml", "study", 1),
        URIRef(EX + "r1"): ("references.yaml", "1", 7),
    }
    text = result.format(source_map)
    assert "study.yaml:1: item 'study'" in text
    assert "item '1' at references.yaml:7" in text


def test_report_of_conforming_data():
    result = validate(Graph())
    assert isinstance(result, ValidationResult) and result.conforms and result.violations == []
    assert result.format().startswith("Conforms")


def test_a_dataset_is_validated_as_the_union_of_its_graphs():
    ds = Dataset()
    ds.graph(URIRef("urn:g1")).parse(data=PREFIXES + "ex:w a crkg:SocialWorker .", format="turtle")
    ds.graph(URIRef("urn:g2")).parse(data=PREFIXES + 'ex:w rdfs:label "W"@en ; crkg:locator "一" .', format="turtle")
    assert validate(ds).conforms
    ds.remove((None, None, None, URIRef("urn:g2")))
    assert not validate(ds).conforms


def test_shapes_are_parsed_once_per_file_version(tmp_path):
    path = tmp_path / "shapes.ttl"
    path.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n", encoding="utf-8")
    first = load_shapes(path)
    assert load_shapes(path) is first
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_shapes(path) is not first
    assert load_shapes() is load_shapes()


def test_the_remembering_shapes_graph_forgets_on_every_change():
    from rdflib import Literal

    from crkg.pipeline.shacl_validation import _MemoGraph

    g = _MemoGraph()
    s, p = URIRef(EX + "s"), URIRef(EX + "p")
    assert list(g.objects(s, p)) == []
    g.add((s, p, Literal(1)))
    assert list(g.objects(s, p)) == [Literal(1)]
    g += [(s, p, Literal(2))]  # addN
    assert sorted(g.objects(s, p)) == [Literal(1), Literal(2)]
    g.remove((s, p, Literal(1)))
    assert list(g.objects(s, p)) == [Literal(2)]
    g.parse(data=f"<{s}> <{p}> 3 .", format="turtle")
    assert sorted(g.objects(s, p)) == [Literal(2), Literal(3)]


def test_a_sparql_constraint_is_parsed_once():
    from crkg.pipeline.shacl_validation import _prepared_query

    data = _graph(DUPLICATE_REFERENCES)
    validate(data)
    before = _prepared_query.cache_info()
    validate(data)
    after = _prepared_query.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
