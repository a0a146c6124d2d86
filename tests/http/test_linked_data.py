"""Linked Data pages through the Flask test client (issue 4, item 5).

The store is the small fixture dataset ``tests/fixtures/ld/dataset.trig`` written with the
embedded store's bulk loader; expected values are read from that file, not retyped.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.collection
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, VOID
from rdflib.compare import isomorphic

from crkg.namespaces import CRKG, GRAPH, ID, LINKS_GRAPH, ONTOLOGY_GRAPH, ONTOLOGY_IRI
from crkg.version import __version__
from crkg.web.app import create_app
from crkg.web import config as web_config

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ld" / "dataset.trig"

INTERVENTION = ID["intervention/xu-chen-shanghai/N-mask-registration"]
OBSERVATION = ID["observation/xu-chen-shanghai/N-mask-registration"]
COMMUNITY = ID["community/xu-chen-shanghai/N"]
ACTOR = ID["actor/xu-chen-shanghai/social-workers"]
STUDY_GRAPH = GRAPH["study/xu-chen-shanghai"]
INFERRED = GRAPH["inferred"]

#: media type -> rdflib parser name, for every RDF format the pages offer
RDF_PARSERS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
FORMAT_PARAMS = {"turtle": "text/turtle", "ntriples": "application/n-triples",
                 "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}


# ----------------------------------------------------------------------------- fixtures


class FixtureData:
    """The fixture's named graphs as rdflib graphs, and their union."""

    def __init__(self):
        self.named = {
            URIRef(g): parse_rdf(body.decode("utf-8"), "nt")
            for g, body in fixture_graphs().items()
        }
        self.union = rdflib.Graph()
        for g in self.named.values():
            self.union += g

    def graph(self, iri) -> rdflib.Graph:
        return self.named[URIRef(str(iri))]

    def value(self, s, p):
        return self.union.value(s, p)

    def objects(self, s, p):
        return self.union.objects(s, p)


def fixture_dataset() -> FixtureData:
    return FixtureData()


def fixture_graphs() -> dict[str, bytes]:
    """graph IRI -> N-Triples of that graph, from the fixture TriG."""
    by_graph = defaultdict(list)
    for quad in ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG):
        by_graph[quad.graph_name.value].append(quad.triple)
    return {g: ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) for g, ts in by_graph.items()}


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    from crkg.store.embedded import write_store

    path = tmp_path_factory.mktemp("ld-store") / "store"
    write_store(path, [(g, body, "application/n-triples") for g, body in fixture_graphs().items()])
    return path


@pytest.fixture(scope="module")
def store(store_dir):
    from crkg.store.embedded import EmbeddedStore

    s = EmbeddedStore(store_dir, workers=1)
    yield s
    s.close()


def make_app(store, **overrides):
    config = web_config.TestConfig(**overrides)
    return create_app(config, store=store)


@pytest.fixture(scope="module")
def app(store):
    return make_app(store)


@pytest.fixture()
def client(app):
    return app.test_client()


class Links(HTMLParser):
    """Collects href/src attributes and element ids of an HTML page."""

    def __init__(self):
        super().__init__()
        self.anchors: list[tuple[str, dict]] = []
        self.fetched: list[str] = []
        self.ids: set[str] = set()
        self.html_lang = None
        self._in_a = None
        self.anchor_text: dict[str, list[str]] = defaultdict(list)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "a" and "href" in a:
            self.anchors.append((a["href"], a))
            self._in_a = a["href"]
        if tag in {"script", "img", "iframe", "audio", "video", "source"} and a.get("src"):
            self.fetched.append(a["src"])
        if tag == "link" and a.get("href") and (a.get("rel") or "") in {"stylesheet", "icon", "preload", "modulepreload", "manifest"}:
            self.fetched.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_a = None

    def handle_data(self, data):
        if self._in_a and data.strip():
            self.anchor_text[self._in_a].append(data.strip())


def parse_html(text: str) -> Links:
    p = Links()
    p.feed(text)
    return p


def get_html(client, path, lang=None):
    headers = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    if lang:
        headers["Accept-Language"] = lang
    response = client.get(path, headers=headers)
    return response


