"""HermiT consistency checks and the OWL 2 RL materialisation (owlrl)."""

from __future__ import annotations

import time

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS

from crkg.pipeline.ontology import load_ontology
from crkg.pipeline.reason import check_consistency, materialise
from crkg.errors import CrkgError, NonConformant
from crkg.namespaces import CRKG, GEO, ID

S = "test-study"


def iri(kind: str, key: str) -> URIRef:
    return ID[f"{kind}/{S}/{key}"]


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_ontology()


def small_study() -> Graph:
    """One intervention in community M (in subdistrict L, district, city), using a
    sub-mechanism of trust-scope expansion, performed by a social worker, with a quote."""
    g = Graph()
    i, case, m = iri("intervention", "i1"), iri("case", "c1"), iri("community", "M")
    sub, district, city = iri("subdistrict", "L"), ID["district/xuhui"], ID["city/shanghai"]
    actor, quote = iri("actor", "a1"), iri("quote", "q1")
    g.add((i, RDF.type, CRKG.Intervention))
    g.add((i, CRKG.inCase, case))
    g.add((i, CRKG.usesMode, CRKG.VulnerableGroupFairness))
    g.add((i, CRKG.performedBy, actor))
    g.add((i, CRKG.hasEvidence, quote))
    g.add((case, RDF.type, CRKG.Case))
    g.add((case, CRKG.aboutCommunity, m))
    g.add((m, RDF.type, CRKG.Community))
    g.add((m, CRKG.locatedIn, sub))
    g.add((sub, RDF.type, CRKG.Subdistrict))
    g.add((sub, CRKG.locatedIn, district))
    g.add((district, CRKG.locatedIn, city))
    g.add((actor, RDF.type, CRKG.SocialWorker))
    g.add((actor, RDF.type, CRKG.IndividualActor))
    g.add((quote, RDF.type, CRKG.Quote))
    g.add((quote, CRKG.text, Literal("虽然我们每天值守比较辛苦", lang="zh")))
    g.add((quote, CRKG.locator, Literal("三.3.(1)")))
    return g


@pytest.fixture(scope="module")
def inferred(onto) -> Graph:
    return materialise(onto, small_study())


# --- what the closure adds --------------------------------------------------------------------


def test_property_chain_in_case_about_community(inferred):
    """owlrl implements owl:propertyChainAxiom (rule prp-spo2)."""
    assert (iri("intervention", "i1"), CRKG.inCommunity, iri("community", "M")) in inferred


def test_theory_chain_through_the_sub_mechanism(inferred):
    """usesMode ∘ skos:broader ⊑ usesMode, then usesMode ∘ fosters ⊑ theoreticallyContributesTo."""
    i = iri("intervention", "i1")
    assert (i, CRKG.usesMode, CRKG.TrustScopeExpansion) in inferred
    assert (i, CRKG.theoreticallyContributesTo, CRKG.PsychologicalResilience) in inferred
    assert (i, CRKG.theoreticallyContributesTo, CRKG.CulturalResilience) not in inferred


def test_within_area_is_transitive_over_located_in(inferred):
    m = iri("community", "M")
    for area in (iri("subdistrict", "L"), ID["district/xuhui"], ID["city/shanghai"]):
        assert (m, CRKG.withinArea, area) in inferred
        assert (m, GEO.sfWithin, area) in inferred


def test_types_from_subclasses_and_alignments(inferred):
    assert (iri("actor", "a1"), RDF.type, CRKG.Actor) in inferred
    assert (iri("actor", "a1"), RDF.type, PROV.Agent) in inferred
    assert (iri("quote", "q1"), RDF.type, CRKG.Evidence) in inferred
    assert (iri("quote", "q1"), RDF.type, PROV.Entity) in inferred
    assert (iri("intervention", "i1"), RDF.type, PROV.Activity) in inferred
    assert (iri("community", "M"), RDF.type, GEO.Feature) in inferred
    assert (ID["city/shanghai"], RDF.type, CRKG.Area) in inferred  # range of locatedIn


