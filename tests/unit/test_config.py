"""One configuration object, ``crkg.config.Config``: defaults stated once, every setting
read from its ``CRKG_*`` variable, used by the web layer, the stores and the commands."""

from __future__ import annotations

from dataclasses import fields

import pytest

from crkg.config import Config, TestConfig
from crkg.errors import CrkgError


def _sample(value):
    if isinstance(value, bool):
        return "true", True
    if isinstance(value, int):
        return "7", 7
    if isinstance(value, float):
        return "7.5", 7.5
    if isinstance(value, tuple):
        return "http://a.example/sparql, http://b.example/sparql", ("http://a.example/sparql", "http://b.example/sparql")
    return "/somewhere", "/somewhere"


@pytest.mark.parametrize("name", [f.name for f in fields(Config)])
def test_every_setting_is_read_from_its_environment_variable(name, monkeypatch):
    raw, expected = _sample(getattr(Config(), name))
    monkeypatch.setenv(f"CRKG_{name}", raw)
    assert getattr(Config.from_env(), name) == expected
    assert getattr(Config.from_env(**{name: expected}), name) == expected


@pytest.mark.parametrize("name,raw", [("QUERY_TIMEOUT", "soon"), ("MAX_ROWS", "1e3x"), ("TESTING", "maybe")])
def test_a_bad_value_is_a_clear_error_naming_the_variable(name, raw, monkeypatch):
    monkeypatch.setenv(f"CRKG_{name}", raw)
    with pytest.raises(CrkgError, match=f"CRKG_{name}="):
        Config.from_env()


def test_the_web_layer_re_exports_the_one_object():
    from crkg.web import config as web_config

    assert web_config.Config is Config and web_config.TestConfig is TestConfig


def test_the_stores_take_their_settings_from_a_config(tmp_path):
    from crkg.store.remote import RemoteStore

    config = Config(QUERY_TIMEOUT=3.0, SERVICE_ALLOWLIST=("http://a.example/sparql",), MAX_NESTING=12)
    remote = RemoteStore("http://127.0.0.1:9/sparql", config=config)
    assert (remote.timeout, remote.service_allowlist, remote.max_nesting) == (3.0, ("http://a.example/sparql",), 12)
    assert RemoteStore("http://127.0.0.1:9/sparql").timeout == Config.QUERY_TIMEOUT


@pytest.mark.parametrize("command", [
    ["push", "--endpoint", "http://127.0.0.1:9/sparql"],
    ["link", "--endpoint", "http://127.0.0.1:9/sparql"],
    ["query", "ASK {}"],
])
def test_the_commands_honour_crkg_store_dir(command, tmp_path, monkeypatch, capsys):
    from crkg.cli import main

    missing = tmp_path / "no-such-store"
    monkeypatch.setenv("CRKG_STORE_DIR", str(missing))
    with pytest.raises(SystemExit) as exit_:
        main(command)
    assert exit_.value.code == 2
    assert str(missing) in capsys.readouterr().err


def test_a_lower_nesting_cap_counts_the_real_depth():
    """MAX_NESTING below the default: many brackets side by side are not deep."""
    from crkg.store import guard
    from crkg.store.base import QueryError

    flat = "SELECT * { " + " ".join("{ ?s ?p ?o }" for _ in range(30)) + " }"
    assert guard.check(flat, max_nesting=5).depth == 2
    with pytest.raises(QueryError, match="nested too deeply"):
        guard.check("SELECT * " + "{ " * 6 + "?s ?p ?o" + " }" * 6, max_nesting=5)


def test_a_setting_without_a_default_is_read_as_its_annotated_type(monkeypatch):
    """A later ``LIMIT: float | None = None`` setting is read as a number, not a string."""
    from dataclasses import dataclass

    @dataclass
    class Extended(Config):
        EXTRA_LIMIT: float | None = None
        EXTRA_NAME: str | None = None

    monkeypatch.setenv("CRKG_EXTRA_LIMIT", "2.5")
    monkeypatch.setenv("CRKG_EXTRA_NAME", "x")
    config = Extended.from_env()
    assert config.EXTRA_LIMIT == 2.5 and config.EXTRA_NAME == "x"
    assert Extended().EXTRA_LIMIT is None
