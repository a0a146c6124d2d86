"""The evidence views on the first study's real data (issue 12): the study list and
overview, matrices and their downloads (checked against SPARQL counts), /evidence, the
flow picture, search, citations, the query page's languages, and bad input.

The store is the repository's data built by ``crkg build`` (the ``built`` fixture), which
also writes the search index beside it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest

from crkg.web.app import create_app
from crkg.web.config import TestConfig

STUDY = "xu-chen-shanghai"
S = f"<https://w3id.org/crkg/id/study/{STUDY}>"
CRKG = "https://w3id.org/crkg/ontology#"
PREFIXES = f"""PREFIX crkg: <{CRKG}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
#: the top modes (no broader mode), as the matrices count them
TOP_MODE = "?m a crkg:ResilienceMode FILTER NOT EXISTS { ?m skos:broader ?up . ?up a crkg:ResilienceMode }"


@pytest.fixture(scope="module")
def app(built):
    app = create_app(TestConfig(STORE_DIR=str(built.store_dir)))
    yield app
    app.extensions["crkg.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def sparql(built):
    store = ox.Store.read_only(str(built.store_dir))

    def run(query: str) -> list[dict]:
        result = store.query(PREFIXES + query, use_default_graph_as_union=True)
        return [{v.value: row[v.value].value if row[v.value] is not None else None for v in result.variables}
                for row in result]

    return run


def html(client, url: str, status: int = 200) -> str:
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.status_code == status, (url, r.status_code, r.data[:500])
    return r.data.decode("utf-8")


def read_csv(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


# ------------------------------------------------------------------------ list, overview


def test_studies_list_counts_match_sparql(client, sparql):
    page = html(client, "/studies/")
    (n_cases,) = sparql(f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a crkg:Case ; crkg:inStudy {S} }}")
    (n_int,) = sparql(f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i crkg:inCase/crkg:inStudy {S} }}")
    (n_ev,) = sparql(f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a crkg:Evidence ; crkg:inStudy {S} }}")
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/studies/xu-chen-shanghai.*?</tr>", page, re.S).group(0)
    numbers = re.findall(r'<td class="num">(\d+)</td>', row)
    assert numbers == [n_cases["n"], n_int["n"], n_ev["n"]]
    assert "hand-coded" in row


def test_overview_shows_record_matrix_agreement_phases_picture_and_cases(client):
    page = html(client, f"/studies/{STUDY}")
    assert page.count("<h1") == 1
    for heading in ("The study", "Cite this", "Mode × goal", "Coded outcomes and the theory",
                    "Per phase", "Interventions → modes → goals", "Passages backing each goal",
                    "Cases and communities"):
        assert f">{heading}" in unescape(page), heading
    # the first study's framework as the graph states it
    assert "trust-scope expansion" in page and "psychological resilience" in page
    # Table 1: the strategies per goal and phase
    assert "Recovery guides" in page
    # the picture and the plot are inline SVG with a title, and their links go to /evidence
    assert page.count("<svg") == 2 and "<title id=\"flow-title\">" in page
    assert re.search(r'<a href="/evidence\?study=xu-chen-shanghai&amp;intervention=', page)
    # every case and community page is linked
    assert "/id/case/xu-chen-shanghai/M" in page and "/id/community/xu-chen-shanghai/M" in page


@pytest.mark.parametrize("url", ["/studies/", f"/studies/{STUDY}", f"/studies/{STUDY}/matrix?rows=case&cols=goal",
                                 f"/evidence?study={STUDY}&goal=crkg:CulturalResilience", "/search?q=认可",
                                 f"/studies/compare?studies={STUDY}", f"/id/case/{STUDY}/M"])
def test_pages_have_no_inline_script_or_style(client, url):
    """The Content-Security-Policy allows neither; the pages need no script at all."""
    page = html(client, url)
    assert "<script" not in page and "style=" not in page and "<style" not in page


