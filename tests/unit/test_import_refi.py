"""``crkg import`` of REFI-QDA projects, in each tool's dialect (projects built by
tests/fixtures/qda/qda_projects.py, with offsets counted the way each tool counts them)."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import (TEXT_A, TEXT_B, Doc, build_project, guid, load_yaml, passages,  # noqa: E402
                          rewrite_member, run_crkg, tree_bytes)

PASSAGES_A = [
    ("We organised sandbags floor by floor 🌊", ["Sandbag brigades"]),
    ("Everyone felt calmer 😊", ["Psychological resilience"]),
    ("𠀋 The committee kept a list", ["Residents committee"]),
    ("the social worker called every elder.\nEveryone felt calmer", ["Social worker"]),   # spans a line end
]
CODES = [("Interventions", ["Sandbag brigades"], "#FF8800", "Practices the project codes"),
         ("Outcomes", [("Psychological resilience", [], "#0a0")]), "Residents committee", "Social worker",
         "Migrant households"]


def _docs(crlf=True, bom=True):
    return [Doc("Interview A1.docx", TEXT_A, crlf=crlf, bom=bom, selections=list(PASSAGES_A)),
            Doc("Field notes B", TEXT_B, crlf=crlf, selections=[
                ("They shared rice and water with migrant households.", ["Migrant households"])])]


def _import(tmp_path, project, *extra, key="flood"):
    code = run_crkg("import", project, "--study", key, "--data", tmp_path / "data", *extra)
    return code, tmp_path / "data" / "studies" / key


@pytest.mark.parametrize("dialect,crlf,bom", [
    ("nvivo", True, True),        # UTF-16 units, Sources/, CRLF, BOM
    ("atlasti", True, False),     # CRLF counted as one
    ("maxqda", True, False),      # code points, CRLF two
    ("standard", False, False),
])
def test_every_passage_is_placed_and_verified(tmp_path, dialect, crlf, bom):
    project = tmp_path / f"{dialect}.qdpx"
    build_project(project, _docs(crlf, bom), CODES, dialect)
    code, study = _import(tmp_path, project)
    assert code == 0
    got = passages(study)
    for text, codes in PASSAGES_A:
        p = got[text]
        stored = (study / "sources" / "interview-a1.txt").read_text(encoding="utf-8")
        assert stored[p["start"]:p["end"]] == text
        assert stored[max(0, p["start"] - 32):p["start"]] == p.get("prefix", "")
        assert stored[p["end"]:p["end"] + 32] == p.get("suffix", "")
        assert p["codedAs"] == [f"code:{c.lower().replace(' ', '-')}" for c in codes]
    data = (study / "sources" / "interview-a1.txt").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    src = {s["key"]: s for s in load_yaml(study / "sources.yaml")["sources"]}["interview-a1"]
    assert src["sha256"] == hashlib.sha256(data).hexdigest()
    assert src["identifier"] == guid("source:Interview A1.docx")


def test_nvivo_offsets_read_with_the_wrong_rule_are_not_placed(tmp_path):
    """The same NVivo offsets under a code-point origin land one unit late after each emoji:
    the importer warns that the selection's name is not the text there."""
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo")
    build_project(tmp_path / "right.qdpx", _docs(), CODES, "nvivo")
    rewrite_member(project, "project.qde",
                   lambda x: x.replace(b'origin="NVivo 12 (12.6.1.970)"', b'origin="MAXQDA 2022"'))
    from crkg.importers.refi import read_refi

    report = read_refi(project).report
    assert any("is text of the source, but not the text at" in w for w in report.warnings)
    assert not any("is text of the source" in w for w in read_refi(tmp_path / "right.qdpx").report.warnings)


