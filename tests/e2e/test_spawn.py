"""Issue 15 item 2: the build and the service with ``multiprocessing``'s ``spawn`` forced.

Windows and macOS start processes by ``spawn``, not ``fork``. Here both commands run in a
Python whose start method is forced to ``spawn`` before crkg is imported: ``crkg build``
of the shipped data, then ``crkg serve`` of that store answering a query, stopping a
runaway query at the time limit while a second client is served, and stopping cleanly;
and, as on Windows without symbolic links (the store's pointer file), a rebuild that the
running server moves to.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import free_port

pytestmark = pytest.mark.slow

SPAWNED = ("import multiprocessing as mp, sys; mp.set_start_method('spawn', force=True); "
           "from crkg.cli import main; sys.exit(main())")
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x }")
INTERVENTIONS = ("PREFIX crkg: <https://w3id.org/crkg/ontology#> "
                 "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a crkg:Intervention }")


def _get(url: str, query: str, timeout: float = 30):
    request = urllib.request.Request(url + "?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "application/sparql-results+json"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read(), time.monotonic() - start
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), time.monotonic() - start


@contextlib.contextmanager
def _spawned_server(store, env):
    """``crkg serve`` of *store* with ``spawn`` forced, answering; yields its /sparql URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/sparql"
    server = subprocess.Popen([sys.executable, "-c", SPAWNED, "serve", "--store", str(store), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                if _get(endpoint, "ASK {}", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "crkg serve did not answer within 60 s"
            time.sleep(0.1)
        yield endpoint
    finally:
        server.send_signal(signal.SIGINT)
        try:
            assert server.wait(15) == 0
        finally:
            if server.poll() is None:
                server.kill()
            server.stderr.close()


def test_build_and_serve_with_spawn_forced(tmp_path):
    store = tmp_path / "store"
    build = subprocess.run([sys.executable, "-c", SPAWNED, "build", "--store", str(store), "--no-dist"],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    assert store.exists()

    with _spawned_server(store, {**os.environ, "CRKG_QUERY_TIMEOUT": "3"}) as endpoint:
        status, body, _ = _get(endpoint, INTERVENTIONS)
        assert status == 200
        assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0

        outcome = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("runaway", _get(endpoint, RUNAWAY)))
        thread.start()
        time.sleep(1.0)  # past the short budget: a long query in its own process
        quick = _get(endpoint, INTERVENTIONS)
        thread.join(20)
        assert quick[0] == 200 and quick[2] < 2.0, quick
        status, body, seconds = outcome["runaway"]
        assert status == 503 and b"time limit" in body, body
        assert seconds < 3 + 2.5


def test_a_rebuild_under_a_serving_server_with_the_pointer_file_and_spawn(tmp_path):
    """As on Windows: no symbolic links (``CRKG_STORE_SWAP=pointer``) and ``spawn``. A
    rebuild with a changed study while ``crkg serve`` serves the store is swapped in, and
    the running server answers from the new generation."""
    import shutil

    from crkg.paths import DATA_DIR
    from crkg.store.generation import POINTER_FILE

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR / "studies", data / "studies")
    shutil.copytree(DATA_DIR / "links", data / "links")
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    store = tmp_path / "store"
    env = {**os.environ, "CRKG_STORE_SWAP": "pointer"}

    def build():
        done = subprocess.run([sys.executable, "-c", SPAWNED, "build", "--data", str(data), "--store", str(store),
                               "--no-dist"], capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr[-3000:]

    build()
    assert (store / POINTER_FILE).is_file() and not store.is_symlink()
    changed = ('ASK { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Xuhui District (changed)"@en . '
               '?s ?p ?o }')
    with _spawned_server(store, env) as endpoint:
        status, body, _ = _get(endpoint, changed)
        assert status == 200 and json.loads(body)["boolean"] is False

        places = data / "studies" / "xu-chen-shanghai" / "places.yaml"
        text = places.read_text(encoding="utf-8")
        assert "{en: Xuhui District," in text
        places.write_text(text.replace("{en: Xuhui District,", "{en: Xuhui District (changed),"), encoding="utf-8")
        build()
        deadline = time.monotonic() + 10
        while json.loads(_get(endpoint, changed)[1])["boolean"] is not True:
            assert time.monotonic() < deadline, "the server did not move to the new generation"
            time.sleep(0.2)
        status, body, _ = _get(endpoint, INTERVENTIONS)
        assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0
