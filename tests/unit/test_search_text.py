"""Words of the full-text index (crkg.search.text) and an index written from a few quads
(crkg.search.index, crkg.search.query): CJK bigrams, English stems, query text that is
never index syntax, highlights, filters, the atomic write."""

from __future__ import annotations

import sqlite3

import pyoxigraph as ox
import pytest

from crkg.search.index import write_index
from crkg.search.query import connect, search
from crkg.search.text import bigrams, highlight, index_text, parse_query

CRKG = "https://w3id.org/crkg/ontology#"
ID = "https://w3id.org/crkg/id/"


def test_chinese_is_indexed_as_bigrams_and_characters():
    body, chars = index_text("居民认可，志愿者", "zh")
    assert body.split() == ["居民", "民认", "认可", "志愿", "愿者"]
    assert chars.split() == list("居民认可志愿者")
    assert bigrams("韧") == ["韧"]


def test_english_is_indexed_by_stem_other_languages_by_word():
    assert index_text("Volunteers volunteered", "en")[0] == "volunt volunt"
    assert index_text("Volunteers", "xx")[0] == "volunteers"


@pytest.mark.parametrize("text", ['"', '*', 'NEAR(a b)', 'a OR b', 'x AND NOT y', '^x', 'col : x', '"a" "b"'])
def test_query_text_is_only_ever_quoted_words(text):
    query = parse_query(text, ["en"], 32)
    if query.match:
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE fts USING fts5(body, chars)")
        con.execute("SELECT * FROM fts WHERE fts MATCH ?", (query.match,)).fetchall()  # no syntax error
        for term in query.match.split(" AND "):
            assert term.startswith(("body : ", "chars : "))


def test_terms_past_the_limit_are_counted_not_searched():
    query = parse_query(" ".join(f"w{k}" for k in range(40)), [], 32)
    assert query.dropped == 8 and query.match.count(" AND ") == 31


def test_highlight_marks_stems_and_chinese_runs():
    query = parse_query("volunteers 认可", ["en", "zh"], 32)
    pieces = highlight("A volunteer said: 居民认可我们。", "en", query, ["en", "zh"])
    assert [p for p, marked in pieces if marked] == ["volunteer", "认可"]
    assert "".join(p for p, _ in pieces) == "A volunteer said: 居民认可我们。"


def _quads():
    def q(s, p, o):
        return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, ox.NamedNode("https://w3id.org/crkg/graph/study/t"))

    study, e1, e2, i = ID + "study/t", ID + "quote/t/a", ID + "quote/t/b", ID + "intervention/t/x"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    return [
        q(study, rdf_type, ox.NamedNode(CRKG + "Study")),
        q(e1, rdf_type, ox.NamedNode(CRKG + "Quote")),
        q(e1, CRKG + "inStudy", ox.NamedNode(study)),
        q(e1, CRKG + "text", ox.Literal("居民对我们的工作更加认可了", language="zh")),
        q(e2, rdf_type, ox.NamedNode(CRKG + "Quote")),
        q(e2, CRKG + "inStudy", ox.NamedNode(study)),
        q(e2, CRKG + "text", ox.Literal("The volunteers stood guard.", language="en")),
        q(i, rdf_type, ox.NamedNode(CRKG + "Intervention")),
        q(i, CRKG + "hasEvidence", ox.NamedNode(e1)),
        q(i, CRKG + "usesMode", ox.NamedNode(CRKG + "TrustScopeExpansion")),
    ]


def test_index_search_and_filters(tmp_path):
    path = write_index(tmp_path / "store.search.sqlite", _quads())
    assert [p.name for p in tmp_path.iterdir()] == ["store.search.sqlite"]  # no temporary left
    con = connect(path)
    try:
        hit = search(con, "认可")
        assert [h.iri for h in hit.hits] == [ID + "quote/t/a"] and hit.hits[0].interventions == [ID + "intervention/t/x"]
        assert [h.iri for h in search(con, "volunteer").hits] == [ID + "quote/t/b"]
        assert search(con, "认可", {"mode": CRKG + "TrustScopeExpansion"}).total == 1
        assert search(con, "volunteer", {"mode": CRKG + "TrustScopeExpansion"}).total == 0
        assert search(con, "认可", {"study": "t"}).total == 1
        assert search(con, "认", {}).total == 1
        assert search(con, "认可度").total == 0
    finally:
        con.close()
