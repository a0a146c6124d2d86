"""The study source format (data/README.md): YAML-LD + BibTeX → one rdflib graph per study.

Each error kind the converter promises is tested with its message: the file, the line
and the item key must be named so a coder can find the mistake.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, SKOS, XSD

from crkg.pipeline.bibtex import read_bibtex
from crkg.pipeline.studies import discover_studies, load_study
from crkg.errors import CrkgError
from crkg.namespaces import CITO, CRKG, FABIO, ID, PRISM, study_graph
from crkg.paths import DATA_DIR

STUDY = """\
study:
  key: demo
  language: zh
  label: {en: A demo study, zh: 示例研究}
  method: {en: Interviews.}
  interviewed: [actor:staff]
  respondsTo: hazard-event:flood
  locator: 一
"""

PLACES = """\
cities:
  - key: wuhan
    label: {en: Wuhan, zh: 武汉市}
    locator: 一
communities:
  - key: A
    label: {en: A Community, zh: A社区}
    pseudonym: A
    withinArea: city:wuhan
    locator: 二.1
hazard_events:
  - key: flood
    label: {en: a flood}
    year: 2016
    month: 7
    dateAsPrinted: {zh: 2016年7月}
    locator: 一
"""

CODING = """\
actors:
  - key: staff
    type: [ResidentsCommittee, CollectiveActor]
    label: {en: committee staff}
    locator: 一
cases:
  - key: A
    label: {en: Flood response of A Community}
    aboutCommunity: community:A
    respondsTo: hazard-event:flood
    locator: 二.1
quantities:
  - key: households
    label: {en: more than 500 households, zh: 五百多户}
    quantityValue: 500
    isLowerBound: true
    unit: {zh: 户, en: households}
    locator: 二.1
interventions:
  - key: A-sandbags
    label: {en: Sandbag brigades}
    inCase: case:A
    performedBy: [actor:staff]
    usesMode: [ResourceNetworkIntegration]
    contributesTo: OrganizationalResilience
    inPhase: [Response]
    date: 2016-07-05
    reportsQuantity: quantity:households
    hasEvidence: [observation:A-sandbags, quote:A-1]
    locator: 二.1
observations:
  - key: A-sandbags
    label: {en: Account of the brigades}
    text: {zh: 沙袋队, en: sandbag brigades}
    locator: 二.1
quotes:
  - key: A-1
    label: {en: A quote}
    saidBy: actor:staff
    text: {zh: 我们一起干}
    locator: 二.1
references:
  - key: "1"
    label: {en: "reference [1]"}
    referenceNumber: 1
    authorAsCited: Magis等
    refersTo: work:magis2010
    locator: 一
  - key: "2"
    label: {en: "reference [2]"}
    referenceNumber: 2
    candidateWork: work:lin2001
    locator: 一
claims:
  - key: "1-2"
    label: {en: a claim}
    attributedTo: [reference:1, reference:2]
    text: {zh: 社会资本很重要}
    locator: 一
"""

BIB = """\
@article{magis2010,
  author = {Magis, K},
  title = {Community resilience: an indicator of social sustainability},
  langid = {english},
  year = {2010},
  journal = {Society & Natural Resources},
  volume = {23},
  number = {5},
  pages = {401--416},
  doi = {10.1080/08941920903305674},
}

