"""``crkg export-qdpx``: a study folder → a REFI-QDA project (``.qdpx``), valid against
``schema/Project-mrt2019.xsd``, so a study opens in NVivo, ATLAS.ti, MAXQDA or QualCoder.

What is exported:

* sources: the study's ``sources:`` (their stored texts), or, for a hand-coded study, every
  ``sources/*.txt`` of the folder (the first study: ``study.zh.txt``), as UTF-8 files under
  ``sources/``; offsets are Unicode code points (REFI-QDA 1.5's rule) over that text;
* codes: the study's ``codes:`` with their hierarchy; for a hand-coded study a codebook made
  from its coding: ``Interventions > <each intervention>``, and ``Modes``, ``Goals``,
  ``Phases``, ``Mechanisms``, ``Target groups``, ``Actor types`` with the crkg terms used;
* passages: ``passages:`` at their offsets; quotes and observations where their verbatim
  text occurs exactly once in a source text. A text found nowhere, or more than once, is
  reported and skipped — never placed by guess;
* codings: a passage gets the code of every intervention it is evidence for, and the codes
  of that intervention's facts (mode, goal, …) — but only on passages where the co-coding
  rule (:mod:`crkg.pipeline.derive`) gives the fact back to exactly the interventions that
  have it: a fact that no passage can carry without lending it to another intervention
  whose passages overlap is reported;
* cases: ``cases:`` with ``SourceRef``/``SelectionRef`` (for a hand-coded study, each case
  refers to the passages of its interventions);
* of an imported study also: notes (``Notes`` with ``NoteRef`` on codes, sources, passages
  and the project; a case's notes cannot be, REFI-QDA cases take no NoteRef), descriptions,
  case and source variables (``Variables``, text values), sets, and coders (``Users``
  named by their keys, ``creatingUser`` on each coding). Media selections are not exported
  (crkg keeps no media) and are listed.

GUIDs are stable (the study's identifiers, else UUIDv5 of the study and item keys) and the
archive is byte-identical for the same study.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crkg.errors import CrkgError
from crkg.importers.refi import SCHEMA_FILE, refi_schema
from crkg.importers.writer import read_sections
from crkg.namespaces import CRKG
from crkg.version import __version__

NS = "urn:QDA-XML:project:1.0"
_UUID_NS = uuid.UUID("6f0b8a52-1c9e-4d3b-9a57-5c2d4b1e0c11")  # crkg's namespace for UUIDv5
FACT_GROUPS = (  # intervention field -> code group
    ("usesMode", "Modes"), ("contributesToAsStated", "Goals"), ("contributesToPerFramework", "Goals"),
    ("inPhase", "Phases"), ("usesMechanism", "Mechanisms"), ("targets", "Target groups"),
)


@dataclass
class ExportReport:
    out: Path
    sources: int = 0
    codes: int = 0
    selections: int = 0
    cases: int = 0
    skipped: list[str] = field(default_factory=list)        # passages not placed
    unplaced_facts: list[str] = field(default_factory=list)  # facts no passage can carry
    interventions_without_passage: list[str] = field(default_factory=list)


def _label(item: dict, langs=("en",)) -> str:
    lab = item.get("label") or {}
    if isinstance(lab, dict):
        for lang in (*langs, *lab.keys()):
            if lab.get(lang):
                v = lab[lang]
                return v[0] if isinstance(v, list) else str(v)
    return str(item.get("key"))


def _ref(v: str) -> str:
    return v.partition(":")[2] if ":" in v else v


def _guid(study: str, kind: str, key: str, given=None) -> str:
    if isinstance(given, list):
        given = given[0] if given else None
    if isinstance(given, str) and len(given) == 36:
        return given.lower()
    return str(uuid.uuid5(_UUID_NS, f"{study}:{kind}:{key}"))


def _overlap(a, b) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def export_study(folder: Path, out: Path) -> ExportReport:
    folder = Path(folder)
    if not (folder / "study.yaml").is_file():
        raise CrkgError(f"{folder}: not a study folder (no study.yaml)")
    study, sec = read_sections(folder)
    skey = study.get("key") or folder.name
    report = ExportReport(out=Path(out))
    lang = study.get("language")
    vocab_graph_labels = _term_labels()

    # --- sources ------------------------------------------------------------------------
    sources = []  # (key, name, text, guid)
    if sec.get("sources"):
        for s in sec["sources"]:
            text = None
            if s.get("file"):
                p = folder / s["file"]
                text = p.read_text(encoding="utf-8") if p.is_file() else None
            sources.append((s["key"], _label(s, (lang or "en",)), text, _guid(skey, "source", s["key"], s.get("identifier"))))
    else:
        for p in sorted((folder / "sources").glob("*.txt")):
            sources.append((p.stem, p.name, p.read_text(encoding="utf-8").replace("\r\n", "\n").lstrip("\ufeff"),
                            _guid(skey, "source", p.stem)))
    if not sources:
        raise CrkgError(f"{folder}: no source texts to export (no sources: section, no sources/*.txt)")
    if lang is None:
        # a hand-coded study: its passages' language is the one tag of its source file names (study.zh.txt)
        tags = {k.rsplit(".", 1)[1] for k, *_ in sources if "." in k}
        lang = tags.pop() if len(tags) == 1 else None
    src_by_key = {k: (k, n, t, g) for k, n, t, g in sources}
    # notes, variables, sets and descriptions of imported items: (kind, key) -> item
    extra = {("source", i["key"]): i for i in sec.get("sources", [])}
    extra.update({("code", i["key"]): i for i in sec.get("codes", [])})
    extra.update({("case", i["key"]): i for i in sec.get("cases", [])})
    extra.update({("passage", i["key"]): i for i in sec.get("passages", [])})

    # --- codes --------------------------------------------------------------------------
    codes = []  # (key, name, parent key, guid, color, description)
    for c in sec.get("codes", []):
        desc = c.get("definition") or {}
        codes.append((c["key"], _label(c, (lang or "en", "en")), _ref(c["broader"]) if c.get("broader") else None,
                      _guid(skey, "code", c["key"], c.get("identifier")), c.get("color"),
                      next(iter(desc.values()), None) if isinstance(desc, dict) else None))

    # --- passages -----------------------------------------------------------------------
    passages = {}  # key -> dict(source, start, end, text, codes list, guid)
    for p in sec.get("passages", []):
        if p.get("start") is None or not p.get("source"):
            report.skipped.append(f"passage {p['key']}: no text selector (a media selection or no source text)")
            continue
        src = src_by_key.get(_ref(p["source"]))
        if src is None or src[2] is None:
            report.skipped.append(f"passage {p['key']}: its source text is not in the folder")
            continue
        passages[p["key"]] = {"source": src[0], "start": p["start"], "end": p["end"],
                              "codes": [_ref(c) for c in p.get("codedAs", [])],
                              "guid": _guid(skey, "passage", p["key"], p.get("identifier")),
                              "coders": [str(c) for c in _list(p.get("codedBy"))]}
    evidence_kinds = {}
    for section, kind in (("quotes", "quote"), ("observations", "observation")):
        for e in sec.get(section, []):
            ekey = f"{kind}:{e['key']}"
            evidence_kinds[ekey] = e
            texts = e.get("text") or {}
            cands = [texts[lang]] if lang and lang in texts else [v for k, v in texts.items() if k != "en"]
            placed = None
            for t in cands:
                t = t if isinstance(t, str) else t[0]
                hits = [(k, span) for k, _n, text, _g in sources if text
                        for span in _verbatim(text, t)]
                if len(hits) == 1:
                    placed = (hits[0][0], *hits[0][1])
                    break
                report.skipped.append(f"{ekey} ({e.get('locator', '')}): its verbatim text occurs {len(hits)} "
                                      "times in the source texts; skipped, not placed by guess")
            if placed:
                passages[ekey] = {"source": placed[0], "start": placed[1], "end": placed[2], "codes": [],
                                  "guid": _guid(skey, "passage", ekey), "coders": []}

    # --- codes from a hand-coded study's interventions ------------------------------------
    interventions = sec.get("interventions", [])
    if interventions:
        groups = {}
        def group(name):
            if name not in groups:
                groups[name] = f"group-{name.lower().replace(' ', '-')}"
                codes.append((groups[name], name, None, _guid(skey, "code", groups[name]), None, None))
            return groups[name]
        fact_codes = {}
        def fact_code(grp, term, label):
            k = f"{groups.get(grp) or group(grp)}--{term}"
            if k not in fact_codes:
                fact_codes[k] = k
                codes.append((k, label, groups[grp], _guid(skey, "code", k), None, None))
            return k
        actors = {a["key"]: a for a in sec.get("actors", [])}
        targets = {t["key"]: t for t in sec.get("target_groups", [])}
        intervention_group = group("Interventions")
        facts_of = {}
        for it in interventions:
            ikey = f"intervention--{it['key']}"
            codes.append((ikey, _label(it), intervention_group, _guid(skey, "code", ikey), None, None))
            fs = set()
            for fld, grp in FACT_GROUPS:
                for v in _list(it.get(fld)):
                    if fld == "targets":
                        t = targets.get(_ref(v), {})
                        fs.add(fact_code(grp, "tg-" + _ref(v), _label(t)))
                    else:
                        fs.add(fact_code(grp, v, vocab_graph_labels.get(v, v)))
            for a in _list(it.get("performedBy")):
                for cls in _list(actors.get(_ref(a), {}).get("type")):
                    if cls not in ("IndividualActor", "CollectiveActor"):
                        fs.add(fact_code("Actor types", cls, vocab_graph_labels.get(cls, cls)))
            facts_of[ikey] = fs
            evs = [e for e in _list(it.get("hasEvidence")) if e in passages]
            if not evs:
                report.interventions_without_passage.append(it["key"])
            for e in evs:
                if ikey not in passages[e]["codes"]:
                    passages[e]["codes"].append(ikey)
        _place_facts(passages, facts_of, report)
        # cases refer to the passages of their interventions
        case_sel = {}
        for it in interventions:
            if it.get("inCase"):
                for e in _list(it.get("hasEvidence")):
                    if e in passages:
                        case_sel.setdefault(_ref(it["inCase"]), []).append(e)
    else:
        case_sel = {}

    # --- cases --------------------------------------------------------------------------
    cases = []
    for c in sec.get("cases", []):
        sels = [_ref(e) for e in _list(c.get("hasEvidence")) if _ref(e) in passages]
        sels += [e for e in case_sel.get(c["key"], []) if e not in sels]
        srcs = [_ref(s) for s in _list(c.get("hasSource")) if _ref(s) in src_by_key]
        if not sels and not srcs:
            continue
        cases.append((c["key"], _label(c, (lang or "en", "en")), _guid(skey, "case", c["key"], c.get("identifier")),
                      srcs, sels))

    # --- XML ------------------------------------------------------------------------------
    ET.register_namespace("", NS)
    q = lambda t: f"{{{NS}}}{t}"  # noqa: E731
    root = ET.Element(q("Project"), {"name": _label(study, (lang or "en", "en")), "origin": f"crkg {__version__}"})
    notes: list[tuple[str, str]] = []   # (guid, text), in order of reference

    def note_refs(el, kind, key):
        for i, text in enumerate(_texts((extra.get((kind, key)) or {}).get("note"))):
            g = _guid(skey, "note", f"{kind}:{key}:{i}")
            notes.append((g, text))
            ET.SubElement(el, q("NoteRef"), {"targetGUID": g})

    coders = sorted({c for p in passages.values() for c in p["coders"]},
                    key=lambda c: (len(c), c))   # coder-2 before coder-10
    user_guid = {c: _guid(skey, "user", c) for c in coders}
    if coders:
        users = ET.SubElement(root, q("Users"))
        for c in coders:
            ET.SubElement(users, q("User"), {"guid": user_guid[c], "name": c})
    variables: dict[str, str] = {}
    for item in extra.values():
        for v in _list(item.get("caseVariable")):
            name = str(v).partition(": ")[0]
            variables.setdefault(name, _guid(skey, "variable", name))

    def variable_values(el, kind, key):
        for v in _list((extra.get((kind, key)) or {}).get("caseVariable")):
            name, _, value = str(v).partition(": ")
            vv = ET.SubElement(el, q("VariableValue"))
            ET.SubElement(vv, q("VariableRef"), {"targetGUID": variables[name]})
            ET.SubElement(vv, q("TextValue")).text = value

    def description(el, kind, key, field="comment"):
        text = _texts((extra.get((kind, key)) or {}).get(field))
        if text:
            ET.SubElement(el, q("Description")).text = "\n\n".join(text)

    code_el = {}
    book = ET.SubElement(ET.SubElement(root, q("CodeBook")), q("Codes"))
    used_codes = {c for p in passages.values() for c in p["codes"]}
    code_keys = {c[0] for c in codes}
    children = {}
    for key, name, parent, guid, color, desc in codes:
        children.setdefault(parent if parent in code_keys else None, []).append((key, name, guid, color, desc))

    def add_codes(parent_el, parent_key):
        for key, name, guid, color, desc in children.get(parent_key, []):
            attrs = {"guid": guid, "name": name, "isCodable": "true"}
            if isinstance(color, str) and len(color) == 7:
                attrs["color"] = color
            el = ET.SubElement(parent_el, q("Code"), attrs)
            if desc:
                ET.SubElement(el, q("Description")).text = desc
            note_refs(el, "code", key)
            code_el[key] = guid
            add_codes(el, key)

    add_codes(book, None)
    if variables:
        vs = ET.SubElement(root, q("Variables"))
        for name, g in sorted(variables.items()):
            ET.SubElement(vs, q("Variable"), {"guid": g, "name": name, "typeOfVariable": "Text"})
    if cases:
        cs = ET.SubElement(root, q("Cases"))
        for key, name, guid, srcs, sels in cases:
            ce = ET.SubElement(cs, q("Case"), {"guid": guid, "name": name})
            description(ce, "case", key)
            variable_values(ce, "case", key)
            if _texts((extra.get(("case", key)) or {}).get("note")):
                report.skipped.append(f"case {key}: its notes (REFI-QDA cases take no NoteRef)")
            for s in srcs:
                ET.SubElement(ce, q("SourceRef"), {"targetGUID": src_by_key[s][3]})
            for s in sels:
                ET.SubElement(ce, q("SelectionRef"), {"targetGUID": passages[s]["guid"]})
    ss = ET.SubElement(root, q("Sources"))
    files = {}
    for key, name, text, guid in sources:
        if text is None:
            report.skipped.append(f"source {key}: its text is not in the folder; not exported")
            continue
        se = ET.SubElement(ss, q("TextSource"), {"guid": guid, "name": name,
                                                 "plainTextPath": f"internal://{guid}.txt"})
        description(se, "source", key)
        files[f"sources/{guid}.txt"] = text.encode("utf-8")
        for pkey, p in sorted(passages.items(), key=lambda kv: (kv[1]["start"], kv[1]["end"], kv[0])):
            if p["source"] != key:
                continue
            pe = ET.SubElement(se, q("PlainTextSelection"), {
                "guid": p["guid"], "name": text[p["start"]:p["end"]][:40],
                "startPosition": str(p["start"]), "endPosition": str(p["end"])})
            for ckey in p["codes"]:
                if ckey in code_el:
                    attrs = {"guid": _guid(skey, "coding", f"{pkey}:{ckey}")}
                    if p["coders"]:
                        attrs["creatingUser"] = user_guid[p["coders"][0]]
                    cd = ET.SubElement(pe, q("Coding"), attrs)
                    ET.SubElement(cd, q("CodeRef"), {"targetGUID": code_el[ckey]})
            note_refs(pe, "passage", pkey)
            report.selections += 1
        note_refs(se, "source", key)
        variable_values(se, "source", key)
        report.sources += 1
    if notes:
        ns_el = ET.SubElement(root, q("Notes"))
        for g, text in notes:
            n = ET.SubElement(ns_el, q("Note"), {"guid": g, "name": text.split("\n", 1)[0][:40]})
            ET.SubElement(n, q("PlainTextContent")).text = text
    sets: dict[str, list[tuple[str, str]]] = {}
    for (kind, key), item in sorted(extra.items()):
        for name in _list(item.get("qdaSet")):
            if kind == "code" and key in code_el:
                sets.setdefault(str(name), []).append(("MemberCode", code_el[key]))
            elif kind == "source" and key in src_by_key:
                sets.setdefault(str(name), []).append(("MemberSource", src_by_key[key][3]))
    if sets:
        st = ET.SubElement(root, q("Sets"))
        for name, members in sorted(sets.items()):
            se = ET.SubElement(st, q("Set"), {"guid": _guid(skey, "set", name), "name": name})
            for tag in ("MemberCode", "MemberSource"):   # the schema's order
                for t, g in members:
                    if t == tag:
                        ET.SubElement(se, q(tag), {"targetGUID": g})
    study_notes = _texts(study.get("note"))
    if study.get("comment"):
        ET.SubElement(root, q("Description")).text = "\n\n".join(_texts(study.get("comment")))
    for i, text in enumerate(study_notes):
        g = _guid(skey, "note", f"study:{i}")
        ns_el = root.find(q("Notes"))
        if ns_el is None:
            ns_el = ET.Element(q("Notes"))
            root.insert(list(root).index(root.find(q("Sources"))) + 1, ns_el)
        n = ET.SubElement(ns_el, q("Note"), {"guid": g, "name": text.split("\n", 1)[0][:40]})
        ET.SubElement(n, q("PlainTextContent")).text = text
        ET.SubElement(root, q("NoteRef"), {"targetGUID": g})
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    errors = list(refi_schema().iter_errors(root))
    if errors:
        raise CrkgError(f"the export is not valid REFI-QDA ({SCHEMA_FILE.name}): {errors[0].reason}")
    report.codes = len(code_el)
    report.cases = len(cases)
    _write_zip(Path(out), {"project.qde": xml, **files})
    return report


def _verbatim(text: str, passage: str) -> list[tuple[int, int]]:
    """Where *passage* occurs in *text*: exactly, or else exactly once the text's line breaks
    are left out — the convention of hand-coded studies, whose quotes are "copied from the
    study exactly (line breaks of the PDF removed)" (data/README.md). A line break is the
    newline and the spaces or tabs that begin the next line (PDF extraction indents
    continuation lines, e.g. "特殊\\n 时期"). Spans are offsets into *text* itself; nothing
    else is normalised."""
    spans, i = [], text.find(passage)
    while i >= 0:
        spans.append((i, i + len(passage)))
        i = text.find(passage, i + 1)
    if spans or "\n" in passage:
        return spans
    keep, after_break = [], False
    for j, c in enumerate(text):
        if c == "\n" or (after_break and c in " \t"):
            after_break = True
            continue
        after_break = False
        keep.append(j)
    view = "".join(text[j] for j in keep)
    i = view.find(passage)
    while i >= 0:
        spans.append((keep[i], keep[i + len(passage) - 1] + 1))
        i = view.find(passage, i + 1)
    return spans


def _texts(v) -> list[str]:
    """The texts of a language map (``{en: "a"}`` or ``{en: ["a", "b"]}``), or of a string."""
    if v is None:
        return []
    if isinstance(v, dict):
        out = []
        for val in v.values():
            out += [str(x) for x in _list(val)]
        return out
    return [str(x) for x in _list(v)]


def _list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _place_facts(passages: dict, facts_of: dict, report: ExportReport) -> None:
    """Code each intervention's facts on passages where co-coding gives them back to exactly
    the interventions that have them (see the module docstring)."""
    spans = {k: (p["source"], p["start"], p["end"]) for k, p in passages.items()}
    coded_by = {k: [c for c in p["codes"] if c in facts_of] for k, p in passages.items()}
    near = {k: [o for o in spans if _overlap(spans[k], spans[o])] for k in spans}
    for ikey, facts in sorted(facts_of.items()):
        mine = [k for k in spans if ikey in coded_by[k]]
        for f in sorted(facts):
            ok = []
            for k in mine:
                # everyone whose passages overlap k would get f: all of them must have it
                affected = {i for o in near[k] for i in coded_by[o]}
                if all(f in facts_of[i] for i in affected):
                    ok.append(k)
            if not ok and mine:
                report.unplaced_facts.append(f"{ikey.split('--', 1)[1]}: {f.split('--', 1)[1]}")
            for k in ok:
                if f not in passages[k]["codes"]:
                    passages[k]["codes"].append(f)


def _term_labels() -> dict[str, str]:
    """crkg term local name -> English label, for the code names of an exported codebook."""
    from rdflib import Graph
    from rdflib.namespace import RDFS

    from crkg.paths import ONTOLOGY_FILE

    g = Graph().parse(str(ONTOLOGY_FILE), format="turtle")
    out = {}
    for s, o in g.subject_objects(RDFS.label):
        if str(s).startswith(str(CRKG)) and getattr(o, "language", None) == "en":
            out[str(s)[len(str(CRKG)):]] = str(o)
    return out


def _write_zip(out: Path, members: dict[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(members, key=lambda n: (n != "project.qde", n)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name])
    tmp.replace(out)
