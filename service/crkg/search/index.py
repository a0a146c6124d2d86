"""The full-text index: an SQLite FTS5 file written by ``crkg build`` beside the store.

What is indexed (one row per text, every language the graph has):

* passages: ``crkg:text`` and ``oa:exact`` of every ``crkg:Evidence`` (quotes,
  observations, imported passages) and every ``crkg:Claim``;
* labels: ``rdfs:label``, ``skos:prefLabel``, ``skos:altLabel`` of every IRI of the study
  graphs and the ontology (interventions, actors, cases, codes, concepts …).

Each row carries facets for the filters: the ``study`` key, the ``case``, ``mode``,
``goal``, ``intervention`` and ``code`` it belongs to, as words of its own FTS5 column
(:func:`facet_token`), so that a filter is one more term of the match (a passage: through the interventions that
cite it, ``crkg:codedAs`` codes' skos matches and its source's case; an intervention's
label: its own values). Facet values are IRIs.

The file is ``search.sqlite`` in the side folder of the store generation
(:func:`index_path`; ``crkg build`` writes it with the other side artefacts, which are
swapped in together with the store), written to a temporary name in the same folder and
renamed into place, so a reader sees a whole index.

**Written study by study** (issue 14: one study added in seconds, memory bounded by a
study). Every row belongs to the *unit* of its subject (:func:`study_scope`): a study, or
the base unit of the ontology, the linksets and the resources studies share. A unit's
rows are made from its own facts (the triples about its subjects, from every graph:
its study graph, ``graph/inferred``, …) and from the base facts of the IRIs it reads
(recorded: the modes' ``skos:broader`` hierarchy, a code's concepts and their types), so
the table ``units`` keeps, per unit, the digest of its own facts, the IRIs read and the
digest of their facts. :func:`write_build_index` copies the previous index and deletes
and inserts only the rows of the units whose digests changed; the row ids are fixed per
unit (:func:`unit_slots`), so the updated file holds the rows of a build from nothing,
id for id, and answers every search the same (``tests/unit/test_search_incremental.py``).
Units that read each other (an intervention citing another study's passage) are indexed
from the whole corpus at once, and the build says so. :func:`write_index` indexes any
set of quads at once (stores not made by ``crkg build``, the search bench).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from crkg.namespaces import CRKG, ID, PREFIX_IRIS
from crkg.namespaces import OA as OA_NS
from crkg.search.text import index_text

RDF_TYPE = PREFIX_IRIS["rdf"] + "type"
RDFS_LABEL = PREFIX_IRIS["rdfs"] + "label"
SKOS = PREFIX_IRIS["skos"]
OA = str(OA_NS)
C = str(CRKG)

TEXT_PREDICATES = {C + "text", OA + "exact"}
LABEL_PREDICATES = {RDFS_LABEL, SKOS + "prefLabel", SKOS + "altLabel"}
PASSAGE_TYPES = {C + "Evidence", C + "Quote", C + "Observation", C + "Claim"}
GOAL_PREDICATES = {C + "contributesTo", C + "contributesToAsStated", C + "contributesToPerFramework"}
MATCHES = {SKOS + "exactMatch", SKOS + "closeMatch", SKOS + "broadMatch"}
#: Schema revision of the file; the reader refuses another (rebuild with ``crkg build``).
SCHEMA = "3"
FACET_DIMS = ("study", "case", "mode", "goal", "intervention", "code")


@lru_cache(maxsize=1 << 16)  # the same few values (modes, goals, a study's cases) on most rows
def facet_token(dim: str, value: str) -> str:
    """The word that stands for (dim, value) in the ``facets`` column: a filter is one more
    term of the FTS5 query, so filtering is an intersection of posting lists."""
    return "f" + hashlib.sha1(f"{dim}\x00{value}".encode("utf-8")).hexdigest()[:20]

SCHEMA_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE docs (id INTEGER PRIMARY KEY, iri TEXT NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
                   study TEXT, lang TEXT, text TEXT NOT NULL, interventions TEXT NOT NULL);
CREATE TABLE facet_values (dim TEXT NOT NULL, value TEXT NOT NULL, docs INTEGER NOT NULL,
                           label_en TEXT, label_zh TEXT, PRIMARY KEY (dim, value)) WITHOUT ROWID;
CREATE TABLE units (unit TEXT PRIMARY KEY, slot INTEGER NOT NULL, key TEXT NOT NULL, reads TEXT NOT NULL,
                    reads_digest TEXT NOT NULL, refs TEXT NOT NULL, rows INTEGER NOT NULL, languages TEXT NOT NULL);
CREATE TABLE unit_facets (unit TEXT NOT NULL, dim TEXT NOT NULL, value TEXT NOT NULL, docs INTEGER NOT NULL,
                          PRIMARY KEY (unit, dim, value)) WITHOUT ROWID;
CREATE TABLE unit_labels (unit TEXT NOT NULL, iri TEXT PRIMARY KEY, label_en TEXT, label_zh TEXT) WITHOUT ROWID;
CREATE INDEX unit_labels_unit ON unit_labels (unit);
CREATE VIRTUAL TABLE fts USING fts5(body, chars, facets, tokenize = 'unicode61 remove_diacritics 0');
"""


