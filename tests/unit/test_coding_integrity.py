"""The coding of xu-chen-shanghai is complete and honest (issue 3, item 5).

Everything expected is derived from the study text itself (data/studies/xu-chen-shanghai/sources/study.zh.txt)
and the verified facts (data/facts/works.tsv), never from a hand-written list: the
section list from the text's headings, the reference slots from the [n] / [n-m] markers,
the quotes from the interview quotation marks, the communities from the list in 一.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from crkg.pipeline.studies import load_study
from crkg.namespaces import CRKG, ID, PRISM
from crkg.paths import FACTS_DIR, STUDIES_DIR, study_sources_dir

STUDY_KEY = "xu-chen-shanghai"
SOURCE = study_sources_dir(STUDY_KEY) / "study.zh.txt"
WORKS = FACTS_DIR / "works.tsv"


@lru_cache(maxsize=1)
def study():
    return load_study(STUDIES_DIR / STUDY_KEY)


@pytest.fixture(scope="module")
def g():
    return study().graph


@lru_cache(maxsize=1)
def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


#: Captions the PDF extraction dropped into the middle of a sentence; a passage is
#: quoted without them (the figure is not part of the sentence).
EXTRACTION_ARTEFACTS = ("图1 分析框架",)


def squeeze(text: str) -> str:
    """The PDF extraction breaks lines mid-sentence and adds stray spaces: ignore all whitespace."""
    return re.sub(r"\s+", "", text)


def squeezed_source() -> str:
    text = source_text()
    for artefact in EXTRACTION_ARTEFACTS:
        text = text.replace(artefact, "")
    return squeeze(text)


@lru_cache(maxsize=1)
def sections() -> set[str]:
    """Section numbers as printed, from the headings: 一、 / 1. / (1) nest; 表n and 图n."""
    found: set[str] = set()
    top = sub = None
    for raw in source_text().splitlines():
        line = raw.strip()
        if m := re.match(r"^([一二三四五六七八九十]+)、", line):
            top, sub = m.group(1), None
            found.add(top)
        elif (m := re.match(r"^([1-9][0-9]*)\.", line)) and top:
            sub = f"{top}.{m.group(1)}"
            found.add(sub)
        elif (m := re.match(r"^\(([1-9][0-9]*)\)", line)) and sub:
            found.add(f"{sub}.({m.group(1)})")
        elif m := re.match(r"^([表图][1-9][0-9]*)\s", line):
            found.add(m.group(1))
    return found


def slots_in_text() -> set[int]:
    numbers: set[int] = set()
    for marker in re.findall(r"\[([0-9]+(?:-[0-9]+)?)\]", squeeze(source_text())):
        first, _, last = marker.partition("-")
        numbers.update(range(int(first), int(last or first) + 1))
    return numbers


def works_rows() -> list[dict]:
    with WORKS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def of_type(g, cls):
    return sorted(set(g.subjects(RDF.type, cls)))


def zh_texts(g, subject):
    return [str(o) for o in g.objects(subject, CRKG.text) if isinstance(o, Literal) and o.language == "zh"]


# --------------------------------------------------------------------------- the section list


def test_headings_parse_into_the_studys_sections():
    # A sanity check of the parser (it must find the text's own numbering).
    assert {"一", "二", "三", "四", "五", "二.3", "三.1.(2)", "三.3.(1)", "四.2", "表1", "图1"} <= sections()
    assert "三.4" not in sections() and "四.1.(1)" not in sections()


# --------------------------------------------------------------------------- traceability


def test_every_intervention_has_evidence_with_a_locator(g):
    interventions = of_type(g, CRKG.Intervention)
    assert len(interventions) >= 30
    for i in interventions:
        evidence = list(g.objects(i, CRKG.hasEvidence))
        assert evidence, f"{i} has no evidence"
        for e in evidence:
            assert (e, RDF.type, CRKG.Quote) in g or (e, RDF.type, CRKG.Observation) in g, e
            assert list(g.objects(e, CRKG.locator)), f"evidence {e} of {i} has no locator"
        assert list(g.objects(i, CRKG.locator)), f"{i} has no locator"


def test_every_locator_names_a_section_of_the_study(g):
    locators = {(s, str(o)) for s, o in g.subject_objects(CRKG.locator)}
    assert locators
    wrong = sorted((str(s), loc) for s, loc in locators if loc not in sections())
    assert not wrong, f"locators naming no section of the study: {wrong}"


def test_every_coded_resource_has_a_locator_and_an_english_label(g):
    study_iri = URIRef(ID[f"study/{STUDY_KEY}"])
    items = {s for s in g.subjects(RDF.type, None) if str(s).startswith(str(ID))}
    assert study_iri in items
    for item in sorted(items):
        labels = [o for o in g.objects(item, RDFS.label) if isinstance(o, Literal) and o.language == "en"]
        assert labels, f"{item} has no English label"
        # works are outside the study, the source document is the study's text itself:
        # neither is found in a section of it
        if "/work/" not in str(item) and "/source/" not in str(item):
            assert list(g.objects(item, CRKG.locator)), f"{item} has no locator"


def test_evidence_quotes_and_claims_are_verbatim(g):
    text = squeezed_source()
    passages = of_type(g, CRKG.Quote) + of_type(g, CRKG.Observation) + of_type(g, CRKG.Claim)
    assert len(passages) > 90
    for p in passages:
        zh = zh_texts(g, p)
        assert len(zh) == 1, f"{p} needs exactly one @zh text"
        assert squeeze(zh[0]) in text, f"{p}: not verbatim in the study: {zh[0][:40]}…"
        assert not any(a in zh[0] for a in EXTRACTION_ARTEFACTS), f"{p} quotes a caption the PDF put mid-sentence"
        # Chinese has no spaces between characters: one there is a page-break artefact.
        assert not re.search(r"[\u4e00-\u9fff，。、] +[\u4e00-\u9fff，。、]", zh[0]), f"{p}: stray space in {zh[0][:40]}…"
        assert [o for o in g.objects(p, CRKG.text) if o.language == "en"], f"{p} has no @en translation"


def test_table1_strategy_labels_are_the_cells_verbatim(g):
    text = squeeze(source_text())
    table = text[text.index("韧性社区维度"):text.index("表1社会工作助推韧性社区的目标建构")]
    strategies = of_type(g, CRKG.Strategy)
    assert len(strategies) == 9
    cells = []
    for s in strategies:
        (zh,) = [str(o) for o in g.objects(s, RDFS.label) if o.language == "zh"]
        assert squeeze(zh) in table, zh
        cells.append(squeeze(zh))
        assert list(g.objects(s, CRKG.locator)) == [Literal("表1")]
    # Goal x phase: each combination exactly once.
    pairs = {(g.value(s, CRKG.forGoal), g.value(s, CRKG.inPhase)) for s in strategies}
    assert len(pairs) == 9
    # Reading order of the flattened table is phase by phase, goals micro→meso→macro.
    order = [s for _, s in sorted(zip((table.index(c) for c in cells), strategies))]
    goals = [g.value(s, CRKG.forGoal) for s in order]
    phases = [g.value(s, CRKG.inPhase) for s in order]
    assert goals == [CRKG.PsychologicalResilience, CRKG.OrganizationalResilience, CRKG.CulturalResilience] * 3
    assert phases == [CRKG.Preparedness] * 3 + [CRKG.Response] * 3 + [CRKG.Recovery] * 3


# --------------------------------------------------------------------------- counts


def test_ten_communities_as_listed_in_the_text(g):
    text = squeeze(source_text())
    listing = re.search(r"具体包含(.*?)，主要归类为", text).group(1)
    letters = re.findall(r"([A-Z])社区", listing)
    assert len(letters) == 10 and "10个居民区" in text
    communities = of_type(g, CRKG.Community)
    assert len(communities) == len(letters)
    assert sorted(str(g.value(c, CRKG.pseudonym)) for c in communities) == sorted(letters)
    # The two L's are kept apart, and the ambiguity is recorded on both.
    ls = [c for c in communities if str(g.value(c, CRKG.pseudonym)) == "L"]
    assert len(ls) == 2 and all(g.value(c, CRKG.ambiguityNote) for c in ls)
    # One case per community.
    for c in communities:
        assert len(list(g.subjects(CRKG.aboutCommunity, c))) == 1, c
    # No community type or subdistrict is asserted: the text never says which is which.
    assert not list(g.subject_objects(CRKG.hasCommunityType))
    for c in communities:
        assert not list(g.objects(c, CRKG.locatedIn)), c


def test_quotes_match_the_interview_quotations(g):
    text = squeeze(source_text())
    # Interview words are introduced by 表示/所言/所谈到的 followed by ：“
    introduced = re.findall(r"：“(.*?)”", text)
    quotes = of_type(g, CRKG.Quote)
    assert len(quotes) == len(introduced) == 5
    coded = sorted(squeeze(zh_texts(g, q)[0]).rstrip("。") for q in quotes)
    assert coded == sorted(s.rstrip("。") for s in introduced)
    for q in quotes:
        (speaker,) = list(g.objects(q, CRKG.saidBy))
        assert {t for t in g.objects(speaker, RDF.type)} - {CRKG.Actor, CRKG.IndividualActor}, \
            f"speaker {speaker} has no role type"


def test_reference_slots_are_the_numbers_cited_in_the_text(g):
    refs = of_type(g, CRKG.Reference)
    numbers = sorted(int(g.value(r, CRKG.referenceNumber)) for r in refs)
    assert numbers == sorted(slots_in_text())
    assert len(numbers) == 44
    for r in refs:
        assert g.value(r, CRKG.referenceNumber).datatype == XSD.positiveInteger
        assert list(g.subjects(CRKG.attributedTo, r)), f"slot {r} has no claim"


def test_authors_as_cited_are_spelled_as_in_the_text(g):
    text = squeeze(source_text())
    for r in of_type(g, CRKG.Reference):
        author = g.value(r, CRKG.authorAsCited)
        if author is None:
            continue
        n = int(g.value(r, CRKG.referenceNumber))
        claims = list(g.subjects(CRKG.attributedTo, r))
        assert squeeze(str(author)) in text
        assert any(squeeze(str(author)) in squeeze(zh_texts(g, c)[0]) for c in claims), (n, author)
    pf = [r for r in of_type(g, CRKG.Reference) if int(g.value(r, CRKG.referenceNumber)) == 15]
    assert str(g.value(pf[0], CRKG.authorAsCited)) == "Pfferbaum等"  # the text's misspelling kept


def test_every_claim_is_attributed_to_the_slots_its_marker_cites(g):
    for c in of_type(g, CRKG.Claim):
        zh = squeeze(zh_texts(g, c)[0])
        cited = set()
        for marker in re.findall(r"\[([0-9]+(?:-[0-9]+)?)\]", zh):
            a, _, b = marker.partition("-")
            cited.update(range(int(a), int(b or a) + 1))
        slots = {int(g.value(r, CRKG.referenceNumber)) for r in g.objects(c, CRKG.attributedTo)}
        assert cited and slots == cited, (c, slots, cited)


# --------------------------------------------------------------------------- outside facts


def test_refers_to_only_for_probable_rows_and_candidates_only_for_uncertain(g):
    rows = {int(r["slot"]): r for r in works_rows()}
    for r in of_type(g, CRKG.Reference):
        n = int(g.value(r, CRKG.referenceNumber))
        identified = list(g.objects(r, CRKG.refersTo))
        candidates = list(g.objects(r, CRKG.candidateWork))
        row = rows.get(n)
        if row is None:
            assert not identified and not candidates, n
            continue
        work = (identified or candidates)[0]
        title = str(g.value(work, URIRef("http://purl.org/dc/terms/title")))
        assert title in row["candidate_work"], (n, title)
        if row["identification"] == "probable":
            assert identified and not candidates, n
        else:
            assert row["identification"] == "uncertain"
            assert candidates and not identified, n


def test_every_doi_in_the_graph_is_in_works_tsv(g):
    verified = {r["doi"].strip() for r in works_rows() if r["doi"].strip()}
    dois = {str(o) for o in g.objects(None, PRISM.doi)}
    dois |= {str(o)[len("https://doi.org/"):] for o in g.objects(None, OWL.sameAs)
             if str(o).startswith("https://doi.org/")}
    dois |= {m for o in g.objects() if isinstance(o, Literal)
             for m in re.findall(r"\b10\.\d{4,}/\S+", str(o))}
    assert dois, "no DOI at all: the check would be empty"
    assert dois <= verified, dois - verified


def test_study_attribution_is_marked_unverified_and_unknowns_are_absent(g):
    s = URIRef(ID[f"study/{STUDY_KEY}"])
    assert g.value(s, CRKG.attributionStatus) == Literal("unverified")
    for p in ("issued", "date", "identifier", "isPartOf"):
        assert g.value(s, URIRef("http://purl.org/dc/terms/" + p)) is None
    assert g.value(s, PRISM.doi) is None and g.value(s, PRISM.publicationName) is None


# --------------------------------------------------------------------------- typed values


def test_quantities_and_dates_are_typed(g):
    values = {(int(g.value(q, CRKG.quantityValue)), bool(g.value(q, CRKG.isLowerBound)))
              for q in of_type(g, CRKG.Quantity)}
    for v in [(10, False), (500, True), (2600, True), (1, False)]:
        assert v in values, v
    for q in of_type(g, CRKG.Quantity):
        assert g.value(q, CRKG.quantityValue).datatype == XSD.integer
    dates = list(g.subject_objects(CRKG.date))
    assert [o for _, o in dates] == [Literal("2020-01-25", datatype=XSD.date)]
    # 2020年3月: year and month, no invented day.
    notice = URIRef(ID[f"intervention/{STUDY_KEY}/national-notice"])
    assert g.value(notice, CRKG.year) == Literal(2020, datatype=XSD.integer)
    assert g.value(notice, CRKG.month) == Literal(3, datatype=XSD.integer)
    assert g.value(notice, CRKG.date) is None


#: A goal is coded as stated by the text or as assigned from the framework; the source
#: never asserts plain crkg:contributesTo (the reasoner infers it from both).
GOAL_PROPERTIES = (CRKG.contributesToAsStated, CRKG.contributesToPerFramework)


def test_every_intervention_is_fully_coded(g):
    for i in of_type(g, CRKG.Intervention):
        for p in (CRKG.inCase, CRKG.performedBy, CRKG.usesMode, CRKG.inPhase):
            assert list(g.objects(i, p)), f"{i} lacks {p}"
        assert any(list(g.objects(i, p)) for p in GOAL_PROPERTIES), f"{i} has no goal"


def test_every_goal_is_either_stated_or_per_framework_and_the_note_says_which(g):
    """Exactly one of the two sub-properties per (intervention, goal), never plain
    contributesTo; the codingNote gives the reason ("as stated" / "per framework")."""
    assert not list(g.subject_objects(CRKG.contributesTo)), "plain contributesTo in the source"
    stated = set(g.subject_objects(CRKG.contributesToAsStated))
    framework = set(g.subject_objects(CRKG.contributesToPerFramework))
    assert stated and framework and not stated & framework
    for i in of_type(g, CRKG.Intervention):
        note = " ".join(str(n) for n in g.objects(i, CRKG.codingNote) if n.language == "en")
        for (subject, _), wording in [(pair, "as stated") for pair in stated if pair[0] == i] + \
                [(pair, "per framework") for pair in framework if pair[0] == i]:
            assert wording in note.lower(), f"{i}: the codingNote does not say the goal is {wording}"


def test_speakers_quoted_in_the_fieldwork_belong_to_an_interviewed_group(g):
    """A speaker whose words the text introduces with 调研中 (in the fieldwork) is linked to
    an informant group the study interviewed, of the speaker's own role; a speaker with no
    group has an ambiguityNote saying why."""
    text = squeezed_source()
    study_iri = URIRef(ID[f"study/{STUDY_KEY}"])
    groups = set(g.objects(study_iri, CRKG.interviewed))
    fieldwork = 0
    for q in of_type(g, CRKG.Quote):
        speaker = g.value(q, CRKG.saidBy)
        start = text.index(squeeze(zh_texts(g, q)[0]).rstrip("。"))
        linked = list(g.objects(speaker, CRKG.memberOfGroup))
        if "调研中" in text[max(0, start - 30):start]:
            fieldwork += 1
            assert linked, f"{speaker} is quoted 在调研中 but has no informant group"
        if not linked:
            assert g.value(speaker, CRKG.ambiguityNote), f"{speaker}: no group and no ambiguityNote"
        for group in linked:
            assert group in groups, f"{speaker}: {group} is not a group the study interviewed"
            roles = (set(g.objects(speaker, RDF.type)) & set(g.objects(group, RDF.type))) - \
                {CRKG.Actor, CRKG.IndividualActor, CRKG.CollectiveActor}
            assert roles, f"{speaker} and its group {group} share no role"
    assert fieldwork == 2  # 三.1.(1) 在调研中有社会工作者表示, 四.2 调研中一位社区书记所言


def test_participation_modes_are_linked(g):
    linked = set(g.objects(None, CRKG.hasParticipationMode))
    assert linked == {CRKG.SeamlessIntegration, CRKG.ProfessionalLinkage, CRKG.ProfessionalSectorSupport}


def test_the_coding_conforms_to_the_shapes_and_uses_declared_terms():
    from crkg.pipeline.ontology import undeclared_crkg_terms
    from crkg.pipeline.validate import validate

    s = study()
    result = validate(s.graph)
    assert result.conforms, result.format(source_map=s.source_map)
    assert not undeclared_crkg_terms(s.graph)


@pytest.mark.jvm
def test_the_coding_is_consistent_with_the_ontology():
    """HermiT on ontology + coding: catches e.g. a property whose domain is disjoint with
    the subject's class (crkg:respondsTo on the study once made the study a Case)."""
    from rdflib import Graph

    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.reason import check_consistency

    union = Graph()
    for triple in load_ontology():
        union.add(triple)
    for triple in study().graph:
        union.add(triple)
    report = check_consistency(union)
    assert report.triples == len(union)


def test_nothing_coded_is_left_dangling(g):
    """Every passage backs something, every actor acts, speaks or was interviewed, every
    target group, mechanism and quantity is used: nothing coded is lost from the queries."""
    for cls in (CRKG.Observation, CRKG.Quote, CRKG.Actor, CRKG.TargetGroup, CRKG.Mechanism,
                CRKG.Quantity, CRKG.Reference, CRKG.Community, CRKG.Subdistrict):
        members = of_type(g, cls)
        assert members, cls
        unused = [str(m) for m in members if not list(g.subjects(None, m))]
        assert not unused, f"{cls}: nothing refers to {unused}"
