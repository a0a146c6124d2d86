"""The format registry ``crkg.formats``: one table, and every user reads it."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from crkg import formats
from crkg.formats import ALL_FORMATS, DATASET_FORMATS, RDF_FORMATS, RESULT_FORMATS


def test_names_media_types_and_first_extensions_are_unique():
    for attribute in ("media_type", "name", "extension", "w3c"):
        values = [getattr(f, attribute) for f in ALL_FORMATS]
        assert len(values) == len(set(values)), attribute


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.name)
def test_each_format_is_the_engine_format_of_its_media_type(fmt):
    assert fmt.oxigraph is not None and fmt.oxigraph.media_type.split(";")[0] == fmt.media_type
    assert fmt.iri == f"http://www.w3.org/ns/formats/{fmt.w3c}"


@pytest.mark.parametrize("token,expected", [
    ("application/json", "application/sparql-results+json"),
    ("text/plain; charset=utf-8", "application/n-triples"),
    ("TEXT/TURTLE", "text/turtle"),
    ("application/x-turtle", "text/turtle"),
    ("image/png", None),
    (None, None),
])
def test_by_media_type_knows_the_aliases(token, expected):
    found = formats.by_media_type(token)
    assert (found.media_type if found else None) == expected


@pytest.mark.parametrize("name,among,expected", [
    ("json", RESULT_FORMATS, "application/sparql-results+json"),
    ("json", RDF_FORMATS, "application/ld+json"),  # asked of a graph, JSON means JSON-LD
    ("xml", RDF_FORMATS, "application/rdf+xml"),
    ("ttl", RDF_FORMATS, "text/turtle"),
    ("turtle", RESULT_FORMATS, None),
    ("nquads", DATASET_FORMATS, "application/n-quads"),
])
def test_by_name_within_a_kind(name, among, expected):
    found = formats.by_name(name, among)
    assert (found.media_type if found else None) == expected


@pytest.mark.parametrize("extension,expected", [
    (".ttl", "text/turtle"), ("owl", "application/rdf+xml"), (".XML", "application/rdf+xml"),
    (".json", "application/ld+json"), (".nq", "application/n-quads"), (".trig", "application/trig"),
    (".yaml", None),
])
def test_file_extensions(extension, expected):
    found = formats.by_extension(extension)
    assert (found.media_type if found else None) == expected


def test_an_answer_gets_the_default_of_its_kind_when_the_asked_format_does_not_fit():
    assert formats.for_answer("text/turtle", formats.RESULTS).media_type == formats.DEFAULT_RESULT
    assert formats.for_answer("text/csv", formats.GRAPH).media_type == formats.DEFAULT_GRAPH
    assert formats.for_answer("text/csv", formats.RESULTS).media_type == "text/csv"


def test_crkg_query_offers_the_endpoints_format_names():
    from crkg.commands.query import FORMATS

    assert FORMATS == [f.name for f in RESULT_FORMATS + RDF_FORMATS]


def test_the_query_worker_holds_no_format_table_of_its_own():
    """The worker maps the canonical media type the parent sends with pyoxigraph itself."""
    from crkg.store import query_worker

    assert not [n for n in vars(query_worker) if n.endswith("_TYPES")]
    for fmt in RESULT_FORMATS:
        assert ox.QueryResultsFormat.from_media_type(fmt.media_type) == fmt.oxigraph
