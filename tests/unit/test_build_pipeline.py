"""crkg build (crkg.pipeline.build): named graphs, dist/ files, determinism, skipping.

Issue 3 item 3: "Deterministic (same sources, same bytes); ... an unchanged rebuild
takes seconds."
"""

from __future__ import annotations

import hashlib
import time

import pyoxigraph as ox
import pytest

from crkg.pipeline.build import build, graph_file_stem, is_up_to_date, manifest_path
from crkg.namespaces import CRKG, INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH, study_graph

STUDY = "xu-chen-shanghai"
EXPECTED_GRAPHS = [str(ONTOLOGY_GRAPH), str(study_graph(STUDY)), str(LINKS_GRAPH), str(INFERRED_GRAPH)]


def test_every_named_graph_is_built_and_non_empty(built):
    for iri in EXPECTED_GRAPHS:
        assert built.result.graphs.get(iri, 0) > 0, iri


def test_store_holds_the_named_graphs(built):
    store = ox.Store.read_only(str(built.store_dir))
    names = {g.value for g in store.named_graphs()}
    assert set(EXPECTED_GRAPHS) <= names
    for iri in EXPECTED_GRAPHS:
        n = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(iri))))
        assert n == built.result.graphs[iri], iri


def test_dist_has_dumps_release_files_and_checksums(built):
    dist = built.dist_dir
    assert (dist / "crkg.nq").stat().st_size > 0
    for iri in EXPECTED_GRAPHS:
        for ext in ("ttl", "jsonld"):
            assert (dist / "graphs" / f"{graph_file_stem(iri)}.{ext}").stat().st_size > 0
    assert (dist / "ontology" / "crkg.ttl").is_file()
    assert (dist / "ontology" / "crkg.owl").is_file()
    assert (dist / "shapes" / "crkg-shapes.ttl").is_file()
    lines = (dist / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert lines
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name


def test_the_release_files_beside_the_store_are_those_of_dist(built):
    """/ontology serves these (Store.release_file): the same bytes as dist/ontology/."""
    from crkg.paths import RELEASE_DIR_NAME, store_release_dir

    beside = store_release_dir(built.store_dir) / RELEASE_DIR_NAME
    names = sorted(p.name for p in (built.dist_dir / RELEASE_DIR_NAME).iterdir())
    assert names and sorted(p.name for p in beside.iterdir()) == names
    for name in names:
        assert (beside / name).read_bytes() == (built.dist_dir / RELEASE_DIR_NAME / name).read_bytes(), name


def test_the_release_files_are_written_without_dist_too(built, tmp_path):
    from crkg.paths import RELEASE_DIR_NAME, RELEASE_TURTLE, store_release_dir
    from crkg.store.embedded import EmbeddedStore

    store_dir = tmp_path / "store"
    build(store_dir=store_dir, dist_dir=None, reason=False, progress=lambda _m: None)
    expected = (built.dist_dir / RELEASE_DIR_NAME / RELEASE_TURTLE).read_bytes()
    assert (store_release_dir(store_dir) / RELEASE_DIR_NAME / RELEASE_TURTLE).read_bytes() == expected
    with EmbeddedStore(store_dir, workers=1) as store:
        assert store.release_file(RELEASE_TURTLE) == expected


def test_nquads_dump_is_the_whole_dataset(built):
    quads = list(ox.parse(path=str(built.dist_dir / "crkg.nq"), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == sum(built.result.graphs.values())


def test_inferred_graph_holds_both_property_chains(built):
    store = ox.Store.read_only(str(built.store_dir))
    for prop in ("inCommunity", "theoreticallyContributesTo"):
        ask = f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?i <{CRKG[prop]}> ?o }} }}"
        assert store.query(ask), prop


def test_inferred_graph_repeats_nothing_asserted(built):
    store = ox.Store.read_only(str(built.store_dir))
    ask = f"""ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }}
                    GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }}"""
    assert not store.query(ask)


def test_same_sources_give_the_same_bytes(built, tmp_path):
    build(store_dir=tmp_path / "store", dist_dir=tmp_path / "dist", progress=lambda _m: None)
    first = sorted(p.relative_to(built.dist_dir) for p in built.dist_dir.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path / "dist") for p in (tmp_path / "dist").rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (built.dist_dir / rel).read_bytes() == (tmp_path / "dist" / rel).read_bytes(), rel


