"""A table of coded segments (CSV or XLSX): one row per coding.

Columns, matched by name (case and spacing ignored; first row is the header):

=========  ===========================================  =================================
column     also read from                               meaning
=========  ===========================================  =================================
document   ``document name`` (MAXQDA), ``source``,      the source document
           ``file``
code       ``tag`` (Taguette), ``codes``                the code; a hierarchy written
                                                        ``Parent > Child`` or
                                                        ``Parent\\Child`` (MAXQDA)
segment    ``content`` (Taguette), ``text``, ``quote``  the coded passage, verbatim
case                                                    the case it belongs to (optional)
locator                                                 where, for a human (optional)
start/end                                               code points into the document's
                                                        text, end excluded (optional)
coder      ``created by`` (MAXQDA), ``owner``           who coded it (written as coder-N)
memo       ``comment`` (MAXQDA), ``note``               a note on the coding
id         (Taguette's highlight id)                    rows with one id are one passage
begin/end  (MAXQDA: paragraph numbers, not offsets)     go into the locator
=========  ===========================================  =================================

The documents' texts are not in such a table: give them with ``--sources DIR`` (a file
named like the document, or that name plus ``.txt``). A segment is then placed at
``start``/``end`` when the table gives them (and must be the text there), or where it
occurs exactly once in the document; a segment found nowhere, or more than once without
offsets, is reported and left out — never guessed. Without the texts, passages keep their
text and locator but no selectors.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from crkg.importers import HostileInput, UnusableInput, limits
from crkg.importers.model import Case, Code, Project, Selection, Source
from crkg.importers.offsets import decode_text, store_text

ALIASES = {
    "document": ("document", "document name", "documentname", "source", "file", "doc"),
    "code": ("code", "tag", "codes", "code name"),
    "segment": ("segment", "content", "text", "quote", "coded segment"),
    "case": ("case",),
    "locator": ("locator",),
    "start": ("start",),
    "end": ("end",),
    "coder": ("coder", "created by", "owner", "user"),
    "memo": ("memo", "comment", "note"),
    "id": ("id", "highlight id"),
    "begin_par": ("begin",),
}


def _norm(h: str) -> str:
    return " ".join(str(h or "").strip().lower().replace("_", " ").split())


def read_table(path: Path, sources_dir: Path | None = None) -> Project:
    path = Path(path)
    rows = _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_csv(path)
    if not rows:
        raise UnusableInput(f"{path}: an empty table")
    header = [_norm(h) for h in rows[0]]
    col = {}
    for field, names in ALIASES.items():
        for i, h in enumerate(header):
            if h in names and field not in col:
                col[field] = i
    maxqda = "begin_par" in col and header[col.get("document", 0)] == "document name"
    if maxqda:
        col.pop("start", None)
        col.pop("end", None)
        end_idx = [i for i, h in enumerate(header) if h == "end"]
        if end_idx:
            col["end_par"] = end_idx[0]
    for need in ("document", "code", "segment"):
        if need not in col:
            raise UnusableInput(f"{path}: no column {need!r} (found: {', '.join(h for h in header if h)}); "
                                "a table of coded segments needs document, code, segment")
    tool = "a MAXQDA table of coded segments" if maxqda else (
        "a Taguette highlights table" if header[col["code"]] == "tag" else "a table of coded segments")
    p = Project(name=path.stem, origin=None, tool=f"{tool} ({path.suffix.lstrip('.').upper()})",
                has_identifiers=False)
    sep_gt = " > "
    codes: dict[str, Code] = {}

    def code_for(name: str) -> str:
        parts = [x.strip() for x in (name.split(sep_gt) if sep_gt in name else name.split("\\")) if x.strip()]
        parent = None
        for i in range(len(parts)):
            key = " > ".join(parts[: i + 1])
            if key not in codes:
                codes[key] = Code(guid=None, name=parts[i], parent=parent)
                codes[key].guid = "code:" + key
                p.codes.append(codes[key])
            parent = codes[key].guid
        return parent

    sources: dict[str, Source] = {}
    texts: dict[str, str | None] = {}
    cases: dict[str, Case] = {}
    by_id: dict[str, Selection] = {}

    def cell(row, field):
        i = col.get(field)
        if i is None or i >= len(row) or row[i] is None:
            return ""
        v = row[i]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip() if field not in ("segment",) else str(v)

    for lineno, row in enumerate(rows[1:], start=2):
        doc, code, seg = cell(row, "document").strip(), cell(row, "code").strip(), cell(row, "segment")
        if not doc and not code and not seg.strip():
            continue
        where = f"{path.name} row {lineno}"
        if not doc or not seg.strip():
            p.report.leave_out(where, "no document or no segment")
            continue
        if doc not in sources:
            s = Source(guid="source:" + doc, name=doc)
            text = _document_text(doc, sources_dir, s)
            s.text = text
            sources[doc] = s
            p.sources.append(s)
        src = sources[doc]
        seg_text = store_text(seg)
        ident = cell(row, "id")
        sel = by_id.get(ident) if ident else None
        if sel is None:
            sel = Selection(guid=f"id:{ident}" if ident else f"row:{lineno}", source=src.guid, text=seg_text)
            loc = cell(row, "locator")
            if maxqda and cell(row, "begin_par"):
                b, e = cell(row, "begin_par"), cell(row, "end_par")
                where = f"¶{b}" if not e or e == b else f"¶¶{b}–{e}"   # the locator grammar's paragraphs
                loc = loc or f"{' '.join(doc.replace(',', ' ').split())}, {where}"
            sel.locator = loc or None
            if not _place(sel, src, cell(row, "start"), cell(row, "end"), where, p):
                continue
            if ident:
                by_id[ident] = sel
            p.selections.append(sel)
        if code:
            g = code_for(code)
            if g not in sel.codes:
                sel.codes.append(g)
        coder = cell(row, "coder")
        if coder:
            p.user_names.setdefault(coder, coder)
            p.private.append(f"user {coder}")
            p.coder_key(coder)
            if coder not in sel.coders:
                sel.coders.append(coder)
        memo = cell(row, "memo")
        if memo and memo not in sel.notes:
            sel.notes.append(memo)
        case_name = cell(row, "case")
        if case_name:
            case = cases.get(case_name)
            if case is None:
                case = cases[case_name] = Case(guid="case:" + case_name, name=case_name)
                p.cases.append(case)
            if sel.guid not in case.selections:
                case.selections.append(sel.guid)
    for s in p.sources:
        if s.text is None and not s.missing:
            s.missing = "the table carries only the coded segments; give the documents with --sources DIR"
    return p


def _place(sel: Selection, src: Source, start: str, end: str, where: str, p: Project) -> bool:
    if src.text is None:
        return True   # kept with its text, without selectors
    seg = sel.text
    if start or end:
        try:
            s, e = int(start), int(end)
        except ValueError:
            p.report.leave_out(where, f"start/end {start!r}/{end!r} are not whole numbers")
            return False
        if src.text[s:e] != seg:
            p.report.leave_out(where, f"the segment is not the text at {s}-{e} of {src.name!r} "
                               f"({src.text[s:e][:30]!r} there)")
            return False
    else:
        n = src.text.count(seg)
        if n != 1:
            p.report.leave_out(where, f"the segment occurs {n} times in {src.name!r}" +
                               ("" if n == 0 else "; give start and end to place it"))
            return False
        s = src.text.index(seg)
        e = s + len(seg)
    sel.start, sel.end = s, e
    return True


def _document_text(doc: str, sources_dir: Path | None, src: Source) -> str | None:
    if sources_dir is None:
        return None
    base = Path(sources_dir).resolve()
    for name in (doc, doc + ".txt"):
        cand = (base / name).resolve()
        if not cand.is_relative_to(base):
            raise HostileInput(f"document {doc!r} would be read from {cand}, outside --sources {base}; refused")
        if cand.is_file():
            if cand.stat().st_size > limits.MAX_TEXT_BYTES:
                raise HostileInput(f"{cand}: larger than {limits.MAX_TEXT_BYTES} bytes; refused")
            try:
                raw, _ = decode_text(cand.read_bytes(), str(cand))
            except UnusableInput as exc:
                src.missing = str(exc)
                return None
            return store_text(raw)
    src.missing = f"no file {doc!r} (or {doc + '.txt'!r}) in the --sources folder"
    return None


def _read_csv(path: Path) -> list[list]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc}") from exc
    if len(data) > limits.MAX_TEXT_BYTES:
        raise HostileInput(f"{path}: larger than {limits.MAX_TEXT_BYTES} bytes; refused")
    text, _ = decode_text(data, str(path))
    first = text.split("\n", 1)[0]
    delim = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]


def _read_xlsx(path: Path) -> list[list]:
    from crkg.importers.safexml import parse_xml
    from crkg.importers.safezip import SafeZip

    z = SafeZip(path)   # zip slip / bomb checks before openpyxl sees the file
    try:
        for name in z.names():
            if name.endswith((".xml", ".rels", ".vml")):
                parse_xml(z.read(name, limits.MAX_XML_BYTES), f"{path}!{name}")  # no DTDs, no entities
    finally:
        z.close()
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises assorted types for broken workbooks
        raise UnusableInput(f"{path}: not a readable XLSX workbook: {exc}") from exc
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
