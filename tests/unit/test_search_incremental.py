"""The search index written study by study (crkg.search.index.write_build_index).

Issue 14 ("one new study added in seconds") with issue 12's index: ``crkg build`` copies
the previous index and indexes again only the studies whose inputs changed; the result
must be the index a build from nothing writes, row for row, and answer every search the
same (bench/FINDINGS.md, finding 20).
"""

from __future__ import annotations

import shutil
import sqlite3

import pyoxigraph as ox
import pytest

from crkg.namespaces import CRKG, ID
from crkg.pipeline.build import build, split_shared
from crkg.search.index import index_path, write_build_index, write_index
from crkg.search.query import connect, search
from tests.unit.test_build_pipeline import add_readme_example, shipped_data

C = str(CRKG)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
STUDY = "xu-chen-shanghai"
ADDED = "li-wang-wuhan"

#: (text, filters): Chinese by bigram and by character, English by stem, every filter.
SEARCHES = [
    ("认可", {}), ("志愿", {}), ("社区", {}), ("居", {}), ("volunteers", {}), ("sandbags", {}), ("neighbours", {}),
    ("community", {}), ("flood", {}), ("trust", {}), ("社区", {"study": STUDY}),
    ("community", {"study": ADDED}), ("社区", {"mode": C + "TrustScopeExpansion"}),
    ("volunteers", {"goal": C + "PsychologicalResilience"}), ("the", {}),
]


def _answers(path) -> list:
    con = connect(path)
    try:
        out = []
        for text, filters in SEARCHES:
            for offset in (0, 50):
                r = search(con, text, filters, offset=offset)
                out.append((text, sorted(filters.items()), offset, r.total, r.ranked,
                            [(h.iri, h.kind, h.field, h.study, h.lang, h.text, h.pieces, h.interventions, h.rank)
                             for h in r.hits]))
        return out
    finally:
        con.close()


TABLES = {
    "docs": "SELECT * FROM docs ORDER BY id",
    "fts": "SELECT rowid, body, chars, facets FROM fts ORDER BY rowid",
    "facet_values": "SELECT * FROM facet_values ORDER BY dim, value",
    "unit_facets": "SELECT * FROM unit_facets ORDER BY unit, dim, value",
    "unit_labels": "SELECT * FROM unit_labels ORDER BY iri",
    "meta": "SELECT * FROM meta WHERE key != 'code' ORDER BY key",
}


def _rows(path, tables=TABLES) -> dict:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in tables.items()}
    finally:
        con.close()


def _store_quads(store_dir):
    store = ox.Store.read_only(str(store_dir))
    try:
        return list(store.quads_for_pattern(None, None, None, None))
    finally:
        del store


@pytest.fixture
def data(tmp_path):
    """The shipped study and its linksets (the README's worked example is added later)."""
    return shipped_data(tmp_path)


def test_a_study_added_and_changed_gives_the_index_of_a_build_from_nothing(data, tmp_path):
    store = tmp_path / "store"
    build(data_dir=data, store_dir=store, dist_dir=None, progress=lambda _m: None)
    folder = add_readme_example(data)

    for step in ("added", "changed"):
        if step == "changed":  # a passage of the added study edited: its rows change, not the other's
            coding = folder / "coding.yaml"
            text = coding.read_text(encoding="utf-8")
            assert "(the passage, verbatim)" in text
            coding.write_text(text.replace("(the passage, verbatim)", "Neighbours filled sandbags at night"),
                              encoding="utf-8")
        messages: list[str] = []
        build(data_dir=data, store_dir=store, dist_dir=None, progress=messages.append)
        said = [m for m in messages if "search index:" in m]
        # the added (then changed) study indexed again, the shipped study kept
        # (the base too when the study brings lines about shared places)
        assert len(said) == 1 and ADDED in said[0] and STUDY not in said[0] and " 0 kept" not in said[0], said

        fresh = tmp_path / f"fresh-{step}"
        build(data_dir=data, store_dir=fresh, dist_dir=None, force=True, progress=lambda _m: None)
        updated, scratch = index_path(store), index_path(fresh)
        assert _rows(updated) == _rows(scratch), step
        assert _answers(updated) == _answers(scratch), step
        # and the same rows as the index of the whole store at once
        whole = write_index(tmp_path / f"whole-{step}.sqlite", _store_quads(store))
        assert _rows(updated) == _rows(whole), step

    con = connect(index_path(store))
    try:
        assert search(con, "neighbour", {"study": ADDED}).total == 1
        assert search(con, "verbatim").total == 0
        assert search(con, "认可", {"study": STUDY}).total > 0
    finally:
        con.close()


def test_a_study_removed_takes_its_rows_out(data, tmp_path):
    store = tmp_path / "store"
    folder = add_readme_example(data)
    build(data_dir=data, store_dir=store, dist_dir=None, reason=False, progress=lambda _m: None)
    con = connect(index_path(store))
    assert search(con, "sandbags", {"study": ADDED}).total > 0
    con.close()
    shutil.rmtree(folder)
    build(data_dir=data, store_dir=store, dist_dir=None, reason=False, progress=lambda _m: None)
    fresh = tmp_path / "fresh"
    build(data_dir=data, store_dir=fresh, dist_dir=None, reason=False, force=True, progress=lambda _m: None)
    assert _rows(index_path(store)) == _rows(index_path(fresh))
    con = connect(index_path(store))
    try:
        assert search(con, "sandbags").total == 0
    finally:
        con.close()


