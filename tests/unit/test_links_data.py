"""The linksets in data/links/: only verified identifiers, every link sourced, VoID right.

Identifiers come from ``data/facts/identifiers.tsv`` (rows marked ``verified``); a link
to anything else, or a link without its source, fails here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS, VOID

from crkg.namespaces import CRKG, ID, WD
from crkg.paths import FACTS_DIR, LINKS_DIR, ONTOLOGY_FILE

LINK_FILES = sorted(LINKS_DIR.glob("*.ttl"))
CODE_PROPERTIES = (CRKG.adminDivisionCode, CRKG.glideNumber, CRKG.hazardProfileCode)
SOURCE = ID["source/verified-identifiers"]
CRKG_DATASET = ID["dataset/crkg"]


@pytest.fixture(scope="module")
def links() -> Graph:
    assert LINK_FILES, f"no linkset files in {LINKS_DIR}"
    graph = Graph()
    for path in LINK_FILES:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def verified() -> dict[str, set[str]]:
    """identifier -> schemes, for rows marked verified."""
    out: dict[str, set[str]] = {}
    with (FACTS_DIR / "identifiers.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["status"] == "verified":
                out.setdefault(row["identifier"], set()).add(row["scheme"])
    return out


def _links(graph: Graph):
    for s, p, o in graph:
        if p == SKOS.exactMatch or p in CODE_PROPERTIES:
            yield s, p, o


def test_every_identifier_is_a_verified_row(links, verified):
    scheme_of = {SKOS.exactMatch: "Wikidata", CRKG.adminDivisionCode: "China administrative division code",
                 CRKG.glideNumber: "GLIDE", CRKG.hazardProfileCode: "UNDRR/ISC Hazard Information Profile code"}
    found = list(_links(links))
    assert len(found) >= 10
    for s, p, o in found:
        if p == SKOS.exactMatch:
            assert isinstance(o, URIRef) and str(o).startswith(str(WD)), (s, o)
            identifier = str(o)[len(str(WD)):]
        else:
            assert isinstance(o, Literal) and o.datatype is None and o.language is None, (s, p, o)
            identifier = str(o)
        assert scheme_of[p] in verified.get(identifier, set()), f"{s} {p} {o}: not a verified {scheme_of[p]} row"


def test_the_done_criteria_links_exist(links):
    shanghai, pandemic = ID["city/shanghai"], ID["hazard-event/covid-19-pandemic"]
    assert (shanghai, SKOS.exactMatch, WD.Q8686) in links
    assert (pandemic, SKOS.exactMatch, WD.Q81068910) in links
    assert {str(o) for o in links.objects(pandemic, CRKG.glideNumber)} == {
        "EP-2020-000012-001", "EP-2020-000012-CHN"}
    assert str(links.value(ID["district/xuhui"], CRKG.adminDivisionCode)) == "310104"
    assert str(links.value(ID["district/pudong"], CRKG.adminDivisionCode)) == "310115"


def test_unverified_things_get_no_link(links):
    for district in (ID["district/xuhui"], ID["district/pudong"]):
        assert links.value(district, SKOS.exactMatch) is None
    iris = {str(t) for triple in links for t in triple if isinstance(t, URIRef)}
    assert not [i for i in iris if "geonames" in i.lower()]
    text = "\n".join(p.read_text(encoding="utf-8") for p in LINK_FILES)
    assert "Q9000" not in text, "a test-fixture QID leaked into data/links"


def test_no_third_party_iri_for_hazard_codes(links):
    for s, p, o in links.triples((None, CRKG.hazardProfileCode, None)):
        assert isinstance(o, Literal)
    assert not [o for o in links.objects() if isinstance(o, URIRef) and "preventionweb" in str(o)]


def test_every_link_carries_its_source(links):
    for s, p, o in _links(links):
        axioms = [a for a in links.subjects(OWL.annotatedSource, s)
                  if links.value(a, OWL.annotatedProperty) == p and links.value(a, OWL.annotatedTarget) == o]
        assert len(axioms) == 1, f"{s} {p} {o}: {len(axioms)} source annotations"
        axiom = axioms[0]
        assert (axiom, RDF.type, OWL.Axiom) in links and isinstance(axiom, BNode)
        assert links.value(axiom, DCTERMS.source) == SOURCE
    assert links.value(SOURCE, DCTERMS.description) is not None


def test_void_counts_match_the_links(links):
    linksets = set(links.subjects(RDF.type, VOID.Linkset))
    assert len(linksets) == 3
    for ls in linksets:
        predicate = links.value(ls, VOID.linkPredicate)
        target = links.value(ls, VOID.objectsTarget)
        space = str(links.value(target, VOID.uriSpace))
        assert predicate == SKOS.exactMatch and space == str(WD)
        assert links.value(ls, VOID.subjectsTarget) == CRKG_DATASET
        assert set(links.objects(ls, VOID.target)) == {CRKG_DATASET, target}
        assert (CRKG_DATASET, VOID.subset, ls) in links
        assert links.value(ls, DCTERMS.source) == SOURCE
        assert links.value(ls, VOID.triples).toPython() >= 1
    # Each Wikidata linkset counts the links of its file.
    for path in LINK_FILES:
        g = Graph().parse(path, format="turtle")
        for ls in g.subjects(RDF.type, VOID.Linkset):
            n = sum(1 for _s, _p, o in g.triples((None, g.value(ls, VOID.linkPredicate), None))
                    if str(o).startswith(str(WD)))
            assert g.value(ls, VOID.triples).toPython() == n, (path.name, ls)
        for subset in g.subjects(VOID.property, None):
            n = len(list(g.triples((None, g.value(subset, VOID.property), None))))
            assert g.value(subset, VOID.triples).toPython() == n, (path.name, subset)


def test_linksets_belong_to_the_dataset_the_void_description_describes():
    from crkg.link.propose import CRKG_DATASET as proposed
    from crkg.web.void import DATASET_IRI

    assert str(CRKG_DATASET) == DATASET_IRI == str(proposed)


def test_instance_iris_follow_the_conventions(links):
    subjects = {s for s, _p, _o in _links(links)}
    assert subjects == {ID["city/shanghai"], ID["district/xuhui"], ID["district/pudong"],
                        ID["hazard-event/covid-19-pandemic"], ID["hazard-type/covid-19"],
                        ID["hazard-type/sars"], ID["hazard-type/earthquake"]}


def test_links_declare_nothing_and_use_only_declared_crkg_terms(links):
    ontology = Graph().parse(ONTOLOGY_FILE, format="turtle")
    declared = set(ontology.subjects(RDF.type, None))
    for s, p, o in links:
        assert not (p == RDF.type and o in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                                             OWL.AnnotationProperty)), f"{s} is declared in data/links"
        for term in (p, o if p == RDF.type else None):
            if isinstance(term, URIRef) and str(term).startswith(str(CRKG)):
                assert term in declared, f"{term} is used in data/links but not declared in the ontology"


def test_hazard_types_are_the_ones_the_study_names(links, first_study_text):
    study = first_study_text.replace("\n", "")
    for concept in links.subjects(RDF.type, CRKG.HazardType):
        zh = [l for l in links.objects(concept, RDFS_LABEL) if l.language == "zh"]
        assert zh and all(str(l) in study for l in zh), concept
        assert links.value(concept, CRKG.locator) is not None


RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


def test_files_load_as_one_dataset_graph():
    """What the build does: every file into graph/links; no file is empty or clashes."""
    ds = Dataset()
    g = ds.graph(URIRef("https://w3id.org/crkg/graph/links"))
    for path in LINK_FILES:
        before = len(g)
        g.parse(Path(path), format="turtle")
        assert len(g) > before, path