def test_unplaceable_selections_are_reported_with_their_guid_and_left_out(tmp_path, capsys):
    doc = Doc("Interview A1.docx", TEXT_A, crlf=True, selections=[
        ("We organised", ["Social worker"]), ("Everyone felt", ["Social worker"]), ("A: We", ["Social worker"])])
    project = tmp_path / "p.qdpx"
    # past the end; inside the surrogate pair of 🌊 (NVivo units); between CR and LF
    emoji_at = len(TEXT_A[:TEXT_A.index("🌊")].replace("\n", "\r\n").encode("utf-16-le")) // 2
    cr_at = TEXT_A.index("\n") + 1
    ids = build_project(project, [doc], CODES, "nvivo", raw_positions={
        ("Interview A1.docx", 0): (10, 100000), ("Interview A1.docx", 1): (emoji_at + 1, emoji_at + 5),
        ("Interview A1.docx", 2): (cr_at, cr_at + 4)})
    code, study = _import(tmp_path, project)
    out = capsys.readouterr().out
    assert code == 0
    for i, why in enumerate(["past the end", "inside a character or a line break", "inside a character"]):
        g = ids["selections"][("Interview A1.docx", i)]
        assert f"selection {g}: " in out and why in out.split(f"selection {g}: ")[1].split("\n")[0]
    assert load_yaml(study / "passages.yaml")["passages"] == []


def test_atlasti_26_names_the_xml_after_the_project_and_changes_guids(tmp_path, capsys):
    first, second = tmp_path / "v1.qdpx", tmp_path / "v2.qdpx"
    build_project(first, _docs(), CODES, "atlasti26", qde_name="Flood study.qde", guid_salt="export-1")
    build_project(second, _docs(), CODES, "atlasti26", qde_name="Flood study.qde", guid_salt="export-2")
    code, study = _import(tmp_path, first)
    assert code == 0
    keys1 = sorted(p["key"] for p in load_yaml(study / "passages.yaml")["passages"])
    codes1 = [c["key"] for c in load_yaml(study / "codebook.yaml")["codes"]]
    capsys.readouterr()
    assert _import(tmp_path, second)[0] == 0
    out = capsys.readouterr().out
    # same keys (names and offsets), new identifiers, and the report says so
    assert sorted(p["key"] for p in load_yaml(study / "passages.yaml")["passages"]) == keys1
    assert [c["key"] for c in load_yaml(study / "codebook.yaml")["codes"]] == codes1
    assert "codes: 7 changed (identifier): " in out and "passages: 5 changed (identifier): " in out


def test_same_file_twice_gives_byte_identical_files(tmp_path, capsys):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo")
    assert _import(tmp_path, project)[0] == 0
    before = tree_bytes(tmp_path / "data")
    capsys.readouterr()
    assert _import(tmp_path, project)[0] == 0
    assert "unchanged" in capsys.readouterr().out
    assert tree_bytes(tmp_path / "data") == before


def test_newer_export_updates_by_identifier_and_keeps_the_filled_mapping(tmp_path, capsys):
    v1, v2 = tmp_path / "v1.qdpx", tmp_path / "v2.qdpx"
    build_project(v1, _docs(), CODES, "nvivo")
    docs = _docs()
    docs[1].selections.append(("The residents' committee met the volunteers", ["Residents committee"]))
    renamed = [("Interventions", ["Sandbag brigades"]), ("Outcomes", ["Psychological resilience"]),
               "Residents committee", "Social worker", "Migrant households", "Volunteers"]
    ids = build_project(v2, docs, renamed, "nvivo")
    # the scholar renames a code in the tool: same GUID, new name
    rewrite_member(v2, "project.qde", lambda x: x.replace(b'name="Social worker"', b'name="Social workers"'))
    assert ids["codes"]["Social worker"] == guid("code:Social worker")
    code, study = _import(tmp_path, v1)
    mapping = study / "mapping.csv"
    text = mapping.read_text(encoding="utf-8").replace(
        "Outcomes > Psychological resilience,,PsychologicalResilience",
        "Outcomes > Psychological resilience,exactMatch,PsychologicalResilience"
    ).replace("Social worker,,SocialWorker", "Social worker,type,SocialWorker")
    mapping.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert _import(tmp_path, v2)[0] == 0
    out = capsys.readouterr().out
    assert ("codes: 1 added: volunteers; 3 changed (color, definition, label): interventions, "
            "psychological-resilience, social-worker") in out
    assert "passages: 1 added: field-notes-b-" in out
    filled = mapping.read_text("utf-8")
    assert "\nOutcomes > Psychological resilience,exactMatch,PsychologicalResilience\n" in filled
    assert "\nSocial workers,type,SocialWorker\n" in filled