def test_overview_in_chinese(client):
    page = html(client, f"/studies/{STUDY}?lang=zh")
    assert '<html lang="zh">' in page
    assert "心理韧性" in page and "编码结果与理论" in page
    # links keep the language
    assert f"/studies/{STUDY}/flow.svg?lang=zh" in unescape(page)


def test_linked_data_page_of_the_study_links_to_the_overview(client):
    page = html(client, f"/id/study/{STUDY}")
    assert f'href="/studies/{STUDY}"' in page


@pytest.mark.parametrize("kind,key", [("case", "M"), ("community", "M")])
def test_case_and_community_pages_show_their_matrix(client, sparql, kind, key):
    page = html(client, f"/id/{kind}/{STUDY}/{key}")
    iri = f"<https://w3id.org/crkg/id/{kind}/{STUDY}/{key}>"
    link = "crkg:inCase" if kind == "case" else "crkg:inCase/crkg:aboutCommunity"
    (expected,) = sparql(f"SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i {link} {iri} ; crkg:usesMode ?m ; crkg:contributesTo ?g . {TOP_MODE} }}")
    assert '<table class="matrix">' in page
    total = re.search(r'<td class="num total">(\d+) / (\d+)</td>\s*</tr></tfoot>', page)
    assert total and total.group(1) == expected["n"]


# ---------------------------------------------------------------------------- matrices


def cell_counts_sparql(sparql, rows_pattern: str, cols_pattern: str, rows_var: str, cols_var: str):
    """{(row IRI, col IRI): (interventions, passages)} counted in SPARQL."""
    base = f"?i crkg:inCase/crkg:inStudy {S} . {rows_pattern} {cols_pattern}"
    ints = sparql(f"SELECT ?{rows_var} ?{cols_var} (COUNT(DISTINCT ?i) AS ?n) WHERE {{ {base} }} GROUP BY ?{rows_var} ?{cols_var}")
    evs = sparql(f"SELECT ?{rows_var} ?{cols_var} (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {base} ?i crkg:hasEvidence ?e }} GROUP BY ?{rows_var} ?{cols_var}")
    out = {}
    for r in ints:
        out[(r[rows_var], r[cols_var])] = [int(r["n"]), 0]
    for r in evs:
        out.setdefault((r[rows_var], r[cols_var]), [0, 0])[1] = int(r["n"])
    return {k: tuple(v) for k, v in out.items()}


PATTERNS = {
    "mode": ("?i crkg:usesMode ?m . " + TOP_MODE, "m"),
    "goal": ("?i crkg:contributesTo ?g .", "g"),
    "phase": ("?i crkg:inPhase ?ph .", "ph"),
    "case": ("?i crkg:inCase ?c .", "c"),
}


@pytest.mark.parametrize("rows,cols", [("mode", "goal"), ("phase", "case"), ("goal", "phase"), ("case", "mode")])
def test_matrix_csv_equals_sparql_counts(client, sparql, rows, cols):
    r = client.get(f"/studies/{STUDY}/matrix?rows={rows}&cols={cols}&format=csv")
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    got = {(row["row_iri"], row["column_iri"]): (int(row["interventions"]), int(row["passages"]))
           for row in read_csv(r.data)}
    expected = cell_counts_sparql(sparql, PATTERNS[rows][0], PATTERNS[cols][0], PATTERNS[rows][1], PATTERNS[cols][1])
    nonzero = {k: v for k, v in got.items() if v != (0, 0)}
    assert nonzero == expected
    assert sum(i for i, _ in nonzero.values()) > 0


