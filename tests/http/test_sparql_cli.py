"""``crkg query`` and the checks ``crkg serve`` makes before it starts (click, in-process)."""

from __future__ import annotations

import csv
import io
import json
import socket

import pytest
from click.testing import CliRunner

from crkg.cli import cli, main

EX = "http://example.org/"


def run(*args, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_query_prints_csv_by_default(fixture_store):
    result = run("query", "--store", str(fixture_store),
                 f"SELECT ?p ?age WHERE {{ ?p <{EX}age> ?age }} ORDER BY ?p")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["p"], r["age"]) for r in rows] == [(f"{EX}alice", "42"), (f"{EX}bob", "37")]


def test_query_from_a_file_and_from_stdin(fixture_store, tmp_path):
    query = tmp_path / "ask.rq"
    query.write_text(f"ASK {{ <{EX}alice> <{EX}knows> <{EX}bob> }}", encoding="utf-8")
    result = run("query", "--store", str(fixture_store), "--format", "json", f"@{query}")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["boolean"] is True
    result = run("query", "--store", str(fixture_store), "--format", "json", "-", stdin=query.read_text())
    assert json.loads(result.output)["boolean"] is True


def test_query_reads_the_query_through_the_guard_once(fixture_store, monkeypatch):
    from crkg.store import guard

    calls = []
    analyse = guard.analyse
    monkeypatch.setattr(guard, "analyse", lambda q: calls.append(q) or analyse(q))
    query = f"SELECT ?p WHERE {{ ?p <{EX}age> ?age }}"
    result = run("query", "--store", str(fixture_store), query)
    assert result.exit_code == 0, result.output
    assert calls == [query]


def test_construct_as_turtle_with_prefixes(fixture_store):
    result = run("query", "--store", str(fixture_store), "--format", "turtle",
                 "CONSTRUCT WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    assert result.exit_code == 0, result.output
    assert "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ." in result.output
    assert '"爱丽丝"@zh' in result.output


def test_query_errors_exit_2_with_a_message(fixture_store, tmp_path, capsys):
    cases = [
        (("--store", str(fixture_store), "SELECT * WHERE {"), "error at 1:"),
        (("--store", str(fixture_store), "--format", "turtle", "SELECT * WHERE { ?s ?p ?o }"), "does not fit"),
        (("--store", str(tmp_path / "missing"), "ASK {}"), "no store at"),
        (("--store", str(fixture_store), "@" + str(tmp_path / "missing.rq")), "cannot read the query file"),
        (("--store", str(fixture_store), "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"),
         "not allowed"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as stopped:
            main(["query", *args])
        assert stopped.value.code == 2, args
        assert message in capsys.readouterr().err, args


def test_serve_refuses_a_port_in_use(fixture_store):
    from crkg.commands.serve import _check_port
    from crkg.errors import CrkgError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            _check_port("127.0.0.1", port)
        except CrkgError as exc:
            assert "cannot listen" in str(exc)
        else:
            raise AssertionError("a port in use was accepted")
