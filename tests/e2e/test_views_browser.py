"""The evidence views in a real browser against a real ``crkg serve`` (issue 12, item 8).

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) over the first
study as ``crkg build`` makes it (the ``built`` fixture, with its search index): the
overview, a matrix cell followed by keyboard, the flow picture, search, a citation
download, the pages with scripts off and in print, and basic accessibility (one h1 and
no skipped heading level, table headers with scope, named pictures, alt text, colour
contrast of text ≥ 4.5:1 (WCAG 2.1, 1.4.3), keyboard reach). Screenshots are kept in
pytest's temporary folder; their paths are printed (``-s``), never written to the repo.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STUDY = "xu-chen-shanghai"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():  # pragma: no cover - the machines have it (README)
    pytestmark.append(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="module")
def server(built, tmp_path_factory, serve_process):
    start_serve, stop_serve = serve_process
    log = tmp_path_factory.mktemp("views-e2e") / "serve.log"
    url, process = start_serve(built.store_dir, log, ready_path="/studies/")
    yield url
    stop_serve(process)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("views-screenshots")
    print(f"\nscreenshots of the evidence views: {folder}")
    return folder


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, scripts: bool = True):
    context = browser.new_context(accept_downloads=True, java_script_enabled=scripts,
                                  viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.crkg_requests = []
    page.on("request", lambda r: page.crkg_requests.append(r.url))
    return page


def only_loopback(page):
    elsewhere = [u for u in page.crkg_requests
                 if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname not in LOOPBACK]
    assert not elsewhere, elsewhere


#: Contrast of every visible text element against its effective background (WCAG 2.1).
CONTRAST_JS = """() => {
  function rgb(s) { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(x => parseFloat(x)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  function bg(el) { while (el) { const c = rgb(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c; el = el.parentElement; }
    return {r: 255, g: 255, b: 255, a: 1}; }
  const worst = [];
  for (const el of document.querySelectorAll('main *, header *')) {
    if (el.closest('svg')) continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.offsetParent) continue;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) worst.push({tag: el.tagName, cls: el.className, text: el.textContent.trim().slice(0, 40), ratio});
  }
  return worst;
}"""


def check_accessibility(page):
    levels = page.eval_on_selector_all("main h1, main h2, main h3, main h4", "hs => hs.map(h => +h.tagName[1])")
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), f"a heading level is skipped: {levels}"
    assert page.locator("thead th:not([scope])").count() == 0
    assert page.locator("tbody th:not([scope])").count() == 0
    assert page.locator("img:not([alt])").count() == 0
    for svg in page.locator("main svg").all():
        named = svg.get_attribute("aria-labelledby")
        assert named, "a picture without a name"
        for ref in named.split():
            assert page.locator(f"#{ref}").count() == 1 and page.locator(f"#{ref}").text_content().strip()
    assert page.locator("input:not([type=hidden]):not([aria-label]):not([id])").count() == 0
    low = page.evaluate(CONTRAST_JS)
    assert not low, low[:5]


def test_overview(server, browser, shots):
    page = new_page(browser)
    page.goto(f"{server}/studies/{STUDY}", wait_until="networkidle")
    assert page.locator("h1").count() == 1
    assert page.locator("table.matrix").count() == 1
    assert page.locator("table.matrix tbody tr").count() == 3
    check_accessibility(page)
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    page.goto(f"{server}/studies/{STUDY}?lang=zh", wait_until="networkidle")
    assert page.locator("h2", has_text="编码结果与理论").count() == 1
    check_accessibility(page)
    page.screenshot(path=str(shots / "overview-zh.png"), full_page=True)
    only_loopback(page)


def test_a_matrix_cell_by_keyboard_leads_to_its_passages(server, browser, shots):
    page = new_page(browser)
    page.goto(f"{server}/studies/{STUDY}/matrix?rows=mode&cols=goal", wait_until="networkidle")
    check_accessibility(page)
    page.screenshot(path=str(shots / "matrix.png"), full_page=True)
    target = None
    for _ in range(120):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const a = document.activeElement;
            return a && a.closest('table.matrix tbody td') ? a.textContent : null; }""")
        if info:
            target = info
            break
    assert target, "no matrix cell link is reachable with Tab"
    passages = int(re.match(r"\s*\d+ / (\d+)", target).group(1))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/evidence\?.*"))
    assert page.locator("ol.passages > li").count() == passages
    page.screenshot(path=str(shots / "evidence.png"), full_page=True)
    check_accessibility(page)
    only_loopback(page)


def test_the_flow_picture_links_each_band_and_prints(server, browser, shots):
    page = new_page(browser)
    page.goto(f"{server}/studies/{STUDY}", wait_until="networkidle")
    picture = page.locator("figure.flow-picture svg")
    box = picture.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 300
    picture.screenshot(path=str(shots / "flow.png"))
    page.emulate_media(media="print")
    assert page.locator("header.site form").is_hidden()
    assert picture.is_visible()
    page.pdf(path=str(shots / "overview.pdf"))
    page.emulate_media(media="screen")
    bands = page.locator("figure.flow-picture svg a.band")
    assert bands.count() > 41
    href = bands.last.get_attribute("href")
    page.goto(server + href, wait_until="networkidle")
    assert page.locator("ol.passages > li").count() >= 1
    only_loopback(page)


def test_search_from_the_header_box(server, browser, shots):
    page = new_page(browser)
    page.goto(f"{server}/studies/", wait_until="networkidle")
    page.fill("header.site input[name=q]", "认可")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search\?.*"))
    marks = page.locator("ol.hits mark")
    assert marks.count() >= 2 and set(marks.all_text_contents()) == {"认可"}
    check_accessibility(page)
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    page.locator("ol.hits li a[href*='/id/intervention/']").first.click()
    assert "/id/intervention/" in page.url
    only_loopback(page)


def test_citation_download(server, browser, shots):
    page = new_page(browser)
    page.goto(f"{server}/studies/{STUDY}", wait_until="networkidle")
    with page.expect_download() as download:
        page.locator("section.cite a", has_text="BibTeX").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("@misc{") and "徐选国" in text and "year" not in text
    with page.expect_download() as download:
        page.locator("section.cite a", has_text="RIS").click()
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("TY  - GEN")
    page.locator("section.cite").screenshot(path=str(shots / "cite.png"))


def test_the_views_work_with_scripts_off(server, browser, shots):
    page = new_page(browser, scripts=False)
    page.goto(f"{server}/studies/{STUDY}")
    assert page.locator("table.matrix tbody tr").count() == 3
    page.select_option("form.dims select[name=rows]", "phase")
    page.locator("form.dims button").click()
    page.wait_for_url(re.compile(r".*/matrix\?.*rows=phase.*"))
    assert page.locator("h1", has_text="Phase × Goal").count() == 1
    page.fill("header.site input[name=q]", "志愿")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search\?.*"))
    assert page.locator("ol.hits mark").count() >= 1
    page.screenshot(path=str(shots / "search-no-scripts.png"), full_page=True)
