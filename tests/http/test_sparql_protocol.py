"""SPARQL 1.1 Protocol at /sparql: the three query forms, the dataset, the statuses, CORS.

https://www.w3.org/TR/sparql11-protocol/ §2.1 (query operation) and §2.1.4 (dataset).
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pyoxigraph as ox
import pytest

PEOPLE = "http://example.org/graph/people"
PLACES = "http://example.org/graph/places"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SD = "http://www.w3.org/ns/sparql-service-description#"


def count(response) -> int:
    assert response.status_code == 200, response.data
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.data
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


# ------------------------------------------------------------------ the three forms


def test_get_query(client):
    r = client.get("/sparql", query_string={"query": COUNT})
    assert r.mimetype == "application/sparql-results+json"
    assert count(r) == 21


def test_post_form(client):
    r = client.post("/sparql", data={"query": COUNT})
    assert count(r) == 21


def test_post_form_body_is_parsed_strictly_as_utf8(client):
    query = 'SELECT ?s WHERE { ?s ?p "爱丽丝"@zh }'
    body = "query=" + quote(query.encode("utf-8"))
    r = client.post("/sparql", data=body, content_type="application/x-www-form-urlencoded",
                    headers={"Accept": "text/csv"})
    assert [row["s"] for row in rows(r)] == ["http://example.org/alice"]


def test_post_direct(client):
    r = client.post("/sparql", data=COUNT.encode(), content_type="application/sparql-query")
    assert count(r) == 21


def test_post_direct_with_charset_utf8_and_dataset_in_url(client):
    r = client.post(f"/sparql?default-graph-uri={quote(PLACES)}", data=COUNT.encode(),
                    content_type="application/sparql-query; charset=UTF-8")
    assert count(r) == 6


def test_head_is_answered_without_body(client):
    r = client.head("/sparql", query_string={"query": COUNT})
    assert r.status_code == 200
    assert r.data == b""


# ------------------------------------------------------------------ the dataset (§2.1.4)


def test_default_graph_is_the_union_of_the_named_graphs(client):
    query = ("PREFIX ex: <http://example.org/>\n"
             "SELECT ?who WHERE { ex:springfield ex:resident ?who . ?who ex:age ?age }")
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    # the residence is in one graph, the age in the other: only the union joins them
    assert [row["who"] for row in rows(r)] == ["http://example.org/alice"]


def test_default_graph_uri_restricts_the_default_graph(client):
    assert count(client.get("/sparql", query_string={"query": COUNT, "default-graph-uri": PEOPLE})) == 15
    both = client.get("/sparql", query_string=[("query", COUNT), ("default-graph-uri", PEOPLE),
                                               ("default-graph-uri", PLACES)])
    assert count(both) == 21


def test_named_graph_uri_limits_graph_and_empties_the_default(client):
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    r = client.get("/sparql", query_string={"query": query, "named-graph-uri": PLACES},
                   headers={"Accept": "text/csv"})
    assert rows(r) == [{"g": PLACES, "n": "6"}]
    only_named = client.get("/sparql", query_string={"query": COUNT, "named-graph-uri": PLACES})
    assert count(only_named) == 0


def test_graph_keyword_sees_every_named_graph(client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert [row["g"] for row in rows(r)] == [PEOPLE, PLACES]


def test_from_in_the_query_is_honoured(client):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{PLACES}> WHERE {{ ?s ?p ?o }}"
    assert count(client.get("/sparql", query_string={"query": query})) == 6


def test_protocol_dataset_overrides_from(client):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{PLACES}> WHERE {{ ?s ?p ?o }}"
    r = client.get("/sparql", query_string={"query": query, "default-graph-uri": PEOPLE})
    assert count(r) == 15


def test_a_graph_uri_that_is_not_an_iri_is_400(client):
    r = client.get("/sparql", query_string={"query": COUNT, "default-graph-uri": "not an iri"})
    assert r.status_code == 400
    assert b"default-graph-uri" in r.data


# ------------------------------------------------------------------ service description


def _sd(response) -> list:
    assert response.status_code == 200, response.data
    media = response.mimetype
    fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}[media]
    return list(ox.parse(response.data, format=fmt))


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json",
                                    "application/rdf+xml", "*/*", None])
def test_bare_get_is_the_service_description(client, accept):
    r = client.get("/sparql", headers={"Accept": accept} if accept else {})
    triples = _sd(r)
    by_predicate = {}
    for t in triples:
        by_predicate.setdefault(t.predicate.value, []).append(t.object)
    endpoint = "http://localhost/sparql"
    assert ox.NamedNode(endpoint) in by_predicate[SD + "endpoint"]
    assert ox.NamedNode(SD + "SPARQL11Query") in by_predicate[SD + "supportedLanguage"]
    assert ox.NamedNode(SD + "UnionDefaultGraph") in by_predicate[SD + "feature"]
    assert ox.NamedNode("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in by_predicate[SD + "resultFormat"]
    assert {o.value for o in by_predicate[SD + "name"]} == {PEOPLE, PLACES}
    assert len(by_predicate[SD + "defaultGraph"]) == 1


def test_bare_get_format_parameter(client):
    assert _sd(client.get("/sparql?format=ntriples"))
    assert client.get("/sparql?format=ntriples").mimetype == "application/n-triples"


def test_browser_gets_the_query_page(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert b"<html" in r.data


def test_service_description_public_base_url(fixture_store):
    from crkg.web.app import create_app
    from crkg.web.config import TestConfig

    app = create_app(TestConfig(STORE_DIR=str(fixture_store), PUBLIC_BASE_URL="https://kg.example.org/",
                                QUERY_WORKERS=1))
    try:
        triples = _sd(app.test_client().get("/sparql", headers={"Accept": "text/turtle"}))
    finally:
        app.extensions["crkg.store"].close()
    assert ox.NamedNode("https://kg.example.org/sparql") in {t.subject for t in triples}


# ------------------------------------------------------------------ bad requests


def test_malformed_query_is_400_with_the_parser_message(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert r.mimetype == "text/plain"
    assert r.data.startswith(b"400 Bad Request: ")
    assert b"error at 1:" in r.data  # Oxigraph's message, with the position


def test_error_body_is_json_when_asked(client):
    r = client.get("/sparql", query_string={"query": "SELECT"}, headers={"Accept": "application/json"})
    assert r.status_code == 400
    error = json.loads(r.data)["error"]
    assert error["status"] == 400 and error["title"] == "Bad Request" and error["message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client, method):
    r = client.open("/sparql", method=method, query_string={"query": COUNT})
    assert r.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    assert r.data.startswith(b"405 Method Not Allowed")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json", "multipart/form-data; boundary=x"])
def test_post_with_another_media_type_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/sparql", data=COUNT.encode(), headers=headers)
    assert r.status_code == 415, r.data


def test_post_direct_in_another_charset_is_415(client):
    r = client.post("/sparql", data=COUNT.encode("utf-16"),
                    content_type="application/sparql-query; charset=utf-16")
    assert r.status_code == 415


def test_two_queries_are_400(client):
    r = client.get("/sparql", query_string=[("query", COUNT), ("query", COUNT)])
    assert r.status_code == 400
    assert b"2 query parameters" in r.data
    r = client.post("/sparql?query=" + quote(COUNT), data=COUNT.encode(), content_type="application/sparql-query")
    assert r.status_code == 400


def test_missing_or_empty_query_on_post_is_400(client):
    assert client.post("/sparql", data={"format": "json"}).status_code == 400
    assert client.get("/sparql", query_string={"query": "  "}).status_code == 400


@pytest.mark.parametrize("raw", [b"%FF", b"%C3%28", b"%ED%A0%80", b"\xff\xfe"])
def test_non_utf8_query_string_is_400(client, raw):
    r = client.get("/sparql?query=" + raw.decode("latin-1"))
    assert r.status_code == 400, r.data


def test_non_utf8_body_is_400(client):
    r = client.post("/sparql", data=b"SELECT * WHERE { ?s ?p \"\xff\" }", content_type="application/sparql-query")
    assert r.status_code == 400
    assert b"not UTF-8" in r.data
    r = client.post("/sparql", data=b"query=SELECT%20%FF", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400


@pytest.mark.parametrize("how", ["get-update", "post-update", "update-media-type", "update-in-query"])
def test_updates_are_refused(client, how):
    update = "INSERT DATA { <http://example.org/x> <http://example.org/p> 1 }"
    if how == "get-update":
        r = client.get("/sparql", query_string={"update": update})
    elif how == "post-update":
        r = client.post("/sparql", data={"update": update})
    elif how == "update-media-type":
        r = client.post("/sparql", data=update.encode(), content_type="application/sparql-update")
    else:
        r = client.get("/sparql", query_string={"query": "PREFIX ex: <http://example.org/>\n" + update})
    assert r.status_code == 403
    assert b"updates are refused" in r.data
    assert count(client.get("/sparql", query_string={"query": COUNT})) == 21


# ------------------------------------------------------------------ CORS, Vary


def test_cors_on_answers_and_errors(client):
    for r in (client.get("/sparql", query_string={"query": COUNT}),
              client.get("/sparql", query_string={"query": "SELECT"}),
              client.put("/sparql")):
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "X-CRKG-Truncated" in r.headers["Access-Control-Expose-Headers"]
        assert "Accept" in r.headers["Vary"]


def test_cors_preflight(client):
    r = client.options("/sparql", headers={"Origin": "https://yasgui.example",
                                           "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