def parse_rdf(body: str, parser: str) -> rdflib.Graph:
    """Parse with rdflib (a second implementation); JSON-LD with Oxigraph, as rdflib's
    JSON-LD parser raises a deprecation warning (warnings are errors here)."""
    if parser == "json-ld":
        quads = ox.parse(body.encode("utf-8"), format=ox.RdfFormat.JSON_LD)
        body = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        parser = "nt"
    return rdflib.Graph().parse(data=body, format=parser)


def labels(ds, iri) -> dict[str, str]:
    return {str(o.language): str(o) for o in ds.objects(URIRef(str(iri)), rdflib.RDFS.label)}


# ------------------------------------------------------------------------------- HTML


def test_instance_page_is_html_with_labels_in_english_by_default(client):
    ds = fixture_dataset()
    r = get_html(client, "/id/intervention/xu-chen-shanghai/N-mask-registration", "en-GB,en;q=0.9")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = parse_html(r.get_data(as_text=True))
    assert page.html_lang == "en"
    title = re.search(r"<h1>(.*?)</h1>", r.get_data(as_text=True)).group(1)
    assert title == labels(ds, INTERVENTION)["en"]
    # the actor it links to: linked to its own page, under its English label
    assert page.anchor_text["/id/actor/xu-chen-shanghai/social-workers"] == [labels(ds, ACTOR)["en"]]
    # its class and the predicates: ontology term pages, with the ontology's labels
    assert labels(ds, CRKG.Intervention)["en"] in page.anchor_text["/ontology/Intervention"]
    assert labels(ds, CRKG.performedBy)["en"] in page.anchor_text["/ontology/performedBy"]


def test_accept_language_chinese_gives_chinese_labels(client):
    ds = fixture_dataset()
    r = get_html(client, "/id/intervention/xu-chen-shanghai/N-mask-registration", "zh-CN,zh;q=0.9,en;q=0.5")
    text = r.get_data(as_text=True)
    page = parse_html(text)
    assert page.html_lang == "zh"
    assert re.search(r"<h1>(.*?)</h1>", text).group(1) == labels(ds, INTERVENTION)["zh"]
    assert page.anchor_text["/id/actor/xu-chen-shanghai/social-workers"] == [labels(ds, ACTOR)["zh"]]
    assert labels(ds, CRKG.performedBy)["zh"] in page.anchor_text["/ontology/performedBy"]


def test_quality_values_of_accept_language_decide(client):
    ds = fixture_dataset()
    r = get_html(client, "/id/community/xu-chen-shanghai/N", "en;q=0.3, zh-TW;q=0.8")
    assert re.search(r"<h1>(.*?)</h1>", r.get_data(as_text=True)).group(1) == labels(ds, COMMUNITY)["zh"]


def test_label_falls_back_to_the_other_language(client):
    ds = fixture_dataset()
    assert set(labels(ds, OBSERVATION)) == {"en"}, "fixture: the observation is labelled in English only"
    r = get_html(client, "/id/observation/xu-chen-shanghai/N-mask-registration", "zh-CN")
    assert re.search(r"<h1>(.*?)</h1>", r.get_data(as_text=True)).group(1) == labels(ds, OBSERVATION)["en"]


def test_lang_parameter_overrides_accept_language(client):
    ds = fixture_dataset()
    r = get_html(client, "/id/community/xu-chen-shanghai/N?lang=zh", "en")
    assert re.search(r"<h1>(.*?)</h1>", r.get_data(as_text=True)).group(1) == labels(ds, COMMUNITY)["zh"]


def test_incoming_links_are_listed_with_labels_and_links(client):
    ds = fixture_dataset()
    r = get_html(client, "/id/actor/xu-chen-shanghai/social-workers", "en")
    text = r.get_data(as_text=True)
    incoming = text.split('id="incoming"', 1)[1]
    page = parse_html(incoming)
    href = "/id/intervention/xu-chen-shanghai/N-mask-registration"
    assert page.anchor_text[href] == [labels(ds, INTERVENTION)["en"]]
    assert "← performed by" in incoming
    assert "inferred</span>" not in incoming  # asserted in the study graph