def test_matrix_json_and_xlsx_have_the_same_numbers_as_csv_and_page(client):
    from openpyxl import load_workbook

    base = f"/studies/{STUDY}/matrix?rows=mode&cols=goal"
    rows = read_csv(client.get(base + "&format=csv").data)
    as_csv = [(r["row_iri"], r["column_iri"], int(r["interventions"]), int(r["passages"])) for r in rows]
    data = json.loads(client.get(base + "&format=json").data)
    as_json = [(c["row_iri"], c["column_iri"], c["interventions"], c["passages"]) for c in data["cells"]]
    wb = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").data))
    sheet = list(wb["matrix"].iter_rows(values_only=True))
    header = list(sheet[0])
    as_xlsx = [(r[header.index("row_iri")], r[header.index("column_iri")], r[header.index("interventions")],
                r[header.index("passages")]) for r in sheet[1:]]
    assert as_csv == as_json == as_xlsx and len(as_csv) == 9
    page = html(client, base)
    shown = [tuple(map(int, m)) for m in re.findall(r'title="interventions / passages">(\d+) / (\d+)</a>', page)]
    # the page shows the non-zero cells as links (row by row, then the row total)
    nonzero = [(i, e) for _, _, i, e in as_csv if i or e]
    assert all(cell in shown for cell in nonzero)


def test_each_cell_links_to_exactly_its_passages(client):
    rows = read_csv(client.get(f"/studies/{STUDY}/matrix?rows=mode&cols=goal&format=csv").data)
    checked = 0
    for row in rows:
        if not row["evidence"]:
            continue
        url = urlsplit(row["evidence"])
        r = client.get(url.path + "?" + url.query + "&format=json")
        passages = json.loads(r.data)["passages"]
        assert len(passages) == int(row["passages"]), row
        for p in passages:
            assert p["texts"] and p["locators"] and p["interventions"]
        checked += 1
    assert checked >= 4
    page = html(client, urlsplit(rows[0]["evidence"]).path + "?" + urlsplit(rows[0]["evidence"]).query)
    assert "<blockquote" in page and "§ " in page


@pytest.mark.parametrize("rows,cols", [("actor-type", "goal"), ("case", "phase"), ("code", "mode")])
def test_every_dimension_renders(client, rows, cols):
    page = html(client, f"/studies/{STUDY}/matrix?rows={rows}&cols={cols}")
    assert "<h1>Matrix:" in page


def test_flow_svg_is_server_drawn_with_band_links(client):
    r = client.get(f"/studies/{STUDY}/flow.svg")
    assert r.content_type.startswith("image/svg+xml")
    svg = r.data.decode()
    assert "<script" not in svg and "style=" not in svg
    bands = re.findall(r'<a href="([^"]+)" class="band">', svg)
    assert len(bands) > 41
    hrefs = [unescape(b) for b in bands]
    assert all(h.startswith("/evidence?study=xu-chen-shanghai&") for h in hrefs)
    case_svg = client.get(f"/studies/{STUDY}/flow.svg?case=case/{STUDY}/M").data.decode()
    assert len(re.findall(r'class="band"', case_svg)) < len(bands)


# ------------------------------------------------------------------------------ search


@pytest.mark.parametrize("word", ["认可", "志愿"])
def test_search_finds_chinese_words_in_quotes_and_passages(client, sparql, word):
    data = json.loads(client.get(f"/search?q={word}&format=json").data)
    expected = {r["e"] for r in sparql(f'SELECT DISTINCT ?e WHERE {{ ?e a crkg:Evidence ; crkg:text ?t FILTER CONTAINS(?t, "{word}") }}')}
    found = {h["iri"] for h in data["hits"] if h["field"] == "text"}
    assert expected and expected <= found | set() and len(found) >= len(expected)
    assert all(word in h["text"] and word in h["marks"] for h in data["hits"] if h["field"] == "text")
    kinds = {h["kind"] for h in data["hits"]}
    assert "Quote" in kinds or word == "志愿"


