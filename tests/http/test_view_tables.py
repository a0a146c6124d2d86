"""The evidence views' tables (``crkg.web.view_tables``), made by ``crkg build``.

The pages read each study's facts and the list of studies from tables the build asked of
the new store; asked live, the same code gives the same answers. So every evidence view is
fetched twice from one store - with its tables and with them ignored - and must be the
same bytes. Then: the tables are really read (no query for a study's facts), a rebuild
after one study changed makes that study's table again and copies the others, a table of
other code is not read, and a store without tables (a remote back end) is asked live.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crkg.paths import DATA_DIR, STUDIES_DIR, store_side_dir
from crkg.web import view_tables
from crkg.web.app import create_app
from crkg.web.config import TestConfig

HUNGARIAN = Path(__file__).resolve().parents[1] / "fixtures" / "studies" / "tisza-hu"
EXAMPLE = DATA_DIR / "examples" / "riverside-flood"
FIRST = "xu-chen-shanghai"


@pytest.fixture(scope="module")
def store(tmp_path_factory, studies_builder):
    return studies_builder(tmp_path_factory.mktemp("view-tables"), [STUDIES_DIR / FIRST, EXAMPLE, HUNGARIAN])


@pytest.fixture(scope="module")
def app(store):
    app = create_app(TestConfig(STORE_DIR=str(store)))
    yield app
    app.extensions["crkg.store"].close()


def _urls(client) -> list[str]:
    urls = ["/studies/", "/studies/compare?rows=mode&cols=goal",
            "/studies/compare?rows=mode&cols=goal&format=json",
            "/studies/compare?studies=xu-chen-shanghai,riverside-flood&rows=phase&cols=goal&format=csv",
            "/evidence", "/evidence?format=json", f"/evidence?study={FIRST}&frame=crkg"]
    for key in (FIRST, "riverside-flood", "tisza-hu"):
        urls += [f"/studies/{key}", f"/studies/{key}/flow.svg", f"/studies/{key}?lang=en",
                 f"/evidence?study={key}&format=json"]
        for rows, cols in (("mode", "goal"), ("code", "case"), ("phase", "actor-type"), ("case", "goal")):
            urls += [f"/studies/{key}/matrix?rows={rows}&cols={cols}",
                     f"/studies/{key}/matrix?rows={rows}&cols={cols}&format=json"]
    # a case's own page shows its matrix (crkg.web.views_panel)
    cells = json.loads(client.get(f"/studies/{FIRST}/matrix?rows=case&cols=goal&format=json").data)["cells"]
    case = cells[0]["row_iri"]
    assert case.startswith("https://w3id.org/crkg/id/case/")
    urls += [case.replace("https://w3id.org/crkg", "") + "?lang=zh", cells[0]["evidence"].replace("http://localhost", "")]
    return urls


def test_every_view_is_the_same_with_and_without_the_tables(app, monkeypatch):
    client = app.test_client()
    assert view_tables.current_tables.__module__ == "crkg.web.view_tables"
    with app.test_request_context("/"):
        assert view_tables.current_tables() is not None, "the build wrote no tables"
    urls = _urls(client)
    with_tables = {u: client.get(u, headers={"Accept": "text/html"}) for u in urls}
    monkeypatch.setattr(view_tables, "current_tables", lambda: None)
    for url in urls:
        live = client.get(url, headers={"Accept": "text/html"})
        table = with_tables[url]
        assert (table.status_code, table.data) == (live.status_code, live.data), url
    assert len(urls) >= 45 and all(r.status_code == 200 for r in with_tables.values()), \
        [u for u, r in with_tables.items() if r.status_code != 200]


def test_the_tables_are_read_not_the_queries(app, monkeypatch):
    from crkg.web import study_data

    client = app.test_client()
    client.get(f"/studies/{FIRST}")  # warm

    def refuse(*a, **k):
        raise AssertionError("a study's facts were asked live although the store has tables")

    monkeypatch.setattr(study_data, "compute_study_facts", refuse)
    monkeypatch.setattr(study_data, "compute_studies", refuse)
    for url in (f"/studies/{FIRST}", f"/studies/{FIRST}/matrix?rows=mode&cols=goal&format=json",
                "/studies/", "/studies/compare?rows=mode&cols=goal&format=json"):
        assert client.get(url).status_code == 200, url


def test_a_table_of_other_code_is_not_read(app, monkeypatch):
    with app.test_request_context("/"):
        assert view_tables.current_tables() is not None
        monkeypatch.setattr(view_tables, "code_digest", lambda: "other code")
        assert view_tables.current_tables() is None


def test_a_rebuild_makes_the_changed_study_again_and_copies_the_rest(tmp_path, studies_builder):
    from crkg.pipeline.build import build

    store = studies_builder(tmp_path, [STUDIES_DIR / FIRST, EXAMPLE, HUNGARIAN])
    data = tmp_path / "data"
    before = json.loads((store_side_dir(store) / view_tables.TABLES_DIR / view_tables.STUDIES_FILE)
                        .read_text(encoding="utf-8"))
    assert set(before["facts"]) == {FIRST, "riverside-flood", "tisza-hu"}
    assert not any(r["reads_others"] for r in before["facts"].values())
    # one study changes: the teaching example's title
    study_yaml = data / "studies" / "riverside-flood" / "study.yaml"
    text = study_yaml.read_text(encoding="utf-8")
    old = 'title: {en: "Sandbags and door-knocking'
    assert old in text
    study_yaml.write_text(text.replace(old, 'title: {en: "Sandbags, and door-knocking'), encoding="utf-8")
    messages: list[str] = []
    build(data_dir=data, store_dir=store, dist_dir=None, progress=messages.append)
    assert "  evidence views: 1 study's table made (riverside-flood), 2 kept from the previous store" in messages
    tables = view_tables.tables_at(store)
    assert tables is not None
    facts = tables.facts("riverside-flood")
    title = facts.labels.by_iri["https://w3id.org/crkg/id/study/riverside-flood"]
    assert any("Sandbags, and door-knocking" in t for t in title.values()) or facts.facts
    # what was copied and what was made again are the tables a build from nothing makes
    fresh = tmp_path / "fresh"
    build(data_dir=data, store_dir=fresh, dist_dir=None, progress=lambda _m: None)

    def files(store_dir):
        folder = store_side_dir(store_dir) / view_tables.TABLES_DIR
        return {p.name: p.read_bytes() for p in folder.iterdir()}

    assert files(store) == files(fresh)


def test_a_store_without_tables_is_asked_live(store, tmp_path):
    # a store loaded by other means (or a table removed): the pages ask the queries
    copy = tmp_path / "store"
    shutil.copytree(store, copy, symlinks=True)
    shutil.rmtree(store_side_dir(copy) / view_tables.TABLES_DIR)
    app = create_app(TestConfig(STORE_DIR=str(copy)))
    try:
        client = app.test_client()
        with app.test_request_context("/"):
            assert view_tables.tables_at(copy) is None
        r = client.get(f"/studies/{FIRST}/matrix?rows=mode&cols=goal&format=json")
        assert r.status_code == 200 and json.loads(r.data)["cells"]
    finally:
        app.extensions["crkg.store"].close()
