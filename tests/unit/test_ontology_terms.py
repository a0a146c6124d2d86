"""Every term of VOCABULARY.md (and the agreed extensions) exists with its type, labels,
definition and provenance; the study's theory is stated; quotations are verbatim."""

from __future__ import annotations

import re

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from crkg.pipeline.ontology import load_ontology, version_iri
from crkg.namespaces import CRKG, ONTOLOGY_IRI, VANN, bind_prefixes, sparql_prologue
from crkg.paths import VOCABULARY_FILE
from crkg.version import __version__

ONTOLOGY = URIRef(ONTOLOGY_IRI)

# --- The contract, copied from VOCABULARY.md (kept explicit, so a change to either is seen) ---

VOCABULARY_CLASSES = """
Study Case Community Subdistrict District City CommunityType HazardEvent Actor Intervention
ResilienceMode ResilienceGoal ResilienceLevel SocialCapitalDimension DisasterPhase Strategy
TargetGroup Mechanism ParticipationMode Evidence Quote Observation Claim Reference
""".split()

VOCABULARY_OBJECT_PROPERTIES = """
inStudy aboutCommunity inCase inCommunity locatedIn hasCommunityType respondsTo performedBy
usesMode contributesTo inPhase targets usesMechanism activates fosters
theoreticallyContributesTo atLevel forGoal hasEvidence saidBy attributedTo refersTo
""".split()

#: crkg:locator is an annotation property (it is said of classes and properties too).
VOCABULARY_DATA_PROPERTIES = "text referenceNumber authorAsCited".split()
VOCABULARY_ANNOTATION_PROPERTIES = ["locator"]

VOCABULARY_INDIVIDUALS = {
    "ResilienceMode": "TrustScopeExpansion ResourceNetworkIntegration SocialRelationReconstruction",
    "ResilienceGoal": "PsychologicalResilience OrganizationalResilience CulturalResilience",
    "ResilienceLevel": "Micro Meso Macro",
    "SocialCapitalDimension": "TrustScope ResourceNetwork SocialRelations",
    "DisasterPhase": "Preparedness Response Recovery",
    "ParticipationMode": "SeamlessIntegration ProfessionalLinkage ProfessionalSectorSupport",
}

# --- Extension terms agreed in the team conventions --------------------------------------

EXTENSION_CLASSES = """
Country Area Quantity IndividualActor CollectiveActor SocialWorker Volunteer Resident
ResidentActivist CommunityPartySecretary CommunityWorker CommunityPartyOrganization
ResidentsCommittee SocialOrganization SocialWorkOrganization CommunitySelfOrganization
PropertyManagement Enterprise MedicalWorker Psychologist GovernmentAgency
ProfessionalAssociation PartyMember HazardType
""".split()

EXTENSION_OBJECT_PROPERTIES = """
aboutArea withinArea appliedInCommunity hasParticipationMode interviewed reportsQuantity
candidateWork communityTypeCovered hazardType contributesToAsStated contributesToPerFramework
memberOfGroup
""".split()

#: Inverses the ontology adds for navigation (not in the conventions; the ontology may grow).
INVERSE_OBJECT_PROPERTIES = ["hasIntervention", "isEvidenceFor"]

EXTENSION_DATA_PROPERTIES = """
method quantityValue isLowerBound unit date year month dateAsPrinted fromCondition toCondition
attributionStatus pseudonym adminDivisionCode glideNumber hazardProfileCode
""".split()

EXTENSION_ANNOTATION_PROPERTIES = ["ambiguityNote", "codingNote"]

EXTENSION_INDIVIDUALS = {
    "ResilienceMode": "CivicAwarenessTrustClimate VulnerableGroupFairness "
    "CommunityEndogenousResources NetworkEmpowerment AcquaintanceRelations EmotionalCommunity",
    "CommunityType": "CommodityHousingCommunity OldPublicHousingCommunity MixedCommunity",
    "Mechanism": "ThreeSocialLinkage BuildingGroupResponsibility GridManagement",
}

