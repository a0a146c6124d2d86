"""Issue 14 item 4: the studies are converted and checked in parallel worker processes
(``crkg build --jobs``, ``crkg.pipeline.worker_pool``), and nothing the build writes or
says depends on how many.

Four tests here start a pool of two spawned processes (about half a second each); the
rest of the suite builds in-process (tests/conftest.py sets ``CRKG_BUILD_JOBS=1``).
"""

from __future__ import annotations

import shutil

import pytest

from crkg.errors import CrkgError
from crkg.paths import REPO_ROOT
from crkg.pipeline.build import build, read_manifest
from crkg.pipeline.worker_pool import available_cpus, worker_count
from tests.unit.test_build_incremental import _dump
from tests.unit.test_build_pipeline import add_readme_example, shipped_data

QUIET = {"progress": lambda _m: None}
STEP_PARTS = ("convert", "SHACL validation", "stage studies")


@pytest.fixture
def three_studies(tmp_path):
    """The shipped study, the test fixture tisza-hu and the example riverside-flood (whose
    mapping.csv gives warnings, said per study in folder order)."""
    data = shipped_data(tmp_path)
    shutil.copytree(REPO_ROOT / "tests" / "fixtures" / "studies" / "tisza-hu", data / "studies" / "tisza-hu")
    shutil.copytree(REPO_ROOT / "data" / "examples" / "riverside-flood", data / "studies" / "riverside-flood")
    return data


def test_the_output_is_the_same_whatever_the_number_of_jobs(three_studies, tmp_path):
    said: dict[int, list[str]] = {1: [], 2: []}
    results = {}
    for jobs in (1, 2):
        results[jobs] = build(data_dir=three_studies, store_dir=tmp_path / f"store{jobs}",
                              dist_dir=tmp_path / f"dist{jobs}", reason=False, jobs=jobs, progress=said[jobs].append)
    assert (results[1].workers, results[2].workers) == (1, 2)
    assert results[2].worker_peak_mib > 0
    assert _dump(tmp_path / "store1") == _dump(tmp_path / "store2")  # dist/crkg.nq: byte for byte, below
    assert read_manifest(tmp_path / "store1")["graph_digests"] == read_manifest(tmp_path / "store2")["graph_digests"]
    files = sorted(p.relative_to(tmp_path / "dist1") for p in (tmp_path / "dist1").rglob("*") if p.is_file())
    assert files
    for rel in files:
        assert (tmp_path / "dist1" / rel).read_bytes() == (tmp_path / "dist2" / rel).read_bytes(), rel
    # the side artefacts too: the search index (written in a child process under jobs=2)
    # has the same rows, the evidence views' tables are the same bytes
    import sqlite3

    from crkg.paths import store_side_dir
    from crkg.search.index import index_path

    def rows(store):
        con = sqlite3.connect(f"file:{index_path(store)}?mode=ro", uri=True)
        try:
            return [con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("docs", "facet_values", "meta")]
        finally:
            con.close()

    assert rows(tmp_path / "store1") == rows(tmp_path / "store2")
    tables = {jobs: {p.name: p.read_bytes() for p in (store_side_dir(tmp_path / f"store{jobs}") / "views").iterdir()}
              for jobs in (1, 2)}
    assert len(tables[1]) == 4 and tables[1] == tables[2]

    def lines(messages):  # the progress lines but the seconds each step took and the store's name
        return [m.replace(str(tmp_path / "store2"), str(tmp_path / "store1")) for m in messages
                if ": done in " not in m]

    assert lines(said[1]) == lines(said[2])
    warned = [m.split(":")[0].strip() for m in said[2] if ": warning: " in m]
    assert warned and warned == sorted(warned, key=["riverside-flood", "tisza-hu", "xu-chen-shanghai"].index)
    # the parts are disjoint stretches of the step's wall time (bench: other = total - steps >= 0)
    step = next(m for m in said[2] if m.startswith("[3/6] convert and validate 3 studies: done in "))
    assert sum(results[2].timings[p] for p in STEP_PARTS) <= float(step.rsplit(" ", 2)[1]) + 0.01
    assert results[2].timings["SHACL validation"] > 0

    # one study to do (the common rebuild after adding or editing one): no pool to start
    coding = three_studies / "studies" / "tisza-hu" / "coding.yaml"
    coding.write_text(coding.read_text(encoding="utf-8") + "\n# a curator's note\n", encoding="utf-8")
    again = build(data_dir=three_studies, store_dir=tmp_path / "store2", dist_dir=None, reason=False, jobs=2, **QUIET)
    assert again.workers == 1


