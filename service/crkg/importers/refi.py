"""REFI-QDA projects: a ``.qdpx`` archive or a bare ``project.qde``.

The standard: REFI-QDA 1.5 (2019), schema ``schema/Project-mrt2019.xsd`` (QDA-XML 1.0,
namespace ``urn:QDA-XML:project:1.0``). What real exports do differently, and how it is
handled here:

* the offset unit and line-end counting differ per tool (:mod:`.offsets`), chosen from
  ``<Project origin>``;
* NVivo writes its folder ``Sources/``, the standard ``sources/``: members are found
  case-insensitively;
* ATLAS.ti 26 names the inner XML after the project (``My project.qde``) instead of
  ``project.qde``: the archive's one top-level ``.qde`` is read;
* MAXQDA writes ``PlainTextSelection`` elements without a ``Coding`` but with a
  ``Description`` (a comment): they become passages with a note and no code;
* MAXQDA and Quirkos put file variables on a ``Case`` without a name and with one
  ``SourceRef``: those are the source's variables, not a case;
* a ``Coding`` whose ``CodeRef`` names a ``Case`` GUID assigns the selection to that case.

Sources come from the archive (``internal://``) or inline (``PlainTextContent``);
``relative://`` and ``absolute://`` sources only from the ``--sources`` folder the user
names (never from the paths the file gives), and a path that would leave that folder is
refused (:class:`~crkg.importers.HostileInput`).
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from crkg.importers import HostileInput, UnusableInput, limits
from crkg.importers.model import Case, Code, Project, Selection, Source, norm_guid
from crkg.importers.offsets import OffsetMap, decode_text, dialect_for_origin
from crkg.importers.safexml import parse_xml
from crkg.importers.safezip import SafeZip

_NS_RE = re.compile(r"^\{(urn:QDA-XML:project:[^}]*)\}Project$")
_ELLIPSIS_RE = re.compile(r"(\.\.\.|…)\s*$")

SCHEMA_FILE = Path(__file__).with_name("schema") / "Project-mrt2019.xsd"


def read_refi(path: Path, sources_dir: Path | None = None) -> Project:
    """Read a ``.qdpx`` or ``.qde`` into a :class:`Project` (see the module docstring)."""
    path = Path(path)
    archive = None
    if path.suffix.lower() == ".qde":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnusableInput(f"{path}: cannot read: {exc}") from exc
        where = str(path)
    else:
        archive = SafeZip(path)
        qde = _find_qde(archive, path)
        data = archive.read(qde, limits.MAX_XML_BYTES)
        where = f"{path}!{qde}"
    try:
        root = parse_xml(data, where)
        return _Reader(root, where, archive, path, sources_dir, validate=len(data) <= limits.MAX_VALIDATE_BYTES).read()
    finally:
        if archive is not None:
            archive.close()


def _find_qde(archive: SafeZip, path: Path) -> str:
    top = [n for n in archive.names() if "/" not in n and n.lower().endswith(".qde")]
    if "project.qde" in top:
        return "project.qde"
    if len(top) == 1:
        return top[0]  # ATLAS.ti 26: named after the project
    if not top:
        raise UnusableInput(f"{path}: no project.qde (nor any .qde) at the top of the archive; "
                            "is this a REFI-QDA project export?")
    raise UnusableInput(f"{path}: several .qde files and none called project.qde: {', '.join(top)}")


class _Reader:
    def __init__(self, root: ET.Element, where: str, archive: SafeZip | None, path: Path,
                 sources_dir: Path | None, validate: bool = True):
        m = _NS_RE.match(root.tag)
        if not m:
            raise UnusableInput(f"{where}: the root element is {root.tag!r}, not a REFI-QDA "
                                "<Project> (namespace urn:QDA-XML:project:1.0)")
        self.ns = "{" + m.group(1) + "}"
        self.root = root
        self.validate = validate
        self.where = where
        self.archive = archive
        self.path = path
        self.sources_dir = Path(sources_dir).resolve() if sources_dir else None
        origin = root.get("origin")
        self.dialect = dialect_for_origin(origin)
        self.project = Project(name=root.get("name") or path.stem, origin=origin,
                               tool=_tool_label(origin), dialect=self.dialect.name)
        self.case_guids: set[str] = set()
        self.note_targets: dict[str, list] = {}  # note guid -> objects whose .notes get its text
        self.notes: dict[str, str] = {}
        self.by_guid: dict[str, object] = {}
        self.case_selections: dict[str, list[str]] = {}  # case guid -> selection guids
        self.link_pairs: list[tuple[str, str]] = []
        self.variables: dict[str, str] = {}
        self.squashed: dict[str, str] = {}   # source guid -> its text with whitespace squashed

    def q(self, local: str) -> str:
        return self.ns + local

    def kids(self, el: ET.Element, local: str) -> list[ET.Element]:
        return el.findall(self.q(local))

    def text_of(self, el: ET.Element, local: str) -> str | None:
        child = el.find(self.q(local))
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    # ------------------------------------------------------------------ top level
    def read(self) -> Project:
        p = self.project
        r = self.root
        for attr in ("basePath",):
            if r.get(attr):
                p.private.append(f"{attr}={r.get(attr)}")
        p.description = self.text_of(r, "Description")
        if self.validate:
            self._validate()
        else:
            p.report.warn(f"{self.where}: larger than {limits.MAX_VALIDATE_BYTES} bytes, not checked against "
                          "the REFI-QDA schema (every selection is still verified)")
        users = r.find(self.q("Users"))
        if users is not None:
            for u in self.kids(users, "User"):
                guid = norm_guid(u.get("guid"))
                name = u.get("name") or u.get("id") or guid
                p.private.append(f"user {name}")
                p.coder_key(guid)
                self.project.user_names[guid] = name
        book = r.find(self.q("CodeBook"))
        if book is not None:
            codes = book.find(self.q("Codes"))
            if codes is not None:
                for c in self.kids(codes, "Code"):
                    self._code(c, None)
        variables = {}
        vs = r.find(self.q("Variables"))
        if vs is not None:
            for v in self.kids(vs, "Variable"):
                variables[norm_guid(v.get("guid"))] = v.get("name") or ""
        self.variables = variables
        cases = r.find(self.q("Cases"))
        if cases is not None:
            for c in self.kids(cases, "Case"):
                self.case_guids.add(norm_guid(c.get("guid")))
        srcs = r.find(self.q("Sources"))
        if srcs is not None:
            for s in srcs:
                self._source(s)
        if cases is not None:
            for c in self.kids(cases, "Case"):
                self._case(c)
        for ref in self.kids(r, "NoteRef"):
            self.note_targets.setdefault(norm_guid(ref.get("targetGUID")), []).append(p)
        self._links()
        self._notes()
        self._sets()
        graphs = r.find(self.q("Graphs"))
        if graphs is not None and len(graphs):
            p.report.warn(f"{len(graphs)} graph(s) (REFI-QDA Graphs, the tool's drawings) are not imported")
        return p

    def _validate(self) -> None:
        """Report (not refuse) where the project departs from the REFI-QDA schema."""
        schema = refi_schema()
        errors = []
        for err in schema.iter_errors(self.root):
            errors.append(err.reason or str(err.message))
            if len(errors) >= 5:
                break
        if errors:
            self.project.report.warn(
                f"{self.where}: departs from the REFI-QDA schema (Project-mrt2019.xsd), e.g. "
                + "; ".join(e.splitlines()[0] for e in errors[:3]))

    # ------------------------------------------------------------------ codes
    def _code(self, el: ET.Element, parent: str | None) -> None:
        guid = norm_guid(el.get("guid"))
        if not guid:   # the schema requires one; keep the code, named by its place in the tree
            guid = f"no-guid:{parent or ''}/{el.get('name') or ''}"
            self.project.report.warn(f"code {el.get('name')!r} has no guid; codings cannot refer to it")
        code = Code(guid=guid, name=(el.get("name") or "").strip() or (guid or "code"),
                    parent=parent, color=_color(el.get("color")),
                    description=self.text_of(el, "Description"),
                    codable=el.get("isCodable", "true").lower() != "false")
        self.project.codes.append(code)
        self.by_guid[guid] = code
        self._noterefs(el, code)
        for child in self.kids(el, "Code"):
            self._code(child, guid)

    def _noterefs(self, el: ET.Element, target) -> None:
        for ref in self.kids(el, "NoteRef"):
            self.note_targets.setdefault(norm_guid(ref.get("targetGUID")), []).append(target)

    # ------------------------------------------------------------------ sources
    def _source(self, el: ET.Element) -> None:
        tag = el.tag[len(self.ns):]
        guid = norm_guid(el.get("guid"))
        name = (el.get("name") or "").strip() or guid or "source"
        kind = {"TextSource": "text", "PDFSource": "pdf", "PictureSource": "picture",
                "AudioSource": "audio", "VideoSource": "video"}.get(tag)
        if kind is None:
            self.project.report.warn(f"source element <{tag}> ({guid}) is not REFI-QDA; skipped")
            return
        src = Source(guid=guid, name=name, kind=kind, description=self.text_of(el, "Description"))
        self.project.sources.append(src)
        self.by_guid[guid] = src
        self._noterefs(el, src)
        for cp in ("currentPath",):
            if el.get(cp):
                self.project.private.append(f"{cp}={el.get(cp)}")
        for vv in self.kids(el, "VariableValue"):
            pair = self._variable(vv)
            if pair:
                src.variables.append(pair)
        if kind == "text":
            self._text(el, src)
        elif kind == "pdf":
            rep = el.find(self.q("Representation"))
            if el.get("path"):
                src.media_file = _file_name(el.get("path"))
            if rep is not None:
                self._text(rep, src, also_guid=norm_guid(rep.get("guid")))
            else:
                src.missing = "the PDF has no plain-text representation in the export"
            for sel in self.kids(el, "PDFSelection"):
                self._media_selection(sel, src, page=_int(sel.get("page")),
                                      region=_region(sel))
        else:
            src.media_file = _file_name(el.get("path") or "")
            src.missing = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} source: crkg stores no media; its codings keep their " + (
                "regions" if kind == "picture" else "time ranges")
            if kind == "picture":
                for sel in self.kids(el, "PictureSelection"):
                    self._media_selection(sel, src, region=_region(sel))
            else:
                sel_tag = "AudioSelection" if kind == "audio" else "VideoSelection"
                for sel in self.kids(el, sel_tag):
                    self._media_selection(sel, src, media=(_int(sel.get("begin")), _int(sel.get("end"))))
                for tr in self.kids(el, "Transcript"):
                    self._transcript(tr, src)
        for cd in self.kids(el, "Coding"):
            # a coding of the whole source
            self.project.report.warn(f"source {name!r}: a coding of the whole source ({norm_guid(cd.get('guid'))}) "
                                     "is not a passage; not imported")

    def _variable(self, vv: ET.Element) -> tuple[str, str] | None:
        ref = vv.find(self.q("VariableRef"))
        name = self.variables.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
        value = None
        for child in vv:
            if child.tag != self.q("VariableRef") and child.text is not None:
                value = child.text.strip()
        if name and value:
            return (name, value)
        return None

    def _load_text(self, el: ET.Element, src: Source) -> str | None:
        inline = el.find(self.q("PlainTextContent"))
        if inline is not None and inline.text is not None:
            return inline.text
        ref = el.get("plainTextPath")
        if not ref:
            src.missing = "the export gives neither PlainTextContent nor plainTextPath"
            return None
        data = self._read_ref(ref, src)
        if data is None:
            return None
        try:
            text, _enc = decode_text(data, f"{self.path}: source {src.name!r}")
        except UnusableInput as exc:
            src.missing = str(exc)
            return None
        return text

    def _read_ref(self, ref: str, src: Source) -> bytes | None:
        scheme, _, rest = ref.partition("://")
        scheme = scheme.lower()
        if scheme == "internal":
            if self.archive is None:
                src.missing = f"{ref}: a bare .qde carries no sources (export the .qdpx to include them)"
                return None
            rel = rest.lstrip("/")
            member = None
            for folder in ("sources", ""):
                member = self.archive.find(posixpath.join(folder, rel) if folder else rel)
                if member:
                    break
            if member is None:
                src.missing = f"{ref}: not in the archive"
                return None
            return self.archive.read(member, limits.MAX_TEXT_BYTES)
        if scheme in ("relative", "absolute"):
            self.project.private.append(f"{scheme} path {ref}")
            rel = rest.lstrip("/")
            if scheme == "relative" and any(p == ".." for p in rel.replace("\\", "/").split("/")):
                raise HostileInput(f"{self.where}: source {src.name!r} points outside its folder "
                                   f"({ref}); refused")
            if self.sources_dir is None:
                src.missing = (f"an external ({scheme}://) source; crkg reads external sources only "
                               "from a folder you name with --sources DIR")
                return None
            candidate = (self.sources_dir / (rel if scheme == "relative" else _file_name(rel))).resolve()
            if not candidate.is_relative_to(self.sources_dir):
                raise HostileInput(f"{self.where}: source {src.name!r} ({ref}) resolves to "
                                   f"{candidate}, outside --sources {self.sources_dir}; refused")
            if not candidate.is_file():
                src.missing = f"an external ({scheme}://) source with no file {candidate.name!r} in the --sources folder"
                return None
            if candidate.stat().st_size > limits.MAX_TEXT_BYTES:
                raise HostileInput(f"{candidate}: larger than {limits.MAX_TEXT_BYTES} bytes; refused")
            return candidate.read_bytes()
        src.missing = f"{ref}: unknown path scheme {scheme!r} (REFI-QDA knows internal, relative, absolute)"
        return None

    def _text(self, el: ET.Element, src: Source, also_guid: str | None = None) -> None:
        if also_guid:
            self.by_guid[also_guid] = src
        raw = self._load_text(el, src)
        if raw is None:
            for sel in self.kids(el, "PlainTextSelection"):
                self.project.report.leave_out(norm_guid(sel.get("guid")),
                                              f"its source {src.name!r} is missing ({src.missing})")
            return
        omap = OffsetMap(raw, self.dialect)
        src.text = omap.stored
        for sel in self.kids(el, "PlainTextSelection"):
            self._text_selection(sel, src, omap)

    def _codings(self, el: ET.Element, sel: Selection) -> None:
        for cd in self.kids(el, "Coding"):
            ref = cd.find(self.q("CodeRef"))
            target = norm_guid(ref.get("targetGUID")) if ref is not None else None
            who = norm_guid(cd.get("creatingUser")) or norm_guid(el.get("creatingUser"))
            if target in self.case_guids:
                self.case_selections.setdefault(target, []).append(sel.guid)
                continue
            if target not in self.by_guid or not isinstance(self.by_guid[target], Code):
                self.project.report.warn(f"selection {sel.guid}: its coding names no code of the "
                                         f"codebook ({target}); that coding left out")
                continue
            if target not in sel.codes:
                sel.codes.append(target)
            if who and who not in sel.coders:
                sel.coders.append(who)
            self._noterefs(cd, sel)
        desc = self.text_of(el, "Description")
        if desc:
            sel.notes.append(desc)
        self._noterefs(el, sel)
        if el.get("creatingUser") and not sel.coders:
            sel.coders.append(norm_guid(el.get("creatingUser")))

    def _text_selection(self, el: ET.Element, src: Source, omap: OffsetMap) -> None:
        guid = norm_guid(el.get("guid"))
        s_raw, e_raw = _int(el.get("startPosition")), _int(el.get("endPosition"))
        report = self.project.report
        if s_raw is None or e_raw is None:
            report.leave_out(guid, "no integer startPosition/endPosition")
            return
        s, e = omap.to_stored(s_raw), omap.to_stored(e_raw)
        unit = "UTF-16 units" if self.dialect.utf16_units else "characters"
        if s is None or e is None:
            what = ("past the end of the text" if max(s_raw, e_raw) > omap.length else
                    "inside a character or a line break")
            report.leave_out(guid, f"offsets {s_raw}-{e_raw} of {src.name!r} fall {what} "
                             f"(text of {omap.length} {unit}, {self.dialect.description})")
            return
        if e <= s:
            report.leave_out(guid, f"offsets {s_raw}-{e_raw} of {src.name!r} select no text")
            return
        sel = Selection(guid=guid, source=src.guid, start=s, end=e, text=src.text[s:e])
        name = (el.get("name") or "").strip()
        if name and not _name_matches(name, sel.text) and _squash(_ELLIPSIS_RE.sub("", name)) in self._squashed(src):
            # the name reads as text of the source, found elsewhere: the offset rule may be wrong
            report.warn(f"selection {guid} of {src.name!r}: its name {name[:40]!r} is text of the source, "
                        f"but not the text at {s_raw}-{e_raw} ({sel.text[:40]!r}); kept (a quotation may be "
                        f"renamed), check the offset rule ({self.dialect.description})")
        self._codings(el, sel)
        if not sel.codes and not sel.notes and not any(guid in v for v in self.case_selections.values()):
            report.warn(f"selection {guid} of {src.name!r} has no coding and no comment; not imported")
            return
        self.project.selections.append(sel)
        self.by_guid[guid] = sel

    def _squashed(self, src: Source) -> str:
        if src.guid not in self.squashed:
            self.squashed[src.guid] = _squash(src.text or "")
        return self.squashed[src.guid]

    def _media_selection(self, el: ET.Element, src: Source, media=None, region=None, page=None) -> None:
        guid = norm_guid(el.get("guid"))
        sel = Selection(guid=guid, source=src.guid, page=page, region=region)
        if media is not None:
            sel.media_start, sel.media_end = media
            if sel.media_start is None or sel.media_end is None or sel.media_end < sel.media_start:
                self.project.report.leave_out(guid, f"media selection of {src.name!r} without a valid begin/end")
                return
        self._codings(el, sel)
        if not sel.codes and not sel.notes:
            return
        self.project.selections.append(sel)
        self.by_guid[guid] = sel

    def _transcript(self, el: ET.Element, av: Source) -> None:
        guid = norm_guid(el.get("guid"))
        tr = Source(guid=guid, name=(el.get("name") or f"{av.name} (transcript)").strip(), kind="text",
                    description=f"Transcript of {av.name}")
        self.project.sources.append(tr)
        self.by_guid[guid] = tr
        raw = self._load_text(el, tr)
        if raw is None:
            return
        omap = OffsetMap(raw, self.dialect)
        tr.text = omap.stored
        sync = {norm_guid(sp.get("guid")): _int(sp.get("position")) for sp in self.kids(el, "SyncPoint")}
        for sel_el in self.kids(el, "TranscriptSelection"):
            sguid = norm_guid(sel_el.get("guid"))
            a = sync.get(norm_guid(sel_el.get("fromSyncPoint")))
            b = sync.get(norm_guid(sel_el.get("toSyncPoint")))
            s = omap.to_stored(a) if a is not None else None
            e = omap.to_stored(b) if b is not None else None
            if s is None or e is None or e <= s:
                self.project.report.leave_out(sguid, f"transcript selection of {tr.name!r}: its sync "
                                              "points give no placeable range")
                continue
            sel = Selection(guid=sguid, source=guid, start=s, end=e, text=tr.text[s:e])
            self._codings(sel_el, sel)
            if sel.codes or sel.notes:
                self.project.selections.append(sel)
                self.by_guid[sguid] = sel

    # ------------------------------------------------------------------ cases, notes, sets
    def _case(self, el: ET.Element) -> None:
        guid = norm_guid(el.get("guid"))
        refs = [norm_guid(s.get("targetGUID")) for s in self.kids(el, "SourceRef")]
        variables = [v for v in (self._variable(vv) for vv in self.kids(el, "VariableValue")) if v]
        if el.get("name") is None and len(refs) == 1:
            # MAXQDA / Quirkos: the variables of one source, not a case
            src = self.by_guid.get(refs[0])
            if isinstance(src, Source):
                src.variables.extend(variables)
            return
        case = Case(guid=guid, name=(el.get("name") or guid or "case").strip(),
                    description=self.text_of(el, "Description"), variables=variables)
        for r in refs:
            if isinstance(self.by_guid.get(r), Source):
                case.sources.append(r)
            else:
                self.project.report.warn(f"case {case.name!r}: SourceRef {r} names no source")
        sels = [norm_guid(s.get("targetGUID")) for s in self.kids(el, "SelectionRef")]
        sels += self.case_selections.get(guid, [])
        for s in sels:
            if isinstance(self.by_guid.get(s), Selection):
                if s not in case.selections:
                    case.selections.append(s)
            else:
                self.project.report.warn(f"case {case.name!r}: SelectionRef {s} names no imported selection")
        for cr in self.kids(el, "CodeRef"):
            self.project.report.warn(f"case {case.name!r}: a CodeRef ({norm_guid(cr.get('targetGUID'))}) "
                                     "on a case is not imported")
        self._noterefs(el, case)
        self.project.cases.append(case)
        self.by_guid[guid] = case

    def _links(self) -> None:
        links = self.root.find(self.q("Links"))
        if links is None:
            return
        for ln in self.kids(links, "Link"):
            a, b = norm_guid(ln.get("originGUID")), norm_guid(ln.get("targetGUID"))
            self.link_pairs.append((a, b))

    def _notes(self) -> None:
        notes = self.root.find(self.q("Notes"))
        if notes is None:
            if self.link_pairs:
                self.project.report.warn(f"{len(self.link_pairs)} link(s) between items (REFI-QDA Links) "
                                         "are not imported: crkg has no term for them yet")
            return
        note_guids = set()
        for n in self.kids(notes, "Note"):
            guid = norm_guid(n.get("guid"))
            note_guids.add(guid)
            holder = Source(guid=guid, name=n.get("name") or "note")
            raw = self._load_text(n, holder)
            text = (raw or "").strip()
            if not text:
                text = (n.get("name") or "").strip()
            if not text:
                continue
            self.notes[guid] = text.replace("\r\n", "\n").replace("\r", "\n")
        other_links = 0
        for a, b in self.link_pairs:
            if a in note_guids and b in self.by_guid:
                self.note_targets.setdefault(a, []).append(self.by_guid[b])
            elif b in note_guids and a in self.by_guid:
                self.note_targets.setdefault(b, []).append(self.by_guid[a])
            else:
                other_links += 1
        if other_links:
            self.project.report.warn(f"{other_links} link(s) between items (REFI-QDA Links that attach no "
                                     "note) are not imported: crkg has no term for them yet")
        for guid in sorted(self.notes):
            targets = self.note_targets.get(guid) or [self.project]
            for t in targets:
                if self.notes[guid] not in t.notes:
                    t.notes.append(self.notes[guid])

    def _sets(self) -> None:
        sets = self.root.find(self.q("Sets"))
        if sets is None:
            return
        for st in self.kids(sets, "Set"):
            name = (st.get("name") or "").strip()
            if not name:
                continue
            for m in self.kids(st, "MemberCode") + self.kids(st, "MemberSource"):
                obj = self.by_guid.get(norm_guid(m.get("targetGUID")))
                if isinstance(obj, (Code, Source)) and name not in obj.sets:
                    obj.sets.append(name)


def refi_schema():
    import xmlschema

    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = xmlschema.XMLSchema(str(SCHEMA_FILE))
    return _SCHEMA


_SCHEMA = None


def _tool_label(origin: str | None) -> str:
    return f"{origin} (REFI-QDA project)" if origin else "a REFI-QDA project"


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _region(el: ET.Element):
    vals = [_int(el.get(a)) for a in ("firstX", "firstY", "secondX", "secondY")]
    return tuple(vals) if all(v is not None for v in vals) else None


def _color(v: str | None) -> str | None:
    if v and re.fullmatch(r"#[0-9A-Fa-f]{6}", v.strip()):
        return v.strip().lower()
    if v and re.fullmatch(r"#[0-9A-Fa-f]{3}", v.strip()):
        return "#" + "".join(ch * 2 for ch in v.strip()[1:]).lower()
    return None


def _file_name(ref: str) -> str:
    return posixpath.basename(ref.replace("\\", "/").split("://", 1)[-1])


def _squash(s: str) -> str:
    return " ".join(s.split())


def _name_matches(name: str, text: str) -> bool:
    """Whether a selection's ``name`` reads as the start of its text (tools name selections
    after their text, often cut with an ellipsis)."""
    n = _squash(_ELLIPSIS_RE.sub("", name))
    t = _squash(text)
    return bool(n) and (t.startswith(n) or n.startswith(t))
