"""QualCoder's own project: a folder ``NAME.qda/`` holding the SQLite database ``data.qda``.

Tables read (QualCoder 3.x schema): ``source`` (``fulltext`` of text files; media by
``mediapath``), ``code_cat`` (categories, ``supercatid``), ``code_name`` (codes, ``catid``,
``color``, ``memo``, optional ``supercid``), ``code_text`` (``pos0``/``pos1``: offsets in
**code points** into ``fulltext``, end excluded; ``owner``; ``memo``), ``code_av``
(``pos0``/``pos1`` in milliseconds), ``code_image`` (``x1``, ``y1``, ``width``, ``height``),
``cases`` and ``case_text`` (a case's stretches of a file), ``attribute`` (case and file
variables), ``annotation`` (notes on stretches of text), ``journal`` (project notes).

The database is opened read-only; nothing in it is executed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crkg.importers import UnusableInput
from crkg.importers.model import Case, Code, Project, Selection, Source
from crkg.importers.offsets import OffsetMap, STANDARD


def read_qualcoder(path: Path) -> Project:
    path = Path(path)
    db = path / "data.qda" if path.is_dir() else path
    name = (db.parent.name[:-4] if db.parent.name.endswith(".qda") else db.parent.name) if db.name == "data.qda" else db.stem
    try:
        con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)  # read-only; names with ?/# safe
        con.row_factory = sqlite3.Row
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    except sqlite3.Error as exc:
        raise UnusableInput(f"{db}: not a readable SQLite database: {exc}") from exc
    missing = {"source", "code_name", "code_text"} - tables
    if missing:
        raise UnusableInput(f"{db}: not a QualCoder project (no table {', '.join(sorted(missing))})")
    try:
        return _read(con, tables, name)
    except sqlite3.Error as exc:
        raise UnusableInput(f"{db}: cannot read the QualCoder tables: {exc}") from exc
    finally:
        con.close()


def _cols(con, table) -> set[str]:
    return {r[1] for r in con.execute(f"pragma table_info({table})")}


def _read(con, tables, name) -> Project:
    p = Project(name=name, origin="QualCoder", tool="a QualCoder project (data.qda)", dialect="standard")
    if "project" in tables:
        row = con.execute("select * from project").fetchone()
        if row is not None:
            keys = row.keys()
            if "memo" in keys and row["memo"]:
                p.description = row["memo"]
            if "about" in keys and row["about"]:
                p.origin = f"QualCoder ({row['about']})"
                p.tool = f"{p.origin} project (data.qda)"
    # codes: categories first (as codes that are not applied), then codes
    if "code_cat" in tables:
        for r in con.execute("select catid, name, memo, supercatid from code_cat order by catid"):
            p.codes.append(Code(guid=f"cat-{r['catid']}", name=r["name"],
                                parent=f"cat-{r['supercatid']}" if r["supercatid"] is not None else None,
                                description=r["memo"] or None, codable=False))
    has_super = "supercid" in _cols(con, "code_name")
    sql = "select cid, name, memo, catid, color" + (", supercid" if has_super else "") + " from code_name order by cid"
    for r in con.execute(sql):
        parent = None
        if has_super and r["supercid"] is not None:
            parent = f"code-{r['supercid']}"
        elif r["catid"] is not None:
            parent = f"cat-{r['catid']}"
        color = r["color"] if r["color"] and len(r["color"]) == 7 and r["color"].startswith("#") else None
        p.codes.append(Code(guid=f"code-{r['cid']}", name=r["name"], parent=parent,
                            color=color.lower() if color else None, description=r["memo"] or None))
    code_ids = {c.guid for c in p.codes}
    src_cols = _cols(con, "source")
    maps = {}
    for r in con.execute("select id, name, fulltext, mediapath, memo" +
                         (", av_text_id" if "av_text_id" in src_cols else "") + " from source order by id"):
        mediapath = r["mediapath"] or ""
        if r["fulltext"] is not None and not mediapath.startswith(("/images", "images:", "/audio", "audio:",
                                                                     "/video", "video:")):
            s = Source(guid=f"source-{r['id']}", name=r["name"], kind="pdf" if mediapath.lower().endswith(".pdf") else "text",
                       description=r["memo"] or None)
            omap = OffsetMap(r["fulltext"], STANDARD)
            s.text = omap.stored
            maps[s.guid] = omap
        else:
            kind = "picture" if "image" in mediapath else "audio" if "audio" in mediapath else "video"
            s = Source(guid=f"source-{r['id']}", name=r["name"], kind=kind, description=r["memo"] or None,
                       missing=f"a {kind} source: crkg stores no media")
            if mediapath.startswith(("images:", "audio:", "video:")):
                p.private.append(f"mediapath {mediapath}")
        p.sources.append(s)
    by_src = {s.guid: s for s in p.sources}
    sel_index = {}
    for r in con.execute("select ctid, cid, fid, seltext, pos0, pos1, owner, memo from code_text order by fid, pos0, pos1, ctid"):
        sid = f"source-{r['fid']}"
        guid = f"code_text-{r['ctid']}"
        src = by_src.get(sid)
        if src is None or src.text is None:
            p.report.leave_out(guid, f"its source (id {r['fid']}) has no text")
            continue
        omap = maps[sid]
        s, e = omap.to_stored(r["pos0"]), omap.to_stored(r["pos1"])
        if s is None or e is None or e <= s:
            p.report.leave_out(guid, f"offsets {r['pos0']}-{r['pos1']} do not fit {src.name!r} "
                               f"({omap.length} code points)")
            continue
        text = src.text[s:e]
        if r["seltext"] is not None and r["seltext"].replace("\r\n", "\n") != text:
            p.report.leave_out(guid, f"QualCoder's seltext {r['seltext'][:30]!r} is not the text at "
                               f"{r['pos0']}-{r['pos1']} of {src.name!r} ({text[:30]!r})")
            continue
        code = f"code-{r['cid']}"
        if code not in code_ids:
            p.report.leave_out(guid, f"its code (cid {r['cid']}) is not in code_name")
            continue
        key = (sid, s, e)
        sel = sel_index.get(key)
        if sel is None:
            sel = Selection(guid=guid, source=sid, start=s, end=e, text=text)
            sel_index[key] = sel
            p.selections.append(sel)
        else:
            sel.extra_guids.append(guid)
        if code not in sel.codes:
            sel.codes.append(code)
        if r["owner"]:
            p.user_names.setdefault(r["owner"], r["owner"])
            p.private.append(f"user {r['owner']}")
            if r["owner"] not in sel.coders:
                sel.coders.append(r["owner"])
        if r["memo"] and r["memo"] not in sel.notes:
            sel.notes.append(r["memo"])
    if "code_av" in tables:
        for r in con.execute("select avid, id, pos0, pos1, cid, memo, owner from code_av order by id, pos0, avid"):
            sel = Selection(guid=f"code_av-{r['avid']}", source=f"source-{r['id']}", media_start=r["pos0"],
                            media_end=r["pos1"], codes=[f"code-{r['cid']}"], notes=[r["memo"]] if r["memo"] else [],
                            coders=[r["owner"]] if r["owner"] else [])
            p.selections.append(sel)
    if "code_image" in tables:
        for r in con.execute("select imid, id, x1, y1, width, height, cid, memo, owner from code_image order by id, imid"):
            x1, y1 = int(r["x1"]), int(r["y1"])
            sel = Selection(guid=f"code_image-{r['imid']}", source=f"source-{r['id']}",
                            region=(x1, y1, x1 + int(r["width"]), y1 + int(r["height"])),
                            codes=[f"code-{r['cid']}"], notes=[r["memo"]] if r["memo"] else [],
                            coders=[r["owner"]] if r["owner"] else [])
            p.selections.append(sel)
    for sel in p.selections:
        for w in sel.coders:
            p.coder_key(w)
    if "annotation" in tables:
        for r in con.execute("select anid, fid, pos0, pos1, memo from annotation order by fid, pos0, anid"):
            sid = f"source-{r['fid']}"
            omap = maps.get(sid)
            if omap is None or not r["memo"]:
                continue
            s, e = omap.to_stored(r["pos0"]), omap.to_stored(r["pos1"])
            if s is None or e is None or e <= s:
                p.report.leave_out(f"annotation-{r['anid']}", "offsets do not fit its source")
                continue
            sel = sel_index.get((sid, s, e))
            if sel is None:
                sel = Selection(guid=f"annotation-{r['anid']}", source=sid, start=s, end=e, text=by_src[sid].text[s:e])
                sel_index[(sid, s, e)] = sel
                p.selections.append(sel)
            sel.notes.append(r["memo"])
    if "cases" in tables:
        for r in con.execute("select caseid, name, memo from cases order by caseid"):
            case = Case(guid=f"case-{r['caseid']}", name=r["name"], description=r["memo"] or None)
            p.cases.append(case)
        by_case = {c.guid: c for c in p.cases}
        if "case_text" in tables:
            for r in con.execute("select caseid, fid, pos0, pos1 from case_text order by caseid, fid, pos0"):
                case = by_case.get(f"case-{r['caseid']}")
                sid = f"source-{r['fid']}"
                if case is None or sid not in by_src:
                    continue
                whole = r["pos0"] in (None, 0) and (r["pos1"] is None or (sid in maps and r["pos1"] >= maps[sid].length))
                if whole or sid not in maps:
                    if sid not in case.sources:
                        case.sources.append(sid)
                    continue
                lo, hi = maps[sid].to_stored(r["pos0"]), maps[sid].to_stored(r["pos1"])
                for sel in p.selections:   # a case's stretch: the selections inside it
                    if sel.source == sid and sel.start is not None and lo is not None and hi is not None \
                            and sel.start >= lo and sel.end <= hi and sel.guid not in case.selections:
                        case.selections.append(sel.guid)
    if "attribute" in tables:
        by_case = {c.guid: c for c in p.cases}
        for r in con.execute("select name, attr_type, value, id from attribute order by attr_type, id, name"):
            if r["value"] in (None, ""):
                continue
            target = by_case.get(f"case-{r['id']}") if r["attr_type"] == "case" else by_src.get(f"source-{r['id']}")
            if target is not None:
                target.variables.append((r["name"], str(r["value"])))
    if "journal" in tables:
        for r in con.execute("select name, jentry from journal order by jid"):
            if r["jentry"]:
                p.notes.append(f"{r['name']}: {r['jentry']}" if r["name"] else r["jentry"])
    return p