def test_studies_that_fail_are_reported_together_whatever_the_number_of_jobs(three_studies, tmp_path):
    """Two studies that do not convert and one that does not conform: one error naming
    all three, the same with two workers as in the build's own process."""
    studies = three_studies / "studies"
    (studies / "tisza-hu" / "coding.yaml").write_text("codes: [unclosed\n", encoding="utf-8")
    (studies / "riverside-flood" / "study.yaml").write_text("key: riverside-flood\n  title: [\n", encoding="utf-8")
    coding = add_readme_example(three_studies) / "coding.yaml"
    coding.write_text(coding.read_text(encoding="utf-8").replace("    performedBy: [actor:committee-staff]\n", ""),
                      encoding="utf-8")
    messages = {}
    for jobs in (1, 2):
        with pytest.raises(CrkgError) as error:
            build(data_dir=three_studies, store_dir=tmp_path / f"store{jobs}", dist_dir=None, reason=False,
                  jobs=jobs, **QUIET)
        messages[jobs] = str(error.value)
    assert messages[1] == messages[2]
    assert "tisza-hu" in messages[2] and "riverside-flood" in messages[2]
    assert "study 'li-wang-wuhan' does not conform" in messages[2] and "performedBy" in messages[2]
    assert not (tmp_path / "store2").exists()


def test_a_build_stopped_among_the_studies_stops_its_workers_at_once(three_studies, tmp_path):
    """Ctrl-C (or SIGTERM, which the build turns into it) while the workers convert: the
    build ends without waiting for the studies already handed to them."""
    import multiprocessing

    def interrupt(message):
        if ": warning: " in message:  # riverside-flood's, the first study's: the others are still queued
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(data_dir=three_studies, store_dir=tmp_path / "store", dist_dir=None, reason=False, jobs=2,
              progress=interrupt)
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "store").exists()


def test_a_nonconforming_study_exits_1_with_the_same_report_under_two_jobs(three_studies, tmp_path, capsys):
    from crkg.cli import main

    coding = add_readme_example(three_studies) / "coding.yaml"
    coding.write_text(coding.read_text(encoding="utf-8").replace("    performedBy: [actor:committee-staff]\n", ""),
                      encoding="utf-8")
    outcome = {}
    for jobs in ("1", "2"):
        with pytest.raises(SystemExit) as exit_info:
            main(["build", "--data", str(three_studies), "--store", str(tmp_path / f"store{jobs}"), "--no-dist",
                  "--no-reason", "--jobs", jobs])
        err = capsys.readouterr().err
        outcome[jobs] = (exit_info.value.code, err[err.index("crkg: error:"):])
    assert outcome["1"] == outcome["2"]
    code, report = outcome["2"]
    assert code == 1 and "li-wang-wuhan/coding.yaml" in report and "A-sandbags" in report


def test_the_number_of_workers():
    cpus = available_cpus()
    assert cpus >= 1
    assert worker_count(0, 1) == 1  # one study: the build's own process
    assert worker_count(0, 50) == min(cpus, 50)
    assert worker_count(1, 50) == 1
    assert worker_count(4, 3) == 3  # no more processes than studies to do
    assert worker_count(2, 0) == 1


def test_jobs_comes_from_the_command_line_or_crkg_build_jobs(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from crkg.cli import cli
    from crkg.config import Config

    monkeypatch.setenv("CRKG_BUILD_JOBS", "3")
    assert Config.from_env().BUILD_JOBS == 3
    monkeypatch.setenv("CRKG_BUILD_JOBS", "-1")
    with pytest.raises(CrkgError, match="jobs=-1"):
        build(data_dir=tmp_path, store_dir=tmp_path / "store", dist_dir=None, **QUIET)
    result = CliRunner().invoke(cli, ["build", "--jobs", "-1", "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and "--jobs" in result.output


def test_stopping_a_pool_ends_the_task_its_worker_runs():
    import time
    from concurrent.futures.process import BrokenProcessPool

    from crkg.pipeline.worker_pool import start_pool, stop_pool

    pool = start_pool(1)
    future = pool.submit(time.sleep, 20)
    while not future.running():
        time.sleep(0.01)
    stop_pool(pool)
    pool.shutdown(wait=True, cancel_futures=True)  # without stop_pool: 20 s, then a result
    with pytest.raises(BrokenProcessPool):
        future.result(timeout=0)
