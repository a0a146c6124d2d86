"""Competency questions (issue 3, item 4): every ``queries/cq/*.rq`` against the built graph.

Each question's expected answer is written from a reading of the study
(``data/studies/xu-chen-shanghai/sources/study.zh.txt``), not from running the query, in
``tests/cq/expected/<name>.tsv`` in the normal form documented in
``queries/README.md``:

* SELECT: a header line with the projected variable names (without ``?``), then one
  line per row, cells separated by a tab. IRIs are compact with the prefixes ``crkg:``,
  ``id:`` (``https://w3id.org/crkg/id/``) and ``wd:``, else written ``<...>``; literals
  are their lexical form only (no language tag, no datatype), with ``\\``, tab and
  newline escaped as ``\\\\``, ``\\t`` and ``\\n``; an unbound cell is empty.
* ASK: the single word ``true`` or ``false``.

Rows are compared in order when the query has an ``ORDER BY`` (its keys must order the
rows totally), otherwise as multisets. The queries run on the default graph = the union
of all named graphs, as on ``/sparql`` and on Virtuoso after ``crkg push``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from crkg.namespaces import CRKG, ID, WD
from crkg.paths import QUERIES_DIR

CQ_DIR = QUERIES_DIR / "cq"
EXPECTED_DIR = Path(__file__).resolve().parent / "expected"
CQ_FILES = sorted(CQ_DIR.glob("*.rq"))
EXPECTED_FILES = sorted(EXPECTED_DIR.glob("*.tsv"))

#: Compact forms of the normal form (longest namespace first, so none shadows another).
COMPACT = sorted(((str(CRKG), "crkg:"), (str(ID), "id:"), (str(WD), "wd:")),
                 key=lambda pair: -len(pair[0]))

#: The header every question starts with (the query page shows ``title``).
HEADER_KEYS = ("title", "question", "answer")

#: Known coding gaps: question name -> reason (reported to the data owner). Empty means
#: the data answers every question as the study does.
XFAIL: dict[str, str] = {}


def normal_form(term) -> str:
    """One result cell in the expected files' normal form."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        iri = term.value
        for namespace, prefix in COMPACT:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return prefix + iri[len(namespace):]
        return f"<{iri}>"
    if isinstance(term, ox.BlankNode):
        return "_:"
    return term.value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def read_expected(path: Path):
    """``True``/``False`` for an ASK answer, else ``(header, rows)``."""
    text = path.read_text(encoding="utf-8")
    if text.strip() in ("true", "false"):
        return text.strip() == "true"
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    rows = [tuple(line.split("\t")) for line in lines[1:]]
    for number, row in enumerate(rows, start=2):
        assert len(row) == len(header), f"{path.name}:{number}: {len(row)} cells, header has {len(header)}"
    return header, rows


def query_body(sparql: str) -> str:
    """The query without its whole-line comments (the header)."""
    return "\n".join(line for line in sparql.splitlines() if not line.lstrip().startswith("#"))


def has_order_by(sparql: str) -> bool:
    return re.search(r"\bORDER\s+BY\b", query_body(sparql), re.IGNORECASE) is not None


def header_of(sparql: str) -> dict[str, str]:
    """The leading ``# key: value`` comment lines."""
    found = {}
    for line in sparql.splitlines():
        match = re.match(r"^#\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$", line)
        if not match:
            break
        found.setdefault(match.group(1).lower(), match.group(2))
    return found


@pytest.fixture(scope="module")
def store(built):
    return ox.Store.read_only(str(built.store_dir))


def test_there_are_at_least_twenty_questions():
    assert len(CQ_FILES) >= 20, f"{CQ_DIR}: {len(CQ_FILES)} competency questions, want >= 20"


def test_every_question_has_an_expected_answer_and_vice_versa():
    questions = {p.stem for p in CQ_FILES}
    answers = {p.stem for p in EXPECTED_FILES}
    assert questions - answers == set(), "questions without tests/cq/expected/<name>.tsv"
    assert answers - questions == set(), "expected answers without queries/cq/<name>.rq"


@pytest.mark.parametrize("path", CQ_FILES, ids=[p.stem for p in CQ_FILES])
def test_question_is_documented_and_portable(path):
    """Header lines; standard SPARQL 1.1 (rdflib's parser agrees); no dataset clause."""
    from rdflib.plugins.sparql import prepareQuery

    sparql = path.read_text(encoding="utf-8")
    header = header_of(sparql)
    for key in HEADER_KEYS:
        assert header.get(key), f"{path.name}: missing '# {key}: ...' at the top"
    assert list(header)[:3] == list(HEADER_KEYS), f"{path.name}: header order is title, question, answer"
    prepareQuery(sparql)  # rdflib declares no prefixes of its own here: every PREFIX is needed
    body = query_body(sparql)
    for word in ("FROM", "SERVICE", "GRAPH"):
        assert not re.search(rf"\b{word}\b", body), (
            f"{path.name}: {word} - questions run on the default graph (union of all graphs)")


@pytest.mark.parametrize("path", CQ_FILES, ids=[p.stem for p in CQ_FILES])
def test_answer_matches_the_study(store, path, request):
    if path.stem in XFAIL:
        request.applymarker(pytest.mark.xfail(reason=XFAIL[path.stem], strict=True))
    sparql = path.read_text(encoding="utf-8")
    expected = read_expected(EXPECTED_DIR / f"{path.stem}.tsv")
    result = store.query(sparql, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        assert isinstance(expected, bool), f"{path.name} is an ASK query; expected file is a table"
        assert bool(result) is expected
        return
    assert not isinstance(expected, bool), f"{path.name} is a SELECT query; expected file is true/false"
    header, rows = expected
    variables = [v.value for v in result.variables]
    assert variables == header, f"{path.name}: projected variables"
    actual = [tuple(normal_form(solution[v]) for v in variables) for solution in result]
    if has_order_by(sparql):
        assert actual == rows
    else:
        assert Counter(actual) == Counter(rows)


# --- the harness itself --------------------------------------------------------------


def test_normal_form_of_terms():
    assert normal_form(ox.NamedNode(str(CRKG) + "Micro")) == "crkg:Micro"
    assert normal_form(ox.NamedNode(str(ID) + "community/s/N")) == "id:community/s/N"
    assert normal_form(ox.NamedNode(str(WD) + "Q8686")) == "wd:Q8686"
    assert normal_form(ox.NamedNode("https://doi.org/10.1/x")) == "<https://doi.org/10.1/x>"
    assert normal_form(ox.NamedNode(str(ID))) == f"<{ID}>"
    assert normal_form(ox.Literal("心理韧性", language="zh")) == "心理韧性"
    assert normal_form(ox.Literal("500", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))) == "500"
    assert normal_form(ox.Literal("a\tb\nc\\d")) == "a\\tb\\nc\\\\d"
    assert normal_form(ox.BlankNode()) == "_:"
    assert normal_form(None) == ""


def test_read_expected(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_text("a\tb\nx\t\n", encoding="utf-8")
    assert read_expected(table) == (["a", "b"], [("x", "")])
    ask = tmp_path / "ask.tsv"
    ask.write_text("false\n", encoding="utf-8")
    assert read_expected(ask) is False
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("a\tb\nx\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="1 cells, header has 2"):
        read_expected(ragged)


def test_order_by_is_found_outside_comments_only():
    assert has_order_by("# answer: sorted\nSELECT ?x WHERE { ?x ?p ?o }\norder  by ?x\n")
    assert not has_order_by("# title: ORDER BY in a comment\nSELECT ?x WHERE { ?x ?p ?o }\n")
