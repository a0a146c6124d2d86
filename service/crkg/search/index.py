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
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections import defaultdict
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
SCHEMA = "2"
FACET_DIMS = ("study", "case", "mode", "goal", "intervention", "code")


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


def collect(quads) -> list[dict]:
    """The rows to index, from any iterable of pyoxigraph quads (a Dataset or a Store)."""
    import pyoxigraph as ox

    types = defaultdict(set)
    out = defaultdict(lambda: defaultdict(set))
    texts = {}  # (subject, predicate, value, language) -> literal: one row per text, whatever its graphs
    for q in quads:
        s, p, o = q.subject, q.predicate.value, q.object
        if not isinstance(s, ox.NamedNode):
            continue
        s = s.value
        if p == RDF_TYPE:
            types[s].add(_value(o))
        elif isinstance(o, ox.Literal):
            if p in TEXT_PREDICATES or p in LABEL_PREDICATES:
                texts[(s, p, o.value, o.language)] = o
        elif isinstance(o, ox.NamedNode):
            out[s][p].add(o.value)

    def one(s, p):
        return out.get(s, {}).get(p, set())

    modes = {x for x, ts in types.items() if C + "ResilienceMode" in ts}
    goals = {x for x, ts in types.items() if C + "ResilienceGoal" in ts}

    def mode_closure(m):
        seen, todo = set(), [m]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo.extend(b for b in one(x, SKOS + "broader") if b in modes)
        return seen

    def study_of(s):
        studies = one(s, C + "inStudy")
        for case in one(s, C + "inCase"):
            studies |= one(case, C + "inStudy")
        if C + "Study" in types.get(s, ()):
            studies = studies | {s}
        return studies

    facets_of: dict[str, dict[str, set]] = {}

    def intervention_facets(i):
        f = {"intervention": {i}, "case": set(one(i, C + "inCase")), "mode": set(), "goal": set()}
        for m in one(i, C + "usesMode"):
            f["mode"] |= mode_closure(m)
        for p in GOAL_PREDICATES:
            f["goal"] |= one(i, p)
        f["study"] = study_of(i)
        return f

    cited_by = defaultdict(set)
    for s, preds in out.items():
        for e in preds.get(C + "hasEvidence", ()):
            cited_by[e].add(s)
    case_of_source = defaultdict(set)
    for s, preds in out.items():
        for src in preds.get(C + "hasSource", ()):
            case_of_source[src].add(s)

    def passage_facets(e):
        f = {"intervention": set(), "case": set(), "mode": set(), "goal": set(), "study": study_of(e)}
        for i in cited_by.get(e, ()):
            if C + "Intervention" in types.get(i, ()):
                fi = facets_of.setdefault(i, intervention_facets(i))
                for k in ("intervention", "case", "mode", "goal"):
                    f[k] |= fi[k]
        for code in one(e, C + "codedAs"):
            f.setdefault("code", set()).add(code)
            for p in MATCHES:
                for concept in one(code, p):
                    if concept in modes:
                        f["mode"] |= mode_closure(concept)
                    elif concept in goals:
                        f["goal"].add(concept)
        for src in one(e, OA + "hasSource"):
            f["case"] |= case_of_source.get(src, set())
        return f

    rows = []
    for (s, p, _v, _l), lit in sorted(texts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or "")):
        ts = types.get(s, set())
        if ts & PASSAGE_TYPES or p in TEXT_PREDICATES:
            kind = next((t[len(C):] for t in (C + "Quote", C + "Observation", C + "Claim") if t in ts), "Evidence")
            facets = facets_of.setdefault(s, passage_facets(s))
            field = "text" if p in TEXT_PREDICATES else "label"
        else:
            if C + "Intervention" in ts:
                kind = "Intervention"
                facets = facets_of.setdefault(s, intervention_facets(s))
            else:
                kind = "label"
                facets = {"study": study_of(s)}
            field = "label"
        if not (s.startswith(str(ID)) or s.startswith(C)):
            continue  # a label of some outside vocabulary term: not ours to search
        rows.append({"iri": s, "kind": kind, "field": field, "lang": lit.language, "text": lit.value,
                     "facets": facets})
    return rows


def collect_labels(rows: list[dict]) -> dict[str, dict[str, str]]:
    """iri -> {language: label} from the label rows (for the filters' option names)."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if r["field"] == "label":
            labels[r["iri"]].setdefault((r["lang"] or "").split("-")[0], r["text"])
    return labels


def write_index(path, quads) -> Path:
    """Write the index of *quads* to *path* atomically; returns *path*."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{time.time_ns():x}.{os.getpid()}.tmp")
    # passages first: a query with very many matches ranks the first ones (query.RANK_WINDOW)
    rows = sorted(collect(quads), key=lambda r: r["field"] != "text")
    con = sqlite3.connect(tmp)
    try:
        # a fresh temporary file, renamed into place only when complete: no journal needed
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.executescript(SCHEMA_SQL)
        study_prefix = str(ID) + "study/"
        languages = sorted({r["lang"].split("-")[0] for r in rows if r["lang"]})
        counts: dict[tuple[str, str], int] = defaultdict(int)
        docs, texts = [], []
        for n, r in enumerate(rows, start=1):
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
            if len(docs) >= 5000 or n == len(rows):
                con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?)", docs)
                con.executemany("INSERT INTO fts(rowid, body, chars, facets) VALUES (?,?,?,?)", texts)
                docs, texts = [], []
        labels = collect_labels(rows)

        def label(v, lang):
            found = labels.get(v, {})
            return found.get(lang) or found.get("en") or found.get("zh") or found.get("") or None

        con.executemany("INSERT INTO facet_values VALUES (?,?,?,?,?)",
                        [(d, v, k, label(v, "en"), label(v, "zh")) for (d, v), k in sorted(counts.items())])
        con.executemany("INSERT INTO meta VALUES (?,?)",
                        [("schema", SCHEMA), ("languages", json.dumps(languages)), ("rows", str(len(rows)))])
        con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        con.commit()
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, path)
    return path


def write_store_index(store_dir) -> Path:
    """Index the store at *store_dir* (for stores not made by ``crkg build``, and bench)."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_dir))
    try:
        return write_index(index_path(store_dir), store.quads_for_pattern(None, None, None, None))
    finally:
        del store
