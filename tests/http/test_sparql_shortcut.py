"""The WSGI short-cut for /sparql (``crkg.web.sparql_shortcut``) answers as Flask would.

The short-cut answers a successful query by GET or POST without Flask; every other
request, and every error, is Flask's. Each request below is sent to the app as served and
to the same app with the short-cut taken out (every request through the Flask view): the
status, the headers and the body must be the same. Then: the short-cut really answers
the common case (Flask never sees it), and the app has no hook that it would skip.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from crkg.web.app import create_app
from crkg.web.config import TestConfig
from crkg.web.sparql_shortcut import SparqlShortcut

PEOPLE = "http://example.org/graph/people"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
LOOKUP = "SELECT ?p ?o WHERE { <http://example.org/alice> ?p ?o }"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


@pytest.fixture(scope="module")
def apps(fixture_store):
    """(the app as served, the same app with every request through Flask), one store.
    MAX_ROWS 5, so that a large result is cut."""
    served = create_app(TestConfig(STORE_DIR=str(fixture_store), MAX_ROWS=5))
    store = served.extensions["crkg.store"]
    flask_only = create_app(TestConfig(STORE_DIR=str(fixture_store), MAX_ROWS=5), store=store)
    per_request = flask_only.wsgi_app
    assert isinstance(per_request.wsgi_app, SparqlShortcut)
    per_request.wsgi_app = per_request.wsgi_app.wsgi_app  # Flask's own WSGI app
    yield served, flask_only
    store.close()


REQUESTS = {
    "GET ASK": dict(method="GET", query_string={"query": "ASK {}"}),
    "GET lookup as JSON": dict(method="GET", query_string={"query": LOOKUP},
                               headers={"Accept": "application/sparql-results+json"}),
    "GET CSV": dict(method="GET", query_string={"query": COUNT}, headers={"Accept": "text/csv"}),
    "GET TSV by format": dict(method="GET", query_string={"query": COUNT, "format": "tsv"}),
    "GET XML, q-values": dict(method="GET", query_string={"query": COUNT},
                              headers={"Accept": "text/csv;q=0.5, application/sparql-results+xml"}),
    "GET truncated JSON": dict(method="GET", query_string={"query": ALL}),
    "GET truncated XML": dict(method="GET", query_string={"query": ALL, "format": "xml"}),
    "GET CONSTRUCT Turtle": dict(method="GET", headers={"Accept": "text/turtle"},
                                 query_string={"query": "CONSTRUCT WHERE { <http://example.org/alice> ?p ?o }"}),
    "GET default-graph-uri": dict(method="GET", query_string={"query": COUNT, "default-graph-uri": PEOPLE}),
    "POST form": dict(method="POST", data={"query": COUNT}),
    "POST direct": dict(method="POST", data=COUNT.encode(), content_type=DIRECT),
    "POST direct, charset": dict(method="POST", data=COUNT.encode(), content_type=DIRECT + "; charset=UTF-8"),
    "POST direct, dataset in URL": dict(method="POST", data=COUNT.encode(), content_type=DIRECT,
                                        query_string={"default-graph-uri": PEOPLE}),
    # errors: each is rendered by the app's error handler, whichever path raised it
    "malformed query": dict(method="GET", query_string={"query": "SELEC nothing"}),
    "malformed query, JSON error": dict(method="GET", query_string={"query": "SELEC nothing"},
                                        headers={"Accept": "application/json"}),
    "empty query": dict(method="GET", query_string={"query": "  "}),
    "two queries": dict(method="GET", query_string=[("query", "ASK {}"), ("query", "ASK {}")]),
    "update parameter": dict(method="POST", data={"update": "CLEAR ALL"}),
    "update in query": dict(method="POST", data={"query": "CLEAR ALL"}),
    "no acceptable format": dict(method="GET", query_string={"query": COUNT}, headers={"Accept": "image/png"}),
    "unknown format": dict(method="GET", query_string={"query": COUNT, "format": "nonsense"}),
    "not an IRI": dict(method="GET", query_string={"query": COUNT, "default-graph-uri": "not an iri"}),
    "SERVICE not allowed": dict(method="GET", query_string={
        "query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}),
    "URL not UTF-8": dict(method="GET", query_string="query=ASK%20%7B%7D%FF"),
    "form body not UTF-8": dict(method="POST", data=b"query=%FF", content_type=FORM),
    "direct body not UTF-8": dict(method="POST", data=b"ASK {} \xff", content_type=DIRECT),
    "direct body, Latin-1": dict(method="POST", data=COUNT.encode(), content_type=DIRECT + "; charset=latin-1"),
    "direct body and query=": dict(method="POST", data=COUNT.encode(), content_type=DIRECT,
                                   query_string={"query": COUNT}),
    "POST no query": dict(method="POST", data={"format": "json"}),
    "POST wrong media type": dict(method="POST", data=COUNT.encode(), content_type="text/plain"),
    "POST sparql-update": dict(method="POST", data=b"CLEAR ALL", content_type="application/sparql-update"),
    "too many parameters": dict(method="GET", query_string="&".join(f"x{i}=1" for i in range(1001)) + "&query=ASK%7B%7D"),
    "evaluation error": dict(method="GET", query_string={
        "query": "SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }"}),
    # left to Flask by the short-cut: still the same answers
    "bare GET": dict(method="GET", headers={"Accept": "text/turtle"}),
    "HEAD": dict(method="HEAD", query_string={"query": "ASK {}"}),
    "OPTIONS": dict(method="OPTIONS", headers={"Access-Control-Request-Headers": "Content-Type"}),
    "POST chunked": dict(method="POST", input_stream=None, data=f"query={quote(COUNT)}".encode(),
                         content_type=FORM, headers={"Transfer-Encoding": "chunked"}),
}


def _send(app, spec):
    spec = dict(spec)
    spec.pop("input_stream", None)
    return app.test_client().open("/sparql", **spec)


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_short_cut_answers_as_flask_does(apps, name):
    served, flask_only = apps
    a, b = _send(served, REQUESTS[name]), _send(flask_only, REQUESTS[name])
    assert a.status == b.status
    fresh_blank_nodes = name == "bare GET"  # the service description's: new labels each time
    ignored = {"Content-Length"} if fresh_blank_nodes else set()
    assert sorted(h for h in a.headers.items() if h[0] not in ignored) == \
        sorted(h for h in b.headers.items() if h[0] not in ignored)
    if fresh_blank_nodes:
        from rdflib import Graph
        from rdflib.compare import isomorphic

        assert isomorphic(Graph().parse(data=a.data, format="turtle"),
                          Graph().parse(data=b.data, format="turtle"))
    else:
        assert a.data == b.data


def test_truncation_is_said_on_both_paths(apps):
    served, _ = apps
    r = _send(served, REQUESTS["GET truncated JSON"])
    assert r.status_code == 200
    assert r.headers["X-CRKG-Truncated"] == "true"
    assert r.json["head"]["link"] == ["urn:crkg:truncated:max-rows=5"]
    assert len(r.json["results"]["bindings"]) == 5


class _Counting:
    def __init__(self, wsgi_app):
        self.wsgi_app, self.calls = wsgi_app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.wsgi_app(environ, start_response)


def test_the_common_query_never_reaches_flask(fixture_store):
    app = create_app(TestConfig(STORE_DIR=str(fixture_store)))
    shortcut = app.wsgi_app.wsgi_app
    flask_side = shortcut.wsgi_app = _Counting(shortcut.wsgi_app)
    client = app.test_client()
    try:
        assert client.get("/sparql", query_string={"query": COUNT}).status_code == 200
        assert client.post("/sparql", data={"query": COUNT}).status_code == 200
        assert client.post("/sparql", data=COUNT.encode(), content_type=DIRECT).status_code == 200
        assert flask_side.calls == 0
        # the rest is Flask's: the bare GET, another path, an over-cap body
        assert client.get("/sparql", headers={"Accept": "text/turtle"}).status_code == 200
        assert client.get("/void").status_code in (200, 404)
        assert flask_side.calls == 2
    finally:
        app.extensions["crkg.store"].close()


def test_a_body_over_the_cap_is_flasks_413(fixture_store):
    app = create_app(TestConfig(STORE_DIR=str(fixture_store), MAX_REQUEST_BYTES=100))
    try:
        r = app.test_client().post("/sparql", data=b"ASK {}" + b" " * 200, content_type=DIRECT)
        assert r.status_code == 413
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    finally:
        app.extensions["crkg.store"].close()


def test_the_app_has_no_before_request_hook_the_short_cut_would_skip(apps):
    # crkg.web.sparql_shortcut runs no before_request hook; one added to the app (or to
    # the sparql blueprint) must be run there too, or the short-cut narrowed
    served, _ = apps
    assert not any(served.before_request_funcs.values())
    assert not any(served.url_value_preprocessors.values())
