"""Which store generation is current, on Windows file semantics too (issue 15 item 2).

Windows gives most users no right to make symbolic links, and will not rename or delete a
folder a running server or query worker has a file open in. ``crkg.store.generation``
then names the current generation in a pointer file; these tests force that mode on
Linux (``CRKG_STORE_SWAP=pointer``, or the link probe answering no) and run the build,
a rebuild under an open store, ``crkg query`` and the side artefacts through it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from crkg.errors import CrkgError
from crkg.store import generation
from crkg.store.embedded import EmbeddedStore, write_store
from tests.unit.test_build_pipeline import two_studies  # noqa: F401 - a fixture

GRAPH = "https://w3id.org/crkg/graph/test"
QUIET = dict(progress=lambda _m: None)


def _nt(label: str) -> bytes:
    return f'<https://w3id.org/crkg/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "{label}" .\n'.encode()


def _labels(store: EmbeddedStore) -> list[str]:
    # a join, so the guard does not answer it in this process: the workers must move
    query = ("SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l . "
             "?s ?p ?o } ORDER BY ?l")
    body = store.query(query, media_type="text/tab-separated-values").body
    return sorted({line.strip('"') for line in body.decode().splitlines()[1:]})


def _generations(store_path: Path) -> list[str]:
    return sorted(p.name for p in store_path.parent.iterdir()
                  if p.is_dir() and not p.is_symlink() and p.name.startswith(f".{store_path.name}."))


@pytest.fixture
def pointer_mode(monkeypatch):
    """As on Windows without the symbolic-link privilege: the swap uses the pointer file."""
    monkeypatch.setenv("CRKG_STORE_SWAP", "pointer")


def _move_on(store: EmbeddedStore) -> None:
    time.sleep(1.1)  # EmbeddedStore looks at the store path at most once a second


# ------------------------------------------------------------------ the pointer file itself


def test_pointer_mode_names_the_generation_in_a_file_not_a_link(pointer_mode, tmp_path):
    path = tmp_path / "store"
    first = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    assert path.is_dir() and not path.is_symlink()
    assert (path / generation.POINTER_FILE).read_text(encoding="utf-8").strip() == first.name
    assert generation.current(path) == first.resolve()
    assert not list(path.glob("*.tmp")), "the pointer is written beside and replaced, nothing left"


def test_auto_mode_uses_the_pointer_where_links_cannot_be_made(tmp_path, monkeypatch):
    monkeypatch.setattr(generation, "symlinks_work", lambda _folder: False)
    path = tmp_path / "store"
    write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    assert generation.is_pointer_folder(path)


def test_auto_mode_keeps_the_symbolic_link_where_it_works(tmp_path):
    path = tmp_path / "store"
    first = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    assert path.is_symlink() and generation.current(path) == first.resolve()
    assert generation.symlinks_work(tmp_path)


def test_an_open_store_moves_to_the_new_generation_in_pointer_mode(pointer_mode, tmp_path):
    path = tmp_path / "store"
    first = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    with EmbeddedStore(path, workers=1) as store:
        assert _labels(store) == ["one"]
        second = write_store(path, [(GRAPH, _nt("two"), "application/n-triples")])
        _move_on(store)
        assert _labels(store) == ["two"]
        assert store.pool_size()["fast"] == 1
        # the generation just replaced stays (the open store's worker had it open)
        assert first.is_dir() and second.is_dir()
        third = write_store(path, [(GRAPH, _nt("three"), "application/n-triples")])
        _move_on(store)
        assert _labels(store) == ["three"]
    assert _generations(path) == sorted([second.name, third.name]), "older ones are removed"


def test_switching_modes_keeps_the_store_readable(tmp_path, monkeypatch):
    path = tmp_path / "store"
    write_store(path, [(GRAPH, _nt("link"), "application/n-triples")])
    assert path.is_symlink()
    monkeypatch.setenv("CRKG_STORE_SWAP", "pointer")
    second = write_store(path, [(GRAPH, _nt("pointer"), "application/n-triples")])
    assert generation.is_pointer_folder(path) and generation.current(path) == second.resolve()
    monkeypatch.setenv("CRKG_STORE_SWAP", "symlink")
    third = write_store(path, [(GRAPH, _nt("link again"), "application/n-triples")])
    assert path.is_symlink() and generation.current(path) == third.resolve()
    with EmbeddedStore(path, workers=1) as store:
        assert _labels(store) == ["link again"]
    assert len(_generations(path)) == 2, "the pointer folder set aside goes with the old ones"


def test_a_plain_store_folder_is_its_own_generation_and_is_moved_aside(pointer_mode, tmp_path):
    import pyoxigraph as ox

    path = tmp_path / "store"
    ox.Store(str(path)).flush()  # made by hand, or by an older crkg
    assert generation.current(path) == path.resolve()
    write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    assert generation.is_pointer_folder(path)
    assert any(".replaced." in name for name in _generations(path))


def test_a_pointer_naming_anything_but_a_generation_is_refused(pointer_mode, tmp_path):
    path = tmp_path / "store"
    write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    for bad in ("../elsewhere", "other", f".store.x{os.sep}..{os.sep}..", ".store.x.partial"):
        (path / generation.POINTER_FILE).write_text(bad, encoding="utf-8")
        with pytest.raises(CrkgError, match="not a generation"):
            generation.current(path)


def test_an_unknown_swap_mode_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CRKG_STORE_SWAP", "hardlink")
    with pytest.raises(CrkgError, match="CRKG_STORE_SWAP"):
        write_store(tmp_path / "store", [(GRAPH, _nt("one"), "application/n-triples")])


# ---------------------------------------------- an old generation still open (Windows)


@pytest.mark.parametrize("refuse", ["rename", "rmtree"])
def test_an_old_generation_that_cannot_be_deleted_is_left_for_the_next_build(pointer_mode, tmp_path,
                                                                             monkeypatch, refuse):
    """Windows refuses to rename or delete a folder a process has a file open in
    (PermissionError): the swap still succeeds, and the next build removes it."""
    path = tmp_path / "store"
    first = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    second = write_store(path, [(GRAPH, _nt("two"), "application/n-triples")])

    module = generation.os if refuse == "rename" else generation.shutil
    real = getattr(module, refuse)

    def denied(folder, *args, **kwargs):
        if Path(folder).name.startswith(first.name):  # only the generation "still open"
            raise PermissionError(13, "The process cannot access the file because it is being used")
        return real(folder, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(module, refuse, denied)
        third = write_store(path, [(GRAPH, _nt("three"), "application/n-triples")])
    assert generation.current(path) == third.resolve()
    left = [n for n in _generations(path) if n not in (second.name, third.name)]
    assert left and left[0].startswith(first.name), "the open generation is left, not fatal"
    with EmbeddedStore(path, workers=1) as store:
        assert _labels(store) == ["three"]
    fourth = write_store(path, [(GRAPH, _nt("four"), "application/n-triples")])
    assert _generations(path) == sorted([third.name, fourth.name]), "the next build removed it"


def test_remove_old_reports_what_it_left(tmp_path, monkeypatch):
    path = tmp_path / "store"
    write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    stray = tmp_path / ".store.0.1"
    stray.mkdir()

    real = os.rename

    def denied(folder, *args):
        if Path(folder) == stray:
            raise PermissionError(13, "in use")
        return real(folder, *args)

    monkeypatch.setattr(generation.os, "rename", denied)
    assert generation.remove_old(path, keep=()) == [stray]
    monkeypatch.undo()
    assert generation.remove_old(path, keep=()) == [] and not stray.exists()


# ------------------------------------------------- the build and its readers, pointer mode


def test_build_rebuild_query_and_side_files_in_pointer_mode(pointer_mode, two_studies, tmp_path):  # noqa: F811
    from click.testing import CliRunner

    from crkg.cli import cli
    from crkg.paths import RELEASE_DIR_NAME, RELEASE_TURTLE, store_release_dir, store_side_dir
    from crkg.pipeline.artefacts import build_info, void_counts
    from crkg.pipeline.build import build, is_up_to_date
    from crkg.search.index import index_path

    store_path = tmp_path / "store"
    build(data_dir=two_studies, store_dir=store_path, dist_dir=None, reason=False, **QUIET)
    assert generation.is_pointer_folder(store_path) and not store_path.is_symlink()
    first = generation.current(store_path)
    assert store_side_dir(store_path).parent == first
    assert void_counts(store_path)["graphs"] and build_info(store_path)["options"]["reason"] is False
    assert (store_release_dir(store_path) / RELEASE_DIR_NAME / RELEASE_TURTLE).is_file()
    assert index_path(store_path).is_file() and index_path(store_path).parent == first / "crkg-side"
    assert is_up_to_date(store_path, two_studies, reason=False)

    query = ('SELECT ?o WHERE { ?s ?p ?o . ?s a ?t FILTER(CONTAINS(STR(?o), "sand-bag")) }')
    with EmbeddedStore(store_path, workers=1) as store:
        def hits() -> int:
            body = store.query(query, media_type="text/tab-separated-values").body
            return len(body.decode().splitlines()) - 1

        assert hits() == 0
        coding = two_studies / "studies" / "li-wang-wuhan" / "coding.yaml"
        text = coding.read_text(encoding="utf-8")
        assert "sandbag" in text
        coding.write_text(text.replace("sandbag", "sand-bag"), encoding="utf-8")
        build(data_dir=two_studies, store_dir=store_path, dist_dir=None, reason=False, **QUIET)
        second = generation.current(store_path)
        assert second != first and first.is_dir(), "the open store's generation stays"
        _move_on(store)
        assert hits() > 0, "the open store moved to the new generation"
        assert store_side_dir(store_path).parent == second and index_path(store_path).is_file()

    result = CliRunner().invoke(cli, ["query", "--store", str(store_path), query])
    assert result.exit_code == 0, result.output
    assert "sand-bag" in result.output
    # an unchanged rebuild reads the manifest through the pointer folder and is skipped
    messages: list[str] = []
    build(data_dir=two_studies, store_dir=store_path, dist_dir=None, reason=False, progress=messages.append)
    assert "up to date" in messages[-1]


def test_release_file_follows_the_pointer(pointer_mode, tmp_path):
    """``Store.release_file`` (what ``/ontology`` serves) resolves through the module."""
    from crkg.paths import RELEASE_DIR_NAME, store_release_dir

    path = tmp_path / "store"
    first = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
    release = first / "crkg-side" / "release" / RELEASE_DIR_NAME
    release.mkdir(parents=True)
    (release / "crkg.ttl").write_bytes(b"# first\n")
    assert store_release_dir(path) == first / "crkg-side" / "release"
    with EmbeddedStore(path, workers=1) as store:
        assert store.release_file("crkg.ttl") == b"# first\n"
        shutil.rmtree(first / "crkg-side")
        second = write_store(path, [(GRAPH, _nt("two"), "application/n-triples")])
        (second / "crkg-side" / "release" / RELEASE_DIR_NAME).mkdir(parents=True)
        (second / "crkg-side" / "release" / RELEASE_DIR_NAME / "crkg.ttl").write_bytes(b"# second\n")
        assert store.release_file("crkg.ttl") == b"# second\n"


def test_void_counts_follow_the_pointer_to_a_new_generation(pointer_mode, tmp_path):
    """VoID keeps the counts per generation folder: a rebuild behind a pointer folder
    (whose own path never changes) must give the new build's counts."""
    import json

    from crkg.pipeline.artefacts import VOID_COUNTS_FILE
    from crkg.web import void
    from crkg.web.app import create_app
    from crkg.web.config import TestConfig

    def generation_with(count: int) -> Path:
        folder = write_store(path, [(GRAPH, _nt("one"), "application/n-triples")])
        (folder / "crkg-side").mkdir(exist_ok=True)
        (folder / "crkg-side" / VOID_COUNTS_FILE).write_text(json.dumps({"graphs": {GRAPH: count}}),
                                                            encoding="utf-8")
        return folder

    path = tmp_path / "store"
    generation_with(1)
    app = create_app(TestConfig(STORE_DIR=str(path)))
    try:
        with app.test_request_context("/.well-known/void"):
            assert void._build_counts()["graphs"] == {GRAPH: 1}
            generation_with(2)
            assert void._build_counts()["graphs"] == {GRAPH: 2}
    finally:
        app.extensions["crkg.store"].close()
