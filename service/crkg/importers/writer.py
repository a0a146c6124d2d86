"""A :class:`~crkg.importers.model.Project` → a study folder in crkg's format (FORMAT.md).

Files the importer owns (rewritten by every import; edit ``mapping.csv``, not them):

``study.yaml``     the study record (other fields a scholar adds to it are kept)
``sources.yaml``   ``sources:`` and the texts in ``sources/<key>.txt`` (UTF-8, LF, no BOM)
``codebook.yaml``  ``codebook:`` and ``codes:`` (hierarchy by ``broader``)
``cases.yaml``     ``cases:`` (``hasSource``, ``hasEvidence`` from the project's cases)
``passages.yaml``  ``passages:`` — every placed selection with its selectors and codings
``mapping.csv``    ``code,relation,concept``: relation empty, concept the suggested crkg
                   term; rows the scholar filled are kept across re-imports

Other files in the folder are never touched. The output is deterministic (no dates, sorted
where the project gives no order), so importing the same file twice gives the same bytes;
importing a newer export reuses the keys of items with the same identifier (or, where a
tool changes GUIDs between exports, the same name), and :func:`write_study` says what
changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crkg.errors import CrkgError
from crkg.importers.keys import KeyMaker
from crkg.importers.model import Project, Selection
from crkg.importers.offsets import context
from crkg.importers.vocabulary import curie, load_vocabulary, normalise
from crkg.pipeline.mapping import COLUMNS as MAPPING_COLUMNS

OWNED_YAML = ("study.yaml", "sources.yaml", "codebook.yaml", "cases.yaml", "passages.yaml")
MAPPING_FILE = "mapping.csv"
#: Code names that say "the codes under me are interventions".
INTERVENTION_PARENTS = {"intervention", "interventions", "practice", "practices", "干预", "实践", "措施"}


@dataclass
class Options:
    study_key: str
    language: str = "en"
    keep_names: bool = False
    force: bool = False
    input_name: str = ""


@dataclass
class Plan:
    files: dict[str, bytes] = field(default_factory=dict)   # path in the folder -> bytes
    counts: dict[str, int] = field(default_factory=dict)
    stale_sources: list[str] = field(default_factory=list)  # owned source files no longer written


# libyaml's emitter where PyYAML has it (as the converter's loader): 5x faster on 10^4 passages.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


def _str_presenter(dumper, data):
    # Passages keep their line breaks readable; short strings with breaks are quoted
    # (YAML's folding of single-quoted breaks is easy to misread).
    style = ("|" if len(data) > 60 else '"') if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (libyaml's where present)


def _dump(doc, header: str) -> bytes:
    body = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000,
                     default_flow_style=False)
    return (header + body).encode("utf-8")


# ---------------------------------------------------------------------------- reading back


def read_owned(folder: Path) -> dict:
    """The importer's own files of an existing folder (for keys and the change report)."""
    out = {"yaml": {}, "mapping": [], "files": {}}
    folder = Path(folder)
    for name in OWNED_YAML:
        p = folder / name
        if p.is_file():
            try:
                out["yaml"][name] = _load(p.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise CrkgError(f"{p}: cannot read the existing file ({exc}); fix it or use --force") from exc
    mp = folder / MAPPING_FILE
    if mp.is_file():
        with mp.open(encoding="utf-8", newline="") as fh:
            out["mapping"] = list(csv.DictReader(fh))
    return out


def _items(old: dict, file: str, section: str) -> list[dict]:
    doc = old["yaml"].get(file) or {}
    items = doc.get(section) or []
    return [i for i in items if isinstance(i, dict) and "key" in i]


def _first_label(item: dict) -> str:
    label = item.get("label") or {}
    if isinstance(label, dict) and label:
        return str(next(iter(label.values())))
    return ""


# ---------------------------------------------------------------------------- plan


def plan_study(project: Project, opts: Options, old: dict | None = None) -> Plan:
    """Every file of the study folder, as bytes (nothing written yet)."""
    old = old or {"yaml": {}, "mapping": []}
    lang = opts.language
    plan = Plan()
    header = (f"# Written by `crkg import` from {project.tool}. Re-importing rewrites this file:\n"
              "# align the codes in mapping.csv, and add your own items in other files.\n")

    def lmap(text):
        return {lang: text}

    # --- codes ------------------------------------------------------------------------
    code_by_guid = {c.guid: c for c in project.codes}

    def path_of(code) -> list[str]:
        names, seen = [], set()
        while code is not None and code.guid not in seen:
            seen.add(code.guid)
            names.append(code.name)
            code = code_by_guid.get(code.parent)
        return list(reversed(names))

    old_codes = _items(old, "codebook.yaml", "codes")
    old_code_by_id = _by_identifier(old_codes)
    old_code_paths = {}
    old_by_key = {i["key"]: i for i in old_codes}
    for i in old_codes:
        names, cur, seen = [], i, set()
        while cur is not None and cur["key"] not in seen:
            seen.add(cur["key"])
            names.append(_first_label(cur))
            parent = str(cur.get("broader") or "").partition(":")[2]
            cur = old_by_key.get(parent)
        old_code_paths[" > ".join(reversed(names))] = i["key"]
    code_paths = {c.guid: " > ".join(path_of(c)) for c in project.codes}

    def code_key(km, c):
        parent = code_by_guid.get(c.parent)
        return km.make(c.name, "code", parent.key if parent else None)

    _assign_keys(project.codes, old_code_by_id, old_code_paths, lambda c: code_paths[c.guid], code_key)
    code_items = []
    for c in project.codes:
        item = {"key": c.key, "label": lmap(c.name)}
        parent = code_by_guid.get(c.parent)
        if parent:
            item["broader"] = f"code:{parent.key}"
        if c.guid and project.has_identifiers:
            item["identifier"] = c.guid
        if c.color:
            item["color"] = c.color
        if c.description:
            item["definition"] = lmap(c.description)
        if c.notes:
            item["note"] = {lang: list(c.notes) if len(c.notes) > 1 else c.notes[0]}
        if c.sets:
            item["qdaSet"] = list(c.sets)
        if not c.codable:
            item["codingNote"] = {"en": "A category in the QDA project: not itself applied to passages."}
        code_items.append(item)

    # --- sources ----------------------------------------------------------------------
    old_sources = _items(old, "sources.yaml", "sources")
    _assign_keys(project.sources, _by_identifier(old_sources), {_first_label(i): i["key"] for i in old_sources},
                 lambda s: s.name,
                 lambda km, s: km.make(s.name.rsplit(".", 1)[0] if "." in s.name[-5:] else s.name, "source"))
    src_by_guid = {s.guid: s for s in project.sources}
    src_items = []
    for s in project.sources:
        item = {"key": s.key, "label": lmap(s.name), "language": lang}
        if s.text is not None:
            data = s.text.encode("utf-8")
            plan.files[f"sources/{s.key}.txt"] = data
            item["file"] = f"sources/{s.key}.txt"
            item["sha256"] = hashlib.sha256(data).hexdigest()
        if s.guid and project.has_identifiers:
            item["identifier"] = s.guid
        if s.description:
            item["comment"] = lmap(s.description)
        if s.variables:
            item["caseVariable"] = [f"{n}: {v}" for n, v in s.variables]
        if s.sets:
            item["qdaSet"] = list(s.sets)
        if s.notes:
            item["note"] = {lang: list(s.notes) if len(s.notes) > 1 else s.notes[0]}
        if s.text is None:
            why = s.missing or "the text is not in the export"
            item["codingNote"] = {"en": f"No text stored: {why}."}
        src_items.append(item)

    # --- passages ---------------------------------------------------------------------
    groups: dict[tuple, list[Selection]] = {}
    for sel in project.selections:
        src = src_by_guid.get(sel.source)
        if src is None:
            project.report.leave_out(sel.guid, "its source is not in the project")
            continue
        if sel.is_media:
            rng = ("m", sel.media_start, sel.media_end, sel.page, sel.region)
        elif sel.start is None:   # a table's segment without its document: text, no selectors
            rng = ("q", hashlib.sha1(sel.text.encode("utf-8")).hexdigest()[:8], sel.locator or "")
        else:
            rng = ("t", sel.start, sel.end)
        groups.setdefault((src.key, rng), []).append(sel)
    passage_items = []
    passage_key_of: dict[str, str] = {}
    for (skey, rng), sels in sorted(groups.items(), key=lambda kv: _sort_key(kv[0])):
        src = next(s for s in project.sources if s.key == skey)
        first = sels[0]
        if rng[0] == "t":
            key = f"{skey}-{first.start}-{first.end}"
        elif rng[0] == "q":
            key = f"{skey}-q{rng[1]}"
        else:
            key = f"{skey}-" + "-".join(_media_key_parts(first))
        codes = []
        coders, notes, guids = [], [], []
        for sel in sels:
            for g in sel.codes:
                k = code_by_guid[g].key
                if k not in codes:
                    codes.append(k)
            for w in sel.coders:
                name = project.user_names.get(w, w) if opts.keep_names else project.coder_key(w)
                if name and name not in coders:
                    coders.append(name)
            for n in sel.notes:
                if n not in notes:
                    notes.append(n)
            for g in [sel.guid, *sel.extra_guids]:
                if g and g not in guids:
                    guids.append(g)
                if g:
                    passage_key_of[g] = key
        item = {"key": key}
        if rng[0] == "t":
            prefix, suffix = context(src.text, first.start, first.end)
            item["text"] = lmap(first.text)
            item["source"] = f"source:{skey}"
            item["start"] = first.start
            item["end"] = first.end
            if prefix:
                item["prefix"] = prefix
            if suffix:
                item["suffix"] = suffix
            item["locator"] = first.locator or _text_locator(src.name, src.text, first.start, first.end)
        elif rng[0] == "q":
            item["text"] = lmap(first.text)
            item["source"] = f"source:{skey}"
            item["locator"] = first.locator or _document(src.name)
        else:
            item["source"] = f"source:{skey}"
            item["locator"] = f"{_document(src.name)}, {_media_locator(first)}"
            if first.media_start is not None:
                item["mediaStart"] = first.media_start
                item["mediaEnd"] = first.media_end
            if first.region is not None:
                item["region"] = ",".join(str(v) for v in first.region)
            if first.page is not None:
                item["page"] = first.page
            item["codingNote"] = {"en": f"A selection of {_article(src.kind)} {src.kind} source: no text is quoted."}
        if codes:
            item["codedAs"] = [f"code:{k}" for k in codes]
        if guids and project.has_identifiers:
            item["identifier"] = guids if len(guids) > 1 else guids[0]
        if coders:
            item["codedBy"] = coders
        if notes:
            item["note"] = {lang: notes if len(notes) > 1 else notes[0]}
        passage_items.append(item)

    # --- cases ------------------------------------------------------------------------
    old_cases = _items(old, "cases.yaml", "cases")
    _assign_keys(project.cases, _by_identifier(old_cases), {_first_label(i): i["key"] for i in old_cases},
                 lambda c: c.name, lambda km, c: km.make(c.name, "case"))
    case_items = []
    for c in project.cases:
        item = {"key": c.key, "label": lmap(c.name)}
        if c.guid and project.has_identifiers:
            item["identifier"] = c.guid
        if c.sources:
            item["hasSource"] = [f"source:{src_by_guid[g].key}" for g in c.sources]
        ev = []
        for g in c.selections:
            k = passage_key_of.get(g)
            if k and f"evidence:{k}" not in ev:
                ev.append(f"evidence:{k}")
        if ev:
            item["hasEvidence"] = ev
        if c.description:
            item["comment"] = lmap(c.description)
        if c.variables:
            item["caseVariable"] = [f"{n}: {v}" for n, v in c.variables]
        if c.notes:
            item["note"] = {lang: list(c.notes) if len(c.notes) > 1 else c.notes[0]}
        where = _case_locator(c, src_by_guid, passage_items, passage_key_of)
        if where:
            item["locator"] = where
        case_items.append(item)

    # --- study record -----------------------------------------------------------------
    old_study = (old["yaml"].get("study.yaml") or {}).get("study") or {}
    study = {"key": opts.study_key, "language": lang, "label": lmap(project.name),
             "importedFrom": project.tool}
    notes = list(project.notes)
    if project.description:
        study["comment"] = lmap(project.description)
    if notes:
        study["note"] = {lang: notes if len(notes) > 1 else notes[0]}
    study["codingNote"] = {"en": (f"Imported with crkg import; selection offsets converted from the "
                                  f"'{project.dialect}' offset rule to code points over the stored texts "
                                  "and verified against them.")}
    for k, v in old_study.items():   # fields the scholar added are kept
        if k not in study and k not in ("comment", "note"):
            study[k] = v

    for items, file, section in ((src_items, "sources.yaml", "sources"), (code_items, "codebook.yaml", "codes"),
                                 (case_items, "cases.yaml", "cases"), (passage_items, "passages.yaml", "passages")):
        _keep_added(items, _items(old, file, section), IMPORTER_FIELDS[section])
    plan.files["study.yaml"] = _dump({"study": study}, header)
    plan.files["sources.yaml"] = _dump({"sources": src_items}, header)
    plan.files["codebook.yaml"] = _dump({"codebook": {"label": {"en": f"Codebook of {project.name}"}},
                                         "codes": code_items}, header)
    plan.files["cases.yaml"] = _dump({"cases": case_items} if case_items else {}, header)
    plan.files["passages.yaml"] = _dump({"passages": passage_items}, header)
    plan.files[MAPPING_FILE] = _mapping(project, code_paths, old["mapping"], old_code_paths)
    _verify(plan, passage_items, src_items)
    plan.counts = {"sources": len(src_items), "texts": sum(1 for s in project.sources if s.text is not None),
                   "placed": sum(1 for i in passage_items if "start" in i),
                   "unplaced": sum(1 for i in passage_items if "start" not in i and "text" in i),
                   "media": sum(1 for i in passage_items if "text" not in i),
                   "codes": len(code_items), "cases": len(case_items), "passages": len(passage_items)}
    old_files = {i.get("file") for i in old_sources if i.get("file")}
    plan.stale_sources = sorted(f for f in old_files if isinstance(f, str) and f not in plan.files
                                and f.startswith("sources/"))
    return plan


#: The fields the importer writes, per section; any other field of an item (e.g. a case's
#: ``respondsTo`` or ``aboutCommunity``, added by the scholar) is kept on re-import.
IMPORTER_FIELDS = {
    "sources": {"key", "label", "language", "file", "sha256", "identifier", "comment", "caseVariable", "qdaSet",
                "note", "codingNote"},
    "codes": {"key", "label", "broader", "identifier", "color", "definition", "note", "qdaSet", "codingNote"},
    "cases": {"key", "label", "identifier", "hasSource", "hasEvidence", "comment", "caseVariable", "note", "locator"},
    "passages": {"key", "text", "source", "start", "end", "prefix", "suffix", "locator", "mediaStart", "mediaEnd",
                 "region", "page", "codingNote", "codedAs", "identifier", "codedBy", "note"},
}


def _keep_added(items: list[dict], old_items: list[dict], owned: set[str]) -> None:
    old_by_key = {i["key"]: i for i in old_items}
    for item in items:
        for k, v in (old_by_key.get(item["key"]) or {}).items():
            if k not in owned and k not in item:
                item[k] = v


def _by_identifier(items: list[dict]) -> dict[str, str]:
    out = {}
    for i in items:
        for ident in i.get("identifier") if isinstance(i.get("identifier"), list) else [i.get("identifier")]:
            if ident:
                out[str(ident)] = i["key"]
    return out


def _assign_keys(objs, old_by_id: dict, old_by_name: dict, name_of, make) -> None:
    """Keys of the last import first (by identifier, else by name: ATLAS.ti changes GUIDs),
    so that new items cannot take them; then new keys for the rest."""
    km = KeyMaker()
    for o in objs:
        k = old_by_id.get(o.guid or "") or old_by_name.get(name_of(o))
        if k and k not in km.used:
            o.key = km.take(k)
    for o in objs:
        if not o.key:
            o.key = make(km, o)


def read_sections(folder: Path) -> tuple[dict, dict[str, list]]:
    """(the ``study:`` mapping, every other section's items) of a study folder's YAML files,
    read as plain YAML (for export and derivation; the build's converter is stricter)."""
    sections: dict[str, list] = {}
    study: dict = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        doc = _load(path.read_text(encoding="utf-8")) or {}
        for k, v in doc.items():
            if k == "study":
                study = v or {}
            elif isinstance(v, list):
                sections.setdefault(k, []).extend(v)
            elif isinstance(v, dict):
                sections.setdefault(k, []).append(v)
    return study, sections


def _sort_key(k):
    skey, rng = k
    nums = tuple(v if isinstance(v, int) else -1 for v in rng[1:3])
    return (skey, rng[0], nums, str(rng))


def _media_key_parts(sel: Selection) -> list[str]:
    parts = []
    if sel.page is not None:
        parts.append(f"p{sel.page}")
    if sel.media_start is not None:
        parts.append(f"t{sel.media_start}-{sel.media_end}")
    if sel.region is not None:
        parts.append("r" + "-".join(str(v) for v in sel.region))
    return parts


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _document(name: str) -> str:
    """A source's name as the document part of a locator (which takes no comma)."""
    return " ".join(name.replace(",", " ").split()) or "document"


def _lines(text: str, start: int, end: int) -> str:
    a = text.count("\n", 0, start) + 1
    b = text.count("\n", 0, max(start, end - 1)) + 1
    return f"l. {a}" if a == b else f"ll. {a}–{b}"


def _text_locator(name: str, text: str, start: int, end: int) -> str:
    """``Interview A1, ll. 3–4`` (data/README.md, "Locators": lines of the stored text)."""
    return f"{_document(name)}, {_lines(text, start, end)}"


def _case_locator(case, src_by_guid, passage_items, passage_key_of) -> str | None:
    """Where a QDA case is found: its first document as a whole, else its first passage."""
    for g in case.sources:
        src = src_by_guid.get(g)
        if src is not None and src.text:
            return _text_locator(src.name, src.text, 0, len(src.text))
    keys = [passage_key_of[g] for g in case.selections if g in passage_key_of]
    for item in passage_items:
        if item["key"] in keys:
            return item["locator"]
    return None


def _hms(ms: int, up: bool = False) -> str:
    s = -(-ms // 1000) if up else ms // 1000
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def _media_locator(sel: Selection) -> str:
    """Page, and time range in whole seconds (the locator grammar's timestamps; the exact
    milliseconds are in mediaStart/mediaEnd), and a picture's region as the grammar's
    ``region (x1,y1)–(x2,y2)``."""
    bits = []
    if sel.page is not None:
        bits.append(f"p. {sel.page}")
    if sel.media_start is not None:
        bits.append(f"{_hms(sel.media_start)}–{_hms(sel.media_end, up=True)}")
    if sel.region is not None:
        x1, y1, x2, y2 = sel.region
        bits.append(f"region ({x1},{y1})–({x2},{y2})")
    return ", ".join(bits)


def _mapping(project: Project, code_paths: dict, old_rows: list[dict], old_code_paths: dict) -> bytes:
    """mapping.csv (columns ``code,relation,concept`` exactly, as crkg.pipeline.mapping reads
    it): every code, relation empty, and as ``concept`` the crkg term its label clearly
    matches (a suggestion: a row without a relation is ignored until the scholar writes one).
    Rows the scholar filled are kept, found by the code's key, path or identifier at the
    last import (so a code renamed in the tool keeps its row)."""
    vocab = load_vocabulary()
    kept = {}
    for row in old_rows:
        if (row.get("relation") or "").strip() or (row.get("concept") or "").strip():
            name = (row.get("code") or "").strip()
            kept[old_code_paths.get(name, name)] = row
    code_by_guid = {c.guid: c for c in project.codes}
    used = set()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(MAPPING_COLUMNS)
    for c in project.codes:
        path = code_paths[c.guid]
        hit = next((k for k in (c.key, path, c.guid or "") if k in kept), None)
        row = kept.get(hit) if hit else {}
        used.add(hit)
        relation = (row.get("relation") or "").strip()
        concept = (row.get("concept") or "").strip() if relation else suggest(vocab, c, code_by_guid)
        w.writerow([path, relation, concept])
    for name, row in kept.items():
        if name not in used and (row.get("relation") or "").strip():
            project.report.warn(f"mapping.csv: the row for code {row.get('code')!r} ({row.get('relation')},"
                                f"{row.get('concept')}) was dropped: the code is no longer in the project")
    return out.getvalue().encode("utf-8")


def suggest(vocab, code, code_by_guid) -> str:
    """The crkg term a code's label clearly matches (normalised label, alternative label or
    local name of a codebook concept or a class usable with ``type``), or ``Intervention``
    for a code under one named Interventions/Practices; else ``""``."""
    hits = vocab.suggest(code.name)
    if hits:
        return curie(hits[0]).removeprefix("crkg:")
    parent = code_by_guid.get(code.parent)
    if parent is not None and normalise(parent.name) in INTERVENTION_PARENTS:
        return "Intervention"
    return ""


def _verify(plan: Plan, passage_items: list[dict], src_items: list[dict]) -> None:
    """Every passage against the bytes about to be written (FORMAT.md: exact ==
    stored_text[start:end], prefix/suffix around it). A failure here is a bug, not bad input."""
    files = {f"source:{s['key']}": plan.files[s["file"]].decode("utf-8") for s in src_items if "file" in s}
    for p in passage_items:
        if "start" not in p:
            continue
        text = files[p["source"]]
        exact = next(iter(p["text"].values()))
        s, e = p["start"], p["end"]
        if (text[s:e] != exact or text[max(0, s - 32):s] != p.get("prefix", "")
                or text[e:e + 32] != p.get("suffix", "")):
            raise CrkgError(f"internal error: passage {p['key']} does not match its source text; nothing written")


# ---------------------------------------------------------------------------- writing


def changes(old: dict, plan: Plan) -> list[str]:
    """What a re-import changes, per section (added, removed, changed keys)."""
    lines = []
    for file, section in (("sources.yaml", "sources"), ("codebook.yaml", "codes"),
                          ("cases.yaml", "cases"), ("passages.yaml", "passages")):
        before = {i["key"]: i for i in _items(old, file, section)}
        doc = _load(plan.files[file].decode("utf-8")) or {}
        after = {i["key"]: i for i in doc.get(section) or []}
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        if added or removed or changed:
            parts = []
            fields = sorted({f for k in changed for f in set(before[k]) | set(after[k])
                             if before[k].get(f) != after[k].get(f)})
            for what, keys in (("added", added), ("removed", removed), ("changed", changed)):
                if keys:
                    shown = ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
                    how = f" ({', '.join(fields)})" if what == "changed" else ""
                    parts.append(f"{len(keys)} {what}{how}: {shown}")
            lines.append(f"{section}: " + "; ".join(parts))
    return lines


def write_study(folder: Path, plan: Plan) -> None:
    """Write the plan's files into *folder* (each file atomically), remove stale texts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in sorted(plan.files.items()):
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file() and target.read_bytes() == data:
            continue
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".crkg-import-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    for rel in plan.stale_sources:
        (folder / rel).unlink(missing_ok=True)