def test_inferred_incoming_link_is_shown_and_marked(client):
    ds = fixture_dataset()
    assert (URIRef(str(INTERVENTION)), CRKG.inCommunity, URIRef(str(COMMUNITY))) in ds.graph(INFERRED)
    r = get_html(client, "/id/community/xu-chen-shanghai/N", "en")
    incoming = r.get_data(as_text=True).split('id="incoming"', 1)[1]
    page = parse_html(incoming)
    assert page.anchor_text["/id/intervention/xu-chen-shanghai/N-mask-registration"] == [labels(ds, INTERVENTION)["en"]]
    assert 'class="inferred"' in incoming


def test_intervention_page_shows_its_evidence_with_locator_and_text(client):
    ds = fixture_dataset()
    text_zh = str(ds.value(URIRef(str(OBSERVATION)), CRKG.text))
    locator = str(ds.value(URIRef(str(OBSERVATION)), CRKG.locator))
    r = get_html(client, "/id/intervention/xu-chen-shanghai/N-mask-registration", "en")
    html = r.get_data(as_text=True)
    evidence = html.split('id="evidence"', 1)[1].split("</section>", 1)[0]
    assert f'<blockquote lang="zh">{text_zh}</blockquote>' in evidence.replace("&#34;", '"')
    assert f"§ {locator}" in evidence
    assert "/id/observation/xu-chen-shanghai/N-mask-registration" in evidence


def test_resource_page_links_to_a_query_about_it(client):
    from urllib.parse import parse_qs

    html = get_html(client, "/id/community/xu-chen-shanghai/N", "en").get_data(as_text=True)
    href = re.search(r'<a href="(/#query=[^"]+)"', html).group(1).replace("&amp;", "&")
    params = parse_qs(href.split("#", 1)[1])
    assert f"<{COMMUNITY}> ?property ?value" in params["query"][0]
    assert params["tabTitle"] == [labels(fixture_dataset(), COMMUNITY)["en"]]


def test_reflexive_and_trivial_inferred_triples_are_left_out(client):
    r = client.get("/id/intervention/xu-chen-shanghai/N-mask-registration", headers={"Accept": "application/n-triples"})
    g = parse_rdf(r.get_data(as_text=True), "nt")
    s = URIRef(str(INTERVENTION))
    assert (s, OWL.sameAs, s) not in g
    assert (s, RDF.type, OWL.Thing) not in g
    # but the meaningful inferred one is there
    assert (s, CRKG.inCommunity, URIRef(str(COMMUNITY))) in g


# -------------------------------------------------------------------------------- RDF


@pytest.mark.parametrize("media_type", sorted(RDF_PARSERS))
def test_rdf_by_accept(client, media_type):
    r = client.get("/id/intervention/xu-chen-shanghai/N-mask-registration", headers={"Accept": media_type})
    assert r.status_code == 200
    assert r.mimetype == media_type
    assert "Accept" in r.headers["Vary"]
    check_description(r.get_data(as_text=True), RDF_PARSERS[media_type])