SUB_MECHANISMS = {
    "CivicAwarenessTrustClimate": ("TrustScopeExpansion", "三.1.(1)"),
    "VulnerableGroupFairness": ("TrustScopeExpansion", "三.1.(2)"),
    "CommunityEndogenousResources": ("ResourceNetworkIntegration", "三.2.(1)"),
    "NetworkEmpowerment": ("ResourceNetworkIntegration", "三.2.(2)"),
    "AcquaintanceRelations": ("SocialRelationReconstruction", "三.3.(1)"),
    "EmotionalCommunity": ("SocialRelationReconstruction", "三.3.(2)"),
}

#: Section 二.3 and 四: mode -> (dimension it activates, goal it fosters); Table 1: goal ->
#: (level, from condition, to condition) as printed.
THEORY = {
    "TrustScopeExpansion": ("TrustScope", "PsychologicalResilience"),
    "ResourceNetworkIntegration": ("ResourceNetwork", "OrganizationalResilience"),
    "SocialRelationReconstruction": ("SocialRelations", "CulturalResilience"),
}
TABLE_1 = {
    "PsychologicalResilience": ("Micro", "恐慌、焦虑", "信任、理性"),
    "OrganizationalResilience": ("Meso", "分散、隔离", "合作、资源"),
    "CulturalResilience": ("Macro", "排斥、歧视", "关系、包容"),
}


# --- VOCABULARY.md, "Additions" (any study, any language) and what the model adds for them ---

ADDITION_CLASSES = "SourceDocument StudyCodebook Code".split()
ADDITION_OBJECT_PROPERTIES = "codedAs hasSource".split()
#: sha256 / importedFrom / color are fields of the study format (data/README.md); the rest is the structured locator.
ADDITION_DATA_PROPERTIES = """
sha256 importedFrom color locatorSection locatorTableOrFigure startPage endPage
startParagraph endParagraph startLine endLine startTurn endTurn startSecond endSecond
""".split()
#: What the build of a served dataset did, in its service description (issue 15).
BUILD_DATA_PROPERTIES = ["hermitChecked", "inferencesMaterialised"]
#: The disaster-management cycle's first phase (the contract's three keep their IRIs).
ADDITION_INDIVIDUALS = {"DisasterPhase": "Mitigation"}

# --- Imported QDA projects (issue 11; the block at the end of ontology/crkg.ttl) ------------

IMPORT_CLASSES = ["DerivationRule", "DerivedFact"]
IMPORT_OBJECT_PROPERTIES = ["derivedBy", "derivedFrom", "hasDerivedFact", "factValue"]
IMPORT_DATA_PROPERTIES = ["codedBy", "mediaStart", "mediaEnd", "region", "page", "caseVariable", "qdaSet"]
IMPORT_ANNOTATION_PROPERTIES = ["factProperty"]
#: Not codebook concepts (no skos:inScheme crkg:Codebook): the rules crkg derives facts by.
IMPORT_INDIVIDUALS = {"DerivationRule": "CoCodingRule"}


def _individuals(groups: dict[str, str]):
    return [(cls, name) for cls, names in groups.items() for name in names.split()]


ALL_CLASSES = VOCABULARY_CLASSES + EXTENSION_CLASSES + ADDITION_CLASSES + IMPORT_CLASSES
ALL_OBJECT_PROPERTIES = (VOCABULARY_OBJECT_PROPERTIES + EXTENSION_OBJECT_PROPERTIES
                         + INVERSE_OBJECT_PROPERTIES + ADDITION_OBJECT_PROPERTIES + IMPORT_OBJECT_PROPERTIES)
ALL_DATA_PROPERTIES = (VOCABULARY_DATA_PROPERTIES + EXTENSION_DATA_PROPERTIES + ADDITION_DATA_PROPERTIES
                       + IMPORT_DATA_PROPERTIES + BUILD_DATA_PROPERTIES)
ALL_ANNOTATION_PROPERTIES = (VOCABULARY_ANNOTATION_PROPERTIES + EXTENSION_ANNOTATION_PROPERTIES
                             + IMPORT_ANNOTATION_PROPERTIES)
ALL_INDIVIDUALS = (_individuals(VOCABULARY_INDIVIDUALS) + _individuals(EXTENSION_INDIVIDUALS)
                   + _individuals(ADDITION_INDIVIDUALS))
