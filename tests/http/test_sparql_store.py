"""The embedded store under the endpoint: write_store's atomic swap, load(), live reload.

ARCHITECTURE.md: ``crkg serve`` opens the built store read-only; a build must never
leave a reader looking at a half-written store.
"""

from __future__ import annotations

import os
import time

import pytest

from crkg.errors import CrkgError
from crkg.store.embedded import EmbeddedStore, write_store

G1, G2 = "http://example.org/graph/one", "http://example.org/graph/two"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def triples(n: int, graph: str = "x") -> bytes:
    return "".join(f"<http://example.org/{graph}/{i}> <http://example.org/p> \"{i}\" .\n" for i in range(n)).encode()


def count(store: EmbeddedStore, **kwargs) -> int:
    body = store.query(COUNT, media_type="text/csv", **kwargs).body.decode()
    return int(body.splitlines()[1])


def test_write_store_swaps_a_link_and_keeps_one_previous_generation(tmp_path):
    path = tmp_path / "store"
    first = write_store(path, [(G1, triples(3), "text/turtle")])
    assert path.is_symlink() and path.resolve() == first.resolve()
    second = write_store(path, [(G1, triples(4), "text/turtle")])
    third = write_store(path, [(G1, triples(5), "text/turtle")])
    assert path.resolve() == third.resolve()
    assert second.is_dir()  # a server may still read it
    assert not first.exists()  # older generations are removed
    generations = [p for p in tmp_path.iterdir() if p.name.startswith(".store.")]
    assert len(generations) == 2


def test_write_store_replaces_a_real_directory(tmp_path):
    path = tmp_path / "store"
    path.mkdir()
    (path / "junk").write_text("not a store")
    write_store(path, [(G1, triples(2), "application/n-triples")])
    assert path.is_symlink()
    with EmbeddedStore(path, workers=1) as store:
        assert count(store) == 2


def test_bad_data_fails_and_leaves_the_old_store(tmp_path):
    path = tmp_path / "store"
    good = write_store(path, [(G1, triples(3), "text/turtle")])
    with pytest.raises(CrkgError, match=G2):
        write_store(path, [(G1, triples(3), "text/turtle"), (G2, b"<not turtle", "text/turtle")])
    with pytest.raises(CrkgError, match="media type"):
        write_store(path, [(G1, b"x", "text/plain-nonsense")])
    assert path.resolve() == good.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".store." + good.name.split(".store.")[1], "store"])


def test_a_running_store_moves_to_a_rebuilt_one(tmp_path):
    path = tmp_path / "store"
    write_store(path, [(G1, triples(3), "text/turtle")])
    with EmbeddedStore(path, workers=2) as store:
        assert count(store) == 3
        assert store.named_graphs() == [G1]
        write_store(path, [(G1, triples(3), "text/turtle"), (G2, triples(7, "y"), "text/turtle")])
        time.sleep(1.1)  # the link is looked at once a second
        assert count(store) == 10
        assert count(store) == 10  # the second worker too
        assert store.named_graphs() == [G1, G2]
        assert store.restarts == 0  # moved, not killed


def test_load_replaces_named_graphs_and_keeps_the_others(tmp_path):
    path = tmp_path / "store"
    write_store(path, [(G1, triples(3), "text/turtle"), (G2, triples(4, "y"), "text/turtle")])
    with EmbeddedStore(path, workers=1) as store:
        store.load([(G2, triples(1, "z"), "application/n-triples")])
        assert count(store) == 4
        assert count(store, default_graph_uris=[G2]) == 1
        assert count(store, default_graph_uris=[G1]) == 3


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(CrkgError, match="crkg build"):
        EmbeddedStore(tmp_path / "nothing")


def test_workers_exit_with_the_store(tmp_path):
    path = tmp_path / "store"
    write_store(path, [(G1, triples(1), "text/turtle")])
    store = EmbeddedStore(path, workers=2)
    pids = [w.process.pid for w in store._all]
    store.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_memory_capped_worker_answers_query_after_query(tmp_path):
    """bench finding 2: a fresh 1 GiB-stack thread per query did not fit under the worker's
    RLIMIT_DATA once a few finished stacks were still mapped, and queries failed with 503."""
    path = tmp_path / "store"
    write_store(path, [(G1, triples(50), "text/turtle")])
    with EmbeddedStore(path, workers=1, memory_mb=256) as store:
        for _ in range(150):
            assert count(store) == 50
