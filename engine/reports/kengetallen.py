"""Report 6: the kengetallen per quarter for the national picture — aggregates only, small cells always suppressed.

One record per year, quarter, kengetal, split and gemeente (CBS code), so a landelijk netwerk can add up the files
of several ZVHs. Within one year, quarter, kengetal and split the gemeenten add up to the `district` record: that is
the line the suppression protects (a hidden cell is not to be worked out from the district total).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import ReportFact
from engine.reports.definitions import CBS_CODES, GEMEENTE_ROWS, KENGETALLEN
from engine.reports.suppression import suppress

DISTRICT = "district"


def kengetallen(session: Session, years: Sequence[int], *, zvh: str) -> list[dict[str, Any]]:
    """The records for `years`: `aantal` None when suppressed (`onderdrukt` says why)."""
    query = (
        select(
            ReportFact.jaar,
            ReportFact.kwartaal,
            ReportFact.kengetal,
            ReportFact.uitsplitsing,
            ReportFact.gemeente,
            func.count(),
        )
        .where(ReportFact.jaar.between(years[0], years[-1]))
        .group_by(
            ReportFact.jaar, ReportFact.kwartaal, ReportFact.kengetal, ReportFact.uitsplitsing, ReportFact.gemeente
        )
    )
    groups: dict[tuple[int, int, str, str | None], dict[str | None, int]] = defaultdict(dict)
    for jaar, kwartaal, kengetal, split, gemeente, count in session.execute(query):
        groups[(jaar, kwartaal, kengetal, split)][gemeente] = count
    records: list[dict[str, Any]] = []
    for (jaar, kwartaal, kengetal, split), by_gemeente in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3] or "")
    ):
        keys: list[str | None] = list(GEMEENTE_ROWS) if any(k is not None for k in by_gemeente) else []
        values = [by_gemeente.get(key, 0) for key in keys]
        total = sum(by_gemeente.values())
        hidden = suppress([[*values, total]], total_row=False, total_column=bool(keys))
        for column, key in enumerate([*keys, DISTRICT]):
            value = values[column] if column < len(keys) else total
            reason = hidden.get((0, column))
            records.append(
                {
                    "zvh": zvh,
                    "jaar": jaar,
                    "kwartaal": kwartaal,
                    "kengetal": kengetal,
                    "uitsplitsing": split,
                    "gemeente": key,
                    "cbs_code": CBS_CODES.get(key or ""),
                    "aantal": None if reason else value,
                    "onderdrukt": reason,
                }
            )
    return records


FIELDS = ("zvh", "jaar", "kwartaal", "kengetal", "uitsplitsing", "gemeente", "cbs_code", "aantal", "onderdrukt")


def document(records: Sequence[dict[str, Any]], years: Sequence[int], *, zvh: str) -> dict[str, Any]:
    """The records as the JSON file a landelijk netwerk receives: who, which years, the definition, the fields."""
    return {
        "zvh": zvh,
        "van": years[0],
        "tot": years[-1],
        "definitie": KENGETALLEN.definition,
        "velden": list(FIELDS),
        "records": list(records),
    }


def records_csv(records: Sequence[dict[str, Any]]) -> str:
    """The records as CSV, one line each, the fields as header (a suppressed count is empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()
