"""The evidence views of an imported study, driven only by its codes and skos matches
(issue 12: "an imported study gets the same views").

The store holds the first study as built (ontology, study, links, inferences) plus a small
synthetic imported study (``tests/fixtures/views/imported-study.ttl``): passages coded
with codes, codes matched to crkg concepts (exact, close, broad: counted; narrow: not),
cases found through their source documents. It also carries hostile labels and text
(``=HYPERLINK(...)``, ``<script>``) for the injection and escaping checks.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from crkg.search.index import write_store_index
from crkg.store.embedded import write_store
from crkg.web.app import create_app
from crkg.web.config import TestConfig

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "views" / "imported-study.ttl"
KEY = "demo-import"
GRAPH = f"https://w3id.org/crkg/graph/study/{KEY}"
ID = "https://w3id.org/crkg/id/"
CRKG = "https://w3id.org/crkg/ontology#"


@pytest.fixture(scope="module")
def store_dir(built, tmp_path_factory):
    built_store = ox.Store.read_only(str(built.store_dir))
    by_graph = defaultdict(list)
    for q in built_store.quads_for_pattern(None, None, None, None):
        by_graph[q.graph_name.value].append(q.triple)
    del built_store
    items = [(g, ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES), "application/n-triples") for g, ts in by_graph.items()]
    items.append((GRAPH, FIXTURE.read_bytes(), "text/turtle"))
    path = tmp_path_factory.mktemp("views-imported") / "store"
    write_store(path, items)
    write_store_index(path)
    return path


@pytest.fixture(scope="module")
def app(store_dir):
    app = create_app(TestConfig(STORE_DIR=str(store_dir)))
    yield app
    app.extensions["crkg.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def cells(client, url: str) -> dict:
    data = json.loads(client.get(url + "&format=json").data)
    return {(c["row_iri"], c["column_iri"]): (c["interventions"], c["passages"]) for c in data["cells"]}


def test_list_says_where_the_study_came_from(client):
    page = client.get("/studies/", headers={"Accept": "text/html"}).data.decode()
    assert "imported from NVivo 12 (REFI-QDA 1.5 project)" in page
    assert "hand-coded" in page
    row = page.split(f'href="/studies/{KEY}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>en</td>" in row
    assert [n for n in row.split('<td class="num">')[1:]][0].startswith("2<")  # two cases


def test_code_by_case_matrix_counts_codings(client):
    got = cells(client, f"/studies/{KEY}/matrix?rows=code&cols=case")
    code, case = ID + f"code/{KEY}/", ID + f"case/{KEY}/"
    expected = {
        (code + "trust", case + "A"): (0, 1), (code + "trust", case + "B"): (0, 1),
        (code + "calm", case + "A"): (0, 1), (code + "calm", case + "B"): (0, 1),
        (code + "formula", case + "A"): (0, 1), (code + "formula", case + "B"): (0, 0),
        (code + "markup", case + "A"): (0, 0), (code + "markup", case + "B"): (0, 1),
    }
    assert got == expected


def test_mode_by_goal_goes_through_the_skos_matches(client):
    got = cells(client, f"/studies/{KEY}/matrix?rows=mode&cols=goal")
    # trust (exactMatch TrustScopeExpansion) + calm (closeMatch PsychologicalResilience) on
    # one passage; broadMatch counts for the mode (formula → resource network) but that
    # passage has no goal; narrowMatch (markup → organizational) does not count
    assert got == {
        (CRKG + "TrustScopeExpansion", CRKG + "PsychologicalResilience"): (0, 1),
        (CRKG + "ResourceNetworkIntegration", CRKG + "PsychologicalResilience"): (0, 0),
    }


def test_overview_works_without_interventions(client):
    page = client.get(f"/studies/{KEY}", headers={"Accept": "text/html"}).data.decode()
    assert "Synthetic flood volunteers study" in page and "Example, Ada" in page
    assert "<svg" in page


def test_compare_puts_both_studies_on_the_same_axes(client):
    data = json.loads(client.get(f"/studies/compare?studies=xu-chen-shanghai,{KEY}&rows=mode&cols=goal&format=json").data)
    by_study = defaultdict(dict)
    for c in data["cells"]:
        study, _ = c["row"].split(": ", 1)
        by_study[study][(c["row_iri"], c["column_iri"])] = (c["interventions"], c["passages"])
    assert set(by_study) == {"xu-chen-shanghai", KEY}
    assert set(by_study["xu-chen-shanghai"]) == set(by_study[KEY])  # the same 3 × 3 axes
    assert by_study[KEY][(CRKG + "TrustScopeExpansion", CRKG + "PsychologicalResilience")] == (0, 1)
    page = client.get(f"/studies/compare?studies=xu-chen-shanghai,{KEY}", headers={"Accept": "text/html"}).data.decode()
    assert page.count('<table class="matrix">') == 2
    assert client.get("/studies/compare?studies=xu-chen-shanghai,nope").status_code == 404


def test_exported_cells_cannot_run_as_formulas(client):
    from openpyxl import load_workbook

    url = f"/studies/{KEY}/matrix?rows=code&cols=case"
    text = client.get(url + "&format=csv").data.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    labels = {r["row"] for r in rows}
    assert "'=HYPERLINK(\"http://example.invalid/\",\"click\")" in labels
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    wb = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").data))
    for row in wb["matrix"].iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@"))


def test_labels_and_passages_are_escaped_everywhere(client):
    for url in (f"/studies/{KEY}", f"/studies/{KEY}/matrix?rows=code&cols=case",
                f"/evidence?study={KEY}&code=code/{KEY}/markup", "/search?q=most",
                f"/studies/{KEY}/flow.svg"):
        page = client.get(url, headers={"Accept": "text/html"}).data.decode()
        assert "<script>alert" not in page and "<b>most</b>" not in page, url
    page = client.get(f"/evidence?study={KEY}&code=code/{KEY}/markup", headers={"Accept": "text/html"}).data.decode()
    assert "&lt;b&gt;most&lt;/b&gt;" in page


def test_search_in_the_imported_study_by_stem_with_filters(client):
    data = json.loads(client.get(f"/search?q=trusting&study={KEY}&format=json").data)
    assert {h["iri"] for h in data["hits"] if h["field"] == "text"} == {
        ID + f"evidence/{KEY}/a1-1", ID + f"evidence/{KEY}/b1-1"}
    only_b = json.loads(client.get(f"/search?q=trust&case=case/{KEY}/B&format=json").data)
    assert {h["iri"] for h in only_b["hits"]} == {ID + f"evidence/{KEY}/b1-1"}
    by_goal = json.loads(client.get(f"/search?q=trust&goal=crkg:PsychologicalResilience&study={KEY}&format=json").data)
    assert {h["iri"] for h in by_goal["hits"]} == {ID + f"evidence/{KEY}/a1-1"}
