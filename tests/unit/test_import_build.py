"""End to end: an imported study (NVivo dialect with emoji, BOM and CRLF), its mapping
filled, built with ``crkg build`` and asked "which interventions link to which goals, on
what evidence". Needs the converter to accept the sections crkg import writes (FORMAT.md:
sources, codebook, codes, passages) and crkg.pipeline.derive to be called from it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import TEXT_A, Doc, build_project, run_crkg  # noqa: E402

from crkg.paths import DATA_DIR  # noqa: E402


@pytest.mark.xfail(strict=False, reason="needs the model branch (converter sections sources/codes/passages) "
                                        "and the converter calling crkg.pipeline.derive")
def test_imported_study_answers_intervention_goal_evidence(tmp_path):
    from crkg.pipeline.build import build

    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    doc = Doc("Interview A1.docx", TEXT_A, crlf=True, bom=True, selections=[
        ("We organised sandbags floor by floor 🌊", ["Sandbag brigades", "Response", "Resource-network integration"]),
        ("floor by floor 🌊 and the social worker called every elder", ["Social worker"]),
        ("Everyone felt calmer 😊", ["Psychological resilience", "Sandbag brigades"]),
    ])
    build_project(tmp_path / "p.qdpx", [doc], [("Interventions", ["Sandbag brigades"]), "Psychological resilience",
                                                "Social worker", "Response", "Resource-network integration"], "nvivo",
                  cases=[("Block 3", ["Interview A1.docx"], [])])
    assert run_crkg("import", tmp_path / "p.qdpx", "--study", "flood", "--data", data) == 0
    mapping = data / "studies" / "flood" / "mapping.csv"
    lines = mapping.read_text("utf-8").splitlines()
    filled = [lines[0]] + [",".join([ln.split(",")[0], *ln.split(",")[3].split(" ", 1)]) if ln.split(",")[3] else ln
                           for ln in lines[1:]]
    mapping.write_text("\n".join(filled) + "\n", encoding="utf-8")
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
