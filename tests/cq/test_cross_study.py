"""Cross-study competency questions (issue 10): ``queries/cross-study/*.rq`` answered from
two studies at once, through the matches of each study's ``mapping.csv``.

The data: the first study (``data/studies/xu-chen-shanghai``) and the invented English
teaching example (``data/examples/riverside-flood``), which the default build leaves out,
built together into a temporary store. The expected answers
(``tests/cq/expected-cross-study/<name>.tsv``) are in the normal form of
``test_competency_questions.py``; for the teaching example they follow from its files,
for the first study from its coding (the counts agree with ``interventions-per-mode``,
``goals-stated-or-framework`` and ``phases-covered``).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from crkg.paths import DATA_DIR, QUERIES_DIR, STUDIES_DIR

from test_competency_questions import has_order_by, normal_form, read_expected

EXAMPLE = DATA_DIR / "examples" / "riverside-flood"
CROSS_DIR = QUERIES_DIR / "cross-study"
EXPECTED_DIR = Path(__file__).resolve().parent / "expected-cross-study"
QUESTIONS = sorted(CROSS_DIR.glob("*.rq"))


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory, studies_builder):
    store = studies_builder(tmp_path_factory.mktemp("cross"), [STUDIES_DIR / "xu-chen-shanghai", EXAMPLE], reason=False)
    return ox.Store.read_only(str(store))


def test_there_are_cross_study_questions_with_answers():
    assert len(QUESTIONS) >= 2
    assert sorted(p.stem for p in EXPECTED_DIR.glob("*.tsv")) == [p.stem for p in QUESTIONS]


@pytest.mark.parametrize("path", QUESTIONS, ids=lambda p: p.stem)
def test_cross_study_answer(two_studies, path):
    sparql = path.read_text(encoding="utf-8")
    result = two_studies.query(sparql, use_default_graph_as_union=True)
    header, expected = read_expected(EXPECTED_DIR / f"{path.stem}.tsv")
    variables = [v.value for v in result.variables]
    assert variables == header
    rows = [tuple(normal_form(s[v]) for v in variables) for s in result]
    if has_order_by(sparql):
        assert rows == expected
    else:
        assert sorted(rows) == sorted(expected)
    studies = {row[header.index("study")] for row in rows}
    assert studies == {"id:study/xu-chen-shanghai", "id:study/riverside-flood"}, "answers from both studies"


def test_the_default_build_leaves_the_teaching_example_out():
    from crkg.pipeline.studies import discover_studies

    keys = [p.name for p in discover_studies(STUDIES_DIR)]
    assert "xu-chen-shanghai" in keys and EXAMPLE.name not in keys
