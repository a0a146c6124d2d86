"""Where one lookup's time goes, layer by layer (FINDINGS.md, finding 3).

    python -m bench.prototypes.lookup_breakdown STORE DATA

STORE: a built store; DATA: the generated data folder of the same size (its
bench-manifest.json gives the resources). Prints the median milliseconds of the same
lookups through: pyoxigraph in-process; the TSV round trip of the row cap; crkg's
EmbeddedStore (a query worker process); the Flask app (test client); HTTP through
``crkg serve`` (gunicorn) with a keep-alive client.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    store_dir, data = Path(argv[0]), Path(argv[1])
    os.environ["CRKG_STORE_DIR"] = str(store_dir)
    import pyoxigraph as ox

    from bench import system
    from bench.runner import crkg_serve_cmd, start_http, stop_proc
    from crkg.store.embedded import EmbeddedStore
    from crkg.web.app import create_app
    from crkg.web.config import Config

    samples = json.loads((data / "bench-manifest.json").read_text(encoding="utf-8"))["samples"]
    qs = [f"SELECT ?p ?o WHERE {{ <https://w3id.org/crkg/id/{p}> ?p ?o }}" for p in samples["interventions"][:40]]

    def bench(f, n=200):
        ts = []
        for k in range(n):
            t = time.perf_counter()
            f(qs[k % len(qs)])
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1000

    s = ox.Store.read_only(str(store_dir))
    J, T = ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.TSV
    print(f"pyoxigraph in-process, JSON      {bench(lambda q: s.query(q, use_default_graph_as_union=True).serialize(format=J)):.3f} ms")
    print(f"  + TSV round trip (row cap)     {bench(lambda q: ox.parse_query_results(s.query(q, use_default_graph_as_union=True).serialize(format=T), format=T).serialize(format=J)):.3f} ms")
    es = EmbeddedStore(str(store_dir), workers=1)
    print(f"EmbeddedStore (worker process)   {bench(lambda q: es.query(q, media_type='application/sparql-results+json', max_rows=10000)):.3f} ms")
    es.close()
    client = create_app(Config.from_env()).test_client()
    print(f"Flask app (test client)          {bench(lambda q: client.post('/sparql', data={'query': q}, headers={'Accept': 'application/sparql-results+json'})):.3f} ms")
    port = system.free_port()
    proc, _ready, sampler = start_http("crkg", crkg_serve_cmd(store_dir, port), port, "/sparql?query=ASK%7B%7D",
                                       300, Path("/tmp/lookup-breakdown-serve.log"))
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def http_lookup(q):
        conn.request("POST", "/sparql", body=urllib.parse.urlencode({"query": q}),
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Accept": "application/sparql-results+json"})
        conn.getresponse().read()

    try:
        bench(http_lookup, 50)
        print(f"HTTP via crkg serve (keep-alive) {bench(http_lookup):.3f} ms")
    finally:
        stop_proc(proc)
        sampler.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