#: The index's file name in the store's side folder.
SEARCH_INDEX_FILE = "search.sqlite"


def index_path(store_dir) -> Path:
    """Where the index of the store at *store_dir* lives: in the side folder of the store
    generation it points to (``crkg.paths.store_side_dir``), where ``crkg build`` writes it
    so that it is swapped in together with the store (``crkg.pipeline.artefacts``)."""
    from crkg.paths import store_side_dir

    return store_side_dir(store_dir) / SEARCH_INDEX_FILE


def _value(term) -> str:
    return getattr(term, "value", str(term))


# --------------------------------------------------------------------------- units

#: A row belongs to the unit of its subject: the study whose key scopes the IRI
#: (``…/id/{kind}/{key}/…``, ``…/id/study/{key}``), or the base unit (``""``: the
#: ontology, the linksets and the resources several studies share).
BASE_UNIT = ""
#: Row ids: ``class << 61 | slot << 31 | n``: passages (class 0) before labels (class 1),
#: then by unit slot, then in the unit's own order. A unit's slot depends on its key
#: alone (:func:`unit_slots`), so a study's rows have the same ids whatever else the
#: corpus holds: an updated index is the index a full build writes.
_CLASS_SHIFT, _SLOT_SHIFT = 61, 31
_SLOTS = (1 << 30) - 1
#: Predicates read backwards (the interventions citing a passage, the cases of a source):
#: a unit whose object of one of them lies outside it makes the units depend on each
#: other, and the index is then written from the whole corpus at once.
REVERSE_PREDICATES = (C + "hasEvidence", C + "hasSource")


def study_scope(keys):
    """The function IRI -> study key or None (base unit) for the studies *keys*; the
    same rule as the build's (``crkg.pipeline.build._is_scoped``)."""
    keys = set(keys)
    ids = str(ID)

    @lru_cache(maxsize=1 << 17)  # asked for every subject and every IRI read: a few per triple
    def scope(iri: str):
        if not iri.startswith(ids):
            return None
        parts = iri[len(ids):].split("/")
        if len(parts) >= 2 and parts[1] in keys and (len(parts) >= 3 or parts[0] == "study"):
            return parts[1]
        return None

    return scope


def unit_slots(keys) -> dict[str, int]:
    """unit -> slot: the base unit 0; a study ``1 + sha256(key) mod (2**30 - 1)``, the next
    free slot on a collision (studies taken in key order, so the same keys give the same
    slots)."""
    slots, taken = {BASE_UNIT: 0}, {0}
    for key in sorted(k for k in keys if k != BASE_UNIT):
        slot = 1 + int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % _SLOTS
        while slot in taken:
            slot = 1 + slot % _SLOTS
        slots[key] = slot
        taken.add(slot)
    return slots


