"""The evidence views over studies as the real pipeline builds them: the first study, the
teaching example of an imported-style study (data/examples/riverside-flood: sources,
codes, passages, mapping.csv) and the Hungarian test study (tests/fixtures/studies/tisza-hu),
built together by ``crkg build`` (with its search index) into a temporary store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crkg.paths import DATA_DIR, STUDIES_DIR
from crkg.web.app import create_app
from crkg.web.config import TestConfig

HUNGARIAN = Path(__file__).resolve().parents[1] / "fixtures" / "studies" / "tisza-hu"
EXAMPLE = DATA_DIR / "examples" / "riverside-flood"
CRKG = "https://w3id.org/crkg/ontology#"


@pytest.fixture(scope="module")
def store(tmp_path_factory, studies_builder):
    return studies_builder(tmp_path_factory.mktemp("views-real"), [STUDIES_DIR / "xu-chen-shanghai", EXAMPLE, HUNGARIAN])


@pytest.fixture(scope="module")
def client(store):
    app = create_app(TestConfig(STORE_DIR=str(store)))
    yield app.test_client()
    app.extensions["crkg.store"].close()


def page(client, url):
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.status_code == 200, (url, r.data[:300])
    return r.data.decode()


def test_every_study_is_listed_with_its_language(client):
    listing = page(client, "/studies/")
    for key, lang in (("xu-chen-shanghai", "zh"), ("riverside-flood", "en"), ("tisza-hu", "hu")):
        row = listing.split(f'href="/studies/{key}"', 1)[1].split("</tr>", 1)[0]
        assert f"<td>{lang}</td>" in row, key


@pytest.mark.parametrize("key", ["riverside-flood", "tisza-hu"])
def test_overview_and_matrices_of_other_studies(client, key):
    assert "<svg" in page(client, f"/studies/{key}")
    for rows, cols in (("mode", "goal"), ("code", "case"), ("phase", "actor-type")):
        page(client, f"/studies/{key}/matrix?rows={rows}&cols={cols}")


def test_codes_of_the_example_count_through_its_mapping(client):
    data = json.loads(client.get("/studies/riverside-flood/matrix?rows=code&cols=mode&format=json").data)
    assert data["cells"], "the example's codes are a matrix dimension"
    assert any(c["passages"] for c in data["cells"])
    compared = json.loads(client.get(
        "/studies/compare?studies=xu-chen-shanghai,riverside-flood&rows=mode&cols=goal&format=json").data)
    studies = {c["row"].split(": ", 1)[0] for c in compared["cells"]}
    assert studies == {"xu-chen-shanghai", "riverside-flood"}


def test_search_finds_each_language(client):
    hu = json.loads(client.get("/search?q=önkéntesek&format=json").data)
    assert any(h["study"] == "tisza-hu" for h in hu["hits"])
    en = json.loads(client.get("/search?q=sandbag&study=riverside-flood&format=json").data)
    assert en["total"] > 0 and all(h["study"] == "riverside-flood" for h in en["hits"])
    zh = json.loads(client.get("/search?q=认可&study=xu-chen-shanghai&format=json").data)
    assert zh["total"] > 0


def test_compare_carries_a_studys_own_concepts_over_to_crkgs(client):
    """riverside-flood codes under its own theory (its own modes and goals, each matched to
    crkg's by mapping.csv): on the comparison both studies have crkg's axes, and every
    cell's link lists exactly its passages."""
    from urllib.parse import urlsplit

    data = json.loads(client.get(
        "/studies/compare?studies=xu-chen-shanghai,riverside-flood&rows=mode&cols=goal&format=json").data)
    river = [c for c in data["cells"] if c["row"].startswith("riverside-flood: ")]
    assert river and all(c["row_iri"].startswith(CRKG) and c["column_iri"].startswith(CRKG) for c in river)
    assert sum(c["passages"] for c in river) > 0
    for c in river:
        if c["evidence"]:
            url = urlsplit(c["evidence"])
            listed = json.loads(client.get(f"{url.path}?{url.query}&format=json").data)["passages"]
            assert len(listed) == c["passages"], c
    # the study's own matrix keeps its own concepts
    own = json.loads(client.get("/studies/riverside-flood/matrix?rows=mode&cols=goal&format=json").data)
    assert any(not c["row_iri"].startswith(CRKG) for c in own["cells"])
