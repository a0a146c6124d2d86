"""End to end: an imported study (NVivo dialect with emoji, BOM and CRLF) built with
``crkg build`` like any study; its mapping filled, asked "which interventions link to which
goals, on what evidence"."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import TEXT_A, Doc, accept_suggestions, build_project, run_crkg  # noqa: E402

from crkg.paths import DATA_DIR  # noqa: E402

PASSAGES = [("We organised sandbags floor by floor 🌊", ["Sandbag brigades", "Response", "Resource-network integration"]),
            ("floor by floor 🌊 and the social worker called every elder", ["Social worker"]),
            ("Everyone felt calmer 😊", ["Psychological resilience", "Sandbag brigades"])]
PLACES = """hazard_types:
  - key: flood
    label: {en: flood}
hazard_events:
  - key: test-flood
    label: {en: The flood of the test project}
    hazardType: hazard-type:flood
    locator: Interview A1.docx, l. 1
"""


def _imported(tmp_path) -> Path:
    """The data folder: an imported study, plus what only the scholar can add (the hazard
    event, in a file of their own, and the case's respondsTo, kept across re-imports)."""
    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    doc = Doc("Interview A1.docx", TEXT_A, crlf=True, bom=True, selections=list(PASSAGES))
    build_project(tmp_path / "p.qdpx", [doc], [("Interventions", ["Sandbag brigades"]), "Psychological resilience",
                                                "Social worker", "Response", "Resource-network integration"], "nvivo",
                  cases=[("Block 3", ["Interview A1.docx"], [])])
    assert run_crkg("import", tmp_path / "p.qdpx", "--study", "flood", "--data", data) == 0
    folder = data / "studies" / "flood"
    (folder / "places.yaml").write_text(PLACES, encoding="utf-8")
    cases = yaml.safe_load((folder / "cases.yaml").read_text("utf-8"))
    cases["cases"][0]["respondsTo"] = "hazard-event:test-flood"
    (folder / "cases.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")
    accept_suggestions(folder / "mapping.csv")
    assert run_crkg("import", tmp_path / "p.qdpx", "--study", "flood", "--data", data) == 0
    assert "respondsTo: hazard-event:test-flood" in (folder / "cases.yaml").read_text("utf-8")
    return data


def test_imported_study_builds_with_every_passage_verified(tmp_path):
    from crkg.pipeline.build import build

    data = _imported(tmp_path)
    build(data_dir=data, store_dir=tmp_path / "store", dist_dir=None, reason=False, progress=lambda _m: None)
    store = ox.Store.read_only(str(tmp_path / "store"))
    rows = list(store.query("""
        PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX crkg: <https://w3id.org/crkg/ontology#>
        SELECT ?exact ?start ?end ?code WHERE {
          ?e oa:hasSelector ?q , ?p ; crkg:codedAs ?code .
          ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end .
        }""", use_default_graph_as_union=True))
    stored = (data / "studies" / "flood" / "sources" / "interview-a1.txt").read_text("utf-8")
    got = {(r["exact"].value, int(r["start"].value), int(r["end"].value)) for r in rows}
    assert {g[0] for g in got} == {p for p, _ in PASSAGES}
    assert all(stored[s:e] == text for text, s, e in got)


def test_imported_study_answers_intervention_goal_evidence(tmp_path):
    from crkg.pipeline.build import build

    data = _imported(tmp_path)
    build(data_dir=data, store_dir=tmp_path / "store", dist_dir=None, progress=lambda _m: None)
    store = ox.Store.read_only(str(tmp_path / "store"))
    rows = list(store.query("""
        PREFIX crkg: <https://w3id.org/crkg/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT DISTINCT ?goal ?text WHERE {
          ?i a crkg:Intervention ; crkg:contributesTo ?goal ; crkg:hasEvidence ?e .
          ?e crkg:text|oa:hasSelector/oa:exact ?text .
        }""", use_default_graph_as_union=True))
    assert {(r["goal"].value, r["text"].value) for r in rows} == {
        ("https://w3id.org/crkg/ontology#PsychologicalResilience", "We organised sandbags floor by floor 🌊"),
        ("https://w3id.org/crkg/ontology#PsychologicalResilience", "Everyone felt calmer 😊")}


def test_an_intervention_the_mapping_leaves_incomplete_is_loaded_with_a_warning(tmp_path):
    """Issue 11: with only ``type,Intervention`` mapped, the derived intervention has no
    actor, mode, goal or phase; the build loads it and says so instead of failing."""
    import csv

    from crkg.pipeline.build import build

    data = _imported(tmp_path)
    mapping = data / "studies" / "flood" / "mapping.csv"
    with mapping.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [rows[0]] + [r for r in rows[1:] if r[1] == "type" and r[2].endswith("Intervention")]
    assert len(kept) == 2, rows
    with mapping.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)
    said: list[str] = []
    build(data_dir=data, store_dir=tmp_path / "store", dist_dir=None, reason=False, progress=said.append)
    assert any("incomplete" in line for line in said), said
    store = ox.Store.read_only(str(tmp_path / "store"))
    [row] = list(store.query("""
        PREFIX crkg: <https://w3id.org/crkg/ontology#>
        SELECT ?i (COUNT(?m) AS ?modes) (COUNT(?e) AS ?evidence) WHERE {
          ?i a crkg:Intervention ; crkg:derivedBy crkg:CoCodingRule .
          OPTIONAL { ?i crkg:usesMode ?m } OPTIONAL { ?i crkg:hasEvidence ?e }
        } GROUP BY ?i""", use_default_graph_as_union=True))
    assert int(row["modes"].value) == 0 and int(row["evidence"].value) >= 1
