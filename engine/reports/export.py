"""The report tables as CSV, JSON and XLSX: the same figures as the pages, with the definition beside them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from engine.reports.tables import Table


def to_csv(table: Table) -> str:
    """First column the row label (gemeente, theme or process), then one column per column of the table."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(_safe_row(row) for row in table.records())
    return out.getvalue()


def _safe_row(row: Sequence[str]) -> list[str]:
    # A spreadsheet runs a cell starting with = + - @ as a formula: labels are ours, but keep the rule anyway.
    return [f"'{cell}" if cell[:1] in ("=", "+", "@") else cell for cell in row]


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 1)


def to_json(table: Table) -> dict[str, Any]:
    """The table with its definition; a suppressed cell has `null` as value and says why."""
    return {
        "rapport": table.figure.key,
        "titel": table.figure.title,
        "definitie": table.figure.definition,
        "toelichting": table.figure.note,
        "kleine_aantallen_onderdrukt": table.suppressed,
        "rijkop": table.row_header,
        "kolommen": list(table.columns),
        "rijen": [
            {
                "sleutel": row.key,
                "label": row.label,
                "totaal": row.total,
                "waarden": [None if c.suppressed else _number(c.value) for c in row.cells],
                "tekst": [c.text for c in row.cells],
                "onderdrukt": [c.suppressed for c in row.cells],
                **({"definitie": table.row_notes[row.key][0]} if row.key in table.row_notes else {}),
            }
            for row in table.rows
        ],
    }


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table: title, definition, the table (numbers as numbers), notes."""
    book = Workbook()
    book.remove(book.worksheets[0])  # the empty default sheet
    for table in tables:
        # Excel refuses []:*?/\ in a sheet title (the activities title has a colon) and more than 31 characters
        sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "-", table.figure.title)[:31])
        sheet.append([table.figure.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([table.figure.definition])
        sheet.append([])
        sheet.append([table.row_header, *table.columns])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in table.rows:
            values: list[Any] = [row.label]
            values += [c.text if c.suppressed or c.value is None else _number(c.value) for c in row.cells]
            sheet.append(values)
            if row.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
        sheet.append([])
        sheet.append([table.figure.note])
        if table.suppressed:
            sheet.append(["<5: minder dan 5; ×: afgeschermd zodat een klein aantal niet terug te rekenen is."])
        for key, (definition, note) in table.row_notes.items():
            sheet.append([key, definition, note])
        sheet.column_dimensions["A"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
