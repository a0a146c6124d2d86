"""The query page through the Flask test client (issue 4, item 4).

That YASGUI really runs and queries only this service is checked in a real browser by
``tests/e2e/test_query_page_browser.py``; here: the page, its local assets, its examples.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crkg import paths
from crkg.store.base import Store
from crkg.web import config as web_config
from crkg.web.app import create_app
from crkg.web.query_page import load_examples

FIXTURE_CQ = Path(__file__).resolve().parents[1] / "fixtures" / "ld" / "queries" / "cq"
STATIC = Path(__file__).resolve().parents[2] / "service" / "crkg" / "web" / "static"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Assets(HTMLParser):
    """What a browser would fetch on load: script src, stylesheet/icon links, images…"""

    def __init__(self):
        super().__init__()
        self.fetched: list[str] = []
        self.json_scripts: dict[str, str] = {}
        self.html_lang = None
        self.buttons: list[dict] = []
        self._json_id = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag in {"script", "img", "iframe", "audio", "video", "source", "embed"} and a.get("src"):
            self.fetched.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") in {"stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}:
            self.fetched.append(a["href"])
        if tag == "script" and a.get("type") == "application/json":
            self._json_id = a.get("id")
        if tag == "button" and "data-example" in a:
            self.buttons.append(a)

    def handle_data(self, data):
        if self._json_id:
            self.json_scripts[self._json_id] = self.json_scripts.get(self._json_id, "") + data

    def handle_endtag(self, tag):
        if tag == "script":
            self._json_id = None


def parse(text: str) -> Assets:
    p = Assets()
    p.feed(text)
    return p


class NoStore(Store):
    """The page asks the store nothing (YASGUI queries /sparql from the browser)."""

    def query(self, sparql, **kwargs):
        raise AssertionError("the query page must not query the store")

    def named_graphs(self):
        raise AssertionError("the query page must not query the store")

    def load(self, graphs):
        raise AssertionError("the query page must not load anything")


def make_app(cq_dir=None):
    app = create_app(web_config.TestConfig(), store=NoStore())
    if cq_dir is not None:
        app.config["CQ_DIR"] = str(cq_dir)
    return app


@pytest.fixture()
def app():
    # the examples come from the fixture's queries/cq folder
    return make_app(FIXTURE_CQ)


@pytest.fixture()
def client(app):
    return app.test_client()


def test_root_is_the_query_page(client):
    r = client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'id="yasgui"' in html
    page = parse(html)
    assert "/static/yasgui/yasgui.min.js" in page.fetched
    assert "/static/yasgui/yasgui.min.css" in page.fetched
    assert "/static/js/query-page.js" in page.fetched


def test_every_asset_is_served_by_the_service_itself(client):
    page = parse(client.get("/").get_data(as_text=True))
    assert len(page.fetched) >= 4
    for url in page.fetched:
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I), f"fetched from elsewhere: {url}"
        if url.startswith("data:"):
            continue  # inline (the empty favicon that stops the browser asking for one)
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            body = asset.get_data()
        assert len(body) > 100, url
        if url.endswith(".css"):
            css = body.decode("utf-8")
            # nothing a stylesheet would load from another host (fonts, images, imports)
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css) + re.findall(r"@import\s+['\"]([^'\"]+)", css):
                assert ref.startswith("data:") or not re.match(r"^(?:[a-z]+:)?//", ref), ref


def test_vendored_yasgui_is_the_npm_build_with_its_licences():
    folder = STATIC / "yasgui"
    js = (folder / "yasgui.min.js").read_text(encoding="utf-8")
    assert js.startswith("(function(e,t){"), "the UMD build that defines window.Yasgui"
    assert "MIT License" in (folder / "LICENSE").read_text(encoding="utf-8")
    third = (folder / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    for bundled in ("codemirror", "datatables.net", "dompurify"):
        assert bundled in third


def test_content_security_policy_keeps_the_page_on_this_origin(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"


def test_no_inline_executable_script(client):
    # the CSP forbids inline scripts; the only inline <script> is JSON data
    html = client.get("/").get_data(as_text=True)
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs


def test_examples_are_the_competency_questions_with_their_titles(client):
    examples = load_examples(FIXTURE_CQ)
    assert len(examples) == len(list(FIXTURE_CQ.glob("*.rq"))) >= 2
    page = parse(client.get("/").get_data(as_text=True))
    config = json.loads(page.json_scripts["crkg-query-config"])
    assert [e["name"] for e in config["examples"]] == sorted(p.stem for p in FIXTURE_CQ.glob("*.rq"))
    for example in config["examples"]:
        source = (FIXTURE_CQ / f"{example['name']}.rq").read_text(encoding="utf-8")
        assert example["query"] == source
        first = source.splitlines()[0]
        assert first.startswith("# title:")
        assert example["title"] == first.split(":", 1)[1].strip()
    assert [b["data-example"] for b in page.buttons] == [e["name"] for e in config["examples"]]
    assert config["endpoint"] == "/sparql"
    # result-table links: crkg IRIs to this deployment's pages
    assert config["iris"]["pages"] == "/"


def test_title_falls_back_to_the_file_name(tmp_path):
    (tmp_path / "b-second.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    (tmp_path / "a-first.rq").write_text(
        "# title: The first one\n# description: what it asks\nASK {}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a query", encoding="utf-8")
    examples = load_examples(tmp_path)
    assert [(e.name, e.title, e.description) for e in examples] == [
        ("a-first", "The first one", "what it asks"),
        ("b-second", "b second", ""),
    ]


def test_a_competency_questions_question_describes_it(tmp_path):
    (tmp_path / "q.rq").write_text(
        "# title: Short\n# question: Which practices served vulnerable groups?\n# answer: M\nASK {}\n",
        encoding="utf-8")
    assert load_examples(tmp_path)[0].description == "Which practices served vulnerable groups?"


def test_empty_or_missing_folder_shows_no_examples(tmp_path):
    app = make_app(tmp_path / "missing")
    html = app.test_client().get("/").get_data(as_text=True)
    assert json.loads(parse(html).json_scripts["crkg-query-config"])["examples"] == []
    assert "No example queries" in html


def test_the_repositorys_competency_questions_are_on_the_page():
    folder = paths.QUERIES_DIR / "cq"
    files = sorted(folder.glob("*.rq"))
    assert len(files) >= 20, "queries/cq/ should hold the competency questions"
    app = make_app()  # default CQ_DIR: the repository's queries/cq
    page = parse(app.test_client().get("/").get_data(as_text=True))
    config = json.loads(page.json_scripts["crkg-query-config"])
    assert [e["name"] for e in config["examples"]] == [f.stem for f in files]
    for example, path in zip(config["examples"], files):
        assert example["query"] == path.read_text(encoding="utf-8")


def test_chinese_readers_get_chinese_page_text(client):
    html = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert parse(html).html_lang == "zh"
    assert "示例查询" in html


def test_browser_get_sparql_without_query_is_the_query_page(client):
    r = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert 'id="yasgui"' in r.get_data(as_text=True)