@pytest.mark.parametrize("name", sorted(FORMAT_PARAMS))
def test_rdf_by_format_parameter_beats_accept(client, name):
    r = client.get(f"/id/intervention/xu-chen-shanghai/N-mask-registration?format={name}",
                   headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.mimetype == FORMAT_PARAMS[name]
    check_description(r.get_data(as_text=True), RDF_PARSERS[FORMAT_PARAMS[name]])


def check_description(body: str, parser: str):
    ds = fixture_dataset()
    g = parse_rdf(body, parser)
    s = URIRef(str(INTERVENTION))
    # every asserted outgoing triple of the study graph is in the description
    study = ds.graph(URIRef(str(STUDY_GRAPH)))
    for p, o in study.predicate_objects(s):
        assert (s, p, o) in g, (p, o)
    # neighbours' labels, and the evidence's text and locator
    for lang, label in labels(ds, ACTOR).items():
        assert (URIRef(str(ACTOR)), rdflib.RDFS.label, Literal(label, lang=lang)) in g
    e = URIRef(str(OBSERVATION))
    assert (e, CRKG.text, ds.value(e, CRKG.text)) in g
    assert (e, CRKG.locator, ds.value(e, CRKG.locator)) in g


def test_q_values_choose_among_rdf_formats(client):
    r = client.get("/id/community/xu-chen-shanghai/N",
                   headers={"Accept": "text/turtle;q=0.5, application/ld+json;q=0.9, text/html;q=0.1"})
    assert r.mimetype == "application/ld+json"
    json.loads(r.get_data(as_text=True))


def test_plain_json_means_json_ld(client):
    for r in (client.get("/id/community/xu-chen-shanghai/N", headers={"Accept": "application/json"}),
              client.get("/id/community/xu-chen-shanghai/N?format=json")):
        assert r.status_code == 200 and r.mimetype == "application/ld+json"
        g = parse_rdf(r.get_data(as_text=True), "json-ld")
        assert (URIRef(str(COMMUNITY)), RDF.type, CRKG.Community) in g


def test_browser_accept_gets_html_and_rdf_client_gets_rdf(client):
    browser = get_html(client, "/id/community/xu-chen-shanghai/N")
    assert browser.mimetype == "text/html"
    rdf_client = client.get("/id/community/xu-chen-shanghai/N",
                            headers={"Accept": "application/rdf+xml, text/turtle;q=0.9"})
    assert rdf_client.mimetype == "application/rdf+xml"


def test_vary_accept_on_every_answer(client):
    for path, accept in [
        ("/id/community/xu-chen-shanghai/N", "text/html"),
        ("/id/community/xu-chen-shanghai/N", "text/turtle"),
        ("/id/community/xu-chen-shanghai/no-such-thing", "text/turtle"),
        ("/ontology", "text/turtle"),
        ("/ontology/Community", "text/html"),
        ("/.well-known/void", "text/turtle"),
        ("/data/links.ttl", "*/*"),
    ]:
        r = client.get(path, headers={"Accept": accept})
        assert "Accept" in r.headers.get("Vary", ""), path


def test_unacceptable_format_is_406(client):
    r = client.get("/id/community/xu-chen-shanghai/N", headers={"Accept": "image/png"})
    assert r.status_code == 406
    r = client.get("/id/community/xu-chen-shanghai/N?format=csv")
    assert r.status_code == 406


# -------------------------------------------------------------------------------- 404


def _error_shape(response):
    if response.is_json:
        return ("json", sorted(response.get_json()))
    return (response.mimetype,)


@pytest.mark.parametrize("path", [
    "/id/community/xu-chen-shanghai/does-not-exist",
    "/id/nothing",
    "/ontology/NoSuchTerm",
    "/data/no-such-graph.ttl",
    "/graph/no-such-graph",
])
def test_unknown_iri_is_404_with_the_services_error_body(client, path):
    r = client.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 404
    other = client.get("/no-such-route-at-all", headers={"Accept": "text/turtle"})
    assert other.status_code == 404
    assert _error_shape(r) == _error_shape(other)


def test_iri_with_characters_no_iri_may_hold_is_404_not_500(client):
    r = client.get("/id/community/x%3E%20%7B", headers={"Accept": "text/turtle"})
    assert r.status_code == 404


# ------------------------------------------------------------------- public base URL


def test_public_base_url_maps_links_but_not_iris(store):
    app = make_app(store, PUBLIC_BASE_URL="https://kg.example.org/crkg/")
    c = app.test_client()
    html = get_html(c, "/id/intervention/xu-chen-shanghai/N-mask-registration", "en").get_data(as_text=True)
    page = parse_html(html)
    # links to other resources (not the language switch or format links of the page itself)
    hrefs = [h for h, _ in page.anchors if "?lang=" not in h and "?format=" not in h]
    assert "https://kg.example.org/crkg/id/actor/xu-chen-shanghai/social-workers" in hrefs
    assert "https://kg.example.org/crkg/ontology/Intervention" in hrefs
    assert not any(h.startswith("/id/") or h.startswith("/ontology/") for h in hrefs)
    ttl = c.get("/id/intervention/xu-chen-shanghai/N-mask-registration", headers={"Accept": "text/turtle"})
    g = parse_rdf(ttl.get_data(as_text=True), "turtle")
    assert (URIRef(str(INTERVENTION)), CRKG.performedBy, URIRef(str(ACTOR))) in g
    assert "kg.example.org" not in ttl.get_data(as_text=True)


# --------------------------------------------------------------------------- ontology


PROTEGE_ACCEPT = "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, text/plain; q=0.1, */*; q=0.09"


@pytest.mark.parametrize("accept, parser, media", [
    ("text/turtle", "turtle", "text/turtle"),
    ("application/rdf+xml", "xml", "application/rdf+xml"),
    (PROTEGE_ACCEPT, "xml", "application/rdf+xml"),
    ("application/ld+json", "json-ld", "application/ld+json"),
    ("application/n-triples", "nt", "application/n-triples"),
])
def test_ontology_document_by_accept(client, accept, parser, media):
    r = client.get("/ontology", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.mimetype == media
    g = parse_rdf(r.get_data(as_text=True), parser)
    expected = fixture_dataset().graph(URIRef(str(ONTOLOGY_GRAPH)))
    assert isomorphic(g, expected)


def test_ontology_rdfxml_opens_in_an_owl_tool(client, tmp_path):
    """owlready2 (an OWL API-style loader, as Protégé's) reads /ontology's RDF/XML."""
    import owlready2

    body = client.get("/ontology", headers={"Accept": PROTEGE_ACCEPT}).get_data()
    path = tmp_path / "crkg.owl"
    path.write_bytes(body)
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    onto_graph = fixture_dataset().graph(ONTOLOGY_GRAPH)
    classes = {str(s) for s in onto_graph.subjects(RDF.type, OWL.Class)}
    assert {c.iri for c in onto.classes()} == classes
    properties = {str(s) for s in onto_graph.subjects(RDF.type, OWL.ObjectProperty)}
    assert {p.iri for p in onto.object_properties()} == properties
    world.close()


def test_ontology_by_format_parameter(client):
    for name, media in [("turtle", "text/turtle"), ("rdfxml", "application/rdf+xml")]:
        r = client.get(f"/ontology?format={name}", headers={"Accept": "text/html"})
        assert r.mimetype == media


def test_ontology_html_documents_every_term_with_an_anchor(client):
    onto = fixture_dataset().graph(ONTOLOGY_GRAPH)
    terms = {str(s)[len(str(CRKG)):] for s in onto.subjects() if str(s).startswith(str(CRKG))}
    assert len(terms) > 10
    r = get_html(client, "/ontology", "en")
    assert r.mimetype == "text/html"
    page = parse_html(r.get_data(as_text=True))
    assert terms <= page.ids
    for term in terms:
        assert f"/ontology/{term}" in dict(page.anchors)


def test_ontology_term_page_negotiates(client):
    onto = fixture_dataset().graph(ONTOLOGY_GRAPH)
    html = get_html(client, "/ontology/Intervention", "en").get_data(as_text=True)
    assert str(onto.value(CRKG.Intervention, rdflib.namespace.SKOS.definition)) in html
    # its instances link to it
    assert "/id/intervention/xu-chen-shanghai/N-mask-registration" in html
    ttl = client.get("/ontology/Intervention", headers={"Accept": "text/turtle"})
    g = parse_rdf(ttl.get_data(as_text=True), "turtle")
    assert (CRKG.Intervention, RDF.type, OWL.Class) in g


def test_description_includes_blank_node_structures(client):
    """A property chain is a list of blank nodes: the description carries all of it."""
    ttl = client.get("/ontology/inCommunity", headers={"Accept": "text/turtle"})
    g = parse_rdf(ttl.get_data(as_text=True), "turtle")
    head = g.value(CRKG.inCommunity, OWL.propertyChainAxiom)
    assert head is not None
    assert list(rdflib.collection.Collection(g, head)) == [CRKG.inCase, CRKG.aboutCommunity]
    html = get_html(client, "/ontology/inCommunity", "en").get_data(as_text=True)
    assert "( crkg:inCase crkg:aboutCommunity )" in html


def test_version_iri_serves_the_ontology(client):
    r = client.get(f"/ontology/{__version__}", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = parse_rdf(r.get_data(as_text=True), "turtle")
    assert (URIRef(ONTOLOGY_IRI), RDF.type, OWL.Ontology) in g


def test_ontology_serves_the_release_files_the_build_wrote(tmp_path):
    """With release files beside the store (``crkg build`` writes them there, the same bytes
    as dist/ontology/), /ontology answers them byte for byte; other formats come from the
    store's ontology graph."""
    from crkg.paths import RELEASE_DIR_NAME, RELEASE_RDFXML, RELEASE_TURTLE, store_release_dir
    from crkg.store.embedded import EmbeddedStore, write_store

    store_dir = tmp_path / "store"
    write_store(store_dir, [(g, body, "application/n-triples") for g, body in fixture_graphs().items()])
    release = store_release_dir(store_dir) / RELEASE_DIR_NAME
    release.mkdir(parents=True)
    onto = fixture_dataset().graph(URIRef(str(ONTOLOGY_GRAPH)))
    files = {"text/turtle": (RELEASE_TURTLE, b"# the release file\n" + onto.serialize(format="turtle").encode()),
             "application/rdf+xml": (RELEASE_RDFXML, onto.serialize(format="xml").encode())}
    for name, data in files.values():
        (release / name).write_bytes(data)
    with EmbeddedStore(store_dir, workers=1) as store:
        client = make_app(store).test_client()
        for media, (_name, data) in files.items():
            r = client.get("/ontology", headers={"Accept": media})
            assert r.status_code == 200 and r.mimetype == media
            assert r.get_data() == data, media
        assert client.get(f"/ontology/{__version__}?format=turtle").get_data() == files["text/turtle"][1]
        nt = client.get("/ontology", headers={"Accept": "application/n-triples"})
        assert isomorphic(parse_rdf(nt.get_data(as_text=True), "nt"), onto)


# ------------------------------------------------------------------------------ dumps


def test_data_page_lists_every_named_graph_with_its_size(client):
    ds = fixture_dataset()
    html = get_html(client, "/data", "en").get_data(as_text=True)
    for iri, g in ds.named.items():
        name = str(iri)[len(str(GRAPH)):]
        row = html.split(f'<tr id="{name}">', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num">{len(g)}</td>' in row
        assert f'href="/data/{name}.nt"' in row


@pytest.mark.parametrize("ext, parser", [("nt", "nt"), ("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")])
def test_graph_dump_equals_the_graph(client, ext, parser):
    ds = fixture_dataset()
    r = client.get(f"/data/study/xu-chen-shanghai.{ext}")
    assert r.status_code == 200
    got = parse_rdf(r.get_data(as_text=True), parser)
    assert isomorphic(got, ds.graph(URIRef(str(STUDY_GRAPH))))


FORMAT_BY_PARSER = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}


@pytest.mark.parametrize("ext, parser", [("nq", "nquads"), ("trig", "trig")])
def test_whole_dataset_dump_equals_the_dataset(client, ext, parser):
    r = client.get(f"/data/crkg.{ext}")
    assert r.status_code == 200
    got = canonical(ox.parse(r.get_data(), format=FORMAT_BY_PARSER[parser]))
    want = canonical(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))
    assert got == want


def canonical(quads) -> set:
    """The quads with blank nodes relabelled canonically (the fixture has an RDF list)."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def test_graph_iri_dereferences_by_accept(client):
    ttl = client.get("/graph/links", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200 and ttl.mimetype == "text/turtle"
    got = parse_rdf(ttl.get_data(as_text=True), "turtle")
    assert isomorphic(got, fixture_dataset().graph(URIRef(str(LINKS_GRAPH))))
    browser = get_html(client, "/graph/links")
    assert browser.status_code == 303
    assert browser.headers["Location"].endswith("/data#links")


# ------------------------------------------------------------------------------- VoID


def test_void_describes_dataset_graphs_endpoint_licence_and_linksets(client):
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    g = parse_rdf(r.get_data(as_text=True), "turtle")
    datasets = list(g.subjects(RDF.type, VOID.Dataset))
    top = [d for d in datasets if (d, VOID.sparqlEndpoint, None) in g]
    assert len(top) == 1
    top = top[0]
    assert str(g.value(top, VOID.sparqlEndpoint)).endswith("/sparql")
    assert g.value(top, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert URIRef(ONTOLOGY_IRI) in set(g.objects(top, VOID.vocabulary))
    ds = fixture_dataset()
    subsets = set(g.objects(top, VOID.subset))
    total = 0
    for iri, named in ds.named.items():
        assert iri in subsets
        assert int(g.value(iri, VOID.triples)) == len(named)
        assert (iri, VOID.dataDump, None) in g
        total += len(named)
    assert int(g.value(top, VOID.triples)) == total
    # the linksets that graph/links describes are subsets, with their own description
    links = ds.graph(URIRef(str(LINKS_GRAPH)))
    linksets = set(links.subjects(RDF.type, VOID.Linkset))
    assert linksets and linksets <= subsets
    for ls in linksets:
        for p, o in links.predicate_objects(ls):
            assert (ls, p, o) in g
    # the dataset the linksets name as their subjects' target is the one described here
    for ls in linksets:
        assert g.value(ls, VOID.subjectsTarget) == top
    dump = g.value(top, VOID.dataDump)
    assert dump is not None and str(dump).endswith("/data/crkg.nq")


@pytest.mark.parametrize("media_type", sorted(RDF_PARSERS))
def test_void_in_every_rdf_format(client, media_type):
    r = client.get("/.well-known/void", headers={"Accept": media_type})
    assert r.mimetype == media_type
    g = parse_rdf(r.get_data(as_text=True), RDF_PARSERS[media_type])
    assert (URIRef(str(ID) + "dataset/crkg"), RDF.type, VOID.Dataset) in g


def test_void_html(client):
    html = get_html(client, "/.well-known/void", "en")
    assert html.mimetype == "text/html" and "void:Dataset" in html.get_data(as_text=True)


# ------------------------------------------------------------------ offline, all pages


@pytest.mark.parametrize("path", [
    "/id/intervention/xu-chen-shanghai/N-mask-registration",
    "/ontology",
    "/ontology/Intervention",
    "/data",
    "/.well-known/void",
])
def test_pages_fetch_nothing_from_other_hosts(client, path):
    r = get_html(client, path, "en")
    assert r.status_code == 200
    page = parse_html(r.get_data(as_text=True))
    assert page.fetched, "a page without its stylesheet"
    for url in page.fetched:
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I), url
        if url.startswith("data:"):
            continue  # inline, nothing fetched
        with client.get(url) as asset:
            assert asset.status_code == 200, url


def test_incoming_links_are_capped_and_the_page_says_so(tmp_path):
    """A resource with more incoming links than the cap still answers, with a note."""
    from crkg.store.embedded import EmbeddedStore, write_store
    from crkg.web.resource_pages import INCOMING_LIMIT

    target = f"<{ID}community/test/hub>"
    lines = [f"{target} <{rdflib.RDFS.label}> \"hub\"@en ."]
    for i in range(INCOMING_LIMIT + 5):
        lines.append(f"<{ID}intervention/test/i{i}> <{CRKG.inCommunity}> {target} .")
    write_store(tmp_path / "store", [(str(STUDY_GRAPH), "\n".join(lines).encode(), "application/n-triples")])
    store = EmbeddedStore(tmp_path / "store", workers=1)
    try:
        c = make_app(store).test_client()
        html = get_html(c, "/id/community/test/hub", "en").get_data(as_text=True)
        incoming = html.split('id="incoming"', 1)[1]
        assert incoming.count('href="/id/intervention/test/i') == INCOMING_LIMIT
        assert f"Only the first {INCOMING_LIMIT} incoming links" in incoming
    finally:
        store.close()
