"""The evidence views' answers at a size: ``python -m bench.views STORE [--repeats N]``.

Issue 14 item 5: "the aggregates the pages need (matrices of the evidence-views issue,
VoID counts, per-study counts) ... answer ≤ 50 ms at 1e6". Each URL is asked of the app
(``crkg.web.app.create_app`` over the built store, the Flask test client: the code a
request runs, without the HTTP server's fixed cost, measured by ``bench.fixed_cost``)
once to warm it, then ``--repeats`` times; reported per URL: median wall and CPU time of
this process (the web side) and the size of the answer. The targets cover the matrices,
the list of studies with their counts and the VoID description; a study's whole page and
the comparison of every study are listed for what they cost (they render or combine many
matrices).

Run by ``python -m bench`` (stage ``views``) in a child process, so that the store's
query workers and the parsed tables of one run do not outlive it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

#: (label, path, counted in the ≤ 50 ms target?)
def urls(first: str, other: str | None) -> list[tuple[str, str, bool]]:
    out = [("list of studies with their counts", "/studies/", True),
           ("VoID description", "/.well-known/void", True)]
    for key in [first] + ([other] if other else []):
        out += [(f"{key}: mode × goal matrix (JSON)", f"/studies/{key}/matrix?rows=mode&cols=goal&format=json", True),
                (f"{key}: actor type × phase matrix (HTML)", f"/studies/{key}/matrix?rows=actor-type&cols=phase", True),
                (f"{key}: case × goal matrix (CSV)", f"/studies/{key}/matrix?rows=case&cols=goal&format=csv", True),
                (f"{key}: the study's page", f"/studies/{key}", False)]
    out.append(("every study compared, mode × goal (JSON)", "/studies/compare?rows=mode&cols=goal&format=json", False))
    return out


def measure(store: str, repeats: int) -> dict:
    os.environ["CRKG_STORE_DIR"] = store
    from crkg.config import Config
    from crkg.web.app import create_app
    from crkg.web.study_data import list_studies
    from crkg.web.view_tables import current_tables

    app = create_app(Config.from_env())
    client = app.test_client()
    try:
        with app.test_request_context("/"):
            keys = sorted(s.key for s in list_studies())
            tables = current_tables() is not None
        first = "xu-chen-shanghai" if "xu-chen-shanghai" in keys else (keys[0] if keys else "")
        other = next((k for k in keys if k != first), None)
        rows = []
        for label, path, target in urls(first, other):
            r = client.get(path, headers={"Accept": "text/html"})
            walls, cpus = [], []
            for _ in range(repeats):
                w, c = time.perf_counter(), time.process_time()
                r = client.get(path, headers={"Accept": "text/html"})
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
            rows.append({"label": label, "path": path, "target": target, "status": r.status_code,
                         "bytes": len(r.data), "median_ms": round(1000 * statistics.median(walls), 2),
                         "cpu_ms": round(1000 * statistics.median(cpus), 2)})
        return {"store": store, "tables": tables, "studies": len(keys), "rows": rows,
                "loadavg": os.getloadavg()[0]}
    finally:
        app.extensions["crkg.store"].close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.views")
    p.add_argument("store")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", help="write the result here")
    args = p.parse_args(argv)
    result = measure(args.store, args.repeats)
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