# ------------------------------------------------------------- write_build_index on small graphs


def _nt(triples) -> bytes:
    lines = []
    for s, p, o in triples:
        obj = o.replace('"', "") if o.startswith("<") else f'"{o}"@en'
        lines.append(f"<{s}> <{p}> {obj} .\n".encode())
    return b"".join(sorted(lines))


def _study(key, extra=()):
    q, i = f"{ID}quote/{key}/q", f"{ID}intervention/{key}/i"
    return [
        (f"{ID}study/{key}", RDF_TYPE, f"<{C}Study>"),
        (q, RDF_TYPE, f"<{C}Quote>"), (q, C + "inStudy", f"<{ID}study/{key}>"),
        (q, C + "text", f"volunteers of {key} stood guard"),
        (i, RDF_TYPE, f"<{C}Intervention>"), (i, C + "hasEvidence", f"<{q}>"),
        (i, C + "usesMode", f"<{C}TrustScopeExpansion>"), (i, C + "inStudy", f"<{ID}study/{key}>"),
        *extra,
    ]


def _write(tmp_path, name, studies, previous=None):
    import hashlib

    folder = tmp_path / name
    folder.mkdir()
    ontology = folder / "ontology.nt"
    ontology.write_bytes(_nt([(C + "TrustScopeExpansion", RDF_TYPE, f"<{C}ResilienceMode>"),
                              (C + "TrustScopeExpansion", "http://www.w3.org/2000/01/rdf-schema#label", "trust")]))
    graphs, everything, shared = {}, ontology.read_bytes(), []
    for key, triples in studies.items():
        path = folder / f"{key}.nt"
        path.write_bytes(_nt(triples))
        everything += path.read_bytes()
        graphs[key] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
        shared += split_shared(path.read_bytes().splitlines(keepends=True), key)[0]
    messages = []
    counts = write_build_index(folder / "search.sqlite", studies=graphs, other_graphs=[ontology], shared_lines=shared,
                               previous=previous, progress=messages.append,
                               whole_corpus=lambda: ox.parse(everything, format=ox.RdfFormat.N_TRIPLES))
    return folder / "search.sqlite", counts, messages, everything


def test_only_changed_units_are_indexed_again(tmp_path):
    first, counts, _m, _all = _write(tmp_path, "a", {"s1": _study("s1"), "s2": _study("s2")})
    assert counts == {"units": 3, "kept": 0, "written": ["", "s1", "s2"], "whole": False}
    second, counts, _m, everything = _write(tmp_path, "b", {"s1": _study("s1"), "s2": _study("s2"),
                                                            "s3": _study("s3")}, previous=first)
    assert counts == {"units": 4, "kept": 3, "written": ["s3"], "whole": False}
    whole = write_index(tmp_path / "whole.sqlite", ox.parse(everything, format=ox.RdfFormat.N_TRIPLES))
    assert _rows(second) == _rows(whole)


def test_a_change_to_what_a_study_reads_indexes_it_again(tmp_path):
    """The mode hierarchy is the ontology's (the base unit): a study's mode facets follow it."""
    first, _c, _m, _all = _write(tmp_path, "a", {"s1": _study("s1")})
    broader = (C + "TrustScopeExpansion", "http://www.w3.org/2004/02/skos/core#broader", f"<{C}Trust>")
    mode = (C + "Trust", RDF_TYPE, f"<{C}ResilienceMode>")
    second, counts, _m, everything = _write(tmp_path, "b", {"s1": _study("s1", [broader, mode])}, previous=first)
    assert counts["written"] == ["", "s1"]  # the study (its own graph changed) and the base
    con = connect(second)
    try:
        assert search(con, "volunteers", {"mode": C + "Trust"}).total == 1
    finally:
        con.close()
    whole = write_index(tmp_path / "whole.sqlite", ox.parse(everything, format=ox.RdfFormat.N_TRIPLES))
    assert _rows(second) == _rows(whole)


def test_a_study_citing_another_studys_passage_is_indexed_with_the_whole_corpus(tmp_path):
    cite = (f"{ID}intervention/s2/i", C + "hasEvidence", f"<{ID}quote/s1/q>")
    path, counts, messages, everything = _write(tmp_path, "a", {"s1": _study("s1"), "s2": _study("s2", [cite])})
    assert counts["whole"] and any("whole corpus" in m for m in messages)
    whole = write_index(tmp_path / "whole.sqlite", ox.parse(everything, format=ox.RdfFormat.N_TRIPLES))
    assert _rows(path) == _rows(whole)
    con = connect(path)
    try:  # s1's passage has s2's intervention among its facets, as in the whole corpus
        assert search(con, "s1", {"study": "s1"}).hits[0].interventions == [f"{ID}intervention/s1/i",
                                                                            f"{ID}intervention/s2/i"]
    finally:
        con.close()
