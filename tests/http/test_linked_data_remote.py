"""The Linked Data pages on a remote SPARQL back end give what they give on the embedded one.

Every page is built from queries through the Store interface, so the same app over
``crkg.store.remote.RemoteStore`` must answer the same. The "remote" engine here is this
service's own ``/sparql`` over the fixture store, served on a loopback port from a thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
from werkzeug.serving import make_server

from crkg.store.embedded import EmbeddedStore, write_store
from crkg.store.remote import RemoteStore
from crkg.web import config as web_config
from crkg.web.app import create_app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ld" / "dataset.trig"


def fixture_graphs():
    by_graph: dict[str, list] = {}
    for quad in ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG):
        by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
    return [(g, ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES), "application/n-triples")
            for g, ts in by_graph.items()]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    path = tmp_path_factory.mktemp("ld-remote") / "store"
    write_store(path, fixture_graphs())
    store = EmbeddedStore(path, workers=1)
    yield store
    store.close()


@pytest.fixture(scope="module")
def endpoint(embedded):
    """The embedded app's /sparql on 127.0.0.1, as the remote engine."""
    app = create_app(web_config.TestConfig(), store=embedded)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture(scope="module")
def clients(embedded, endpoint):
    local = create_app(web_config.TestConfig(), store=embedded).test_client()
    remote = create_app(web_config.TestConfig(), store=RemoteStore(endpoint, timeout=10)).test_client()
    return local, remote


def canonical(body: bytes, media_type: str) -> set:
    fmt = ox.RdfFormat.from_media_type(media_type)
    dataset = ox.Dataset(ox.parse(body, format=fmt))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


@pytest.mark.parametrize("path, accept", [
    ("/id/intervention/xu-chen-shanghai/N-mask-registration", "application/n-triples"),
    ("/id/community/xu-chen-shanghai/N", "text/turtle"),
    ("/ontology/inCommunity", "text/turtle"),
    ("/ontology", "application/n-triples"),
    ("/.well-known/void", "text/turtle"),
    ("/data/study/xu-chen-shanghai.nt", "*/*"),
    ("/data/crkg.nq", "*/*"),
])
def test_rdf_answers_are_the_same_on_a_remote_back_end(clients, path, accept):
    local, remote = clients
    a = local.get(path, headers={"Accept": accept})
    b = remote.get(path, headers={"Accept": accept})
    assert a.status_code == b.status_code == 200
    assert a.mimetype == b.mimetype
    assert len(a.get_data()) > 100
    assert canonical(a.get_data(), a.mimetype) == canonical(b.get_data(), b.mimetype)


@pytest.mark.parametrize("path", [
    "/id/intervention/xu-chen-shanghai/N-mask-registration",
    "/id/community/xu-chen-shanghai/N",
    "/ontology",
    "/data",
])
def test_html_pages_are_the_same_on_a_remote_back_end(clients, path):
    local, remote = clients
    headers = {"Accept": "text/html", "Accept-Language": "zh-CN"}
    a = local.get(path, headers=headers)
    b = remote.get(path, headers=headers)
    assert a.status_code == b.status_code == 200
    assert a.get_data(as_text=True) == b.get_data(as_text=True)


def test_unknown_iri_is_404_on_a_remote_back_end(clients):
    _, remote = clients
    assert remote.get("/id/community/xu-chen-shanghai/nobody", headers={"Accept": "text/turtle"}).status_code == 404


@pytest.mark.parametrize("media_type", ["text/turtle", "application/rdf+xml"])
def test_a_remote_construct_declares_the_prefixes_the_embedded_one_does(embedded, endpoint, media_type):
    """Both stores write a graph answer with the prefixes it uses, no others."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/crkg/ontology#Intervention> ; ?p ?o }"
    remote = RemoteStore(endpoint, timeout=10)

    def declared(store) -> set[str]:
        body = store.query(query, media_type=media_type).body.decode("utf-8")
        if media_type == "text/turtle":
            return {line.split()[1].rstrip(":") for line in body.splitlines() if line.startswith("@prefix")}
        import re

        return set(re.findall(r'xmlns:(\w+)="', body))

    expected = declared(embedded)
    assert expected and "crkg" in expected
    assert declared(remote) == expected