def test_codes_keep_hierarchy_colour_and_description(tmp_path):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "maxqda")
    study = _import(tmp_path, project)[1]
    codes = {c["key"]: c for c in load_yaml(study / "codebook.yaml")["codes"]}
    assert codes["sandbag-brigades"]["broader"] == "code:interventions"
    assert codes["interventions"]["color"] == "#ff8800"
    assert codes["psychological-resilience"]["color"] == "#00aa00"
    assert codes["interventions"]["definition"] == {"en": "Practices the project codes"}
    assert codes["sandbag-brigades"]["identifier"] == guid("code:Sandbag brigades")


def test_repeated_ranges_are_one_passage_and_overlaps_stay_apart(tmp_path):
    doc = Doc("Interview A1.docx", TEXT_A, selections=[
        ("sandbags floor by floor", ["Sandbag brigades"]),
        ("sandbags floor by floor", ["Social worker"]),            # NVivo: one selection per coding
        ("floor by floor 🌊 and the social worker", ["Social worker"]),   # overlaps the first
    ])
    project = tmp_path / "p.qdpx"
    ids = build_project(project, [doc], CODES, "nvivo")
    study = _import(tmp_path, project)[1]
    items = load_yaml(study / "passages.yaml")["passages"]
    assert len(items) == 2
    same = passages(study)["sandbags floor by floor"]
    assert same["codedAs"] == ["code:sandbag-brigades", "code:social-worker"]
    assert same["identifier"] == [ids["selections"][("Interview A1.docx", 0)], ids["selections"][("Interview A1.docx", 1)]]


def test_a_bare_qde_reports_its_sources_missing(tmp_path, capsys):
    project = tmp_path / "project.qde"
    build_project(project, _docs(), CODES, "nvivo")
    code, study = _import(tmp_path, project)
    out = capsys.readouterr().out
    assert code == 0
    assert "a bare .qde carries no sources" in out
    assert "5 selection(s) left out" in out
    assert all("file" not in s for s in load_yaml(study / "sources.yaml")["sources"])


def test_sources_missing_from_the_archive_are_reported(tmp_path, capsys):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo", omit_sources=True)
    assert _import(tmp_path, project)[0] == 0
    assert "not in the archive" in capsys.readouterr().out


def test_inline_text_cases_variables_sets_and_notes(tmp_path):
    docs = [Doc("Inline", TEXT_B, inline=True, selections=[("They shared rice", ["Migrant households"])])]
    sg = guid("source:Inline")
    notes = (f'<Note guid="{guid("note1")}" name="memo"><PlainTextContent>Why this code: rice is shared.'
             f'</PlainTextContent></Note>')
    sets = (f'<Set guid="{guid("set1")}" name="Group A"><MemberSource targetGUID="{sg}"/>'
            f'<MemberCode targetGUID="{guid("code:Migrant households")}"/></Set>')
    project = tmp_path / "p.qdpx"
    build_project(project, docs, CODES, "maxqda", cases=[("Household 7", ["Inline"], [])], notes=notes, sets=sets)
    xml_var = (f'<Variables><Variable guid="{guid("var")}" name="District" typeOfVariable="Text"/></Variables>')

    def edit(qde: bytes) -> bytes:
        qde = qde.decode().replace("</CodeBook>", "</CodeBook>" + xml_var).replace(
            '<SourceRef', f'<VariableValue><VariableRef targetGUID="{guid("var")}"/><TextValue>North</TextValue>'
            f'</VariableValue><SourceRef')
        return qde.replace('name="Migrant households" isCodable="true">',
                           f'name="Migrant households" isCodable="true"><NoteRef targetGUID="{guid("note1")}"/>').encode()

    rewrite_member(project, "project.qde", edit)
    study = _import(tmp_path, project)[1]
    case = load_yaml(study / "cases.yaml")["cases"][0]
    assert case["label"] == {"en": "Household 7"} and case["hasSource"] == ["source:inline"]
    assert case["caseVariable"] == ["District: North"]
    src = load_yaml(study / "sources.yaml")["sources"][0]
    assert src["qdaSet"] == ["Group A"]
    code = {c["key"]: c for c in load_yaml(study / "codebook.yaml")["codes"]}["migrant-households"]
    assert code["note"] == {"en": "Why this code: rice is shared."}
    assert code["qdaSet"] == ["Group A"]


def test_maxqda_comment_without_coding_is_a_passage_with_a_note(tmp_path):
    docs = [Doc("Field notes B", TEXT_B, selections=[("met the volunteers twice a week", [], 0, "check the dates")])]
    project = tmp_path / "p.qdpx"
    build_project(project, docs, CODES, "maxqda")
    p = passages(_import(tmp_path, project)[1])["met the volunteers twice a week"]
    assert p["note"] == {"en": "check the dates"} and "codedAs" not in p


