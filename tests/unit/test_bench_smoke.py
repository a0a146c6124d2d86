"""Smoke test of the benchmark harness (issue 6 item 4): small, fast, no peers that cost.

The generator's output at ~1e3 triples converts with the project's converter and
conforms to the shapes; the same seed gives the same bytes; and ``python -m bench``
completes at the smallest size with pyoxigraph in-process and the crkg endpoint
(Virtuoso and rdflib are left out by the runner's ``--peers`` option). The benchmarks
themselves stay out of the test suite.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from crkg.pipeline.ontology import load_ontology
from crkg.pipeline.studies import discover_studies, load_study
from crkg.pipeline.validate import validate
from crkg.namespaces import CRKG
from crkg.paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # bench/ is a folder of the checkout, not of the package
    sys.path.insert(0, str(REPO_ROOT))

from bench.generate import generate  # noqa: E402


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.yaml")):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "data"
    manifest = generate(out, 1000, seed=7)
    return out, manifest


def test_generated_studies_convert_to_about_the_asked_size(small):
    out, manifest = small
    folders = discover_studies(out / "studies")
    assert len(folders) == manifest["studies"] >= 1
    graphs = [load_study(f).graph for f in folders]
    total = sum(len(g) for g in graphs)
    assert 800 <= total <= 1200, total
    g = graphs[0]
    # shaped like coded data: interventions with evidence, quotes with speakers, claims
    for cls in (CRKG.Intervention, CRKG.Quote, CRKG.Observation, CRKG.Claim, CRKG.Reference,
                CRKG.Case, CRKG.Community, CRKG.Strategy, CRKG.Quantity):
        assert any(g.subjects(predicate=None, object=cls)), cls
    texts = [str(o) for o in g.objects(None, CRKG.text)]
    assert texts and all(o.language == "zh" for o in g.objects(None, CRKG.text))
    assert min(len(t) for t in texts) >= 40 and max(len(t) for t in texts) <= 300
    langs = {o.language for o in g.objects(None, None) if getattr(o, "language", None)}
    assert {"en", "zh"} <= langs


def test_generated_studies_conform_to_the_shapes(small):
    out, _ = small
    ontology = load_ontology()
    for folder in discover_studies(out / "studies"):
        study = load_study(folder)
        result = validate(study.graph, ontology=ontology)
        assert result.conforms, result.format(source_map=study.source_map)


def test_generator_is_deterministic_by_seed(small, tmp_path):
    out, _ = small
    again = tmp_path / "again"
    generate(again, 1000, seed=7)
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    generate(other, 1000, seed=8)
    assert _digest(other) != _digest(out)


def test_runner_completes_at_the_smallest_size(tmp_path):
    out = tmp_path / "out"
    report = tmp_path / "RESULTS.md"
    cmd = [sys.executable, "-m", "bench", "--stages", "build,serve,fixed-cost,views", "--sizes", "1e3",
           "--serve-size", "1e3", "--synthetic-only", "--peers", "oxigraph,crkg", "--repeats", "2",
           "--build-repeats", "1", "--profile-size", "0", "--duration", "1", "--fixed-cost-requests", "12",
           "--out", str(out), "--results", str(report)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert not results.get("errors"), results.get("errors")
    build = results["build"]["1e3"]["runs"][0]
    assert build["status"] == "ok", build
    for step in ("convert", "SHACL validation", "load store"):
        assert build["timings"][step] > 0, step
    systems = results["serve"]["systems"]
    assert set(systems) == {"oxigraph", "crkg"}
    for name, entry in systems.items():
        assert "error" not in entry, (name, entry)
        agg = entry["latency"]["aggregation: goal counts with evidence"]
        assert agg["median"] > 0, (name, agg)
        assert entry["throughput"]["lookups"]["requests"] > 0, name
        assert entry["throughput"]["pages"]["requests"] > 0, name
    # both answer the aggregation with the same rows (one per goal)
    sizes = {n: e["sizes"]["aggregation: goal counts with evidence"] for n, e in systems.items()}
    assert sizes["crkg"] == sizes["oxigraph"] == 3, sizes
    assert systems["crkg"]["peak_rss_mib"] > 0
    # the fixed cost of a request, crkg against the bare gunicorn app (issue 14 item 5)
    rows = {(r["query"], r["connection"], r["server"]) for r in results["fixed_cost"]["rows"]}
    assert {("ASK {}", "new", "crkg"), ("ASK {}", "new", "bare-gunicorn"), ("lookup", "new", "crkg")} <= rows
    text = report.read_text(encoding="utf-8")
    assert "python -m bench --stages build,serve" in text
    assert "crkg / pyoxigraph" in text
    assert "| request fixed cost ≤ 1.5× the bare gunicorn" in text and "ASK {}: " in text
    # the evidence views, read from the build's tables (issue 14 item 5)
    views = results["views"]
    assert views["tables"] and views["studies"] >= 1
    assert all(r["status"] == 200 for r in views["rows"]), views["rows"]
    assert "| the aggregates the pages need (matrices, per-study counts, VoID) ≤ 50 ms" in text