ALL_TERMS = (
    ALL_CLASSES
    + ALL_OBJECT_PROPERTIES
    + ALL_DATA_PROPERTIES
    + ALL_ANNOTATION_PROPERTIES
    + [name for _, name in ALL_INDIVIDUALS]
    + [name for _, name in _individuals(IMPORT_INDIVIDUALS)]
    + ["Codebook"]
)


@pytest.fixture(scope="module")
def onto():
    return load_ontology()


# --- presence and type ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_class_declared(onto, name):
    assert (CRKG[name], RDF.type, OWL.Class) in onto


@pytest.mark.parametrize("name", ALL_OBJECT_PROPERTIES)
def test_object_property_declared(onto, name):
    assert (CRKG[name], RDF.type, OWL.ObjectProperty) in onto


@pytest.mark.parametrize("name", ALL_DATA_PROPERTIES)
def test_data_property_declared(onto, name):
    assert (CRKG[name], RDF.type, OWL.DatatypeProperty) in onto


@pytest.mark.parametrize("name", ALL_ANNOTATION_PROPERTIES)
def test_annotation_property_declared(onto, name):
    assert (CRKG[name], RDF.type, OWL.AnnotationProperty) in onto


@pytest.mark.parametrize(("cls", "name"), _individuals(IMPORT_INDIVIDUALS))
def test_derivation_rule_declared(onto, cls, name):
    assert (CRKG[name], RDF.type, OWL.NamedIndividual) in onto
    assert (CRKG[name], RDF.type, CRKG[cls]) in onto


@pytest.mark.parametrize(("cls", "name"), ALL_INDIVIDUALS)
def test_codebook_individual_declared(onto, cls, name):
    term = CRKG[name]
    assert (term, RDF.type, OWL.NamedIndividual) in onto
    assert (term, RDF.type, CRKG[cls]) in onto
    assert (term, RDF.type, SKOS.Concept) in onto
    assert (term, SKOS.inScheme, CRKG.Codebook) in onto


def test_codebook_is_a_concept_scheme(onto):
    assert (CRKG.Codebook, RDF.type, SKOS.ConceptScheme) in onto
    top = set(onto.objects(CRKG.Codebook, SKOS.hasTopConcept))
    assert {CRKG[n] for n in SUB_MECHANISMS}.isdisjoint(top), "sub-mechanisms are narrower, not top"
    assert {CRKG[n] for n in THEORY} <= top


# --- labels, definitions, provenance (VOCABULARY.md, "Every term carries") ------------------


def _literals(onto, term, prop, lang):
    return [o for o in onto.objects(term, prop) if isinstance(o, Literal) and o.language == lang]


@pytest.mark.parametrize("name", ALL_TERMS)
def test_term_has_one_label_per_language_and_a_definition(onto, name):
    term = CRKG[name]
    assert len(_literals(onto, term, RDFS.label, "en")) == 1, f"crkg:{name}: one @en label"
    assert len(_literals(onto, term, RDFS.label, "zh")) == 1, f"crkg:{name}: one @zh label"
    assert len(_literals(onto, term, SKOS.definition, "en")) == 1, f"crkg:{name}: one @en definition"
    assert (term, RDFS.isDefinedBy, ONTOLOGY) in onto


def test_every_crkg_term_in_the_file_is_covered_by_this_list(onto):
    """The lists above are the contract; a term added to the ontology is added here too."""
    in_file = {s for s in onto.subjects(RDF.type, None) if isinstance(s, URIRef) and s.startswith(str(CRKG))}
    assert in_file == {CRKG[n] for n in ALL_TERMS}


def test_vocabulary_terms_found_by_sparql_with_both_labels(onto):
    """ "every term of VOCABULARY.md is found by SPARQL with its labels in both languages" """
    names = (
        VOCABULARY_CLASSES
        + VOCABULARY_OBJECT_PROPERTIES
        + VOCABULARY_DATA_PROPERTIES
        + VOCABULARY_ANNOTATION_PROPERTIES
        + [n for _, n in _individuals(VOCABULARY_INDIVIDUALS)]
    )
    values = " ".join(f"crkg:{n}" for n in names)
    query = sparql_prologue() + f"""
        SELECT ?term ?en ?zh WHERE {{
          VALUES ?term {{ {values} }}
          ?term rdfs:label ?en , ?zh .
          FILTER (LANG(?en) = "en" && LANG(?zh) = "zh")
        }}"""
    rows = list(onto.query(query))
    assert sorted(str(r.term) for r in rows) == sorted(str(CRKG[n]) for n in names)
    assert all(str(r.en).strip() and str(r.zh).strip() for r in rows)


