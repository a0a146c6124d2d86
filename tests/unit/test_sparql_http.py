"""One HTTP client for every remote SPARQL endpoint: ``--backend`` (``RemoteStore``),
``crkg push`` (``GraphWriter``) and ``crkg link`` (``remote_select``) send the same
User-Agent and report the same failure in the same words (``crkg.store.sparql_http``).

The endpoint is ``tests/fixtures/wikidata/endpoint.py`` on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import socket

import pytest

from crkg.errors import CrkgError
from crkg.link.propose import remote_select
from crkg.paths import REPO_ROOT
from crkg.store.graph_writer import GraphWriter
from crkg.store.remote import RemoteStore
from crkg.store.sparql_http import USER_AGENT

FIXTURES = REPO_ROOT / "tests" / "fixtures"
ASK = "ASK { ?s ?p ?o }"


@pytest.fixture
def endpoint():
    spec = importlib.util.spec_from_file_location("fixture_endpoint", FIXTURES / "wikidata" / "endpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with module.LocalEndpoint([FIXTURES / "ld" / "dataset.trig"]) as server:
        yield server


def _three_clients(url: str):
    """The same request made by each of the three users of a remote endpoint."""
    return {
        "backend": lambda: RemoteStore(url, timeout=5).query(ASK, media_type="application/sparql-results+json"),
        "push": lambda: GraphWriter(url, timeout=5).count("https://w3id.org/crkg/graph/links"),
        "link": lambda: remote_select(url, "SELECT * { ?s ?p ?o } LIMIT 1", timeout=5),
    }


def test_every_remote_request_names_crkg_in_its_user_agent(endpoint):
    for name, call in _three_clients(endpoint.url).items():
        endpoint.requests.clear()
        call()
        assert endpoint.requests, name
        assert {r["user_agent"] for r in endpoint.requests} == {USER_AGENT}, name


@pytest.mark.parametrize("status,headers,words", [
    (429, {"Retry-After": "7"}, "is rate-limiting or overloaded (HTTP 429); it asks to retry after 7 s"),
    (503, {}, "is rate-limiting or overloaded (HTTP 503)"),
    (401, {}, "refused the credentials (HTTP 401)"),
    (404, {}, "(HTTP 404)"),
])
def test_a_failure_reads_the_same_from_backend_push_and_link(endpoint, status, headers, words):
    endpoint.fail_with = (status, headers)
    for name, call in _three_clients(endpoint.url).items():
        with pytest.raises(CrkgError) as caught:
            call()
        assert words in str(caught.value), (name, str(caught.value))
        assert caught.value.exit_code == 2, name


def test_an_unreachable_endpoint_reads_the_same_everywhere():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/sparql"
    for name, call in _three_clients(url).items():
        with pytest.raises(CrkgError, match=r"cannot reach the .*http://127\.0\.0\.1:\d+/sparql") as caught:
            call()
        assert caught.value.exit_code == 2, name