def _row_id(cls: int, slot: int, n: int) -> int:
    return (cls << _CLASS_SHIFT) | (slot << _SLOT_SHIFT) | n


def _slot_range(slot: int, cls: int) -> tuple[int, int]:
    return _row_id(cls, slot, 0), _row_id(cls, slot, (1 << _SLOT_SHIFT) - 1)


class _Facts:
    """What the rows are made of, for a set of subjects: types, IRI values, texts, and
    the subjects of the backward-read predicates by object."""

    def __init__(self):
        self.types = defaultdict(set)
        self.out = defaultdict(lambda: defaultdict(set))
        self.texts = {}  # (subject, predicate, value, language) -> text: one row per text, whatever its graphs
        self.reverse = {p: defaultdict(set) for p in REVERSE_PREDICATES}

    def add(self, triples, keep=None) -> "_Facts":
        import pyoxigraph as ox

        for t in triples:
            s, p, o = t.subject, t.predicate.value, t.object
            if not isinstance(s, ox.NamedNode):
                continue
            s = s.value
            if keep is not None and not keep(s):
                continue
            if p == RDF_TYPE:
                self.types[s].add(_value(o))
            elif isinstance(o, ox.Literal):
                if p in TEXT_PREDICATES or p in LABEL_PREDICATES:
                    self.texts[(s, p, o.value, o.language)] = o
            elif isinstance(o, ox.NamedNode):
                self.out[s][p].add(o.value)
                if p in self.reverse:
                    self.reverse[p][o.value].add(s)
        return self


_NO_FACTS = _Facts()