def test_vocabulary_md_terms_are_all_declared(onto):
    """Reads the contract itself (ontology/VOCABULARY.md) and checks each crkg:Name."""
    text = VOCABULARY_FILE.read_text(encoding="utf-8")
    names = set(re.findall(r"`crkg:([A-Za-z]+)`", text))
    assert len(names) > 60, "VOCABULARY.md was read and its terms found"
    declared = {str(s) for s in onto.subjects(RDF.type, None)}
    assert sorted(n for n in names if str(CRKG[n]) not in declared) == []
    # and the explicit lists in this file do not miss any
    assert names <= set(ALL_TERMS)


# --- the study's theory ---------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), sorted(THEORY.items()))
def test_mode_activates_its_dimension_and_fosters_its_goal(onto, mode, expected):
    dimension, goal = expected
    assert set(onto.objects(CRKG[mode], CRKG.activates)) == {CRKG[dimension]}
    assert set(onto.objects(CRKG[mode], CRKG.fosters)) == {CRKG[goal]}


@pytest.mark.parametrize(("goal", "expected"), sorted(TABLE_1.items()))
def test_goal_level_and_table_1_conditions(onto, goal, expected):
    level, from_zh, to_zh = expected
    assert set(onto.objects(CRKG[goal], CRKG.atLevel)) == {CRKG[level]}
    assert set(_literals(onto, CRKG[goal], CRKG.fromCondition, "zh")) == {Literal(from_zh, lang="zh")}
    assert set(_literals(onto, CRKG[goal], CRKG.toCondition, "zh")) == {Literal(to_zh, lang="zh")}
    assert len(_literals(onto, CRKG[goal], CRKG.fromCondition, "en")) == 1
    assert len(_literals(onto, CRKG[goal], CRKG.toCondition, "en")) == 1


@pytest.mark.parametrize(("sub", "expected"), sorted(SUB_MECHANISMS.items()))
def test_sub_mechanism_is_narrower_than_its_mode(onto, sub, expected):
    mode, locator = expected
    assert set(onto.objects(CRKG[sub], SKOS.broader)) == {CRKG[mode]}
    assert set(onto.objects(CRKG[sub], CRKG.locator)) == {Literal(locator)}


def test_codebook_individuals_are_pairwise_different(onto):
    """owl:AllDifferent over each group (modes incl. sub-mechanisms, goals, levels, ...)."""
    groups = []
    for node in onto.subjects(RDF.type, OWL.AllDifferent):
        groups.append(set(onto.items(onto.value(node, OWL.distinctMembers))))
    for cls, names in {**VOCABULARY_INDIVIDUALS, **EXTENSION_INDIVIDUALS}.items():
        members = {CRKG[n] for n in names.split()}
        assert any(members <= g for g in groups), f"{cls} individuals are not declared all different"


def test_quote_and_observation_are_disjoint(onto):
    assert (CRKG.Quote, OWL.disjointWith, CRKG.Observation) in onto


def test_property_chains_and_transitivity(onto):
    def chain(prop):
        return [list(onto.items(lst)) for lst in onto.objects(prop, OWL.propertyChainAxiom)]

    assert [CRKG.inCase, CRKG.aboutCommunity] in chain(CRKG.inCommunity)
    assert [CRKG.usesMode, CRKG.fosters] in chain(CRKG.theoreticallyContributesTo)
    assert (CRKG.withinArea, RDF.type, OWL.TransitiveProperty) in onto
    assert (CRKG.locatedIn, RDFS.subPropertyOf, CRKG.withinArea) in onto
    for functional in (CRKG.inCase, CRKG.referenceNumber):
        assert (functional, RDF.type, OWL.FunctionalProperty) in onto
    assert (CRKG.inCase, OWL.inverseOf, CRKG.hasIntervention) in onto
    assert (CRKG.hasEvidence, OWL.inverseOf, CRKG.isEvidenceFor) in onto


