"""A matrix as CSV, XLSX or JSON: the same numbers as its page.

Every table has one row per (row value, column value) cell in long form, so that a
spreadsheet or pandas reads it directly:
``row, row_iri, column, column_iri, interventions, passages, evidence``.

CSV/XLSX injection (OWASP "CSV Injection"): a cell whose text begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would run as a formula in Excel or LibreOffice;
such text is written with a leading apostrophe (``'=…``), which both show as text. XLSX
cells are also written as plain strings (openpyxl's ``data_type "s"``), never formulas.
Numbers are written as numbers, so a count is never escaped.
"""

from __future__ import annotations

import csv
import io
import json

#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = ("row", "row_iri", "column", "column_iri", "interventions", "passages", "evidence")

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value):
    """*value* safe to put in a spreadsheet cell (numbers pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([neutralise(r[c]) for c in COLUMNS])
    # a BOM so that Excel reads the UTF-8 (Chinese labels) as UTF-8
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    wb = Workbook()
    ws = wb.active
    ws.title = "matrix"
    ws.append(list(COLUMNS))
    for r in rows:
        ws.append([None] * len(COLUMNS))
        for k, c in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=ws.max_row, column=k)
            value = neutralise(r[c])
            if isinstance(value, str):
                cell.value = value
                cell.data_type = TYPE_STRING  # text, even if it looks like a formula
            else:
                cell.value = value
    info = wb.create_sheet("about")
    info.append(["title", neutralise(title)])
    info["B1"].data_type = TYPE_STRING
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_json(rows: list[dict], meta: dict) -> bytes:
    return json.dumps({**meta, "cells": rows}, ensure_ascii=False, indent=1).encode("utf-8")
