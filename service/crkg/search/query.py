"""Searching the index (:mod:`crkg.search.index`): ranked hits with highlights and facets.

Ranking is FTS5's ``bm25()`` (Robertson/Spärck Jones BM25, as SQLite documents it),
passages (``field = 'text'``) before labels at equal rank. Filters are facet values
(IRIs; the study by key); all must hold.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from crkg.search.index import SCHEMA
from crkg.search.text import Query, highlight, parse_query

#: Longest search text accepted (characters); longer is a 400 that says so.
MAX_QUERY_CHARS = 1000
#: Terms searched; the rest of a longer text is not searched (and the page says so).
MAX_TERMS = 32
PAGE_SIZE = 50
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
    return [r[0] for r in con.execute("SELECT DISTINCT value FROM facets WHERE dim = ? ORDER BY value", (dim,))]


def search(con, text: str, filters: dict[str, str] | None = None, limit: int = PAGE_SIZE,
           offset: int = 0) -> Result:
    langs = languages(con)
    query = parse_query(text, langs, MAX_TERMS)
    if query.match is None:
        return Result(query, 0)
    where = ["fts MATCH ?"]
    params: list = [query.match]
    for dim, value in (filters or {}).items():
        where.append("EXISTS (SELECT 1 FROM facets f WHERE f.doc = d.id AND f.dim = ? AND f.value = ?)")
        params += [dim, value]
    sql_from = "FROM fts JOIN docs d ON d.id = fts.rowid WHERE " + " AND ".join(where)
    total = con.execute("SELECT COUNT(*) " + sql_from, params).fetchone()[0]
    rows = con.execute(
        "SELECT d.iri, d.kind, d.field, d.study, d.lang, d.text, d.interventions, bm25(fts) AS r "
        + sql_from + " ORDER BY (d.field != 'text'), r, d.id LIMIT ? OFFSET ?",
        params + [limit, offset],
    ).fetchall()
    hits = [Hit(iri, kind, fld, study, lang, txt, highlight(txt, lang, query, langs), json.loads(ints), r)
            for iri, kind, fld, study, lang, txt, ints, r in rows]
    return Result(query, total, hits)