class _Collector:
    """The rows of the subjects *owns* accepts, from their facts (*own*) and, for the IRIs
    they lead to, *base*'s. Records every IRI outside *own* it reads (``reads``): the
    unit's rows depend on those IRIs' facts too."""

    def __init__(self, own: _Facts, base: _Facts | None = None, owns=None, scope=None):
        self.own, self.base = own, base
        self.owns = owns or (lambda s: True)
        self.scope = scope or (lambda s: None)
        self.reads: set[str] = set()

    def _facts(self, s: str) -> _Facts:
        if self.owns(s):
            return self.own
        self.reads.add(s)
        return self.base if self.base is not None and self.scope(s) is None else _NO_FACTS

    def types(self, s):
        return self._facts(s).types.get(s, ())

    def one(self, s, p):
        return self._facts(s).out.get(s, {}).get(p, set())

    def mode_closure(self, m):
        seen, todo = set(), [m]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo.extend(b for b in self.one(x, SKOS + "broader") if C + "ResilienceMode" in self.types(b))
        return seen

    def study_of(self, s):
        studies = set(self.one(s, C + "inStudy"))
        for case in self.one(s, C + "inCase"):
            studies |= self.one(case, C + "inStudy")
        if C + "Study" in self.types(s):
            studies.add(s)
        return studies

    def intervention_facets(self, i):
        f = {"intervention": {i}, "case": set(self.one(i, C + "inCase")), "mode": set(), "goal": set()}
        for m in self.one(i, C + "usesMode"):
            f["mode"] |= self.mode_closure(m)
        for p in GOAL_PREDICATES:
            f["goal"] |= self.one(i, p)
        f["study"] = self.study_of(i)
        return f

    def passage_facets(self, e, facets_of):
        f = {"intervention": set(), "case": set(), "mode": set(), "goal": set(), "study": self.study_of(e)}
        for i in self.own.reverse[C + "hasEvidence"].get(e, ()):
            if C + "Intervention" in self.types(i):
                fi = facets_of.setdefault(i, self.intervention_facets(i))
                for k in ("intervention", "case", "mode", "goal"):
                    f[k] |= fi[k]
        for code in self.one(e, C + "codedAs"):
            f.setdefault("code", set()).add(code)
            for p in MATCHES:
                for concept in self.one(code, p):
                    ts = self.types(concept)
                    if C + "ResilienceMode" in ts:
                        f["mode"] |= self.mode_closure(concept)
                    elif C + "ResilienceGoal" in ts:
                        f["goal"].add(concept)
        for src in self.one(e, OA + "hasSource"):
            f["case"] |= self.own.reverse[C + "hasSource"].get(src, set())
        return f

    def rows(self) -> list[dict]:
        """The rows, sorted: passages first (a query with very many matches ranks the first
        ones, query.RANK_WINDOW), then by subject, predicate, text, language."""
        facets_of: dict[str, dict[str, set]] = {}
        rows = []
        texts = sorted(self.own.texts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or ""))
        for (s, p, _v, _l), lit in texts:
            if not (s.startswith(str(ID)) or s.startswith(C)):
                continue  # a label of some outside vocabulary term: not ours to search
            if not self.owns(s):
                continue
            ts = self.types(s)
            if ts & PASSAGE_TYPES or p in TEXT_PREDICATES:
                kind = next((t[len(C):] for t in (C + "Quote", C + "Observation", C + "Claim") if t in ts), "Evidence")
                facets = facets_of.setdefault(s, self.passage_facets(s, facets_of))
                field = "text" if p in TEXT_PREDICATES else "label"
            else:
                if C + "Intervention" in ts:
                    kind = "Intervention"
                    facets = facets_of.setdefault(s, self.intervention_facets(s))
                else:
                    kind = "label"
                    facets = {"study": self.study_of(s)}
                field = "label"
            rows.append({"iri": s, "kind": kind, "field": field, "lang": lit.language, "text": lit.value,
                         "facets": facets})
        rows.sort(key=lambda r: r["field"] != "text")
        return rows

    def outside_references(self) -> set[str]:
        """Objects of the backward-read predicates that the collector does not own."""
        return {o for by_object in self.own.reverse.values() for o in by_object if not self.owns(o)}


def collect(quads) -> list[dict]:
    """The rows to index, from any iterable of pyoxigraph quads or triples (a Dataset or a Store)."""
    return _Collector(_Facts().add(quads)).rows()


