"""Fixtures for the HTTP tests: a fresh app per test module over a small fixture store.

The store is built from ``tests/fixtures/sparql`` (synthetic data) with
``crkg.store.embedded.write_store`` into a temporary folder. A test module changes
settings by overriding the ``settings`` fixture (module scope), e.g.
``{"MAX_ROWS": 3, "QUERY_TIMEOUT": 1.0}``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crkg.store.embedded import write_store
from crkg.web.app import create_app
from crkg.web.config import TestConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sparql"


def fixture_graphs() -> list[tuple[str, bytes, str]]:
    rows = [line.split("\t") for line in (FIXTURES / "graphs.tsv").read_text(encoding="utf-8").splitlines() if line]
    assert rows, "tests/fixtures/sparql/graphs.tsv names no graph"
    return [(iri, (FIXTURES / name).read_bytes(), "text/turtle") for iri, name in rows]


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sparql-store") / "store"
    write_store(path, fixture_graphs())
    return path


@pytest.fixture(scope="module")
def settings() -> dict:
    """Config overrides for the app of one test module."""
    return {}


@pytest.fixture(scope="module")
def app(fixture_store, settings):
    app = create_app(TestConfig(STORE_DIR=str(fixture_store), **settings))
    yield app
    app.extensions["crkg.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()
