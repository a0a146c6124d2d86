"""Matrix downloads never carry a formula (OWASP CSV injection), and citation fields
never break out of BibTeX or RIS (crkg.web.exports, crkg.web.citations)."""

from __future__ import annotations

import csv
import io

import pytest

from crkg.web.citations import Citation, Work, bibtex, ris
from crkg.web.exports import COLUMNS, neutralise, to_csv, to_xlsx


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_written_as_text(text):
    assert neutralise(text) == "'" + text


def test_numbers_and_plain_text_pass():
    assert neutralise(-3) == -3 and neutralise("trust") == "trust" and neutralise("信任") == "信任"


def _row(label):
    return {c: 0 for c in COLUMNS} | {"row": label, "row_iri": "x", "column": "=c", "column_iri": "y", "evidence": ""}


def test_csv_and_xlsx_escape_every_text_cell():
    from openpyxl import load_workbook

    rows = [_row("=HYPERLINK(\"http://example.invalid\")"), _row("@x")]
    table = list(csv.reader(io.StringIO(to_csv(rows).decode("utf-8")[1:])))
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in table for cell in line)
    wb = load_workbook(io.BytesIO(to_xlsx(rows, "=title")))
    cells = [c for ws in wb for line in ws.iter_rows() for c in line]
    assert all(c.data_type != "f" for c in cells)
    assert all(not str(c.value).startswith(("=", "+", "-", "@")) for c in cells if c.value is not None)


def test_bibtex_and_ris_fields_cannot_break_out():
    c = Citation("https://w3id.org/crkg/id/quote/s/q", "passage",
                 Work("https://w3id.org/crkg/id/study/s", titles={"en": "A } title {\\x"}, creators=["A%B"]),
                 label="line one\nER  - two", locators=["三.1"])
    bib = bibtex(c, "en")
    assert "A \\} title \\{\\textbackslash{}x" in bib and "A\\%B" in bib
    assert bib.count("{") - bib.count("\\{") == bib.count("}") - bib.count("\\}")
    lines = ris(c, "en").split("\r\n")
    assert [line for line in lines if line.startswith("ER  -")] == ["ER  - "]