def test_search_finds_english_by_stem_and_marks_it(client):
    data = json.loads(client.get("/search?q=volunteers&format=json").data)
    texts = [h for h in data["hits"] if h["lang"] == "en"]
    assert any(re.search(r"\bvolunteer\b", h["text"]) for h in texts)
    page = html(client, "/search?q=volunteers")
    assert re.search(r"<mark>[Vv]olunteer</mark>", page)
    # each hit links to its passage and its interventions
    assert 'href="/id/observation/' in page or 'href="/id/quote/' in page
    assert 'href="/id/intervention/' in page


def test_search_filters_by_study_case_mode_and_goal(client):
    everything = json.loads(client.get("/search?q=认可&format=json").data)["total"]
    by_mode = json.loads(client.get("/search?q=认可&mode=crkg:TrustScopeExpansion&format=json").data)
    assert 0 < by_mode["total"] <= everything
    by_case = json.loads(client.get(f"/search?q=社区&case=case/{STUDY}/M&format=json").data)
    assert by_case["total"] > 0
    assert json.loads(client.get(f"/search?q=认可&study={STUDY}&goal=crkg:PsychologicalResilience&format=json").data)["total"] > 0


@pytest.mark.parametrize("text", ['"', "*", "NEAR(", "OR", "AND NOT", '志愿" OR "x', "a\x00b\x1f", "-", "^", "(((", "x" * 1000])
def test_any_search_text_is_words_never_an_error(client, text):
    r = client.get("/search", query_string={"q": text, "format": "json"})
    assert r.status_code == 200, r.data
    page = client.get("/search", query_string={"q": text}, headers={"Accept": "text/html"})
    assert page.status_code == 200


def test_search_text_past_the_stated_length_is_a_clear_400(client):
    r = client.get("/search", query_string={"q": "志愿 " * 5000}, headers={"Accept": "text/html"})
    assert r.status_code == 400
    assert "at most 1000" in r.data.decode()


def test_search_box_on_every_page(client):
    for url in ("/", "/studies/", f"/studies/{STUDY}", f"/id/study/{STUDY}", "/ontology", "/data"):
        assert 'role="search"' in html(client, url), url


# -------------------------------------------------------------------------- citations


def test_study_citation_leaves_unknown_fields_out(client):
    bib = client.get(f"/cite?iri=https://w3id.org/crkg/id/study/{STUDY}&format=bibtex")
    assert bib.status_code == 200 and "attachment" in bib.headers["Content-Disposition"]
    text = bib.data.decode()
    assert text.startswith("@misc{")
    assert "徐选国" in text and "陈杏钧" in text
    for absent in ("year", "journal", "doi"):
        assert not re.search(rf"^\s*{absent}\s*=", text, re.M), absent
    ris = client.get(f"/cite?iri=https://w3id.org/crkg/id/study/{STUDY}&format=ris").data.decode()
    assert ris.startswith("TY  - GEN\r\n") and ris.rstrip().endswith("ER  -")
    assert "PY  -" not in ris and "JO  -" not in ris
    csl = json.loads(client.get(f"/cite?iri=https://w3id.org/crkg/id/study/{STUDY}&format=csl-json").data)
    assert "issued" not in csl[0] and "container-title" not in csl[0]
    assert csl[0]["URL"] == f"https://w3id.org/crkg/id/study/{STUDY}"


def test_passage_citation_names_study_locator_and_iri(client):
    iri = f"https://w3id.org/crkg/id/quote/{STUDY}/W"
    csl = json.loads(client.get(f"/cite?iri={iri}&format=csl-json").data)[0]
    assert csl["URL"] == iri and csl["section"] == "三.3.(1)"
    assert "社会工作介入" in csl["container-title"] or "production mechanism" in csl["container-title"]
    page = html(client, f"/id/quote/{STUDY}/W")
    assert "Cite this" in page and "§ 三.3.(1)" in page and iri in page
    bib = client.get(f"/cite?iri={iri}&format=bibtex").data.decode()
    assert "三.3.(1)" in bib and f"url = {{{iri}}}" in bib


