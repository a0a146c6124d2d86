"""crkg build as a new user meets it: no Java, options that change the output, full disks,
killed builds, damaged release files (issue 15 item 1, issue 9 item 5)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from crkg.errors import CrkgError, NonConformant
from crkg.namespaces import CRKG, INFERRED_GRAPH
from crkg.paths import DATA_DIR
from crkg.pipeline.artefacts import build_info, void_counts
from crkg.pipeline.build import build, ensure_built, manifest_path, read_manifest
from tests.unit.test_build_pipeline import two_studies  # noqa: F401 - a fixture

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"
QUIET = dict(progress=lambda _m: None)


def _inferred_count(store_dir: Path) -> int:
    store = ox.Store.read_only(str(store_dir))
    return len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(str(INFERRED_GRAPH)))))


@pytest.fixture
def no_java(monkeypatch):
    """As on a laptop without a Java runtime: owlready2 finds no ``java`` to start."""
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/java-for-crkg-test")


def _run_crkg(*args, env_extra=None, preexec_fn=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(SERVICE_DIR))
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", "import sys; from crkg.cli import main; main(sys.argv[1:])", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=timeout, preexec_fn=preexec_fn,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".partial", ".new", ".tmp")))


# ------------------------------------------------------------------ issue 15: no Java needed


def test_without_java_the_store_has_its_inferences_and_says_hermit_was_skipped(no_java, tmp_path):
    messages: list[str] = []
    store = tmp_path / "store"
    result = build(store_dir=store, dist_dir=None, progress=messages.append)
    assert result.graphs[str(INFERRED_GRAPH)] > 0
    assert _inferred_count(store) == result.graphs[str(INFERRED_GRAPH)]
    db = ox.Store.read_only(str(store))
    assert db.query(f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?i <{CRKG.inCommunity}> ?c }} }}")
    skipped = [m for m in messages if "HermiT" in m and "skipped" in m]
    assert len(skipped) == 1, messages
    assert "no Java runtime" in skipped[0] and "crkg build --force --strict" in skipped[0]
    assert read_manifest(store)["hermit"] == {"ran": False, "why_not": result.hermit["why_not"]}
    assert build_info(store)["hermit"]["ran"] is False
    assert build_info(store)["options"] == {"reason": True}


def test_the_build_serve_starts_needs_no_java(no_java, tmp_path):
    """``crkg serve`` builds a missing store through ensure_built: inferences, one line."""
    messages: list[str] = []
    store = tmp_path / "store"
    assert ensure_built(store, progress=messages.append)
    assert _inferred_count(store) > 0
    assert sum("HermiT check of the ontology skipped" in m for m in messages) == 1
    assert build_info(store)["hermit"]["ran"] is False


def test_without_java_strict_fails_with_the_reason(no_java, tmp_path):
    store = tmp_path / "store"
    with pytest.raises(CrkgError, match="--strict.*HermiT.*no Java runtime") as info:
        build(store_dir=store, dist_dir=None, strict=True, **QUIET)
    assert not isinstance(info.value, NonConformant)
    assert info.value.exit_code == 2
    assert not store.exists()


@pytest.mark.jvm
def test_a_store_built_without_hermit_is_not_up_to_date_for_strict(no_java, tmp_path, monkeypatch):
    import owlready2

    store = tmp_path / "store"
    build(store_dir=store, dist_dir=None, **QUIET)
    assert build(store_dir=store, dist_dir=None, **QUIET).skipped
    monkeypatch.setattr(owlready2, "JAVA_EXE", "java")  # Java is back
    again = build(store_dir=store, dist_dir=None, strict=True, **QUIET)
    assert not again.skipped and again.hermit["ran"] is True


def test_strict_without_java_on_path_exits_2_from_the_command_line(tmp_path):
    """The real thing: PATH without any java, JAVA_HOME unset."""
    env = {"PATH": str(tmp_path / "empty-bin"), "JAVA_HOME": ""}
    done = _run_crkg("build", "--strict", "--no-dist", "--store", tmp_path / "store", env_extra=env)
    assert done.returncode == 2, done.stderr
    assert "HermiT" in done.stderr and "Java" in done.stderr
    assert "Traceback" not in done.stderr
    done = _run_crkg("build", "--no-dist", "--store", tmp_path / "store", env_extra=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("HermiT check of the ontology skipped") == 1
    assert _inferred_count(tmp_path / "store") > 0


def _contradicting_linkset(data: Path) -> None:
    """A scholar's addition the OWL 2 RL rules refuse: an intervention in two cases
    (crkg:inCase is functional)."""
    (data / "links" / "zz-contradiction.ttl").write_text(
        "<https://w3id.org/crkg/id/intervention/li-wang-wuhan/A-sandbags> "
        "<https://w3id.org/crkg/ontology#inCase> <https://w3id.org/crkg/id/case/li-wang-wuhan/other> .\n",
        encoding="utf-8",
    )


def test_without_java_functional_property_contradictions_still_fail(no_java, two_studies, tmp_path):  # noqa: F811
    _contradicting_linkset(two_studies)
    with pytest.raises(NonConformant, match="inCase.*functional[\\s\\S]*case/li-wang-wuhan/other"):
        build(data_dir=two_studies, store_dir=tmp_path / "store", dist_dir=None, **QUIET)
    assert not (tmp_path / "store").exists()


def test_without_java_disjoint_classes_still_fail(no_java, two_studies, tmp_path):  # noqa: F811
    (two_studies / "links" / "zz-disjoint.ttl").write_text(
        "<https://w3id.org/crkg/id/intervention/li-wang-wuhan/A-sandbags> a "
        "<https://w3id.org/crkg/ontology#Actor> .\n",
        encoding="utf-8",
    )
    with pytest.raises(NonConformant, match="disjoint classes"):
        build(data_dir=two_studies, store_dir=tmp_path / "store", dist_dir=None, **QUIET)


# ------------------------------------------------------------------ issue 9 item 5: options


def test_no_reason_then_build_is_not_up_to_date(tmp_path):
    store = tmp_path / "store"
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    assert read_manifest(store)["options"] == {"reason": False}
    messages: list[str] = []
    result = build(store_dir=store, dist_dir=None, progress=messages.append)
    assert not result.skipped
    assert not any("up to date" in m for m in messages)
    assert _inferred_count(store) > 0
    assert build(store_dir=store, dist_dir=None, **QUIET).skipped


def test_serve_rebuilds_a_store_built_without_inferences(tmp_path):
    store = tmp_path / "store"
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    assert ensure_built(store, progress=lambda _m: None)
    assert _inferred_count(store) > 0
    assert not ensure_built(store, progress=lambda _m: None)


# ------------------------------------------------------------------ dist/ repaired


def test_a_damaged_file_in_dist_is_repaired(tmp_path):
    store, dist = tmp_path / "store", tmp_path / "dist"
    build(store_dir=store, dist_dir=dist, reason=False, **QUIET)
    victim = next((dist / "graphs").glob("study-*.ttl"))
    good = victim.read_bytes()
    victim.write_bytes(good[:-10] + b"# damaged\n")  # SHA256SUMS still there
    result = build(store_dir=store, dist_dir=dist, reason=False, **QUIET)
    assert not result.skipped
    assert victim.read_bytes() == good
    missing = dist / "shapes" / "crkg-shapes.ttl"
    missing.unlink()
    assert not build(store_dir=store, dist_dir=dist, reason=False, **QUIET).skipped
    assert missing.is_file()
    assert build(store_dir=store, dist_dir=dist, reason=False, **QUIET).skipped


# ------------------------------------------------------------------ full disk, killed builds


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_is_a_clear_error_and_the_old_store_stays(tmp_path):
    limit = 64 * 1024
    store = tmp_path / "out" / "store"
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    before = os.path.realpath(store)
    size = len(ox.Store.read_only(str(store)))
    # rebuild (another option) where no file may grow beyond *limit* bytes: as a full disk
    done = _run_crkg("build", "--no-dist", "--store", store, preexec_fn=_limit_file_size(limit))
    assert done.returncode == 2, done.stderr
    assert "cannot write" in done.stderr and "File too large" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert os.path.realpath(store) == before
    assert len(ox.Store.read_only(str(store))) == size
    assert _leftovers(store.parent) == []
    assert read_manifest(store)["options"] == {"reason": False}


def test_a_read_only_store_folder_is_a_clear_error(tmp_path, monkeypatch):
    """Root ignores permission bits, so the refusal is made where the OS would make it."""
    from crkg.store import embedded

    store = tmp_path / "store"
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    size = len(ox.Store.read_only(str(store)))

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(embedded.NewGeneration, "load", refuse)
    with pytest.raises(CrkgError, match="cannot write the store.*Permission denied.*as they were"):
        build(store_dir=store, dist_dir=None, **QUIET)
    assert len(ox.Store.read_only(str(store))) == size
    assert _leftovers(tmp_path) == []


def test_a_full_disk_while_loading_the_store_or_writing_dist(tmp_path, monkeypatch):
    import errno

    from crkg.pipeline import dist as dist_module
    from crkg.store import embedded

    store, dist = tmp_path / "store", tmp_path / "dist"
    build(store_dir=store, dist_dir=dist, reason=False, **QUIET)
    size = len(ox.Store.read_only(str(store)))
    sums = (dist / "SHA256SUMS").read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(embedded.NewGeneration, "commit", full)
    with pytest.raises(CrkgError, match="cannot write the store.*No space left"):
        build(store_dir=store, dist_dir=None, **QUIET)
    monkeypatch.undo()
    monkeypatch.setattr(dist_module, "_swap_in", full)
    with pytest.raises(CrkgError, match="cannot write the release files.*No space left"):
        build(store_dir=store, dist_dir=dist, **QUIET)
    assert len(ox.Store.read_only(str(store))) == size
    assert (dist / "SHA256SUMS").read_bytes() == sums
    assert _leftovers(tmp_path) == []


def test_a_killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path):
    store = tmp_path / "store"
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    size = len(ox.Store.read_only(str(store)))
    env = dict(os.environ, PYTHONPATH=str(SERVICE_DIR))
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from crkg.cli import main; main(sys.argv[1:])",
         "build", "--no-dist", "--force", "--store", str(store)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _leftovers(tmp_path), "the build should have started its staging folder"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert len(ox.Store.read_only(str(store))) == size  # the old store is intact
    build(store_dir=store, dist_dir=None, reason=False, **QUIET)
    assert _leftovers(tmp_path) == []


def test_sigterm_cleans_up_at_once(tmp_path):
    store = tmp_path / "store"
    env = dict(os.environ, PYTHONPATH=str(SERVICE_DIR))
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from crkg.cli import main; main(sys.argv[1:])",
         "build", "--no-dist", "--store", str(store)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    child.wait(30)
    assert child.returncode != 0
    assert _leftovers(tmp_path) == []
    assert not store.exists()


@pytest.mark.jvm
def test_hermit_leaves_no_temporary_files(tmp_path, monkeypatch):
    import tempfile

    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.reason import check_consistency

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = set(tmp_path.iterdir())
    broken = load_ontology()
    from rdflib import RDF, URIRef

    x = URIRef("https://w3id.org/crkg/id/actor/t/x")
    broken.add((x, RDF.type, CRKG.IndividualActor))
    broken.add((x, RDF.type, CRKG.CollectiveActor))
    with pytest.raises(NonConformant):  # owlready2 itself leaves its copy behind on this path
        check_consistency(broken)
    check_consistency(load_ontology())
    assert set(tmp_path.iterdir()) == before


# ------------------------------------------------------------------ side artefacts


def test_void_counts_are_written_with_the_store(built):
    counts = void_counts(built.store_dir)
    store = ox.Store.read_only(str(built.store_dir))
    for g in store.named_graphs():
        n = len(list(store.quads_for_pattern(None, None, None, g)))
        assert counts["graphs"][g.value] == n
    assert counts["studies"] == ["https://w3id.org/crkg/id/study/xu-chen-shanghai"]
    per_study = counts["per_study"]["https://w3id.org/crkg/graph/study/xu-chen-shanghai"]
    assert per_study[str(CRKG.Intervention)] > 0
    assert str(CRKG.usesMode) in counts["predicates"]
    assert json.loads(manifest_path(built.store_dir).read_text())["hermit"]["ran"] in (True, False)


def test_a_relative_store_path_builds(tmp_path, monkeypatch):
    """HermiT reads its input by file: URI, which must be absolute."""
    monkeypatch.chdir(tmp_path)
    result = build(store_dir=Path("out/store"), dist_dir=None, **QUIET)
    assert result.graphs[str(INFERRED_GRAPH)] > 0
