"""``crkg import`` of a QualCoder project (data.qda: offsets are code points) and of tables
of coded segments (CSV, XLSX; generic, Taguette's and MAXQDA's columns)."""

from __future__ import annotations

import csv
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import TEXT_A, TEXT_B, Doc, build_qualcoder, load_yaml, passages, run_crkg  # noqa: E402


def _import(tmp_path, path, *extra, key="s"):
    return run_crkg("import", path, "--study", key, "--data", tmp_path / "data", *extra), tmp_path / "data" / "studies" / key


def _qualcoder(tmp_path, **kw):
    docs = [Doc("Interview A1", TEXT_A, selections=[
        ("sandbags floor by floor 🌊", ["Sandbags"]),
        ("Everyone felt calmer 😊", ["Calm", "Sandbags"], 0, "felt, not said"),
        ("𠀋 The committee", ["Calm"])])]
    build_qualcoder(tmp_path / "Flood.qda", docs, {"Interventions": None, "Outcomes": None, "Feelings": "Outcomes"},
                    {"Sandbags": "Interventions", "Calm": "Feelings"}, cases={"Block 3": ["Interview A1"]}, **kw)
    return tmp_path / "Flood.qda"


def test_qualcoder_code_points_categories_cases_and_coders(tmp_path):
    code, study = _import(tmp_path, _qualcoder(tmp_path))
    assert code == 0
    stored = (study / "sources" / "interview-a1.txt").read_text("utf-8")
    got = passages(study)
    for text in ("sandbags floor by floor 🌊", "Everyone felt calmer 😊", "𠀋 The committee"):
        assert stored[got[text]["start"]:got[text]["end"]] == text
    calm = got["Everyone felt calmer 😊"]
    assert calm["codedAs"] == ["code:calm", "code:sandbags"] and calm["note"] == {"en": "felt, not said"}
    assert calm["codedBy"] == ["coder-1"]
    codes = {c["key"]: c for c in load_yaml(study / "codebook.yaml")["codes"]}
    assert codes["feelings"]["broader"] == "code:outcomes" and codes["calm"]["broader"] == "code:feelings"
    case = load_yaml(study / "cases.yaml")["cases"][0]
    assert case["hasSource"] == ["source:interview-a1"] and case["caseVariable"] == ["District: North"]
    assert "QualCoder" in load_yaml(study / "study.yaml")["study"]["importedFrom"]


def test_qualcoder_selection_whose_seltext_differs_is_left_out(tmp_path, capsys):
    code, study = _import(tmp_path, _qualcoder(tmp_path, bad_seltext=True))
    assert code == 0
    out = capsys.readouterr().out
    assert "selection code_text-1: QualCoder's seltext 'WRONG' is not the text at" in out
    assert load_yaml(study / "passages.yaml")["passages"] == []


def test_a_database_that_is_not_qualcoder_is_refused(tmp_path, capsys):
    db = tmp_path / "other.qda"
    con = sqlite3.connect(db)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    assert _import(tmp_path, db)[0] == 2
    assert "not a QualCoder project" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def _csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_with_documents_places_verifies_and_reports(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "Interview A1.txt").write_text(TEXT_A.replace("\n", "\r\n"), encoding="utf-8-sig")
    start = TEXT_A.index("Everyone")
    table = _csv(tmp_path / "segments.csv", [
        ["document", "code", "segment", "case", "locator", "start", "end", "coder", "memo"],
        ["Interview A1", "Interventions > Sandbags", "sandbags floor by floor 🌊", "Block 3", "", "", "", "Ann", ""],
        ["Interview A1", "Outcomes > Calm", "Everyone felt calmer 😊", "Block 3", "Q2", str(start), str(start + 22), "Bo", "m"],
        ["Interview A1", "Calm", "floor", "", "", "", "", "", ""],                          # occurs twice
        ["Interview A1", "Calm", "not in the text", "", "", "", "", "", ""],
        ["Interview A1", "Calm", "Everyone", "", "", "5", "13", "", ""],                     # wrong offsets
    ])
    code, study = _import(tmp_path, table, "--sources", tmp_path / "docs")
    out = capsys.readouterr().out
    assert code == 0
    stored = (study / "sources" / "interview-a1.txt").read_text("utf-8")
    got = passages(study)
    assert set(got) == {"sandbags floor by floor 🌊", "Everyone felt calmer 😊"}
    for text, p in got.items():
        assert stored[p["start"]:p["end"]] == text
    assert got["Everyone felt calmer 😊"]["locator"] == "Q2"
    assert got["Everyone felt calmer 😊"]["codedBy"] == ["coder-2"]
    assert "row 4: the segment occurs 2 times" in out and "give start and end" in out
    assert "row 5: the segment occurs 0 times" in out
    assert "row 6: the segment is not the text at 5-13" in out
    codes = {c["key"]: c for c in load_yaml(study / "codebook.yaml")["codes"]}
    assert codes["sandbags"]["broader"] == "code:interventions" and "identifier" not in codes["sandbags"]
    assert load_yaml(study / "cases.yaml")["cases"][0]["hasEvidence"] == [
        f"evidence:{got['sandbags floor by floor 🌊']['key']}", f"evidence:{got['Everyone felt calmer 😊']['key']}"]


