"""The naive peer: rdflib's in-memory store behind a minimal Flask SPARQL endpoint.

This is what a service built the obvious way does: parse the dump into an rdflib
``Dataset`` at start, answer ``/sparql`` with ``Dataset.query`` and serialise the result
with rdflib. ``/id/...`` answers the Linked Data equivalent of crkg's pages (every triple
with the resource as subject or object) as Turtle. The default graph is the union of the
named graphs, as in crkg.

    python -m bench.peers.rdflib_app DUMP.nq --port 8000
"""

from __future__ import annotations

import argparse
import sys
import time

from flask import Flask, Response, request

RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
}

ID_BASE = "https://w3id.org/crkg/id/"


def create_app(dump: str) -> Flask:
    from rdflib import Dataset, URIRef

    start = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(dump, format="nquads")
    print(f"rdflib peer: loaded {len(dataset)} quads in {time.perf_counter() - start:.1f} s",
          file=sys.stderr, flush=True)
    app = Flask(__name__)

    def answer(query: str) -> Response:
        try:
            result = dataset.query(query)
        except Exception as exc:  # rdflib raises many types for a bad query
            return Response(str(exc), status=400, mimetype="text/plain")
        if result.type in ("SELECT", "ASK"):
            accept = request.headers.get("Accept", "")
            media = next((m for m in RESULT_TYPES if m in accept), "application/sparql-results+json")
            return Response(result.serialize(format=RESULT_TYPES[media]), mimetype=media)
        return Response(result.serialize(format="turtle"), mimetype="text/turtle")

    @app.route("/sparql", methods=["GET", "POST"])
    def sparql():
        if request.method == "POST" and request.mimetype == "application/sparql-query":
            query = request.get_data(as_text=True)
        else:
            query = request.values.get("query")
        if not query:
            return Response("no query", status=400, mimetype="text/plain")
        return answer(query)

    @app.route("/id/<path:rest>")
    def resource(rest):
        iri = URIRef(ID_BASE + rest)
        from rdflib import Graph

        out = Graph()
        for s, p, o in dataset.triples((iri, None, None)):
            out.add((s, p, o))
        for s, p, o in dataset.triples((None, None, iri)):
            out.add((s, p, o))
        if not len(out):
            return Response("not found", status=404, mimetype="text/plain")
        return Response(out.serialize(format="turtle"), mimetype="text/turtle")

    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", help="an N-Quads file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    app = create_app(args.dump)
    from werkzeug.serving import run_simple

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