def test_inverses_and_super_properties(inferred):
    i = iri("intervention", "i1")
    assert (iri("case", "c1"), CRKG.hasIntervention, i) in inferred
    assert (iri("quote", "q1"), CRKG.isEvidenceFor, i) in inferred
    assert (i, PROV.wasAssociatedWith, iri("actor", "a1")) in inferred
    assert (CRKG.TrustScopeExpansion, SKOS.narrower, CRKG.VulnerableGroupFairness) in inferred


def test_nothing_asserted_and_no_noise(onto, inferred):
    asserted = Graph()
    asserted += onto
    asserted += small_study()
    for triple in inferred:
        s, p, o = triple
        assert triple not in asserted
        assert not isinstance(s, (BNode, Literal)) and not isinstance(o, BNode), triple
        assert not (p == RDF.type and o in (OWL.Thing, RDFS.Resource, OWL.Class, RDF.Property)), triple
        assert not (s == o and p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf)), triple
        assert p not in (RDFS.domain, RDFS.range), triple
        assert not str(s).startswith((str(RDF), str(RDFS), str(OWL))), triple


def test_inputs_are_not_modified(onto):
    data = small_study()
    size_data, size_onto = len(data), len(onto)
    materialise(onto, data)
    assert (len(data), len(onto)) == (size_data, size_onto)


def test_disjointness_violation_is_nonconformant(onto):
    data = small_study()
    data.add((iri("quote", "q1"), RDF.type, CRKG.Observation))
    with pytest.raises(NonConformant, match="Quote.*Observation|Observation.*Quote"):
        materialise(onto, data)


def test_functional_property_merging_distinct_resources_is_nonconformant(onto):
    data = small_study()
    data.add((iri("intervention", "i1"), CRKG.inCase, iri("case", "c2")))
    with pytest.raises(NonConformant, match="case/test-study/c2"):
        materialise(onto, data)


def test_materialise_cost_on_a_study_sized_graph(onto):
    """The whole study graph is a few thousand triples; the closure stays in seconds."""
    data = Graph()
    for n in range(150):
        i, case = iri("intervention", f"i{n}"), iri("case", f"c{n % 10}")
        data.add((i, RDF.type, CRKG.Intervention))
        data.add((i, CRKG.inCase, case))
        data.add((i, CRKG.usesMode, CRKG.NetworkEmpowerment))
        data.add((i, CRKG.performedBy, iri("actor", f"a{n % 20}")))
        data.add((i, CRKG.inPhase, CRKG.Response))
        data.add((i, CRKG.contributesTo, CRKG.OrganizationalResilience))
        data.add((i, CRKG.hasEvidence, iri("observation", f"o{n}")))
        data.add((iri("observation", f"o{n}"), RDF.type, CRKG.Observation))
        data.add((iri("observation", f"o{n}"), CRKG.text, Literal(f"段落{n}", lang="zh")))
        data.add((iri("observation", f"o{n}"), CRKG.locator, Literal("三.2.(2)")))
        data.add((case, CRKG.aboutCommunity, iri("community", f"C{n % 10}")))
        data.add((iri("community", f"C{n % 10}"), CRKG.locatedIn, ID["city/shanghai"]))
        data.add((iri("actor", f"a{n % 20}"), RDF.type, CRKG.SocialWorker))
        data.add((i, RDFS.label, Literal(f"intervention {n}", lang="en")))
    assert len(data) > 1500
    started = time.perf_counter()
    inferred = materialise(onto, data)
    elapsed = time.perf_counter() - started
    assert (iri("intervention", "i7"), CRKG.theoreticallyContributesTo, CRKG.OrganizationalResilience) in inferred
    assert (iri("intervention", "i7"), CRKG.inCommunity, iri("community", "C7")) in inferred
    assert elapsed < 20, f"OWL 2 RL closure took {elapsed:.1f} s"