def test_intervention_page_cites_and_links_to_its_evidence(client):
    page = html(client, f"/id/intervention/{STUDY}/national-notice")
    assert "Cite this" in page and "/evidence?intervention=intervention/xu-chen-shanghai/national-notice" in page


def test_cite_rejects_what_it_cannot_cite(client):
    assert client.get("/cite?iri=https://example.org/x").status_code == 404
    assert client.get(f"/cite?iri=https://w3id.org/crkg/id/study/{STUDY}&format=docx").status_code == 400
    assert client.get("/cite?iri=https://w3id.org/crkg/id/actor/xu-chen-shanghai/W").status_code == 404


# ------------------------------------------------------------------------- query page


def test_query_page_has_language_switch_and_titles_in_both_languages(client):
    en = html(client, "/")
    assert 'href="/?lang=zh"' in en and "Practices applied in all ten communities" in en
    assert '<span class="other-title" lang="zh">十个社区都采用的实践</span>' in en
    zh = html(client, "/?lang=zh")
    assert '<span class="title">十个社区都采用的实践</span>' in zh
    config = json.loads(unescape(re.search(r'id="crkg-query-config">(.*?)</script>', zh, re.S).group(1)))
    assert any(e["title"] == "十个社区都采用的实践" for e in config["examples"])


# -------------------------------------------------------------------------- bad input


def test_unknown_study_lists_the_valid_ones(client):
    page = html(client, "/studies/no-such-study", 404)
    assert "no-such-study" in page and f'href="/studies/{STUDY}"' in page
    assert client.get("/studies/no-such-study/matrix?format=csv").status_code == 404
    assert client.get("/evidence?study=nope").status_code == 404


def test_unknown_dimension_and_value_list_the_valid_ones(client):
    page = html(client, f"/studies/{STUDY}/matrix?rows=colour&cols=goal", 400)
    for d in ("mode", "goal", "phase", "actor-type", "case", "code"):
        assert f"<code>{d}</code>" in page
    page = html(client, f"/studies/{STUDY}/matrix?rows=mode&cols=goal&case=case/{STUDY}/nowhere", 404)
    assert f"case/{STUDY}/M" in page
    assert client.get(f"/studies/{STUDY}/matrix?format=pdf").status_code == 400
    assert client.get("/search?q=x&mode=crkg:Nothing").status_code == 404
    assert client.get("/evidence?colour=red").status_code == 400


def test_passages_and_labels_are_html_escaped(client):
    page = html(client, "/search?q=%3Cscript%3E")
    assert "<script>" not in page.split("</head>", 1)[1]


def test_search_without_an_index_says_how_to_get_one(fixture_store):
    """A store not made by ``crkg build`` (here: written directly) has no index beside it."""
    app = create_app(TestConfig(STORE_DIR=str(fixture_store)))
    try:
        r = app.test_client().get("/search?q=x")
        assert r.status_code == 503 and b"crkg build" in r.data
    finally:
        app.extensions["crkg.store"].close()


def test_index_is_written_beside_the_store_by_the_build(built):
    """In the side folder of the store's generation: swapped in with the store."""
    from crkg.paths import store_side_dir
    from crkg.search.index import index_path
    from crkg.search.query import connect

    path = index_path(built.store_dir)
    assert path.parent == store_side_dir(built.store_dir) and path.is_file()
    con = connect(path)
    try:
        (n,) = con.execute("SELECT COUNT(*) FROM docs WHERE field = 'text'").fetchone()
    finally:
        con.close()
    assert n > 100
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))


def test_evidence_across_studies_with_a_value_no_study_has_is_a_404(client):
    assert client.get("/evidence?case=case/nowhere/X").status_code == 404
    data = json.loads(client.get(f"/evidence?case=case/{STUDY}/M&format=json").data)
    assert data["passages"] and all(p["study"] == STUDY for p in data["passages"])
