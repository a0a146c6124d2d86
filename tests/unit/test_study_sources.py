"""Issue 10: studies in any language, source documents, selectors, codebooks, mapping.csv.

The examples: the invented English teaching study (data/examples/riverside-flood), a
Hungarian test study (tests/fixtures/studies/tisza-hu) and copies of the first study with
one thing broken. Each verification the build promises fails naming the file, the line
and the item, and says what to do.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from crkg.errors import CrkgError
from crkg.namespaces import CRKG, ID
from crkg.paths import DATA_DIR, STUDIES_DIR
from crkg.pipeline.mapping import MappingRow, read_mapping
from crkg.pipeline.studies import load_study
from crkg.pipeline.validate import validate

OA = "http://www.w3.org/ns/oa#"
EXAMPLE = DATA_DIR / "examples" / "riverside-flood"
HUNGARIAN = Path(__file__).resolve().parents[1] / "fixtures" / "studies" / "tisza-hu"


def copy_study(tmp_path: Path, source: Path) -> Path:
    """*source* copied into a data folder laid out like the repository's."""
    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    target = data / "studies" / source.name
    shutil.copytree(source, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def validated(folder: Path):
    """(the validation result, its report naming files and lines) of the study in *folder*."""
    study = load_study(folder)
    result = validate(study.graph)
    return result, result.format(source_map=study.source_map)


def languages(graph) -> set[str]:
    return {o.language for o in graph.objects() if isinstance(o, Literal) and o.language}


# --------------------------------------------------------------------------- the studies build


def test_english_example_builds_with_no_chinese_and_validates():
    study = load_study(EXAMPLE)
    g = study.graph
    assert languages(g) == {"en"}, "an English study needs no @zh text at all"
    assert (URIRef(ID["study/riverside-flood"]), DCTERMS.language, Literal("en")) in g
    result = validate(g)
    assert result.conforms, result.format(source_map=study.source_map)


def test_hungarian_study_builds_with_neither_english_nor_chinese(tmp_path):
    study = load_study(copy_study(tmp_path, HUNGARIAN))
    assert languages(study.graph) == {"hu"}
    result = validate(study.graph)
    assert result.conforms, result.format(source_map=study.source_map)


def test_first_study_declares_zh_and_its_text_as_a_source_document():
    g = load_study(STUDIES_DIR / "xu-chen-shanghai").graph
    study, source = URIRef(ID["study/xu-chen-shanghai"]), URIRef(ID["source/xu-chen-shanghai/study"])
    assert (study, DCTERMS.language, Literal("zh")) in g
    assert (source, RDF.type, CRKG.SourceDocument) in g and (source, CRKG.inStudy, study) in g
    digest = str(g.value(source, CRKG.sha256))
    import hashlib

    text = (STUDIES_DIR / "xu-chen-shanghai" / "sources" / "study.zh.txt").read_bytes()
    assert digest == hashlib.sha256(text).hexdigest()


def test_passages_get_both_selectors_and_the_context_around_them():
    g = load_study(EXAMPLE).graph
    quote = URIRef(ID["quote/riverside-flood/a1-sandbags"])
    assert (quote, RDF.type, URIRef(OA + "SpecificResource")) in g
    assert g.value(quote, URIRef(OA + "hasSource")) == URIRef(ID["source/riverside-flood/interview-a1"])
    position, text_quote = URIRef(f"{quote}#position"), URIRef(f"{quote}#quote")
    assert set(g.objects(quote, URIRef(OA + "hasSelector"))) == {position, text_quote}
    assert g.value(position, URIRef(OA + "start")) == Literal(364, datatype=XSD.nonNegativeInteger)
    exact = g.value(text_quote, URIRef(OA + "exact"))
    assert exact.language == "en" and exact.startswith("We filled sandbags")
    stored = (EXAMPLE / "sources" / "interview-a1.en.txt").read_text(encoding="utf-8")
    assert str(g.value(text_quote, URIRef(OA + "prefix"))) == stored[364 - 32:364]
    assert str(g.value(text_quote, URIRef(OA + "suffix"))) == stored[463:463 + 32]


def test_locators_get_their_structured_form():
    g = load_study(EXAMPLE).graph
    door = URIRef(ID["intervention/riverside-flood/A-door-knocking"])
    assert (g.value(door, CRKG.startPage), g.value(door, CRKG.endPage)) == (Literal(12, datatype=XSD.positiveInteger),
                                                                           Literal(13, datatype=XSD.positiveInteger))
    quote = URIRef(ID["quote/riverside-flood/a1-door-knocking"])
    assert g.value(quote, CRKG.startTurn) == Literal(5, datatype=XSD.positiveInteger)
    assert g.value(quote, CRKG.startSecond) == Literal(13 * 60 + 10, datatype=XSD.nonNegativeInteger)
    first = load_study(STUDIES_DIR / "xu-chen-shanghai").graph
    assert (None, CRKG.locatorSection, Literal("三.3.(1)")) in first


def test_codebook_codes_and_mapping_become_skos():
    study = load_study(EXAMPLE)
    g = study.graph
    codebook = URIRef(ID["codebook/riverside-flood"])
    code = lambda key: URIRef(ID[f"code/riverside-flood/{key}"])  # noqa: E731
    assert (codebook, RDF.type, CRKG.StudyCodebook) in g
    assert (code("sandbags"), SKOS.inScheme, codebook) in g
    assert (code("sandbags"), SKOS.broader, code("support")) in g
    assert (URIRef(ID["quote/riverside-flood/a1-sandbags"]), CRKG.codedAs, code("sandbags")) in g
    # mapping.csv: a path of names, a framework item, a type row
    assert (code("checking-on-neighbours"), SKOS.broadMatch, CRKG.PsychologicalResilience) in g
    assert (URIRef(ID["mode/riverside-flood/neighbour-help"]), SKOS.closeMatch, CRKG.ResourceNetworkIntegration) in g
    assert [(r.code, str(c), str(t)) for r, c, t in study.code_types] == [
        ("Volunteers", str(code("volunteers")), str(CRKG.Volunteer))]


def test_withheld_text_and_unmapped_codes_are_said_not_silent():
    warnings = load_study(EXAMPLE).warnings
    assert any("source 'article'" in w and "checks were skipped" in w for w in warnings)
    assert any("mapping.csv: 1 code(s) not yet mapped" in w for w in warnings)


# --------------------------------------------------------------------------- what the build verifies


def test_selector_whose_text_does_not_match_fails_naming_the_passage(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    edit(folder / "coding.yaml", "    start: 534\n", "    start: 535\n")
    with pytest.raises(CrkgError) as info:
        load_study(folder)
    line = line_of(folder / "coding.yaml", "start: 535")
    assert f"coding.yaml:{line} (item quotes/a1-door-knocking): selector into source:interview-a1" in str(info.value)
    assert "does not equal the source at [535, 638)" in str(info.value)
    assert "found at start 534, end 638" in str(info.value)


def test_changed_source_text_fails_its_digest(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    text = folder / "sources" / "interview-a1.en.txt"
    text.write_text(text.read_text(encoding="utf-8") + "extra\n", encoding="utf-8")
    with pytest.raises(CrkgError, match=r"field 'sha256': 63acdb.* is not the SHA-256 of sources/interview-a1.en.txt"):
        load_study(folder)


def test_source_text_with_crlf_is_refused(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    text = folder / "sources" / "interview-a1.en.txt"
    text.write_bytes(text.read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(CrkgError, match="CR line ends"):
        load_study(folder)


def test_section_locator_that_does_not_exist_fails(tmp_path):
    """Issue 9, item 5: a locator naming a section the text does not print."""
    folder = copy_study(tmp_path, STUDIES_DIR / "xu-chen-shanghai")
    edit(folder / "framework.yaml", "    locator: 表1\n", "    locator: 表2\n")
    with pytest.raises(CrkgError) as info:
        load_study(folder)
    line = line_of(folder / "framework.yaml", "locator: 表2")
    message = str(info.value)
    assert f"framework.yaml:{line} (item strategies/psychological-preparedness): locator '表2'" in message
    assert "no section, table or figure printed in sources/study.zh.txt (did you mean `表1`?)" in message


def test_first_study_section_check_sees_its_headings():
    from crkg.pipeline.sources import sections_of

    text = (STUDIES_DIR / "xu-chen-shanghai" / "sources" / "study.zh.txt").read_text(encoding="utf-8")
    found = sections_of(text)
    assert {"一", "二.3", "三.1.(2)", "三.3.(1)", "四.2", "五", "表1", "图1"} <= found
    assert "三.4" not in found and "四.1.(1)" not in found


def test_mapping_names_unknown_codes_and_concepts_with_the_nearest(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    mapping = folder / "mapping.csv"
    mapping.write_text(mapping.read_text(encoding="utf-8")
                       + "Support > Sandbag,closeMatch,ResourceNetworkIntegration\n"
                       + "Fear,exactMatch,PsychologicalResilence\n"
                       + "Volunteers,type,Voluntear\n"
                       + "Fear,sameAs,PsychologicalResilience\n", encoding="utf-8")
    with pytest.raises(CrkgError) as info:
        load_study(folder)
    message = str(info.value)
    assert "4 problems" in message
    assert "mapping.csv:14: code 'Support > Sandbag' is no code of this study" in message
    assert "did you mean `Support > Sandbags`?" in message
    assert "mapping.csv:15: concept 'PsychologicalResilence' is not a concept of the crkg codebook " \
           "(did you mean `PsychologicalResilience`?)" in message
    assert "mapping.csv:16: concept 'Voluntear' is not an Intervention, Actor type" in message
    assert "did you mean `Volunteer`?" in message
    assert "mapping.csv:17: relation 'sameAs' is not one of" in message


def test_read_mapping_gives_rows_with_lines(tmp_path):
    path = tmp_path / "mapping.csv"
    path.write_text("\ufeffcode,relation,concept\nA > B,exactMatch,crkg:Response\n,,\nC,,\n"
                    "\"D, with a comma\",type,Intervention\n", encoding="utf-8")
    assert read_mapping(path) == [MappingRow("A > B", "exactMatch", "crkg:Response", 2),
                                  MappingRow("D, with a comma", "type", "Intervention", 5)]
    path.write_text("code;relation;concept\n", encoding="utf-8")
    with pytest.raises(CrkgError, match=r"mapping.csv:1: the first row must be the header code,relation,concept"):
        read_mapping(path)


def test_passage_not_in_the_studys_language_fails_validation(tmp_path):
    folder = copy_study(tmp_path, HUNGARIAN)
    edit(folder / "coding.yaml", 'text: {hu: "Az önkéntesek', 'text: {en: "Az önkéntesek')
    result, text = validated(folder)
    assert not result.conforms
    assert re.search(r"coding.yaml:\d+: item 'K-homokzsak'", text)
    assert "no text in its study's language (hu)" in text and "`text: {hu: ...}`" in text


def test_the_build_says_which_checks_it_skipped(tmp_path):
    from crkg.pipeline.build import build

    folder = copy_study(tmp_path, EXAMPLE)
    lines: list[str] = []
    build(data_dir=folder.parent.parent, store_dir=tmp_path / "store", dist_dir=None, reason=False,
          progress=lines.append)
    assert any(line.startswith("  riverside-flood: warning: source 'article'") for line in lines)


@pytest.mark.jvm
def test_hermit_finds_the_example_studies_consistent_with_the_ontology(tmp_path):
    """OWL 2 DL holds for the new terms in data: selectors, codes, own framework, locators."""
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.reason import check_consistency

    data = load_study(EXAMPLE).graph + load_study(copy_study(tmp_path, HUNGARIAN)).graph
    check_consistency(load_ontology() + data)  # raises NonConformant when inconsistent


def test_a_build_reports_the_problems_of_every_study_at_once(tmp_path):
    from crkg.pipeline.build import build

    english = copy_study(tmp_path, EXAMPLE)
    hungarian = copy_study(tmp_path, HUNGARIAN)
    edit(english / "coding.yaml", "    start: 534\n", "    start: 535\n")
    edit(hungarian / "coding.yaml", "performedBy: [actor:onkentesek]", "performedBy: [actor:onkentes]")
    with pytest.raises(CrkgError) as info:
        build(data_dir=english.parent.parent, store_dir=tmp_path / "store", dist_dir=None, reason=False,
              progress=lambda _m: None)
    message = str(info.value)
    assert "study 'riverside-flood': 1 problem" in message and "study 'tisza-hu': 1 problem" in message
    assert "did you mean `onkentesek`?" in message


def test_a_selector_that_breaks_a_shape_is_reported_at_its_passage(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    edit(folder / "coding.yaml", "    start: 654\n    end: 772\n", '    start: 654\n    end: "772x"\n')
    result, text = validated(folder)
    line = line_of(folder / "coding.yaml", "start: 654")
    assert [(v.path, v.component.split("#")[1]) for v in result.violations] == [
        (URIRef(OA + "end"), "DatatypeConstraintComponent")]
    assert f"coding.yaml:{line}: item 'a1-clean-up'" in text


def test_hazard_event_names_its_type_without_an_outside_identifier():
    g = load_study(EXAMPLE).graph
    flood = URIRef(ID["hazard-type/flood"])
    assert (URIRef(ID["hazard-event/riverside-teaching-flood"]), CRKG.hazardType, flood) in g
    assert (flood, RDF.type, CRKG.HazardType) in g


def test_passage_in_a_withheld_source_keeps_its_selectors_unverified(tmp_path):
    folder = copy_study(tmp_path, EXAMPLE)
    edit(folder / "coding.yaml", "    source: source:interview-a1\n    start: 654\n",
         "    source: source:article\n    start: 654\n")
    study = load_study(folder)  # nothing to compare with: no error, and the warning says so
    quote = URIRef(f"{ID['evidence/riverside-flood/a1-clean-up']}#quote")
    assert study.graph.value(quote, URIRef(OA + "exact")) is not None
    assert study.graph.value(quote, URIRef(OA + "prefix")) is None
    assert any("source 'article'" in w for w in study.warnings)
    assert validate(study.graph).conforms


def test_english_headings_are_sections_too(tmp_path):
    from crkg.pipeline.sources import sections_of

    text = "Title\n\n1. Introduction\nSome text.\n2.3 Methods\nTable 2 Households\n12 people came.\n"
    assert {"1", "2.3", "Table 2"} <= sections_of(text)
    folder = copy_study(tmp_path, EXAMPLE)
    paper = folder / "sources" / "paper.en.txt"
    paper.write_text(text, encoding="utf-8")
    import hashlib

    edit(folder / "study.yaml", "    sha256: 5bf0b2e0b3f6b6f0d0f8f1c9e5c1c2a6d6b1a61c5e0b6c4f3c4a0a3f5c6e2f10\n",
         f"    file: sources/paper.en.txt\n    sha256: {hashlib.sha256(paper.read_bytes()).hexdigest()}\n")
    edit(folder / "framework.yaml", "    locator: p. 8\n", "    locator: 2.4\n")
    with pytest.raises(CrkgError, match=r"locator '2.4': '2.4' is no section, table or figure printed in "
                                        r"sources/interview-a1.en.txt, sources/paper.en.txt \(did you mean `2.3`\?\)"):
        load_study(folder)



def test_a_picture_region_is_a_locator_of_the_grammar():
    """What ``crkg import`` writes for a picture selection passes the locator shape's pattern
    (one grammar: crkg.pipeline.locators.PATTERN is the shape's sh:pattern)."""
    import re

    from crkg.importers.model import Selection
    from crkg.importers.writer import _media_locator
    from crkg.pipeline.locators import PATTERN, parse_locator

    assert parse_locator("Photo 1.jpg, region (10,20)–(300,240)") is not None
    assert parse_locator("Photo 1.jpg, region (10,20)") is None
    picture = Selection(guid="g", source="s", region=(10, 20, 300, 240))
    assert re.fullmatch(PATTERN, "Photo 1.jpg, " + _media_locator(picture))