def test_unchanged_rebuild_is_skipped_in_seconds(built):
    assert is_up_to_date(built.store_dir)
    messages = []
    start = time.perf_counter()
    result = build(store_dir=built.store_dir, dist_dir=built.dist_dir, progress=messages.append)
    assert result.skipped
    assert time.perf_counter() - start < 5
    assert "up to date" in messages[-1]
    assert manifest_path(built.store_dir).is_file()


# ------------------------------------------------------------- a second study (issue 3)


def shipped_data(tmp_path):
    """A copy of the repository's data folder (studies, linksets, context)."""
    import shutil

    from crkg.paths import DATA_DIR

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR / "studies", data / "studies")
    shutil.copytree(DATA_DIR / "links", data / "links")
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    return data


def add_readme_example(data):
    """data/README.md's worked example as the study folder ``li-wang-wuhan`` of *data*."""
    from tests.unit.test_studies_readme import example_files

    folder = data / "studies" / "li-wang-wuhan"
    folder.mkdir()
    for name, body in example_files().items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


@pytest.fixture
def two_studies(tmp_path):
    """A data folder holding the shipped study and data/README.md's worked example."""
    data = shipped_data(tmp_path)
    add_readme_example(data)
    return data


def test_a_second_study_folder_is_validated_and_queryable(two_studies, tmp_path):
    from click.testing import CliRunner

    from crkg.cli import cli

    store = tmp_path / "store"
    result = CliRunner().invoke(cli, ["build", "--data", str(two_studies), "--store", str(store), "--no-dist"])
    assert result.exit_code == 0, result.output
    db = ox.Store.read_only(str(store))
    assert ox.NamedNode(str(study_graph("li-wang-wuhan"))) in set(db.named_graphs())
    rows = list(db.query(
        f"SELECT ?i WHERE {{ ?i <{CRKG.inCommunity}> <https://w3id.org/crkg/id/community/li-wang-wuhan/A> }}",
        use_default_graph_as_union=True,
    ))
    assert rows, "the second study's interventions are queryable with inferred inCommunity"


def test_a_nonconforming_study_fails_the_build_naming_file_and_item(two_studies, tmp_path, capsys):
    from crkg.cli import main

    coding = two_studies / "studies" / "li-wang-wuhan" / "coding.yaml"
    text = coding.read_text(encoding="utf-8")
    assert "    performedBy: [actor:committee-staff]\n" in text
    coding.write_text(text.replace("    performedBy: [actor:committee-staff]\n", ""), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--data", str(two_studies), "--store", str(tmp_path / "store"), "--no-dist"])
    assert exit_info.value.code == 1  # documented: 1 = does not conform
    message = capsys.readouterr().err
    assert "li-wang-wuhan/coding.yaml" in message and "A-sandbags" in message
    assert "performedBy" in message
    assert not (tmp_path / "store").exists(), "a failed build must not leave a store behind"


def test_only_changed_studies_are_validated_again(two_studies, tmp_path):
    """Issue 6: validate the change, not the world."""
    import json

    store = tmp_path / "store"
    build(data_dir=two_studies, store_dir=store, dist_dir=None, reason=False, progress=lambda _m: None)
    places = two_studies / "studies" / "li-wang-wuhan" / "places.yaml"
    places.write_text(places.read_text(encoding="utf-8") + "\n# a curator's comment\n", encoding="utf-8")
    coding = two_studies / "studies" / "li-wang-wuhan" / "coding.yaml"
    coding.write_text(coding.read_text(encoding="utf-8").replace("sandbag", "sand-bag", 1), encoding="utf-8")

    messages: list[str] = []
    build(data_dir=two_studies, store_dir=store, dist_dir=None, reason=False, progress=messages.append)
    skipped = [m for m in messages if "not validated again" in m]
    assert skipped == ["  xu-chen-shanghai: unchanged since it last conformed; not validated again"]

    # Other rules (ontology, shapes or validator) revalidate every study.
    manifest = manifest_path(store)
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(dict(recorded, rules_digest="other")), encoding="utf-8")
    messages.clear()
    build(data_dir=two_studies, store_dir=store, dist_dir=None, reason=False, force=True, progress=messages.append)
    assert not [m for m in messages if "not validated again" in m]
