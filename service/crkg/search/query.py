"""Searching the index (:mod:`crkg.search.index`): ranked hits with highlights and facets.

Ranking is FTS5's ``bm25()`` (Robertson/Spärck Jones BM25, as SQLite documents it),
over at most :data:`RANK_WINDOW` matches. Filters are facet values (IRIs; the study by
key); all must hold.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from crkg.search.index import SCHEMA, facet_token
from crkg.search.text import Query, highlight, parse_query

#: Longest search text accepted (characters); longer is a 400 that says so.
MAX_QUERY_CHARS = 1000
#: Terms searched; the rest of a longer text is not searched (and the page says so).
MAX_TERMS = 32
PAGE_SIZE = 50
#: Most matches ranked by bm25 (the first ones in index order, passages first); past it,
#: the page says how many of the matches were ranked. Keeps a query ≤ 50 ms at 1e6
#: triples (bench/RESULTS.md, "Full-text search").
RANK_WINDOW = 5000
FILTER_DIMS = ("study", "case", "mode", "goal")


class IndexMissing(RuntimeError):
    pass


@dataclass
class Hit:
    iri: str
    kind: str
    field: str
    study: str | None
    lang: str | None
    text: str
    pieces: list
    interventions: list
    rank: float


@dataclass
class Result:
    query: Query
    total: int
    hits: list = field(default_factory=list)
    #: how many of the matches were ranked (all of them, up to RANK_WINDOW)
    ranked: int = 0


def connect(path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise IndexMissing(f"no search index at {path}: run `crkg build` (it writes the index beside the store)")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if not row or row[0] != SCHEMA:
        con.close()
        raise IndexMissing(f"the search index at {path} is of another crkg version: run `crkg build --force`")
    return con


def languages(con) -> list[str]:
    row = con.execute("SELECT value FROM meta WHERE key = 'languages'").fetchone()
    return json.loads(row[0]) if row else []


def facet_values(con, dim: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT value FROM facet_values WHERE dim = ? ORDER BY value", (dim,))]


def facet_options(con, dim: str, lang: str, prefix: str = "") -> list[tuple[str, str]]:
    """(value, label in *lang*) of the values of *dim* that start with *prefix* (a study's
    cases: ``…/id/case/{study}/``), by label: the filters' options."""
    column = "label_zh" if lang == "zh" else "label_en"
    rows = con.execute(
        f"SELECT value, COALESCE({column}, label_en, label_zh, value) FROM facet_values "
        "WHERE dim = ? AND value >= ? AND value < ?", (dim, prefix, prefix + "\U0010ffff")).fetchall()
    return sorted(rows, key=lambda r: (r[1].lower(), r[0]))


def has_facet(con, dim: str, value: str) -> bool:
    return con.execute("SELECT 1 FROM facet_values WHERE dim = ? AND value = ?", (dim, value)).fetchone() is not None


def search(con, text: str, filters: dict[str, str] | None = None, limit: int = PAGE_SIZE,
           offset: int = 0) -> Result:
    langs = languages(con)
    query = parse_query(text, langs, MAX_TERMS)
    if query.match is None:
        return Result(query, 0)
    match = query.match
    for dim, value in (filters or {}).items():
        match += f' AND facets : "{facet_token(dim, value)}"'
    where, params = "fts MATCH ?", [match]
    total = con.execute(f"SELECT COUNT(*) FROM fts WHERE {where}", params).fetchone()[0]
    ranked_where, ranked_params = where, list(params)
    if total > RANK_WINDOW:
        # bm25 costs a few microseconds per match: rank the first RANK_WINDOW matches
        # (passages are indexed before labels) and say so (Result.ranked)
        (last,) = con.execute(f"SELECT rowid FROM fts WHERE {where} ORDER BY rowid LIMIT 1 OFFSET ?",
                              params + [RANK_WINDOW - 1]).fetchone()
        ranked_where += " AND rowid <= ?"
        ranked_params.append(last)
    ranked = con.execute(
        # weights: body, chars; the facet words do not count towards the rank
        f"SELECT rowid, bm25(fts, 1.0, 1.0, 0.0) AS r FROM fts WHERE {ranked_where} ORDER BY r, rowid LIMIT ? OFFSET ?",
        ranked_params + [limit, offset],
    ).fetchall()
    docs = {}
    if ranked:
        marks = ",".join("?" * len(ranked))
        for row in con.execute(
            f"SELECT id, iri, kind, field, study, lang, text, interventions FROM docs WHERE id IN ({marks})",
            [r for r, _ in ranked],
        ):
            docs[row[0]] = row[1:]
    hits = []
    for rowid, rank in ranked:
        iri, kind, fld, study, lang, txt, ints = docs[rowid]
        hits.append(Hit(iri, kind, fld, study, lang, txt, highlight(txt, lang, query, langs), json.loads(ints), rank))
    return Result(query, total, hits, min(total, RANK_WINDOW))