def test_media_selections_keep_their_range_and_quote_no_text(tmp_path):
    cg = guid("code:Social worker")
    media = (f'<AudioSource guid="{guid("audio")}" name="Interview A2.m4a" path="absolute:///home/ann/a2.m4a">'
             f'<AudioSelection guid="{guid("as1")}" begin="115" end="61100"><Coding guid="{guid("c1")}">'
             f'<CodeRef targetGUID="{cg}"/></Coding></AudioSelection></AudioSource>'
             f'<PictureSource guid="{guid("pic")}" name="Map.png" path="internal://map.png">'
             f'<PictureSelection guid="{guid("ps1")}" firstX="783" firstY="1238" secondX="1172" secondY="1788">'
             f'<Coding guid="{guid("c2")}"><CodeRef targetGUID="{cg}"/></Coding></PictureSelection></PictureSource>')
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo", extra_sources=media)
    study = _import(tmp_path, project)[1]
    items = {p["key"]: p for p in load_yaml(study / "passages.yaml")["passages"]}
    audio = items["interview-a2-t115-61100"]
    assert audio["mediaStart"] == 115 and audio["mediaEnd"] == 61100 and "text" not in audio
    assert audio["codingNote"] == {"en": "A selection of an audio source: no text is quoted."}
    assert audio["locator"] == "Interview A2.m4a, 00:00:00–00:01:02"   # whole seconds, the range covered
    assert items["map-r783-1238-1172-1788"]["region"] == "783,1238,1172,1788"
    assert "/home/ann" not in "".join(p.read_text("utf-8") for p in study.glob("*.yaml"))


def test_pdf_representation_is_the_text(tmp_path):
    sg, rg = guid("pdf"), guid("pdfrep")
    pdf = (f'<PDFSource guid="{sg}" name="Report.pdf" path="internal://{sg}.pdf">'
           f'<Representation guid="{rg}" name="Report" plainTextPath="internal://{rg}.txt">'
           f'<PlainTextSelection guid="{guid("pdfsel")}" startPosition="0" endPosition="13">'
           f'<Coding guid="{guid("pc")}"><CodeRef targetGUID="{guid("code:Social worker")}"/></Coding>'
           f'</PlainTextSelection></Representation></PDFSource>')
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "maxqda", extra_sources=pdf)
    with zipfile.ZipFile(project, "a") as z:
        z.writestr(f"sources/{rg}.txt", "Field notes B\nmore")
    study = _import(tmp_path, project)[1]
    assert passages(study)["Field notes B"]["source"] == "source:report"


def test_privacy_by_default_and_keep_names(tmp_path):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo", users=["Ann Example", "Bo Sample"],
                  base_path="/home/ann/Projects/Flood")
    study = _import(tmp_path, project)[1]
    written = "".join(p.read_text("utf-8") for p in study.glob("*.yaml")) + (study / "mapping.csv").read_text("utf-8")
    assert "Ann Example" not in written and "/home/ann" not in written and "Flood\n" not in written
    assert passages(study)["Everyone felt calmer 😊"]["codedBy"] == ["coder-1"]
    study2 = _import(tmp_path, project, "--keep-names", key="kept")[1]
    assert passages(study2)["Everyone felt calmer 😊"]["codedBy"] == ["Ann Example"]


def test_mapping_lists_every_code_with_relation_empty_and_a_suggested_concept(tmp_path):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo")
    mapping = _import(tmp_path, project)[1] / "mapping.csv"
    assert mapping.read_text("utf-8").splitlines() == [
        "code,relation,concept",
        "Interventions,,",
        "Interventions > Sandbag brigades,,Intervention",
        "Outcomes,,",
        "Outcomes > Psychological resilience,,PsychologicalResilience",
        "Residents committee,,ResidentsCommittee",
        "Social worker,,SocialWorker",
        "Migrant households,,",
    ]
    from crkg.pipeline.mapping import count_unmapped, read_mapping

    assert read_mapping(mapping) == [] and count_unmapped(mapping) == 7