def test_coded_outcome_is_stated_or_per_framework(onto):
    """Goals are coded with one of two sub-properties of contributesTo, so queries over
    contributesTo still see them (inferred) and the stated ones can be told apart."""
    for sub in (CRKG.contributesToAsStated, CRKG.contributesToPerFramework):
        assert (sub, RDFS.subPropertyOf, CRKG.contributesTo) in onto
        assert onto.value(sub, RDFS.domain) == CRKG.Intervention
        assert onto.value(sub, RDFS.range) == CRKG.ResilienceGoal
    assert (CRKG.contributesToAsStated, OWL.propertyDisjointWith, CRKG.contributesToPerFramework) in onto
    # the informant-group link is crkg's own, not org:memberOf (whose range is an organisation)
    assert onto.value(CRKG.memberOfGroup, RDFS.range) == CRKG.CollectiveActor
    assert (CRKG.memberOfGroup, RDFS.subPropertyOf, None) not in onto


# --- metadata ---------------------------------------------------------------------------------


def test_version_iri_and_info_stamped_from_pyproject(onto):
    assert onto.value(ONTOLOGY, OWL.versionIRI) == URIRef(f"https://w3id.org/crkg/ontology/{__version__}")
    assert onto.value(ONTOLOGY, OWL.versionIRI) == version_iri()
    assert onto.value(ONTOLOGY, OWL.versionInfo) == Literal(__version__)


def test_source_file_does_not_hard_code_the_version():
    from rdflib import Graph

    from crkg.paths import ONTOLOGY_FILE

    source = Graph().parse(ONTOLOGY_FILE, format="turtle")
    assert list(source.objects(ONTOLOGY, OWL.versionIRI)) == []
    assert list(source.objects(ONTOLOGY, OWL.versionInfo)) == []


def test_version_stamp_follows_the_given_version():
    onto = load_ontology(version="9.8.7")
    assert onto.value(ONTOLOGY, OWL.versionIRI) == URIRef("https://w3id.org/crkg/ontology/9.8.7")


def test_ontology_metadata(onto):
    titles = {o.language for o in onto.objects(ONTOLOGY, DCTERMS.title)}
    descriptions = {o.language for o in onto.objects(ONTOLOGY, DCTERMS.description)}
    assert {"en", "zh"} <= titles and {"en", "zh"} <= descriptions
    assert onto.value(ONTOLOGY, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert onto.value(ONTOLOGY, DCTERMS.creator) == Literal("crkg contributors")
    assert onto.value(ONTOLOGY, DCTERMS.source) == URIRef("https://w3id.org/crkg/id/study/xu-chen-shanghai")
    assert str(onto.value(ONTOLOGY, VANN.preferredNamespacePrefix)) == "crkg"
    assert str(onto.value(ONTOLOGY, VANN.preferredNamespaceUri)) == str(CRKG)


def test_prefixes_bound(onto):
    assert dict(bind_prefixes(onto).namespaces())["crkg"] == URIRef(str(CRKG))


# --- fidelity to the source -------------------------------------------------------------------


def test_chinese_definitions_and_conditions_quote_the_study_verbatim(onto, first_study_text):
    """@zh definitions and Table 1 conditions are quotations: each occurs in the study text
    (ignoring the PDF's line breaks)."""
    study = first_study_text
    flat = re.sub(r"\s+", "", study)
    quoted = [
        (s, p, o)
        for p in (SKOS.definition, CRKG.fromCondition, CRKG.toCondition)
        for s, o in onto.subject_objects(p)
        if isinstance(o, Literal) and o.language == "zh"
    ]
    assert len(quoted) >= 15
    missing = [(str(s), str(o)) for s, _, o in quoted if re.sub(r"\s+", "", str(o)) not in flat]
    assert missing == []


def test_locators_use_the_study_numbering(onto):
    pattern = re.compile(r"^(一|二|三|四|五)(\.\d+(\.\(\d+\))?)?$|^表1$")
    for term, locator in onto.subject_objects(CRKG.locator):
        assert pattern.match(str(locator)), f"{term}: locator {locator!r}"
