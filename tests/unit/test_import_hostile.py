"""Hostile projects: each is refused with a clear message, exit code 2, nothing written."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "qda"))
from qda_projects import TEXT_A, Doc, build_project, guid, rewrite_member, run_crkg  # noqa: E402

from crkg.importers import limits  # noqa: E402

QDE_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
PROJECT = ('<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="NVivo 12">'
           '<CodeBook><Codes><Code guid="{g}" name="&e;" isCodable="true"/></Codes></CodeBook></Project>')


def _qdpx(path, qde: str | bytes, members: dict | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde if isinstance(qde, bytes) else qde.encode("utf-8"))
        for name, data in (members or {}).items():
            z.writestr(name, data)
    return path


def _refused(tmp_path, capsys, project, *extra, match):
    data = tmp_path / "data"
    code = run_crkg("import", project, "--study", "evil", "--data", data, *extra)
    err = capsys.readouterr().err
    assert code == 2, err
    assert match in err
    assert not data.exists(), "nothing may be written"


def test_external_entity_xxe(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    qde = QDE_HEAD + f'<!DOCTYPE Project [<!ENTITY e SYSTEM "file://{secret}">]>' + PROJECT.format(g=guid("c"))
    _refused(tmp_path, capsys, _qdpx(tmp_path / "xxe.qdpx", qde), match="declares a document type")


def test_entity_expansion_billion_laughs(tmp_path, capsys):
    ents = '<!ENTITY a "lol">' + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                                          for i in range(8))
    qde = QDE_HEAD + f"<!DOCTYPE Project [{ents}<!ENTITY e \"&i;\">]>" + PROJECT.format(g=guid("c"))
    _refused(tmp_path, capsys, _qdpx(tmp_path / "lol.qdpx", qde), match="declares a document type")


def test_bare_qde_with_a_dtd(tmp_path, capsys):
    qde = tmp_path / "project.qde"
    qde.write_text(QDE_HEAD + '<!DOCTYPE Project SYSTEM "http://127.0.0.1:9/x.dtd">' + PROJECT.format(g=guid("c")),
                   encoding="utf-8")
    _refused(tmp_path, capsys, qde, match="declares a document type")


def test_utf16_encoded_dtd_is_still_seen(tmp_path, capsys):
    qde = ('<?xml version="1.0" encoding="utf-16"?>\n<!DOCTYPE Project [<!ENTITY e "x">]>'
           + PROJECT.format(g=guid("c"))).encode("utf-16")
    _refused(tmp_path, capsys, _qdpx(tmp_path / "u16.qdpx", qde), match="declares a document type")


@pytest.mark.parametrize("member", ["../evil.txt", "sources/../../evil.txt", "/etc/evil.txt", "C:/evil.txt",
                                    "..\\evil.txt"])
def test_zip_slip(tmp_path, capsys, member):
    project = tmp_path / "slip.qdpx"
    build_project(project, [Doc("A", TEXT_A)], ["c"], "maxqda")
    with zipfile.ZipFile(project, "a") as z:
        z.writestr(member, "x")
    _refused(tmp_path, capsys, project, match="zip slip")


def test_internal_path_escaping_the_archive(tmp_path, capsys):
    qde = (QDE_HEAD + '<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="MAXQDA"><Sources>'
           f'<TextSource guid="{guid("s")}" name="A" plainTextPath="internal://../../etc/passwd"/></Sources></Project>')
    _refused(tmp_path, capsys, _qdpx(tmp_path / "p.qdpx", qde), match="zip slip")


def test_zip_bomb_by_ratio(tmp_path, capsys):
    project = tmp_path / "bomb.qdpx"
    build_project(project, [Doc("A", TEXT_A)], ["c"], "maxqda")
    with zipfile.ZipFile(project, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sources/bomb.txt", b"\0" * (4 * limits.RATIO_CHECK_MIN_BYTES))
    _refused(tmp_path, capsys, project, match="zip bomb")


def test_zip_bomb_by_total_size(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNCOMPRESSED_BYTES", 50_000)
    project = tmp_path / "big.qdpx"
    build_project(project, [Doc("A", TEXT_A)], ["c"], "maxqda")
    with zipfile.ZipFile(project, "a", zipfile.ZIP_STORED) as z:
        z.writestr("sources/big.txt", b"x" * 60_000)
    _refused(tmp_path, capsys, project, match="zip bomb")


def test_relative_source_escaping_its_folder(tmp_path, capsys):
    qde = (QDE_HEAD + '<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="MAXQDA"><Sources>'
           f'<TextSource guid="{guid("s")}" name="A" plainTextPath="relative://../../etc/passwd"/></Sources></Project>')
    (tmp_path / "src").mkdir()
    _refused(tmp_path, capsys, _qdpx(tmp_path / "p.qdpx", qde), "--sources", tmp_path / "src",
             match="points outside its folder")


def test_symlink_out_of_the_sources_folder(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "outside.txt").write_text("private", encoding="utf-8")
    (tmp_path / "src" / "a.txt").symlink_to(tmp_path / "outside.txt")
    qde = (QDE_HEAD + '<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="MAXQDA"><Sources>'
           f'<TextSource guid="{guid("s")}" name="A" plainTextPath="absolute:///home/ann/a.txt"/></Sources></Project>')
    _refused(tmp_path, capsys, _qdpx(tmp_path / "p.qdpx", qde), "--sources", tmp_path / "src",
             match="outside --sources")


def test_external_sources_are_read_only_from_the_named_folder(tmp_path, capsys):
    """Not hostile, but never read from the path the project gives: without --sources the
    source is reported missing; with it, the file of that name in that folder is read."""
    elsewhere = tmp_path / "home" / "ann"
    elsewhere.mkdir(parents=True)
    (elsewhere / "a.txt").write_text("the text the project points at", encoding="utf-8")
    qde = (QDE_HEAD + '<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="MAXQDA"><Sources>'
           f'<TextSource guid="{guid("s")}" name="A" plainTextPath="absolute://{elsewhere}/a.txt"/></Sources></Project>')
    project = _qdpx(tmp_path / "p.qdpx", qde)
    assert run_crkg("import", project, "--study", "x", "--data", tmp_path / "data") == 0
    assert "only from a folder you name with --sources" in capsys.readouterr().out
    assert not list((tmp_path / "data" / "studies" / "x").glob("sources/*.txt"))
    (tmp_path / "named").mkdir()
    (tmp_path / "named" / "a.txt").write_text("the copy the user names", encoding="utf-8")
    assert run_crkg("import", project, "--study", "y", "--data", tmp_path / "data", "--sources", tmp_path / "named") == 0
    assert (tmp_path / "data" / "studies" / "y" / "sources" / "a.txt").read_text("utf-8") == "the copy the user names"


def test_xlsx_with_an_entity_declaration(tmp_path, capsys):
    import openpyxl

    book = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["document", "code", "segment"])
    wb.active.append(["A", "c", "text"])
    wb.save(book)
    rewrite_member(book, "xl/sharedStrings.xml", lambda _x: (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'))
    _refused(tmp_path, capsys, book, match="declares a document type")


def test_not_a_project_at_all(tmp_path, capsys):
    junk = tmp_path / "notes.qdpx"
    junk.write_bytes(b"PK\x03\x04 this is not a zip")
    _refused(tmp_path, capsys, junk, match="not a readable zip archive")
