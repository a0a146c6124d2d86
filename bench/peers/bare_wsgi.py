"""The bare peer of the request fixed cost (issue 14 item 5): WSGI + pyoxigraph, nothing else.

A plain WSGI function (no framework) that opens the store read-only in its own process,
runs ``GET /sparql?query=...`` in-process with the union default graph and answers SPARQL
JSON: no guard, no content negotiation, no time limit, no worker process, no admission.
What is left is the least any Python HTTP service over pyoxigraph pays per request, so
crkg's fixed cost is measured against it in the same run (``bench/fixed_cost.py``).

    python -m bench.peers.bare_wsgi STORE --port 8000 [--server gunicorn|waitress]

``gunicorn`` (the issue's peer: sync worker, Linux/macOS) or ``waitress`` (the server
crkg itself runs on, to separate the server's share of the cost from crkg's).
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import parse_qs


def make_app(store_dir: str):
    import pyoxigraph as ox

    store = ox.Store.read_only(store_dir)
    json = ox.QueryResultsFormat.JSON

    def app(environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", "")).get("query", [None])[0]
        if not query:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"no query"]
        try:
            body = store.query(query, use_default_graph_as_union=True).serialize(format=json)
        except SyntaxError as exc:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        start_response("200 OK", [("Content-Type", "application/sparql-results+json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    args = p.parse_args(argv)
    if args.server == "waitress":
        from waitress import serve

        serve(make_app(args.store), host="127.0.0.1", port=args.port, threads=4, ident="bare")
        return 0
    from gunicorn.app.base import BaseApplication

    class Bare(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"127.0.0.1:{args.port}", "workers": 1, "worker_class": "sync",
                               "loglevel": "warning", "keepalive": 30}.items():
                self.cfg.set(key, value)

        def load(self):
            return make_app(args.store)

    Bare().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
