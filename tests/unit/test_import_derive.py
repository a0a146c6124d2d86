"""The co-coding rule (crkg.pipeline.derive): interventions and their facts from an imported
study's codings once mapping.csv is filled."""

from __future__ import annotations

import sys
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import Doc, build_project, run_crkg  # noqa: E402

from crkg.namespaces import CRKG, ID  # noqa: E402
from crkg.pipeline.derive import derive_folder  # noqa: E402

TEXT = ("Block 3 notes\n"
        "The committee organised sandbag brigades floor by floor. People felt calmer afterwards.\n"
        "Much later the committee repainted the hall.\n")
TEXT2 = "Block 5 notes\nThe volunteers organised sandbag brigades too.\n"
CODES = [("Interventions", ["Sandbag brigades"]), ("Goals", ["Calm", "Order"]), ("Actors", ["Committee"]),
         "Response phase", "Unmapped"]


def _study(tmp_path, cases=True, mapping=None):
    docs = [Doc("Notes 3", TEXT, selections=[
        ("The committee organised sandbag brigades floor by floor.", ["Sandbag brigades"]),
        ("sandbag brigades floor by floor. People felt calmer", ["Calm"]),          # overlaps
        ("The committee", ["Committee", "Response phase"]),                          # overlaps (inside)
        ("the committee repainted the hall", ["Order", "Committee"]),              # does not overlap
    ]), Doc("Notes 5", TEXT2, selections=[
        ("The volunteers organised sandbag brigades too.", ["Sandbag brigades"]),
        ("sandbag brigades", ["Order"])])]
    project = tmp_path / "p.qdpx"
    build_project(project, docs, CODES, "nvivo",
                  cases=[("Block 3", ["Notes 3"], []), ("Block 5", ["Notes 5"], [])] if cases else None)
    assert run_crkg("import", project, "--study", "flood", "--data", tmp_path / "data") == 0
    folder = tmp_path / "data" / "studies" / "flood"
    rows = mapping if mapping is not None else {
        "Interventions > Sandbag brigades": "type,Intervention",
        "Goals > Calm": "exactMatch,PsychologicalResilience",
        "Goals > Order": "closeMatch,crkg:OrganizationalResilience",
        "Actors > Committee": "type,ResidentsCommittee",
        "Response phase": "exactMatch,https://w3id.org/crkg/ontology#Response",
    }
    lines = (folder / "mapping.csv").read_text("utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        code = line.split(",")[0]
        out.append(f"{code},{rows[code]}" if code in rows else line)
    (folder / "mapping.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return folder


def _it(key):
    return URIRef(ID[f"intervention/flood/{key}"])


def test_one_intervention_per_case_with_facts_from_overlapping_passages(tmp_path):
    d = derive_folder(_study(tmp_path))
    g = d.graph
    b3, b5 = _it("sandbag-brigades--block-3"), _it("sandbag-brigades--block-5")
    assert set(d.interventions) == {b3, b5}
    assert (b3, RDF.type, CRKG.Intervention) in g and (b3, CRKG.inCase, URIRef(ID["case/flood/block-3"])) in g
    assert set(g.objects(b3, CRKG.contributesToAsStated)) == {CRKG.PsychologicalResilience}   # not Order: no overlap
    assert set(g.objects(b5, CRKG.contributesToAsStated)) == {CRKG.OrganizationalResilience}  # closeMatch counts
    assert set(g.objects(b3, CRKG.inPhase)) == {CRKG.Response}
    actor = URIRef(ID["actor/flood/committee"])
    assert set(g.objects(b3, CRKG.performedBy)) == {actor} and (actor, RDF.type, CRKG.ResidentsCommittee) in g
    assert not list(g.objects(b5, CRKG.performedBy))
    assert len(list(g.objects(b3, CRKG.hasEvidence))) == 1
    assert str(g.value(b3, RDFS.label)) == "Sandbag brigades (Block 3)"


def test_derived_facts_say_they_were_derived(tmp_path):
    g = derive_folder(_study(tmp_path)).graph
    b3 = _it("sandbag-brigades--block-3")
    assert (b3, CRKG.derivedBy, CRKG.CoCodingRule) in g
    assert (b3, CRKG.derivedFrom, URIRef(ID["code/flood/sandbag-brigades"])) in g
    facts = list(g.objects(b3, CRKG.hasDerivedFact))
    assert len(facts) == 3   # goal, phase, actor
    for f in facts:
        assert (f, CRKG.derivedBy, CRKG.CoCodingRule) in g
        prop, value = g.value(f, CRKG.factProperty), g.value(f, CRKG.factValue)
        assert (b3, prop, value) in g
        assert list(g.objects(f, CRKG.hasEvidence))


def test_incomplete_interventions_are_warnings_with_a_coverage_summary(tmp_path):
    d = derive_folder(_study(tmp_path))
    assert any("sandbag-brigades--block-5: incomplete" in w and "an actor" in w and "a mode" in w
               for w in d.warnings)
    assert d.coverage == ["2 intervention(s) derived from 1 code(s) mapped type,Intervention: 1 with an actor, "
                          "0 with a mode, 2 with a goal, 1 with a phase, 2 in a case",
                          "4 code(s) of mapping.csv not yet mapped (ignored)"]


def test_without_cases_the_source_document_is_the_unit(tmp_path):
    d = derive_folder(_study(tmp_path, cases=False))
    assert set(d.interventions) == {_it("sandbag-brigades--notes-3"), _it("sandbag-brigades--notes-5")}
    assert not list(d.graph.objects(None, CRKG.inCase))
    assert any("a case (inCase)" in w for w in d.warnings)


def test_narrow_match_and_unknown_names_give_no_fact(tmp_path):
    d = derive_folder(_study(tmp_path, mapping={
        "Interventions > Sandbag brigades": "type,Intervention",
        "Goals > Calm": "narrowMatch,PsychologicalResilience",
        "Goals > Order": "exactMatch,NoSuchGoal",
    }))
    assert not list(d.graph.objects(None, CRKG.contributesToAsStated))
    assert any("narrowMatch" in w for w in d.warnings)
    assert any("'NoSuchGoal' is not a crkg concept" in w for w in d.warnings)


def test_no_mapping_derives_nothing(tmp_path):
    folder = _study(tmp_path, mapping={})
    d = derive_folder(folder)
    assert d.interventions == [] and len(d.graph) == 0


def test_a_reimport_with_a_filled_mapping_prints_what_it_derives(tmp_path, capsys):
    _study(tmp_path)
    capsys.readouterr()
    assert run_crkg("import", tmp_path / "p.qdpx", "--study", "flood", "--data", tmp_path / "data") == 0
    out = capsys.readouterr().out
    assert "2 intervention(s) derived from 1 code(s) mapped type,Intervention" in out
    assert "sandbag-brigades--block-5: incomplete" in out


def test_the_build_derives_from_what_it_parsed_once(tmp_path, monkeypatch):
    # load_study hands the converter's parsed sections and mapping rows to the rule: the
    # same triples as derive_folder reading the folder afresh, without reading it again
    from crkg.importers import writer
    from crkg.paths import DATA_DIR
    from crkg.pipeline import mapping
    from crkg.pipeline.studies import load_study

    folder = _study(tmp_path)
    derived = derive_folder(folder)
    assert derived.interventions
    reads = {"sections": 0, "mapping": 0}
    read_sections, read_mapping = writer.read_sections, mapping.read_mapping

    def counting_sections(*a, **k):
        reads["sections"] += 1
        return read_sections(*a, **k)

    def counting_mapping(*a, **k):
        reads["mapping"] += 1
        return read_mapping(*a, **k)

    monkeypatch.setattr(writer, "read_sections", counting_sections)
    monkeypatch.setattr("crkg.pipeline.derive.read_sections", counting_sections)
    monkeypatch.setattr(mapping, "read_mapping", counting_mapping)
    monkeypatch.setattr("crkg.pipeline.derive.read_mapping", counting_mapping)
    study = load_study(folder, context_file=DATA_DIR / "context.jsonld")
    assert reads == {"sections": 0, "mapping": 1}
    assert set(derived.graph) <= set(study.graph)
    assert all((i, RDF.type, CRKG.Intervention) in study.graph for i in derived.interventions)
