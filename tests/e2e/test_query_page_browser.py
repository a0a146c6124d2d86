"""The query page in a real browser against a real ``crkg serve`` process (issue 4, item 6).

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright from PyPI) opens
the page, clicks an example (a competency question), and must see the results table with
the rows the query has on the fixture data, download them as CSV and JSON, and must not
have asked any host but the service itself for anything.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ld"
DATASET = FIXTURES / "dataset.trig"
CQ = FIXTURES / "queries" / "cq"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
SCREENSHOT = Path("/tmp/crkg-query-page.png")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def _fixture_graphs():
    by_graph = defaultdict(list)
    for quad in ox.parse(path=str(DATASET), format=ox.RdfFormat.TRIG):
        by_graph[quad.graph_name.value].append(quad.triple)
    return [(g, ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES), "application/n-triples")
            for g, ts in by_graph.items()]


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_process):
    """``crkg serve`` on a free loopback port, over a store written from the fixture.

    ``CRKG_HOME`` points the process at a folder whose ``queries/cq`` holds the fixture's
    example queries, so the page offers queries whose answers on the fixture are known.
    """
    from crkg.store.embedded import write_store

    root = tmp_path_factory.mktemp("query-page-e2e")
    store_dir = root / "store"
    write_store(store_dir, _fixture_graphs())
    home = root / "home"
    shutil.copytree(CQ, home / "queries" / "cq")
    env = {"CRKG_HOME": str(home), "CRKG_QUERY_TIMEOUT": "10"}
    start_serve, stop_serve = serve_process
    url, process = start_serve(store_dir, root / "serve.log", env=env)
    yield Server(url, process, root / "serve.log")
    stop_serve(process)


def expected_bindings(query: str) -> tuple[list[str], list[dict[str, str]]]:
    """The query's answer on the fixture, computed here with Oxigraph in memory."""
    store = ox.Store()
    store.bulk_extend(ox.parse(path=str(DATASET), format=ox.RdfFormat.TRIG))
    solutions = store.query(query, use_default_graph_as_union=True)
    variables = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        rows.append({v: (solution[v].value if solution[v] is not None else "") for v in variables})
    return variables, rows


def open_page(playwright, url):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    seen = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(f"pageerror: {e}"))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(f"console: {m.text}"))
    page.goto(url + "/", wait_until="networkidle")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=20_000)
    return browser, page, seen


def run_example_and_check(url: str, example: str, screenshot: Path | None = None):
    """Open the page, run *example*, compare table and downloads with the expected answer."""
    from playwright.sync_api import sync_playwright

    query = (CQ / f"{example}.rq").read_text(encoding="utf-8")
    variables, expected = expected_bindings(query)
    assert expected, "the example must have rows on the fixture, or the test proves nothing"

    with sync_playwright() as p:
        browser, page, seen = open_page(p, url)
        try:
            page.click(f'button.example[data-example="{example}"]')
            page.wait_for_selector(".yasr table.dataTable tbody tr", state="visible", timeout=20_000)
            page.wait_for_function(
                "() => !document.querySelector('.tabPanel.active .yasr .yasr_results .dataTables_empty')")
            headers = page.eval_on_selector_all(
                ".tabPanel.active .yasr table.dataTable thead th",
                "ths => ths.map(th => th.innerText.trim()).filter(t => t)")
            cells = page.eval_on_selector_all(
                ".tabPanel.active .yasr table.dataTable tbody tr",
                """rows => rows.map(r => Array.from(r.querySelectorAll('td')).slice(1).map(td => ({
                       text: td.innerText, hrefs: Array.from(td.querySelectorAll('a')).map(a => a.href),
                       title: td.querySelector('a') ? td.querySelector('a').innerText : null })))""")
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)

            # the table: one row per solution, one column per variable, every value shown
            assert headers == variables
            assert len(cells) == len(expected)
            for row, want in zip(cells, expected):
                for cell, var in zip(row, variables):
                    value = want[var]
                    if value.startswith("https://w3id.org/crkg/"):
                        # crkg IRIs link to their page on this service
                        assert cell["hrefs"] and all(urlsplit(h).hostname in LOOPBACK for h in cell["hrefs"])
                        local = value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
                        assert local in cell["text"], (value, cell)
                    else:
                        assert value in cell["text"] or value[:20] in cell["text"], (value, cell)

            # downloads: CSV from the table view, the JSON response from the response view
            with page.expect_download() as download:
                page.locator(".yasr_downloadIcon:visible").click()
            table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
            assert table == expected
            page.locator(".yasr_btn.select_response:visible").click()
            with page.expect_download() as download:
                page.locator(".yasr_downloadIcon:visible").click()
            results = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
            assert results["head"]["vars"] == variables
            got = [{v: b[v]["value"] for v in variables if v in b} for b in results["results"]["bindings"]]
            assert got == [{k: v for k, v in row.items() if v != ""} for row in expected]
        finally:
            browser.close()

    # the query went to this service's /sparql, and nothing went anywhere else
    assert any(urlsplit(u).path == "/sparql" for u in seen["requests"]), seen["requests"]
    elsewhere = [u for u in seen["requests"]
                 if urlsplit(u).scheme not in {"data", "blob", "about"} and urlsplit(u).hostname not in LOOPBACK]
    assert elsewhere == [], elsewhere
    assert seen["errors"] == []
    return seen


def test_example_query_runs_and_shows_its_rows(server):
    seen = run_example_and_check(server.url, "interventions-mechanisms", screenshot=SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000
    # every asset the page loaded came from the service itself
    assert any(u.endswith("/static/yasgui/yasgui.min.js") for u in seen["requests"])


def test_every_example_is_answered(server):
    for path in sorted(CQ.glob("*.rq")):
        run_example_and_check(server.url, path.stem)


def test_typing_in_the_editor_asks_no_other_host(server):
    """YASQE's class/property autocompleters would ask the LOV API; they are off."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, seen = open_page(p, server.url)
        try:
            page.click(".tabPanel.active .yasqe .CodeMirror")
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
            # a class position, then a property position, each with Ctrl-Space
            page.keyboard.type("PREFIX foaf: <http://xmlns.com/foaf/0.1/>\nSELECT * WHERE {\n?s a foaf:Pers", delay=10)
            page.keyboard.press("Control+Space")
            page.keyboard.type("on ;\nfoaf:na", delay=10)
            page.keyboard.press("Control+Space")
            page.wait_for_timeout(1500)
            assert "foaf:Pers" in page.evaluate("() => window.crkgYasgui.getTab().getYasqe().getValue()")
        finally:
            browser.close()
    elsewhere = [u for u in seen["requests"]
                 if urlsplit(u).scheme not in {"data", "blob", "about"} and urlsplit(u).hostname not in LOOPBACK]
    assert elsewhere == []
    # a fetch the Content-Security-Policy blocked never becomes a request, but is an error
    assert seen["errors"] == []


def test_a_resource_page_opens_its_query_in_the_editor(server):
    """The Linked Data page's "Query this resource" link opens a tab that runs at once."""
    from urllib.parse import parse_qs

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/id/community/xu-chen-shanghai/N", wait_until="networkidle")
            link = page.locator('a[href^="/#query="]')
            query = parse_qs(link.get_attribute("href").split("#", 1)[1])["query"][0]
            link.click()
            page.wait_for_selector(".tabPanel.active .yasr table.dataTable tbody tr", timeout=20_000)
            rows = page.locator(".tabPanel.active .yasr table.dataTable tbody tr").count()
        finally:
            browser.close()
    _, expected = expected_bindings(query)
    assert rows == len(expected) > 0
