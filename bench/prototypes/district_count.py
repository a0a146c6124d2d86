"""The district-level count of interventions, asserted path vs materialised inferences.

Issue 14 item 5: "with reasoning on, the district-level count goes through the
materialised inCommunity/withinArea and is within 3× of Virtuoso on the same data".

    python -m bench.prototypes.district_count STORE [--virtuoso] [--repeats 5]

runs, on a built store (``crkg build``, so ``graph/inferred`` is there) opened read-only
in this process, and optionally on Virtuoso loaded with the same N-Quads:

* ``asserted``: intervention → case → community → subdistrict → district through the
  asserted ``inCase``/``aboutCommunity``/``locatedIn`` links (five joins);
* ``inferred``: the same count through the materialised ``inCommunity`` and the
  transitive ``withinArea`` (two joins), which the OWL 2 RL closure wrote;

and prints median milliseconds and the rows, which must agree between the forms.
A measurement aid for bench/FINDINGS.md, not part of the build.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

PREFIX = "PREFIX crkg: <https://w3id.org/crkg/ontology#>\n"
QUERIES = {
    "asserted": PREFIX + """SELECT ?district (COUNT(DISTINCT ?i) AS ?n) WHERE {
  ?i a crkg:Intervention ; crkg:inCase ?case .
  ?case crkg:aboutCommunity ?c .
  ?c crkg:locatedIn ?sub .
  ?sub crkg:locatedIn ?district .
  ?district a crkg:District .
} GROUP BY ?district ORDER BY ?district""",
    "inferred": PREFIX + """SELECT ?district (COUNT(DISTINCT ?i) AS ?n) WHERE {
  ?i crkg:inCommunity ?c .
  ?c crkg:withinArea ?district .
  ?district a crkg:District .
} GROUP BY ?district ORDER BY ?district""",
}


def _rows_ox(solutions) -> list[tuple[str, int]]:
    return [(s["district"].value, int(s["n"].value)) for s in solutions]


def time_oxigraph(store_path: Path, repeats: int) -> dict:
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_path))
    out = {}
    for name, query in QUERIES.items():
        rows = _rows_ox(store.query(query, use_default_graph_as_union=True))  # warm
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _rows_ox(store.query(query, use_default_graph_as_union=True))
            times.append(time.perf_counter() - t0)
        out[name] = {"median_ms": statistics.median(times) * 1000, "rows": rows}
    return out


def time_virtuoso(store_path: Path, workdir: Path, repeats: int) -> dict:
    import pyoxigraph as ox

    from bench.peers.virtuoso import Virtuoso

    dump = workdir / "district-dump.nq"
    ox.Store.read_only(str(store_path)).dump(str(dump), format=ox.RdfFormat.N_QUADS)
    out = {}
    with Virtuoso(workdir / "virtuoso-district", progress=lambda m: print(m, file=sys.stderr)) as v:
        v.load_nquads(dump)
        for name, query in QUERIES.items():
            url = v.endpoint + "?" + urllib.parse.urlencode({"query": query})

            def ask():
                req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
                with urllib.request.urlopen(req, timeout=600) as r:
                    doc = json.load(r)
                return [(b["district"]["value"], int(b["n"]["value"])) for b in doc["results"]["bindings"]]

            rows = ask()
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                ask()
                times.append(time.perf_counter() - t0)
            out[name] = {"median_ms": statistics.median(times) * 1000, "rows": rows}
    dump.unlink(missing_ok=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("store", type=Path)
    p.add_argument("--virtuoso", action="store_true")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "out")
    args = p.parse_args(argv)
    import os

    results = {"loadavg": os.getloadavg()[0], "oxigraph": time_oxigraph(args.store, args.repeats)}
    if args.virtuoso:
        results["virtuoso"] = time_virtuoso(args.store, args.out, args.repeats)
    for system, entry in results.items():
        if system == "loadavg":
            continue
        for name, r in entry.items():
            print(f"{system} {name}: {r['median_ms']:.1f} ms, {len(r['rows'])} districts, "
                  f"{sum(n for _, n in r['rows'])} interventions")
    ox_rows = {k: v["rows"] for k, v in results["oxigraph"].items()}
    print("asserted and inferred forms agree:", ox_rows["asserted"] == ox_rows["inferred"])
    print(f"load average at start: {results['loadavg']:.1f}")
    (args.out / "district-count.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
