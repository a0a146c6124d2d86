"""Result formats at /sparql: every format of SPARQL 1.1 results and of RDF graphs,
chosen by Accept (with q-values) or ``format``; 406 when nothing fits.

SPARQL 1.1 Query Results JSON / XML / CSV-TSV, and the graph syntaxes; the bodies are
parsed back with independent readers (json, ElementTree, csv, rdflib).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import xml.etree.ElementTree as ET

import pytest
import rdflib

from crkg.formats import RDF_FORMATS, RESULT_FORMATS
from crkg.web.conneg import negotiate

EX = "http://example.org/"
SELECT = f"""PREFIX ex: <{EX}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?person ?label ?age WHERE {{ ?person a ex:Person ; rdfs:label ?label . OPTIONAL {{ ?person ex:age ?age }}
FILTER(LANG(?label) = "en") }} ORDER BY ?person"""
NOTE = f"SELECT ?note WHERE {{ <{EX}bob> <{EX}note> ?note }}"
ASK_TRUE = f"ASK {{ <{EX}alice> <{EX}knows> <{EX}bob> }}"
ASK_FALSE = f"ASK {{ <{EX}bob> <{EX}knows> <{EX}alice> }}"
CONSTRUCT = f"CONSTRUCT {{ ?a <{EX}friendOf> ?b }} WHERE {{ ?a <{EX}knows> ?b }}"
DESCRIBE = f"DESCRIBE <{EX}alice>"

EXPECTED_PEOPLE = [(f"{EX}alice", "Alice", "42"), (f"{EX}bob", "Bob", "37"), (f"{EX}carol", "Carol", None)]
EXPECTED_FRIENDS = {(f"{EX}alice", f"{EX}bob"), (f"{EX}carol", f"{EX}alice"), (f"{EX}carol", f"{EX}bob")}


def get(client, query, accept=None, **params):
    return client.get("/sparql", query_string={"query": query, **params},
                      headers={"Accept": accept} if accept else {})


# ------------------------------------------------------------------ SELECT


def test_select_json(client):
    r = get(client, SELECT, "application/sparql-results+json")
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+json"
    data = json.loads(r.data)
    assert data["head"]["vars"] == ["person", "label", "age"]
    got = [(b["person"]["value"], b["label"]["value"], b.get("age", {}).get("value")) for b in data["results"]["bindings"]]
    assert got == EXPECTED_PEOPLE
    first = data["results"]["bindings"][0]
    assert first["label"]["xml:lang"] == "en"
    assert first["age"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


def test_select_xml(client):
    r = get(client, SELECT, "application/sparql-results+xml")
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+xml"
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(r.data)
    assert [v.get("name") for v in root.findall("r:head/r:variable", ns)] == ["person", "label", "age"]
    got = []
    for result in root.findall("r:results/r:result", ns):
        values = {b.get("name"): "".join(b.itertext()) for b in result.findall("r:binding", ns)}
        got.append((values["person"], values["label"], values.get("age")))
    assert got == EXPECTED_PEOPLE


def test_select_csv(client):
    r = get(client, SELECT, "text/csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))
    assert [(row["person"], row["label"], row["age"] or None) for row in table] == EXPECTED_PEOPLE


def test_select_tsv(client):
    r = get(client, SELECT, "text/tab-separated-values")
    assert r.status_code == 200 and r.mimetype == "text/tab-separated-values"
    lines = r.data.decode("utf-8").splitlines()
    assert lines[0] == "?person\t?label\t?age"
    assert lines[1] == f'<{EX}alice>\t"Alice"@en\t42'
    assert len(lines) == 4


def test_csv_quotes_newlines_and_commas(client):
    r = get(client, NOTE, "text/csv")
    (row,) = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"), newline="")))
    assert row["note"] == 'line one\nline two, with "quotes",\ta tab and a comma'


def test_unicode_results(client):
    r = get(client, f'SELECT ?l WHERE {{ <{EX}alice> ?p ?l FILTER(LANG(?l) = "zh") }}', "application/sparql-results+json")
    assert json.loads(r.data)["results"]["bindings"][0]["l"]["value"] == "爱丽丝"


# ------------------------------------------------------------------ ASK


@pytest.mark.parametrize("query,expected", [(ASK_TRUE, True), (ASK_FALSE, False)])
def test_ask_json_and_xml(client, query, expected):
    r = get(client, query, "application/sparql-results+json")
    assert json.loads(r.data)["boolean"] is expected
    r = get(client, query, "application/sparql-results+xml")
    root = ET.fromstring(r.data)
    assert root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == str(expected).lower()


@pytest.mark.parametrize("accept", ["text/csv", "text/tab-separated-values"])
def test_ask_csv_tsv(client, accept):
    r = get(client, ASK_TRUE, accept)
    assert r.status_code == 200 and r.mimetype == accept
    assert r.data.strip() == b"true"


# ------------------------------------------------------------------ CONSTRUCT / DESCRIBE

def parse_graph(data: bytes, media_type: str) -> rdflib.Graph:
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser builds a ConjunctiveGraph (deprecated inside rdflib 7)
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return rdflib.Graph().parse(data=data, format=RDFLIB_FORMAT[media_type])


RDFLIB_FORMAT = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
                 "application/rdf+xml": "xml"}


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMAT))
def test_construct_in_every_graph_format(client, media_type):
    r = get(client, CONSTRUCT, media_type)
    assert r.status_code == 200 and r.mimetype == media_type, r.data
    graph = parse_graph(r.data, media_type)
    assert {(str(s), str(o)) for s, _, o in graph} == EXPECTED_FRIENDS


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMAT))
def test_describe(client, media_type):
    r = get(client, DESCRIBE, media_type)
    assert r.status_code == 200 and r.mimetype == media_type
    graph = parse_graph(r.data, media_type)
    assert (rdflib.URIRef(f"{EX}alice"), rdflib.URIRef(f"{EX}age"), rdflib.Literal(42)) in graph


def test_construct_default_is_turtle_with_prefixes(client):
    r = get(client, "CONSTRUCT WHERE { ?s a ?type }")
    assert r.mimetype == "text/turtle"
    assert b"@prefix rdf:" in r.data or b"PREFIX rdf:" in r.data


# ------------------------------------------------------------------ negotiation


@pytest.mark.parametrize("accept,expected", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("text/*", "text/csv"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.9, text/tab-separated-values;q=0.95", "text/tab-separated-values"),
    ("*/*;q=0.1, application/sparql-results+json;q=0", "application/sparql-results+xml"),
    ("*/*, text/csv;q=0, application/sparql-results+json;q=0", "application/sparql-results+xml"),
    ("application/sparql-results+json,application/json,text/javascript,application/javascript",
     "application/sparql-results+json"),  # what SPARQLWrapper sends for JSON
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
])
def test_accept_with_q_values_for_results(client, accept, expected):
    r = get(client, ASK_TRUE, accept)
    assert r.status_code == 200
    assert r.mimetype == expected
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize("accept,expected", [
    (None, "text/turtle"),
    ("application/json", "application/ld+json"),
    ("application/rdf+xml;q=0.5, application/n-triples", "application/n-triples"),
    ("*/*, text/turtle;q=0", "application/n-triples"),
    ("text/plain", "application/n-triples"),
])
def test_accept_with_q_values_for_graphs(client, accept, expected):
    r = get(client, CONSTRUCT, accept)
    assert r.status_code == 200
    assert r.mimetype == expected


@pytest.mark.parametrize("query,fmt,expected", [
    (SELECT, "csv", "text/csv"), (SELECT, "tsv", "text/tab-separated-values"),
    (SELECT, "json", "application/sparql-results+json"), (SELECT, "xml", "application/sparql-results+xml"),
    (SELECT, "text/csv", "text/csv"),
    (CONSTRUCT, "turtle", "text/turtle"), (CONSTRUCT, "ntriples", "application/n-triples"),
    (CONSTRUCT, "jsonld", "application/ld+json"), (CONSTRUCT, "rdfxml", "application/rdf+xml"),
    (CONSTRUCT, "json", "application/ld+json"), (CONSTRUCT, "xml", "application/rdf+xml"),
])
def test_format_parameter_overrides_accept(client, query, fmt, expected):
    r = get(client, query, "application/x-nothing", format=fmt)
    assert r.status_code == 200, r.data
    assert r.mimetype == expected


@pytest.mark.parametrize("query,accept,fmt", [
    (SELECT, "image/png", None), (SELECT, "text/turtle", None), (CONSTRUCT, "text/csv", None),
    (SELECT, "text/csv;q=0", None), (SELECT, None, "turtle"), (CONSTRUCT, None, "csv"), (SELECT, None, "nonsense"),
])
def test_nothing_acceptable_is_406(client, query, accept, fmt):
    params = {"format": fmt} if fmt else {}
    r = get(client, query, accept, **params)
    assert r.status_code == 406
    assert b"offered" in r.data


def test_negotiate_unit_cases():
    results = [f.media_type for f in RESULT_FORMATS]
    graphs = [f.media_type for f in RDF_FORMATS]
    assert negotiate(results, "text/csv;q=0") is None
    assert negotiate(results, "*/*, application/sparql-results+json;q=0") == "application/sparql-results+xml"
    assert negotiate(results, "text/csv, application/sparql-results+json") == "text/csv"
    assert negotiate(graphs, "application/x-turtle") == "text/turtle"
    assert negotiate(graphs, "text/turtle;q=abc, application/n-triples;q=0.1") == "application/n-triples"
    assert negotiate(graphs, "", None) == "text/turtle"
    assert negotiate(graphs, None, "ttl") == "text/turtle"