def collect_labels(rows: list[dict]) -> dict[str, dict[str, str]]:
    """iri -> {language: label} from the label rows (for the filters' option names)."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if r["field"] == "label":
            labels[r["iri"]].setdefault((r["lang"] or "").split("-")[0], r["text"])
    return labels


def _label(found: dict[str, str], lang: str):
    return found.get(lang) or found.get("en") or found.get("zh") or found.get("") or None


def code_digest() -> str:
    """The digest of the code that decides the rows: an index written by other code is
    written again from nothing."""
    from crkg.search import text

    digest = hashlib.sha256(SCHEMA.encode())
    for module in (__file__, text.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- writing


class _Index:
    """An index file being written: units of rows put in and taken out, then finished."""

    def __init__(self, path: Path, fresh: bool):
        self.con = sqlite3.connect(path)
        # a temporary file, renamed into place only when complete: no journal needed
        self.con.execute("PRAGMA journal_mode = OFF")
        self.con.execute("PRAGMA synchronous = OFF")
        if fresh:
            self.con.executescript(SCHEMA_SQL)

    def units(self) -> dict[str, dict]:
        return {unit: {"slot": slot, "key": key, "reads": json.loads(reads), "reads_digest": reads_digest,
                       "refs": json.loads(refs)}
                for unit, slot, key, reads, reads_digest, refs in self.con.execute(
                    "SELECT unit, slot, key, reads, reads_digest, refs FROM units")}

    def remove(self, unit: str, slot: int) -> None:
        for cls in (0, 1):
            lo, hi = _slot_range(slot, cls)
            self.con.execute("DELETE FROM docs WHERE id BETWEEN ? AND ?", (lo, hi))
            self.con.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (lo, hi))
        for table in ("units", "unit_facets", "unit_labels"):
            self.con.execute(f"DELETE FROM {table} WHERE unit = ?", (unit,))

    def put(self, unit: str, slot: int, rows: list[dict], key: str = "", reads=(), reads_digest: str = "",
            refs=()) -> None:
        """Write *unit*'s *rows* (sorted as :meth:`_Collector.rows` sorts them) at *slot*."""
        study_prefix = str(ID) + "study/"
        counts: dict[tuple[str, str], int] = defaultdict(int)
        docs, texts, numbers = [], [], [0, 0]
        for r in rows:
            cls = 0 if r["field"] == "text" else 1
            numbers[cls] += 1
            n = _row_id(cls, slot, numbers[cls])
            studies = sorted(s[len(study_prefix):] for s in r["facets"].get("study", ()) if s.startswith(study_prefix))
            docs.append((n, r["iri"], r["kind"], r["field"], studies[0] if studies else None, r["lang"], r["text"],
                         json.dumps(sorted(r["facets"].get("intervention", ())))))
            pairs = [("study", s) for s in studies]
            for dim in FACET_DIMS[1:]:
                pairs += [(dim, v) for v in sorted(r["facets"].get(dim, ()))]
            for pair in pairs:
                counts[pair] += 1
            body, chars = index_text(r["text"], r["lang"])
            texts.append((n, body, chars, " ".join(facet_token(d, v) for d, v in pairs)))
            if len(docs) >= 5000:
                self._insert(docs, texts)
                docs, texts = [], []
        self._insert(docs, texts)
        labels = collect_labels(rows)
        self.con.executemany("INSERT INTO unit_labels VALUES (?,?,?,?)",
                             [(unit, iri, _label(found, "en"), _label(found, "zh")) for iri, found in labels.items()])
        self.con.executemany("INSERT INTO unit_facets VALUES (?,?,?,?)",
                             [(unit, d, v, k) for (d, v), k in counts.items()])
        languages = sorted({r["lang"].split("-")[0] for r in rows if r["lang"]})
        self.con.execute("INSERT INTO units VALUES (?,?,?,?,?,?,?,?)",
                         (unit, slot, key, json.dumps(sorted(reads)), reads_digest, json.dumps(sorted(refs)),
                          len(rows), json.dumps(languages)))

    def _insert(self, docs, texts) -> None:
        self.con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?)", docs)
        self.con.executemany("INSERT INTO fts(rowid, body, chars, facets) VALUES (?,?,?,?)", texts)

    def finish(self, code: str, optimize: bool) -> None:
        """The corpus-wide tables from the units': filter values with their counts and
        names, the languages, the row count."""
        con = self.con
        con.execute("DELETE FROM facet_values")
        con.execute(
            "INSERT INTO facet_values SELECT f.dim, f.value, SUM(f.docs), l.label_en, l.label_zh "
            "FROM unit_facets f LEFT JOIN unit_labels l ON l.iri = f.value GROUP BY f.dim, f.value")
        languages, rows = set(), 0
        for langs, n in con.execute("SELECT languages, rows FROM units"):
            languages.update(json.loads(langs))
            rows += n
        con.execute("DELETE FROM meta")
        con.executemany("INSERT INTO meta VALUES (?,?)",
                        [("schema", SCHEMA), ("code", code), ("languages", json.dumps(sorted(languages))),
                         ("rows", str(rows))])
        if optimize:
            con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        con.commit()

    def close(self) -> None:
        self.con.close()


def _temporary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{time.time_ns():x}.{os.getpid()}.tmp")


