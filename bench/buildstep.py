"""One build, run in its own process so its time, memory and time limit are its own.

    python -m bench.buildstep --data DIR --store DIR [--dist DIR] [--no-reason]
                              [--load-only | --incremental] [--profile FILE] --json FILE

``crkg build`` itself (``crkg.pipeline.build.build``) with its per-step timings, the
total wall time and the peak resident memory written to ``--json``: the build process's
own peak plus the larger of (a) when it converted the studies in worker processes
(``--jobs``), the number of workers times the largest peak of one of them
(``BuildResult.workers`` and ``worker_peak_mib``) and (b) the peak of the process that
wrote the search index (``index_peak_mib``): the workers are stopped before the index
process starts, so this is an upper bound of the process tree's peak, as the peaks need
not coincide. The
parent reads the progress lines as they come, so a build stopped by the time limit
still tells which steps finished and how long they took.

``--load-only`` is the bench's own short cut for a serving store when the full build
would not finish in time: ontology + conversion + store load, with no SHACL validation
and no reasoning. RESULTS.md says when it was used. ``--incremental`` runs ``crkg build``
as a user does after copying a study folder in (no ``--force``): the measure of "adding
one study to a built corpus".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.system import self_hwm_mib


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_only(data_dir: Path, store_dir: Path, dist_dir: Path | None) -> dict:
    """Ontology + each study converted and loaded (no SHACL, no reasoning, no dist/)."""
    from crkg.namespaces import ONTOLOGY_GRAPH
    from crkg.pipeline import build as pipeline
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies, load_study
    from crkg.store.embedded import NewGeneration

    studies_dir, _links = pipeline.resolve_data_dir(data_dir)
    timings, graphs = {}, {}
    t0 = time.perf_counter()
    generation = NewGeneration(store_dir)
    try:
        ontology = load_ontology()
        lines = pipeline.canonical_lines(ontology, str(ONTOLOGY_GRAPH))
        generation.load(str(ONTOLOGY_GRAPH), b"".join(lines))
        graphs[str(ONTOLOGY_GRAPH)] = len(lines)
        for folder in discover_studies(studies_dir):
            study = load_study(folder)
            lines = pipeline.canonical_lines(study.graph, str(study.graph_iri))
            generation.load(str(study.graph_iri), b"".join(lines))
            graphs[str(study.graph_iri)] = len(lines)
        timings["convert and load"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        generation.commit()
        timings["commit store"] = time.perf_counter() - t1
    finally:
        generation.abort()
    return {"timings": timings, "graphs": graphs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dist", type=Path)
    parser.add_argument("--no-reason", action="store_true")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--incremental", action="store_true",
                        help="an ordinary `crkg build` over the existing store (not --force)")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    if args.load_only:
        out = load_only(args.data, args.store, args.dist)
    else:
        from crkg.pipeline.build import build

        result = build(data_dir=args.data, store_dir=args.store, dist_dir=args.dist,
                       force=not args.incremental, reason=not args.no_reason, progress=_progress)
        out = {"timings": result.timings, "graphs": result.graphs, "workers": result.workers,
               "worker_peak_mib": result.worker_peak_mib, "index_peak_mib": result.index_peak_mib}
    out["total"] = time.perf_counter() - start
    out["peak_rss_mib"] = self_hwm_mib() + max(out.get("workers", 0) * out.get("worker_peak_mib", 0.0),
                                                out.get("index_peak_mib", 0.0))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
