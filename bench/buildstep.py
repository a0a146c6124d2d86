"""One build, run in its own process so its time, memory and time limit are its own.

    python -m bench.buildstep --data DIR --store DIR [--dist DIR] [--no-reason]
                              [--load-only] [--profile FILE] --json FILE

``crkg build`` itself (``crkg.pipeline.build.build``) with its per-step timings, the
total wall time and the process's peak resident memory written to ``--json``. The
parent reads the progress lines as they come, so a build stopped by the time limit
still tells which steps finished and how long they took.

``--load-only`` is the bench's own short cut for a serving store when the full build
would not finish in time: ontology + conversion + store load (and the N-Quads dump),
with no SHACL validation and no reasoning. RESULTS.md says when it was used.
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
    import pyoxigraph as ox

    from crkg.pipeline import build as pipeline
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies, load_study
    from crkg.namespaces import ONTOLOGY_GRAPH

    steps = pipeline._Steps(4, _progress)
    studies_dir, _links = pipeline.resolve_data_dir(data_dir)
    ontology = steps.run("ontology", load_ontology)
    studies = steps.run("convert", lambda: [load_study(f) for f in discover_studies(studies_dir)])
    graphs = {str(ONTOLOGY_GRAPH): ontology}
    for study in sorted(studies, key=lambda s: s.key):
        graphs[str(study.graph_iri)] = study.graph
    dataset = steps.run("to dataset", pipeline._to_dataset, graphs)
    if dist_dir is not None:
        dist_dir.mkdir(parents=True, exist_ok=True)
        steps.run("write N-Quads", lambda: (dist_dir / "crkg.nq").write_bytes(
            ox.serialize(pipeline._sorted_quads(dataset), format=ox.RdfFormat.N_QUADS)))
    steps.run("load store", pipeline._load_store, store_dir, dataset, list(graphs))
    return {"timings": steps.timings, "graphs": {k: len(g) for k, g in graphs.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dist", type=Path)
    parser.add_argument("--no-reason", action="store_true")
    parser.add_argument("--load-only", action="store_true")
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

        result = build(data_dir=args.data, store_dir=args.store, dist_dir=args.dist, force=True,
                       reason=not args.no_reason, progress=_progress)
        out = {"timings": result.timings, "graphs": result.graphs}
    out["total"] = time.perf_counter() - start
    out["peak_rss_mib"] = self_hwm_mib()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
