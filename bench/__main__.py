"""``python -m bench``: run the benchmark and write bench/RESULTS.md (see bench/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sizes(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--stages", default="build,serve,start,validate,fixed-cost,views",
                   help="comma-separated: build, serve, start, validate, fixed-cost, views (default: all)")
    p.add_argument("--sizes", type=sizes, default=sizes("1e4,1e5,1e6"),
                   help="build sizes in asserted triples (default 1e4,1e5,1e6)")
    p.add_argument("--serve-size", type=float, default=1e6,
                   help="size the latency, throughput and memory are measured at (default 1e6)")
    p.add_argument("--peers", default="oxigraph,crkg,virtuoso,rdflib",
                   help="systems to measure, in order (default oxigraph,crkg,virtuoso,rdflib)")
    p.add_argument("--repeats", type=int, default=5, help="measured runs per query (median)")
    p.add_argument("--build-repeats", type=int, default=3,
                   help="builds per size up to 1e4 (larger sizes are built once)")
    p.add_argument("--build-timeout", type=float, default=1500, help="seconds one build may take")
    p.add_argument("--no-reason", action="store_true",
                   help="build without HermiT and the OWL 2 RL closure (crkg build --no-reason)")
    p.add_argument("--reason-up-to", type=float, default=1e7,
                   help="sizes above this are built --no-reason (default 1e7: the compiled OWL 2 RL "
                        "rules reason at every size measured; owlrl needed an hour at 1e6)")
    p.add_argument("--with-shipped", dest="with_shipped", action="store_true", default=True,
                   help="add the repository's own studies and linksets to the generated data, so "
                        "the competency questions have answers (the default)")
    p.add_argument("--synthetic-only", dest="with_shipped", action="store_false",
                   help="generated studies only (the competency questions then find nothing)")
    p.add_argument("--profile-size", type=float, default=1e5,
                   help="size at which one extra build runs under cProfile (0: none)")
    p.add_argument("--budget", type=float, default=60, help="seconds per query per system")
    p.add_argument("--rdflib-budget", type=float, default=40, help="seconds per query for rdflib")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients for throughput")
    p.add_argument("--duration", type=float, default=10, help="seconds per throughput run")
    p.add_argument("--start-repeats", type=int, default=3, help="crkg serve starts to time")
    p.add_argument("--crkg-workers", type=int, default=None,
                   help="passed to crkg serve --workers (default: crkg's own default)")
    p.add_argument("--fixed-cost-requests", type=int, default=1200,
                   help="requests per server, query and kind of connection in the fixed-cost stage")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=HERE / "out", help="work folder (git-ignored)")
    # a str, not a Path: Path("") is ".", so '' could not say "no report"
    p.add_argument("--results", default=str(HERE / "RESULTS.md"),
                   help="report to write ('' for none)")
    p.add_argument("--keep", action="store_true",
                   help="add to the existing out/results.json instead of starting afresh")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.stages = [s for s in args.stages.split(",") if s]
    args.peers = [s for s in args.peers.split(",") if s]
    args.results = Path(args.results) if args.results else None
    from bench.runner import run

    run(args, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