# --- HermiT -------------------------------------------------------------------------------------


@pytest.mark.jvm
def test_hermit_reports_inconsistent_data(onto):
    data = small_study()
    data.add((iri("actor", "a1"), RDF.type, CRKG.CollectiveActor))  # disjoint with IndividualActor
    with pytest.raises(NonConformant) as info:
        check_consistency(onto + data)
    message = str(info.value)
    assert "inconsistent" in message
    assert "actor/test-study/a1" in message  # the OWL 2 RL rules name the culprit


@pytest.mark.jvm
def test_hermit_reports_unsatisfiable_classes(onto):
    broken = Graph()
    broken += onto
    bad = URIRef("https://w3id.org/crkg/ontology#QuotedObservation")
    broken.add((bad, RDF.type, OWL.Class))
    broken.add((bad, RDFS.subClassOf, CRKG.Quote))
    broken.add((bad, RDFS.subClassOf, CRKG.Observation))
    with pytest.raises(NonConformant, match="unsatisfiable[\\s\\S]*QuotedObservation"):
        check_consistency(broken)


def test_missing_java_is_a_crkg_error(onto, monkeypatch):
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/java-for-crkg-test")
    with pytest.raises(CrkgError, match="Java runtime") as info:
        check_consistency(onto)
    assert not isinstance(info.value, NonConformant)


# --- the compiled rules against owlrl (issue 14 item 2) ------------------------------------------


def _shipped_data() -> Graph:
    from crkg.paths import DATA_DIR
    from crkg.pipeline.build import _load_links, link_files
    from crkg.pipeline.studies import discover_studies, load_study

    data = Graph()
    for folder in discover_studies(DATA_DIR / "studies"):
        data += load_study(folder).graph
    data += _load_links(link_files(DATA_DIR / "links"))
    return data


def test_compiled_rules_give_owlrls_closure_on_the_shipped_study(onto):
    """Same triples, none missing, none added. (Documented differences, none of which the
    shipped study meets: crkg.pipeline.rules refuses a functional property with two
    distinct literal values or two non-crkg IRIs, where owlrl would quietly merge them.)"""
    from crkg.pipeline.reason import materialise_owlrl

    data = _shipped_data()
    fast = set(materialise(onto, data))
    reference = set(materialise_owlrl(onto, data))
    assert len(reference) > 500
    assert sorted(reference - fast) == [] and sorted(fast - reference) == []


def test_compiled_rules_give_owlrls_closure_on_the_small_study(onto, inferred):
    from crkg.pipeline.reason import materialise_owlrl

    assert set(inferred) == set(materialise_owlrl(onto, small_study()))


def test_a_construct_the_rules_lack_falls_back_to_owlrl(onto):
    """A study's own framework with a restriction (cls-svf1): still the full closure."""
    from crkg.pipeline.rules import read_schema

    data = small_study()
    restriction, helped = BNode(), URIRef("https://w3id.org/crkg/id/class/test-study/Helped")
    data.add((restriction, RDF.type, OWL.Restriction))
    data.add((restriction, OWL.onProperty, CRKG.performedBy))
    data.add((restriction, OWL.someValuesFrom, CRKG.SocialWorker))
    data.add((restriction, RDFS.subClassOf, helped))
    assert read_schema(onto + data).unsupported
    assert (iri("intervention", "i1"), RDF.type, helped) in materialise(onto, data)


def test_the_rules_are_much_faster_than_owlrl(onto):
    """CPU time, not wall clock: the point of compiling the rules."""
    from crkg.pipeline.reason import materialise_owlrl

    data = _shipped_data()
    started = time.process_time()
    materialise(onto, data)
    fast = time.process_time() - started
    started = time.process_time()
    materialise_owlrl(onto, data)
    slow = time.process_time() - started
    assert fast * 4 < slow, (fast, slow)