def test_csv_without_documents_keeps_text_without_selectors(tmp_path, capsys):
    table = _csv(tmp_path / "segments.csv", [["document", "code", "segment"], ["Field notes B", "Rice", "They shared rice"]])
    code, study = _import(tmp_path, table)
    assert code == 0
    assert "give the documents with --sources DIR" in capsys.readouterr().out
    p = passages(study)["They shared rice"]
    assert "start" not in p and p["source"] == "source:field-notes-b"


def test_taguette_highlights_one_highlight_several_tags(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "Field notes B").write_text(TEXT_B, encoding="utf-8")
    table = _csv(tmp_path / "all_tags.csv", [["id", "document", "tag", "content"],
                                              ["7", "Field notes B", "rice", "They shared rice and water"],
                                              ["7", "Field notes B", "migrants", "They shared rice and water"]])
    code, study = _import(tmp_path, table, "--sources", tmp_path / "docs")
    assert code == 0
    p = passages(study)["They shared rice and water"]
    assert p["codedAs"] == ["code:rice", "code:migrants"]
    assert "Taguette" in load_yaml(study / "study.yaml")["study"]["importedFrom"]


def test_maxqda_overview_of_coded_segments_xlsx(tmp_path):
    import openpyxl

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "Field notes B.txt").write_text(TEXT_B, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Color", "Document group", "Document name", "Code", "Begin", "End", "Weight score", "Segment",
               "Modified by", "Modified", "Created by", "Created", "Area", "Coverage %", "Comment"])
    ws.append(["#ff0000", "Notes", "Field notes B", "Actors\\Residents committee", 2, 2, 0,
               "The residents' committee met the volunteers", "ann", "", "ann", "", 43, 20.1, "weekly"])
    wb.save(tmp_path / "segments.xlsx")
    code, study = _import(tmp_path, tmp_path / "segments.xlsx", "--sources", tmp_path / "docs")
    assert code == 0
    p = passages(study)["The residents' committee met the volunteers"]
    assert p["locator"] == "Field notes B, ¶2" and p["note"] == {"en": "weekly"}
    assert p["codedAs"] == ["code:residents-committee"]
    codes = {c["key"]: c for c in load_yaml(study / "codebook.yaml")["codes"]}
    assert codes["residents-committee"]["broader"] == "code:actors"


def test_a_table_without_the_needed_columns_is_refused(tmp_path, capsys):
    table = _csv(tmp_path / "t.csv", [["name", "value"], ["a", "b"]])
    assert _import(tmp_path, table)[0] == 2
    assert "no column 'document'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


#: Fields FORMAT.md (the agreed study-folder format) defines for the model branch to add
#: to data/context.jsonld; every other field crkg import writes must be in the context now.
FORMAT_FIELDS = {"key", "language", "importedFrom", "file", "sha256", "identifier", "color", "source", "start",
                 "end", "prefix", "suffix", "codedAs", "hasSource"}


def test_every_field_written_is_in_the_context_or_the_agreed_format(tmp_path):
    import json

    from crkg.paths import DATA_DIR

    context = json.loads((DATA_DIR / "context.jsonld").read_text("utf-8"))["@context"]
    _import(tmp_path, _qualcoder(tmp_path))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "Field notes B").write_text(TEXT_B, encoding="utf-8")
    table = _csv(tmp_path / "t.csv", [["document", "code", "segment", "case", "memo"],
                                       ["Field notes B", "A > B", "They shared rice", "C", "m"]])
    _import(tmp_path, table, "--sources", tmp_path / "docs", key="t")
    fields = set()
    for f in (tmp_path / "data" / "studies").glob("*/*.yaml"):
        for section, items in load_yaml(f).items():
            for item in items if isinstance(items, list) else [items]:
                fields |= set(item)
    assert {"note", "caseVariable", "codedBy", "codingNote", "hasEvidence"} <= fields
    assert fields - FORMAT_FIELDS <= {k for k, v in context.items() if isinstance(v, dict) or v == "@type"}