@book{lin2001,
  author = {Lin, N},
  title = {Social Capital},
  year = {2001},
  publisher = {Cambridge University Press},
}
"""


def make_study(root: Path, files: dict[str, str] | None = None, key: str = "demo") -> Path:
    """A data folder laid out like the repository's: data/context.jsonld + data/studies/<key>/."""
    data = root / "data"
    folder = data / "studies" / key
    folder.mkdir(parents=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    contents = {"study.yaml": STUDY, "places.yaml": PLACES, "coding.yaml": CODING, "references.bib": BIB}
    contents.update(files or {})
    for name, text in contents.items():
        if text is not None:
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def sid(kind: str, key: str) -> URIRef:
    return URIRef(ID[f"{kind}/demo/{key}"])


def error_of(tmp_path, **files) -> str:
    folder = make_study(tmp_path, {k.replace("_", "."): v for k, v in files.items()})
    with pytest.raises(CrkgError) as info:
        load_study(folder)
    return str(info.value)


# --------------------------------------------------------------------------- good input


def test_good_study_converts_with_iris_types_and_literals(tmp_path):
    folder = make_study(tmp_path)
    study = load_study(folder)
    g = study.graph
    assert study.key == "demo"
    assert study.graph_iri == study_graph("demo")
    s = URIRef(ID["study/demo"])
    assert (s, RDF.type, CRKG.Study) in g
    assert (s, CRKG.interviewed, sid("actor", "staff")) in g
    assert (s, CRKG.method, Literal("Interviews.", lang="en")) in g
    community = sid("community", "A")
    assert (community, RDF.type, CRKG.Community) in g
    assert (community, RDFS.label, Literal("A社区", lang="zh")) in g
    assert (community, CRKG.withinArea, URIRef(ID["city/wuhan"])) in g  # real-world: unscoped
    assert (sid("actor", "staff"), RDF.type, CRKG.ResidentsCommittee) in g
    intervention = sid("intervention", "A-sandbags")
    assert (intervention, CRKG.inCase, sid("case", "A")) in g
    assert (intervention, CRKG.usesMode, CRKG.ResourceNetworkIntegration) in g
    assert (intervention, CRKG.contributesTo, CRKG.OrganizationalResilience) in g
    assert (intervention, CRKG.date, Literal("2016-07-05", datatype=XSD.date)) in g
    assert (intervention, CRKG.hasEvidence, sid("quote", "A-1")) in g
    quantity = sid("quantity", "households")
    assert (quantity, CRKG.quantityValue, Literal(500, datatype=XSD.integer)) in g
    assert (quantity, CRKG.isLowerBound, Literal(True)) in g
    assert (URIRef(ID["hazard-event/flood"]), CRKG.month, Literal(7, datatype=XSD.integer)) in g
    ref = sid("reference", "1")
    assert (ref, CRKG.referenceNumber, Literal(1, datatype=XSD.positiveInteger)) in g
    assert (ref, CRKG.authorAsCited, Literal("Magis等")) in g
    claim = sid("claim", "1-2")
    assert set(g.objects(claim, CRKG.attributedTo)) == {ref, sid("reference", "2")}
    # Sections whose class the ontology puts in a study get crkg:inStudy automatically.
    for item in (sid("case", "A"), sid("quote", "A-1"), claim, ref, quantity):
        assert (item, CRKG.inStudy, s) in g
    assert (community, CRKG.inStudy, None) not in g
    # No blank nodes: every node has an IRI a reader can cite.
    assert not [t for t in g if any(isinstance(n, BNode) for n in t)]


def test_bibtex_becomes_fabio_and_cito(tmp_path):
    g = load_study(make_study(tmp_path)).graph
    magis = URIRef(ID["work/magis2010"])
    lin = URIRef(ID["work/lin2001"])
    assert (magis, RDF.type, FABIO.JournalArticle) in g
    assert (lin, RDF.type, FABIO.Book) in g
    assert (magis, DCTERMS.issued, Literal("2010", datatype=XSD.gYear)) in g
    title = "Community resilience: an indicator of social sustainability"
    assert (magis, DCTERMS.title, Literal(title, lang="en")) in g
    assert (magis, RDFS.label, Literal(title, lang="en")) in g
    assert (lin, DCTERMS.title, Literal("Social Capital")) in g  # no langid: no tag
    assert (magis, PRISM.doi, Literal("10.1080/08941920903305674")) in g
    assert (magis, SKOS.exactMatch, URIRef("https://doi.org/10.1080/08941920903305674")) in g
    assert (magis, PRISM.publicationName, Literal("Society & Natural Resources")) in g
    assert (magis, PRISM.startingPage, Literal("401")) in g
    assert (sid("reference", "1"), CRKG.refersTo, magis) in g
    assert (sid("reference", "2"), CRKG.candidateWork, lin) in g
    study = URIRef(ID["study/demo"])
    # Only identified works are cited; a candidate is not.
    assert (study, CITO.cites, magis) in g
    assert (study, CITO.cites, lin) not in g


def test_source_map_names_file_key_and_line(tmp_path):
    folder = make_study(tmp_path)
    study = load_study(folder)
    path, key, line = study.source_map[sid("intervention", "A-sandbags")]
    assert (Path(path).name, key) == ("coding.yaml", "A-sandbags")
    assert (folder / "coding.yaml").read_text().splitlines()[line - 1].strip() == "- key: A-sandbags"
    path, key, line = study.source_map[URIRef(ID["work/lin2001"])]
    assert (Path(path).name, key, line) == ("references.bib", "lin2001", 13)
    names = sorted(p.name for p in study.sources)
    assert names == ["coding.yaml", "context.jsonld", "places.yaml", "references.bib", "study.yaml"]


def test_conversion_is_deterministic(tmp_path):
    folder = make_study(tmp_path)
    first = load_study(folder).graph.serialize(format="nt")
    second = load_study(folder).graph.serialize(format="nt")
    assert sorted(first.splitlines()) == sorted(second.splitlines())


def test_discover_studies_finds_folders_with_study_yaml(tmp_path):
    make_study(tmp_path, key="b-study")
    (tmp_path / "data" / "studies" / "not-a-study").mkdir()
    make_study(tmp_path / "other", key="a-study")
    shutil.move(str(tmp_path / "other" / "data" / "studies" / "a-study"), tmp_path / "data" / "studies")
    found = discover_studies(tmp_path / "data" / "studies")
    assert [p.name for p in found] == ["a-study", "b-study"]
    assert discover_studies(tmp_path / "missing") == []


# --------------------------------------------------------------------------- errors


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    msg = error_of(tmp_path, places_yaml=PLACES + "  - key: [unclosed\n")
    assert "places.yaml:" in msg and "YAML syntax error" in msg
    line = int(msg.split("places.yaml:")[1].split(":")[0])
    assert line >= PLACES.count("\n")


def test_unknown_field_is_an_error_not_dropped(tmp_path):
    msg = error_of(tmp_path, coding_yaml=CODING.replace("    performedBy: [actor:staff]",
                                                        "    performed_by: [actor:staff]"))
    line = CODING.splitlines().index("    performedBy: [actor:staff]") + 1
    assert f"coding.yaml:{line}" in msg
    assert "interventions/A-sandbags" in msg
    assert "unknown field 'performed_by'" in msg


def test_duplicate_field_in_yaml_mapping(tmp_path):
    msg = error_of(tmp_path, places_yaml=PLACES.replace("    pseudonym: A\n", "    pseudonym: A\n    pseudonym: B\n"))
    assert "places.yaml:" in msg and "duplicate field 'pseudonym'" in msg


def test_duplicate_item_key_names_both_places(tmp_path):
    extra = "  - key: A\n    label: {en: again}\n    locator: 一\n"
    msg = error_of(tmp_path, places_yaml=PLACES.replace("hazard_events:", extra + "hazard_events:"))
    assert "duplicate key 'A' in communities" in msg
    assert "first defined at" in msg and "places.yaml" in msg


def test_duplicate_key_across_files(tmp_path):
    msg = error_of(tmp_path, more_yaml="actors:\n  - key: staff\n    label: {en: x}\n")
    assert "more.yaml:2" in msg and "duplicate key 'staff' in actors" in msg and "coding.yaml" in msg


def test_reference_to_missing_key(tmp_path):
    msg = error_of(tmp_path, coding_yaml=CODING.replace("inCase: case:A", "inCase: case:B"))
    assert "interventions/A-sandbags" in msg
    assert "'case:B' names no item of this study (no case with key 'B')" in msg


def test_reference_to_missing_bibtex_entry(tmp_path):
    msg = error_of(tmp_path, coding_yaml=CODING.replace("work:magis2010", "work:magis2011"))
    assert "references/1" in msg and "'work:magis2011' names no entry" in msg


def test_unknown_codebook_term(tmp_path):
    msg = error_of(tmp_path, coding_yaml=CODING.replace("[ResourceNetworkIntegration]", "[ResourceNetwork_Integration]"))
    assert "field 'usesMode'" in msg and "'ResourceNetwork_Integration'" in msg
    assert "neither a codebook term" in msg


def test_unknown_section(tmp_path):
    msg = error_of(tmp_path, places_yaml=PLACES.replace("cities:", "towns:"))
    assert "places.yaml:1" in msg and "unknown section 'towns'" in msg


def test_label_must_be_a_language_map(tmp_path):
    msg = error_of(tmp_path, places_yaml=PLACES.replace("label: {en: Wuhan, zh: 武汉市}", "label: Wuhan"))
    assert "cities/wuhan" in msg and "needs a language map" in msg


def test_comma_inside_unquoted_flow_map_is_caught(tmp_path):
    # {en: a, b, zh: c} is YAML for three keys; "b" is no language tag.
    msg = error_of(tmp_path, places_yaml=PLACES.replace("{en: Wuhan, zh: 武汉市}", "{en: Wuhan, a city, zh: 武汉市}"))
    assert "'a city' is not a language tag" in msg


def _violations_of(tmp_path, **files):
    """Convert (which must succeed: data types are not the converter's rule) and validate."""
    from crkg.pipeline.validate import validate

    study = load_study(make_study(tmp_path, {k.replace("_", "."): v for k, v in files.items()}))
    result = validate(study.graph)
    return result, result.format(source_map=study.source_map)


def test_date_must_be_a_full_day_is_the_shapes_rule(tmp_path):
    """Issue 9, item 3: data-type rules only in SHACL; the report still names file and item."""
    result, text = _violations_of(tmp_path, coding_yaml=CODING.replace("date: 2016-07-05", 'date: "2016-07"'))
    assert [(v.path, v.component) for v in result.violations] == [(CRKG.date, SH.DatatypeConstraintComponent)]
    assert "coding.yaml:" in text and "interventions" not in text or "`date`" in text


def test_whole_numbers_and_booleans_are_the_shapes_rule(tmp_path):
    result, text = _violations_of(tmp_path, coding_yaml=CODING.replace("quantityValue: 500", "quantityValue: 500多"))
    assert [(v.path, v.component) for v in result.violations] == [
        (CRKG.quantityValue, SH.DatatypeConstraintComponent)]
    assert "item 'households'" in text and "`quantityValue`" in text
    result, _ = _violations_of(tmp_path / "b", coding_yaml=CODING.replace("isLowerBound: true", "isLowerBound: 多"))
    assert [(v.path, v.component) for v in result.violations] == [
        (CRKG.isLowerBound, SH.DatatypeConstraintComponent)]


@pytest.mark.parametrize("day", ["2024-02-30", "2020-13-01"])
def test_impossible_date_is_a_message_naming_file_line_and_field(tmp_path, day):
    """Issue 9, item 5: YAML reads it as a date and cannot build it - no traceback."""
    msg = error_of(tmp_path, coding_yaml=CODING.replace("date: 2016-07-05", f"date: {day}"))
    line = next(n for n, text in enumerate(textwrap.dedent(CODING).splitlines(), 1) if "date: 2016-07-05" in text)
    assert f"coding.yaml:{line}: field 'date': '{day}' is not a real date" in msg


def test_impossible_date_exits_2_from_the_build(tmp_path):
    from click.testing import CliRunner

    from crkg.cli import main
    from crkg.errors import EXIT_ERROR

    folder = make_study(tmp_path, {"coding.yaml": CODING.replace("date: 2016-07-05", "date: 2024-02-30")})
    runner = CliRunner()
    with runner.isolation() as (_out, err, _mixed):
        with pytest.raises(SystemExit) as exit_info:
            main(["build", "--data", str(folder.parent.parent), "--store", str(tmp_path / "store"),
                  "--no-reason"])
    assert exit_info.value.code == EXIT_ERROR
    message = err.getvalue().decode("utf-8")
    assert "is not a real date" in message and "Traceback" not in message


def test_key_and_locator_that_yaml_reads_as_numbers_are_the_text_written(tmp_path):
    """Issue 9, item 5: `key: 2`, `locator: 2.10` are the strings a coder wrote."""
    coding = CODING.replace("  - key: staff\n", "  - key: 2\n").replace("actor:staff", "actor:2")
    study_yaml = STUDY.replace("interviewed: [actor:staff]", "interviewed: [actor:2]").replace(
        "locator: 一", "locator: 2.10")
    study = load_study(make_study(tmp_path, {"coding.yaml": coding, "study.yaml": study_yaml}))
    assert (URIRef(ID["study/demo"]), CRKG.interviewed, sid("actor", "2")) in study.graph
    assert (URIRef(ID["study/demo"]), CRKG.locator, Literal("2.10")) in study.graph


def test_all_problems_are_reported_at_once_with_the_nearest_names(tmp_path):
    """Issue 9, item 5: not only the first problem; an unknown term gets its nearest."""
    coding = (CODING.replace("usesMode: [ResourceNetworkIntegration]", "usesMode: [ResourceNetworkIntegraton]")
              .replace("performedBy: [actor:staff]", "performedBy: [actor:staf]"))
    msg = error_of(tmp_path, coding_yaml=coding, places_yaml=PLACES.replace("pseudonym: A", "pseudonm: A"))
    assert msg.startswith("study 'demo': 3 problems:")
    assert "did you mean `ResourceNetworkIntegration`?" in msg
    assert "did you mean `staff`?" in msg
    assert "unknown field 'pseudonm'" in msg and "did you mean `pseudonym`" in msg


def test_invalid_key(tmp_path):
    msg = error_of(tmp_path, places_yaml=PLACES.replace("key: A\n", "key: A 社区\n"))
    assert "needs a 'key'" in msg and "'A 社区'" in msg


def test_study_key_must_match_folder(tmp_path):
    msg = error_of(tmp_path, study_yaml=STUDY.replace("key: demo", "key: other"))
    assert "study.yaml:2" in msg and "differs from its folder name 'demo'" in msg


def test_missing_context_is_an_error(tmp_path):
    folder = make_study(tmp_path)
    (tmp_path / "data" / "context.jsonld").unlink()
    with pytest.raises(CrkgError, match="context is missing"):
        load_study(folder)


def test_bibtex_syntax_error(tmp_path):
    msg = error_of(tmp_path, references_bib=BIB + "\n@article{broken, title = {unclosed\n")
    assert "references.bib:" in msg and "BibTeX error" in msg


def test_bibtex_unknown_field_and_duplicate_key(tmp_path):
    msg = error_of(tmp_path, references_bib=BIB.replace("  year = {2001},", "  yaer = {2001},"))
    assert "references.bib:16 (entry lin2001)" in msg and "unknown BibTeX field 'yaer'" in msg
    msg = error_of(tmp_path / "b", references_bib=BIB + "\n@misc{lin2001, title = {again}}\n")
    assert "references.bib:" in msg and "lin2001" in msg


def test_bibtex_unknown_langid(tmp_path):
    msg = error_of(tmp_path, references_bib=BIB.replace("langid = {english}", "langid = {klingon}"))
    assert "(entry magis2010)" in msg and "unknown langid 'klingon'" in msg


def test_bibtex_misc_is_a_fabio_expression(tmp_path):
    bib = tmp_path / "x.bib"
    bib.write_text("@misc{panday,\n  author = {Panday, S and others},\n  title = {The role},\n}\n")
    (entry,) = read_bibtex(bib)
    assert (entry.key, entry.entry_type, entry.line) == ("panday", "misc", 1)
    folder = make_study(tmp_path / "s", {"references.bib": BIB + "\n" + bib.read_text()})
    g = load_study(folder).graph
    assert (URIRef(ID["work/panday"]), RDF.type, FABIO.Expression) in g
    assert (URIRef(ID["work/panday"]), DCTERMS.issued, None) not in g


# --------------------------------------------------------------------------- the context


def test_every_crkg_term_of_the_context_is_declared_in_the_ontology():
    from crkg.pipeline.ontology import undeclared_crkg_terms_in_text

    text = (DATA_DIR / "context.jsonld").read_text(encoding="utf-8")
    assert "crkg:performedBy" in text
    assert not undeclared_crkg_terms_in_text(text)


def test_conversion_opens_no_network_connection(tmp_path, monkeypatch):
    """The context is read from the local file and passed in; nothing is fetched."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the study conversion tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    folder = make_study(tmp_path)
    assert len(load_study(folder).graph) > 50


def test_citation_after_an_initial_takes_no_second_full_stop():
    """Issue 9, item 5: "Aldrich, Daniel P.. Building…" had two full stops."""
    from crkg.pipeline.bibtex import BibEntry, citation

    entry = BibEntry(key="aldrich2012", entry_type="book", line=1, path=Path("x.bib"),
                     fields={"author": "Aldrich, Daniel P.", "title": "Building Resilience",
                             "publisher": "University of Chicago Press", "year": "2012"})
    assert citation(entry) == ("Aldrich, Daniel P. Building Resilience. "
                               "University of Chicago Press. 2012")
