"""Issue 14 items 1-3: a changed study costs its own conversion, validation, closure and
load, not the corpus'; the result is the same as a build from nothing."""

from __future__ import annotations

import pyoxigraph as ox

from crkg.namespaces import CRKG, INFERRED_GRAPH, study_graph
from crkg.pipeline.build import build, read_manifest
from tests.unit.test_build_pipeline import two_studies  # noqa: F401 - a fixture


def _dump(store_dir) -> tuple[int, list[str]]:
    """(all quads, the quads without blank nodes: the store picks its own labels)."""
    store = ox.Store.read_only(str(store_dir))
    quads = list(store)
    plain = [str(q) for q in quads
             if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)]
    return len(quads), sorted(plain)


def test_a_changed_study_re_derives_and_reloads_only_what_depends_on_it(two_studies, tmp_path):  # noqa: F811
    store, dist = tmp_path / "store", tmp_path / "dist"
    first = build(data_dir=two_studies, store_dir=store, dist_dir=dist, progress=lambda _m: None)
    coding = two_studies / "studies" / "li-wang-wuhan" / "coding.yaml"
    coding.write_text(coding.read_text(encoding="utf-8").replace("sandbag", "sand-bag", 1), encoding="utf-8")

    messages: list[str] = []
    build(data_dir=two_studies, store_dir=store, dist_dir=dist, progress=messages.append)
    # the unchanged study is neither converted nor validated again
    assert "  1 of 2 studies unchanged since they were last converted" in messages
    assert "  xu-chen-shanghai: unchanged since it last conformed; not validated again" in messages
    if first.hermit["ran"]:  # the ontology did not change: HermiT's verdict is remembered
        assert "  HermiT: the ontology is unchanged since HermiT found it consistent" in messages
    # the base unit (ontology + linksets) and the unchanged study come from the cache
    assert "  3 reasoning units, 2 reused from the cache" in messages
    # the study's graph and graph/inferred change by their differences; ontology, links, the other study stay
    assert "  0 graphs loaded, 2 changed in place, 3 unchanged graphs kept from the previous store" in messages

    fresh = tmp_path / "fresh"
    build(data_dir=two_studies, store_dir=fresh, dist_dir=tmp_path / "fresh-dist", progress=lambda _m: None)
    assert _dump(store) == _dump(fresh)
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        assert path.read_bytes() == (tmp_path / "fresh-dist" / path.relative_to(dist)).read_bytes(), path
    assert read_manifest(store)["graph_digests"] == read_manifest(fresh)["graph_digests"]


def test_a_removed_study_leaves_no_graph_and_no_inference_behind(two_studies, tmp_path):  # noqa: F811
    import shutil

    store = tmp_path / "store"
    build(data_dir=two_studies, store_dir=store, dist_dir=None, progress=lambda _m: None)
    shutil.rmtree(two_studies / "studies" / "li-wang-wuhan")
    build(data_dir=two_studies, store_dir=store, dist_dir=None, progress=lambda _m: None)
    db = ox.Store.read_only(str(store))
    assert ox.NamedNode(str(study_graph("li-wang-wuhan"))) not in set(db.named_graphs())
    leftover = f"""ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?s <{CRKG.inCommunity}> ?c
                   FILTER(CONTAINS(STR(?s), "li-wang-wuhan")) }} }}"""
    assert not db.query(leftover)


def test_a_study_is_reasoned_with_the_shared_places_another_study_describes(two_studies, tmp_path):  # noqa: F811
    """The second study puts its community in Shanghai, which only the first study places
    in China: the closure joins along the shared city, as one closure of the corpus would."""
    places = two_studies / "studies" / "li-wang-wuhan" / "places.yaml"
    text = places.read_text(encoding="utf-8")
    text = text.replace("  - key: wuhan ", "  - key: shanghai ").replace("withinArea: city:wuhan", "withinArea: city:shanghai")
    text = text.replace("label: {en: Wuhan, zh: 武汉市}", "label: {en: Shanghai, zh: 上海市}")
    places.write_text(text, encoding="utf-8")
    store = tmp_path / "store"
    build(data_dir=two_studies, store_dir=store, dist_dir=None, progress=lambda _m: None)
    db = ox.Store.read_only(str(store))
    community = "https://w3id.org/crkg/id/community/li-wang-wuhan/A"
    ask = f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ <{community}> <{CRKG.withinArea}> <https://w3id.org/crkg/id/country/china> }} }}"
    assert db.query(ask)
