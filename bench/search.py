"""``python -m bench.search``: the full-text index at scale (issue 12, item 4: ≤ 50 ms a
query at 1e6 triples).

Generates synthetic studies with ``bench.generate`` (plus the shipped study, so that the
first study's words are among them), converts them with the project's converter (no SHACL,
no reasoning: the index needs neither), writes the index with
``crkg.search.index.write_index`` from the whole corpus at once (the rows ``crkg build``
writes study by study), and times each query of
:data:`QUERIES` through ``crkg.search.query.search`` (what ``/search`` runs): median and
worst of ``--repeats`` runs, wall clock and CPU time. The result is written to
``bench/out/search.json`` and as a section of ``bench/RESULTS.md`` (between the
``search`` markers, which ``bench.report`` keeps when it rewrites the file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

OUT = Path(__file__).with_name("out")
RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- search:start -->", "<!-- search:end -->"

#: (label, text, filters): Chinese two-character words, English stems, a phrase, a rare
#: word, index syntax that must be read as words, a long text, filtered queries.
QUERIES = [
    ("zh word 认可", "认可", {}),
    ("zh word 志愿", "志愿", {}),
    ("zh common word 社区", "社区", {}),
    ("zh phrase 社会工作", "社会工作", {}),
    ("zh one character 韧", "韧", {}),
    ("en stem volunteers", "volunteers", {}),
    ("en two words", "community trust", {}),
    ("no hit", "zzzzqqq", {}),
    ("syntax as words", 'NEAR( "x" OR * -', {}),
    ("30 words", " ".join(["community", "volunteers", "trust", "社区", "志愿"] * 6), {}),
    ("filter study", "社区", {"study": "xu-chen-shanghai"}),
    ("filter mode", "社区", {"mode": "https://w3id.org/crkg/ontology#TrustScopeExpansion"}),
    ("filter goal", "volunteers", {"goal": "https://w3id.org/crkg/ontology#PsychologicalResilience"}),
]


def build_index(triples: float, seed: int, progress) -> tuple[Path, dict]:
    import pyoxigraph as ox

    from bench.generate import generate
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies, load_study
    from crkg.search.index import write_index

    data = OUT / f"search-data-{triples:.0e}"
    manifest = generate(data, triples, seed, progress=progress, with_shipped=True)
    t0 = time.perf_counter()
    graphs = [load_ontology()] + [load_study(f).graph for f in discover_studies(data / "studies")]
    convert_s = time.perf_counter() - t0
    n = sum(len(g) for g in graphs)
    progress(f"converted {n} triples in {convert_s:.1f} s")

    def quads():
        for g in graphs:
            for t in ox.parse(g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES):
                yield t

    path = OUT / f"search-{triples:.0e}.sqlite"
    t0 = time.perf_counter()
    write_index(path, quads())
    index_s = time.perf_counter() - t0
    progress(f"indexed in {index_s:.1f} s: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return path, {"triples": n, "studies": manifest["studies"], "convert_s": convert_s, "index_s": index_s,
                  "index_mib": path.stat().st_size / 2**20}


def measure(path: Path, repeats: int) -> list[dict]:
    from crkg.search.index import ID
    from crkg.search.query import FILTER_DIMS, PAGE_SIZE, connect, facet_options, has_facet, search

    rows = []
    for label, text, filters in QUERIES:
        walls, cpus, total = [], [], 0
        for k in range(repeats + 1):
            w0, c0 = time.perf_counter(), time.process_time()
            con = connect(path)  # /search opens the index per request
            for dim in FILTER_DIMS:  # and lists the filters' options (cases: of the chosen study)
                if dim != "case" or "study" in filters:
                    facet_options(con, dim, "en", f"{ID}case/{filters.get('study')}/" if dim == "case" else "")
            for dim, value in filters.items():
                has_facet(con, dim, value)
            result = search(con, text, filters, PAGE_SIZE, 0)
            con.close()
            w, c = time.perf_counter() - w0, time.process_time() - c0
            total = result.total
            if k:  # the first run warms the page cache
                walls.append(w)
                cpus.append(c)
        rows.append({"query": label, "hits": total, "median_ms": 1000 * statistics.median(walls),
                     "worst_ms": 1000 * max(walls), "median_cpu_ms": 1000 * statistics.median(cpus)})
    return rows


def render(meta: dict, rows: list[dict]) -> str:
    worst = max(r["median_ms"] for r in rows)
    lines = [
        START,
        "## Full-text search (issue 12, item 4)",
        "",
        f"Produced by `python -m bench.search --triples {meta['asked']:.0e} --repeats {meta['repeats']}"
        f"{' --reuse' if meta.get('reused') else ''}` "
        f"on {meta['when']}: {meta['triples']:,} asserted triples ({meta['studies']} synthetic studies + the "
        f"shipped one), converted in {meta['convert_s']:.0f} s, indexed in {meta['index_s']:.1f} s "
        f"({meta['index_mib']:.1f} MiB SQLite FTS5 file). Each query as `/search` runs it (open the index, "
        "list the filters' options, match, count, rank, first 50 hits with highlights), after one warm-up "
        "run. Not included: the one SPARQL query for the labels of the hits shown.",
        "",
        f"Target ≤ 50 ms a query: **{'met' if worst <= 50 else 'not met'}** (slowest median {worst:.1f} ms).",
        "",
        "| query | hits | median ms | worst ms | median CPU ms |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['query']} | {r['hits']:,} | {r['median_ms']:.1f} | {r['worst_ms']:.1f} | {r['median_cpu_ms']:.1f} |"
              for r in rows]
    lines.append(END)
    return "\n".join(lines)


def write_section(section: str, results: Path = RESULTS) -> None:
    text = results.read_text(encoding="utf-8") if results.is_file() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=float, default=1e6)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the index the last run wrote (same size), without rebuilding it")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    path = OUT / f"search-{args.triples:.0e}.sqlite"
    last = OUT / "search.json"
    if args.reuse and path.is_file() and last.is_file():
        meta = dict(json.loads(last.read_text(encoding="utf-8"))["meta"], reused=True)
    else:
        path, meta = build_index(args.triples, args.seed, progress)
    rows = measure(path, args.repeats)
    meta.update(asked=args.triples, repeats=args.repeats, when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    meta.setdefault("reused", False)
    (OUT / "search.json").write_text(json.dumps({"meta": meta, "queries": rows}, indent=1), encoding="utf-8")
    write_section(render(meta, rows))
    for r in rows:
        print(f"{r['query']:<24} {r['hits']:>8} hits  {r['median_ms']:7.1f} ms  (worst {r['worst_ms']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
