"""``crkg link``: proposals from a local Wikidata-shaped endpoint, review, accept.

The endpoint is ``tests/fixtures/wikidata/endpoint.py`` serving FAKE items (QIDs
Q900000001 and up) on 127.0.0.1; the crkg side is the real ``data/links/`` linksets.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import socket
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS, VOID

from crkg.cli import main
from crkg.errors import CrkgError
from crkg.link import propose
from crkg.namespaces import ID, WD
from crkg.paths import LINKS_DIR, REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "wikidata"
PLACES = LINKS_DIR / "places.ttl"
XUHUI, PUDONG = str(ID["district/xuhui"]), str(ID["district/pudong"])


def _load_endpoint_module():
    spec = importlib.util.spec_from_file_location("wikidata_fixture_endpoint", FIXTURES / "endpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def wikidata():
    with _load_endpoint_module().LocalEndpoint(sorted(FIXTURES.glob("*.ttl"))) as endpoint:
        yield endpoint


@pytest.fixture
def districts_zh(tmp_path) -> Path:
    """crkg districts with Chinese labels, as the study data codes them."""
    path = tmp_path / "districts.ttl"
    path.write_text(f"""
        @prefix crkg: <https://w3id.org/crkg/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <{XUHUI}> a crkg:District ; rdfs:label "Xuhui District"@en , "徐汇区"@zh .
        <{PUDONG}> a crkg:District ; rdfs:label "Pudong New Area"@en , "浦东新区"@zh .
    """, encoding="utf-8")
    return path


def test_admin_code_rule_proposes_the_districts_only(wikidata):
    local = propose.local_store_from_files([PLACES])
    run = propose.propose_by_code(local, wikidata.url, today=dt.date(2026, 1, 2))
    got = {(p.subject, p.object, p.matched_value) for p in run.proposals}
    # Xuhui matches the six-digit code, Pudong the twelve-digit form; Shanghai is
    # already linked to Wikidata, so its code is not even asked for.
    assert got == {(XUHUI, str(WD.Q900000001), "310104"), (PUDONG, str(WD.Q900000002), "310115000000")}
    assert not run.unmatched
    first = run.proposals[0]
    assert first.endpoint == wikidata.url and first.date == "2026-01-02"
    assert "wdt:P442" in first.rule and first.predicate == str(SKOS.exactMatch)
    sent = wikidata.requests[-1]
    assert '"310104"' in sent["query"] and '"310000"' not in sent["query"]
    assert sent["user_agent"].startswith("crkg/") and "https://w3id.org/crkg/" in sent["user_agent"]


def test_label_rule_with_and_without_a_type(wikidata, districts_zh):
    local = propose.local_store_from_files([PLACES, districts_zh])
    loose = propose.propose_by_label(local, wikidata.url, lang="zh", kind="district")
    xuhui = sorted(p.object for p in loose.proposals if p.subject == XUHUI)
    assert xuhui == [str(WD.Q900000001), str(WD.Q900000003)]
    assert all("2 candidates" in p.note for p in loose.proposals if p.subject == XUHUI)
    typed = propose.propose_by_label(local, wikidata.url, lang="zh", kind="district", item_type="Q900000101")
    assert {(p.subject, p.object) for p in typed.proposals} == {
        (XUHUI, str(WD.Q900000001)), (PUDONG, str(WD.Q900000002))}
    assert "wdt:P279*" in typed.proposals[0].rule


def test_review_then_accept_writes_a_sourced_linkset(wikidata, tmp_path):
    run = propose.propose_by_code(propose.local_store_from_files([PLACES]), wikidata.url)
    review = propose.write_review(run, tmp_path / "proposed" / "districts.tsv")
    text = review.read_text(encoding="utf-8")
    assert text.startswith("# crkg link: proposed links, NOT in the graph")
    with pytest.raises(CrkgError, match="no decision yet"):
        propose.accept(review, tmp_path / "links")
    review.write_text(text.replace("\n?\t", "\naccept\t"), encoding="utf-8")
    target = propose.accept(review, tmp_path / "links")
    assert target == tmp_path / "links" / "districts.ttl"
    g = Graph().parse(target, format="turtle")
    assert (URIRef(XUHUI), SKOS.exactMatch, WD.Q900000001) in g
    assert (URIRef(PUDONG), SKOS.exactMatch, WD.Q900000002) in g
    for axiom in g.subjects(RDF.type, OWL.Axiom):
        assert g.value(axiom, DCTERMS.source) == URIRef(wikidata.url)
        assert g.value(axiom, DCTERMS.date) == Literal(dt.date.today())
        assert "wdt:P442" in str(g.value(axiom, SKOS.note))
    assert len(set(g.subjects(RDF.type, OWL.Axiom))) == 2
    linkset = ID["linkset/districts"]
    assert g.value(linkset, VOID.triples).toPython() == 2
    assert g.value(linkset, VOID.objectsTarget) == ID["dataset/wikidata"]
    with pytest.raises(CrkgError, match="exists"):
        propose.accept(review, tmp_path / "links")


def test_accept_refuses_two_objects_for_one_resource(wikidata, districts_zh, tmp_path):
    local = propose.local_store_from_files([PLACES, districts_zh])
    run = propose.propose_by_label(local, wikidata.url, lang="zh")
    review = propose.write_review(run, tmp_path / "r.tsv")
    review.write_text(review.read_text(encoding="utf-8").replace("\n?\t", "\naccept\t"), encoding="utf-8")
    with pytest.raises(CrkgError, match="two objects accepted"):
        propose.accept(review, tmp_path / "links")


def test_cli_proposes_and_accepts(wikidata, tmp_path, capsys):
    out = tmp_path / "review.tsv"
    with pytest.raises(SystemExit) as exit_:
        main(["link", "--endpoint", wikidata.url, "--data", str(PLACES), "--out", str(out)])
    assert exit_.value.code == 0
    assert "2 proposed links for 2 resources" in capsys.readouterr().err
    out.write_text(out.read_text(encoding="utf-8").replace("\n?\t", "\nreject\t", 1)
                   .replace("\n?\t", "\naccept\t"), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["link", "accept", str(out), "--links-dir", str(tmp_path / "links"), "--name", "d"])
    assert exit_.value.code == 0
    g = Graph().parse(tmp_path / "links" / "d.ttl", format="turtle")
    assert len(list(g.triples((None, SKOS.exactMatch, None)))) == 1


@pytest.mark.parametrize("status,headers,expected", [
    # the one mapping of every remote endpoint's failures (crkg.store.sparql_http)
    (429, {"Retry-After": "7"}, r"rate-limiting or overloaded \(HTTP 429\); it asks to retry after 7 s"),
    (503, {"Retry-After": "120"}, r"HTTP 503\); it asks to retry after 120 s"),
    (500, {}, r"rejected the query|HTTP 500"),
])
def test_endpoint_failures_exit_2_with_a_clear_message(wikidata, tmp_path, capsys, status, headers, expected):
    wikidata.fail_with = (status, headers)
    out = tmp_path / "review.tsv"
    with pytest.raises(SystemExit) as exit_:
        main(["link", "--endpoint", wikidata.url, "--data", str(PLACES), "--out", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert not out.exists(), "nothing may be written when the endpoint failed"


def test_unreachable_endpoint_exits_2(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SystemExit) as exit_:
        main(["link", "--endpoint", f"http://127.0.0.1:{port}/sparql", "--data", str(PLACES),
              "--out", str(tmp_path / "r.tsv")])
    assert exit_.value.code == 2
    assert re.search(r"cannot reach the endpoint http://127\.0\.0\.1:\d+/sparql", capsys.readouterr().err)


def test_proposes_for_the_districts_of_the_built_store(built, wikidata, tmp_path, capsys):
    """The real data: the study's districts, the linksets' codes, matched in the built store."""
    from crkg.store.embedded import EmbeddedStore

    with EmbeddedStore(built.store_dir, workers=1) as store:
        by_code = propose.propose_by_code(store, wikidata.url, kind="district")
        by_label = propose.propose_by_label(store, wikidata.url, lang="zh", kind="district",
                                            item_type="Q900000100")
    assert {(p.subject, p.object) for p in by_code.proposals} == {
        (XUHUI, str(WD.Q900000001)), (PUDONG, str(WD.Q900000002))}
    assert {(p.subject, p.object) for p in by_label.proposals} == {
        (XUHUI, str(WD.Q900000001)), (PUDONG, str(WD.Q900000002))}
    out = tmp_path / "review.tsv"
    with pytest.raises(SystemExit) as exit_:
        main(["link", "--endpoint", wikidata.url, "--store", str(built.store_dir), "--out", str(out)])
    assert exit_.value.code == 0, capsys.readouterr().err
    assert len(propose.read_review(out)) == 2