def _write_whole(tmp: Path, facts: _Facts) -> None:
    """Every row from the facts of the whole corpus, put in by the unit of its subject."""
    keys = {s[len(str(ID) + "study/"):] for s, ts in facts.types.items()
            if C + "Study" in ts and s.startswith(str(ID) + "study/")}
    scope, slots = study_scope(keys), unit_slots(keys)
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in _Collector(facts).rows():
        by_unit[scope(r["iri"]) or BASE_UNIT].append(r)
    index = _Index(tmp, fresh=True)
    try:
        for unit in sorted(by_unit):
            index.put(unit, slots[unit], by_unit[unit])  # no key: never reused by an update
        index.finish(code_digest(), optimize=True)
    finally:
        index.close()


def write_index(path, quads) -> Path:
    """Write the index of *quads* (the whole corpus at once) to *path* atomically; returns
    *path*. ``crkg build`` uses :func:`write_build_index`, which writes the same rows
    study by study."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        _write_whole(tmp, _Facts().add(quads))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def _subject(line: bytes) -> str | None:
    """The subject IRI of an N-Triples line (None for a blank node)."""
    if not line.startswith(b"<"):
        return None
    return line[1:line.index(b">")].decode("utf-8")


def _digest(lines) -> str:
    return hashlib.sha256(b"".join(sorted(lines))).hexdigest()


def _parse(lines):
    import pyoxigraph as ox

    data = b"".join(lines)
    return ox.parse(data, format=ox.RdfFormat.N_TRIPLES) if data else ()


def write_build_index(path, *, studies: dict[str, tuple[Path, str]], other_graphs, shared_lines,
                      previous=None, whole_corpus=None, progress=lambda message: None) -> dict:
    """Write the index of a build to *path* atomically, study by study; returns counts.

    *studies*: study key -> (its graph's sorted N-Triples file, the graph's digest);
    *other_graphs*: the N-Triples files of the other graphs (ontology, inferred, linksets);
    *shared_lines*: the lines the study graphs hold about resources not scoped to them (the
    build's shared context). *previous*: the index of the previous build, if any; its
    units whose inputs did not change are kept as they are (copied file, rows of the
    changed studies deleted and inserted), the others written again. A unit's inputs are
    its study graph, the lines of the other graphs about its resources and the facts of
    every base resource its rows read (the modes' hierarchy, a code's concepts). When
    units read each other (:data:`REVERSE_PREDICATES`, an IRI of another study),
    *whole_corpus* (a callable giving every triple) writes the index at once instead.
    Only one study's rows are in memory at a time. Returns ``{"units": n, "kept": n,
    "written": [unit, …], "whole": bool}`` (the base unit is ``""``).
    """
    import pyoxigraph as ox

    path = Path(path)
    code = code_digest()
    scope = study_scope(studies)
    slots = unit_slots(studies)
    base_lines: dict[str, set[bytes]] = defaultdict(set)
    extra: dict[str, list[bytes]] = defaultdict(list)

    def sort_line(line: bytes, home: str | None) -> None:
        subject = _subject(line)
        if subject is None:
            return
        unit = scope(subject)
        if unit is None:
            base_lines[subject].add(line)
        elif unit != home:
            extra[unit].append(line)

    for graph_path in other_graphs:
        with open(graph_path, "rb") as f:
            for line in f:
                sort_line(line, None)
    for line in shared_lines:
        sort_line(line, None)
    base_key = hashlib.sha256(code.encode() + _digest(line for lines in base_lines.values() for line in lines).encode()).hexdigest()
    keys = {BASE_UNIT: base_key}
    for key, (_graph, digest) in studies.items():
        keys[key] = hashlib.sha256(f"{code}\0{digest}\0{_digest(extra.get(key, ()))}".encode()).hexdigest()

    def reads_digest(reads) -> str:
        digest = hashlib.sha256()
        for iri in sorted(reads):
            digest.update(iri.encode() + b"\0" + _digest(base_lines.get(iri, ())).encode())
        return digest.hexdigest()

    tmp = _temporary(path)
    try:
        kept = _update(tmp, previous, code, keys, slots, scope, reads_digest)
        if kept is None:
            index, kept, fresh = _Index(tmp, fresh=True), {}, True
        else:
            index, fresh = _Index(tmp, fresh=False), False
        try:
            base = _Facts().add(_parse([line for lines in base_lines.values() for line in lines]))
            written = []
            for unit in sorted(keys):
                if unit in kept:
                    continue
                if unit == BASE_UNIT:
                    collector = _Collector(base, owns=lambda s: scope(s) is None, scope=scope)
                    refs = {o for by_object in base.reverse.values() for o in by_object}
                    crossing = {o for o in refs if scope(o) is not None}
                else:
                    graph = studies[unit][0]
                    owns = (lambda u: lambda s: scope(s) == u)(unit)
                    own = _Facts().add(ox.parse(path=str(graph), format=ox.RdfFormat.N_TRIPLES), keep=owns)
                    own.add(_parse(extra.get(unit, ())))
                    collector = _Collector(own, base, owns=owns, scope=scope)
                    refs = crossing = collector.outside_references()
                rows = collector.rows()
                crossing = crossing | {r for r in collector.reads if scope(r) is not None}
                if crossing:
                    if whole_corpus is None:
                        raise ValueError(f"the search index cannot be written study by study: unit {unit!r} "
                                         f"reads {sorted(crossing)[:3]} of another study")
                    progress(f"  search index: {unit or 'the base unit'} reads resources of another study "
                             f"({sorted(crossing)[0]}): indexing the whole corpus at once")
                    index.close()
                    tmp.unlink(missing_ok=True)
                    _write_whole(tmp, _Facts().add(whole_corpus()))
                    os.replace(tmp, path)
                    return {"units": len(keys), "kept": 0, "written": sorted(keys), "whole": True}
                reads = {r for r in collector.reads if scope(r) is None}
                index.put(unit, slots[unit], rows, keys[unit], reads, reads_digest(reads), refs)
                written.append(unit)
                del rows, collector
            index.finish(code, optimize=fresh)
        finally:
            index.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return {"units": len(keys), "kept": len(kept), "written": written, "whole": False}


def _update(tmp: Path, previous, code: str, keys: dict[str, str], slots: dict[str, int], scope,
            reads_digest) -> dict | None:
    """Copy *previous* to *tmp* and take out the units that must be written again; returns
    the units kept, or None when there is nothing to start from (no index, another schema
    or code, the corpus written at once last time)."""
    if previous is None or not Path(previous).is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{previous}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta"))
            if meta.get("schema") != SCHEMA or meta.get("code") != code:
                return None
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None
    import shutil

    shutil.copyfile(previous, tmp)
    index = _Index(tmp, fresh=False)
    try:
        old = index.units()
        if not old or any(not u["key"] for u in old.values()):
            index.close()
            tmp.unlink(missing_ok=True)
            return None
        kept = {}
        for unit, u in old.items():
            still = (u["key"] == keys.get(unit) and u["slot"] == slots.get(unit)
                     and all(scope(r) is None for r in u["reads"] + u["refs"])
                     and u["reads_digest"] == reads_digest(u["reads"]))
            if still:
                kept[unit] = u
            else:
                index.remove(unit, u["slot"])
        index.con.commit()
    finally:
        index.close()
    return kept


def write_store_index(store_dir) -> Path:
    """Index the store at *store_dir* (for stores not made by ``crkg build``, and bench)."""
    import pyoxigraph as ox

    from crkg.store.generation import current

    # the current generation, whether the store swaps by symlink or by pointer file (Windows)
    store = ox.Store.read_only(str(current(store_dir)))
    try:
        return write_index(index_path(store_dir), store.quads_for_pattern(None, None, None, None))
    finally:
        del store