def test_a_hand_coded_study_is_not_overwritten_without_force(tmp_path, capsys):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo")
    folder = tmp_path / "data" / "studies" / "flood"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text("study:\n  key: flood\n", encoding="utf-8")
    assert _import(tmp_path, project)[0] == 2
    assert "was not imported" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["study.yaml"]
    assert _import(tmp_path, project, "--force")[0] == 0


def test_another_project_is_not_imported_over_an_import_without_force(tmp_path, capsys):
    build_project(tmp_path / "a.qdpx", _docs(), CODES, "nvivo", name="Flood study")
    build_project(tmp_path / "b.qdpx", _docs(), CODES, "nvivo", name="Drought study")
    assert _import(tmp_path, tmp_path / "a.qdpx")[0] == 0
    before = tree_bytes(tmp_path / "data")
    assert _import(tmp_path, tmp_path / "b.qdpx")[0] == 2
    assert "holds the import of project 'Flood study', not 'Drought study'" in capsys.readouterr().err
    assert tree_bytes(tmp_path / "data") == before


def test_a_mapping_row_of_a_removed_code_is_reported(tmp_path, capsys):
    build_project(tmp_path / "a.qdpx", _docs(), CODES, "nvivo")
    study = _import(tmp_path, tmp_path / "a.qdpx")[1]
    mapping = study / "mapping.csv"
    mapping.write_text(mapping.read_text("utf-8").replace("Migrant households,,", "Migrant households,type,TargetGroup"),
                       encoding="utf-8")
    docs = _docs()
    docs[1].selections = [("They shared rice", ["Social worker"])]
    build_project(tmp_path / "b.qdpx", docs, [c for c in CODES if c != "Migrant households"], "nvivo")
    capsys.readouterr()
    assert _import(tmp_path, tmp_path / "b.qdpx")[0] == 0
    assert "the row for code 'Migrant households' (type,TargetGroup) was dropped" in capsys.readouterr().out


def test_audio_transcript_selections_by_sync_points(tmp_path):
    tg = guid("transcript")
    text = "Speaker 1: the water rose 🌊 fast.\r\nSpeaker 2: we moved the elders."   # as NVivo writes it
    start = len(text[:text.index("we moved")].encode("utf-16-le")) // 2
    end = len(text.encode("utf-16-le")) // 2
    audio = (f'<AudioSource guid="{guid("audio")}" name="Interview A3.m4a" path="relative:///a3.m4a">'
             f'<Transcript guid="{tg}" name="Interview A3 transcript" plainTextPath="internal://{tg}.txt">'
             f'<SyncPoint guid="{guid("sp1")}" position="{start}" timeStamp="1000"/>'
             f'<SyncPoint guid="{guid("sp2")}" position="{end}" timeStamp="5000"/>'
             f'<TranscriptSelection guid="{guid("ts")}" fromSyncPoint="{guid("sp1")}" toSyncPoint="{guid("sp2")}">'
             f'<Coding guid="{guid("tc")}"><CodeRef targetGUID="{guid("code:Social worker")}"/></Coding>'
             f'</TranscriptSelection></Transcript></AudioSource>')
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "nvivo", extra_sources=audio)
    with zipfile.ZipFile(project, "a") as z:
        z.writestr(f"Sources/{tg}.txt", text)
    p = passages(_import(tmp_path, project)[1])["we moved the elders."]
    assert p["source"] == "source:interview-a3-transcript" and p["codedAs"] == ["code:social-worker"]


def test_departures_from_the_schema_are_reported_not_refused(tmp_path, capsys):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "maxqda")
    rewrite_member(project, "project.qde", lambda x: x.replace(b' isCodable="true"', b"", 1))
    assert _import(tmp_path, project)[0] == 0
    assert "departs from the REFI-QDA schema (Project-mrt2019.xsd)" in capsys.readouterr().out


def test_links_between_codes_are_reported_not_dropped_silently(tmp_path, capsys):
    project = tmp_path / "p.qdpx"
    build_project(project, _docs(), CODES, "maxqda")
    link = (f'<Links><Link guid="{guid("link")}" name="leads to" originGUID="{guid("code:Social worker")}" '
            f'targetGUID="{guid("code:Psychological resilience")}"/></Links>')
    rewrite_member(project, "project.qde", lambda x: x.replace(b"</Project>", link.encode() + b"</Project>"))
    assert _import(tmp_path, project)[0] == 0
    assert "1 link(s) between items (REFI-QDA Links) are not imported" in capsys.readouterr().out
