"""Report 5, doorlooptijden: median and p90 duration per process and per step, per (local) year.

Per process: start to end of the instances that completed in the year (`instances`, kept as an anonymous record
when the personal data is destroyed). Per step: opening to completion of the tasks completed in the year
(`completed_tasks`, the same history the Bewaking's lead times read). Quantiles are ranked in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.i18n import N_
from engine.instance import COMPLETED
from engine.models import Instance
from engine.monitor.norms import LOCAL
from engine.monitor.quantiles import epoch_seconds, quantiles
from engine.monitor.throughput import StepLeadTime, lead_times
from engine.registry import list_processes
from engine.reports.definitions import DOORLOOPTIJDEN, Translate, dutch
from engine.reports.tables import Cell, Row, Table

_DAY = 86400.0
#: The two rows of a process, by the key's suffix: their labels.
ROW_LABELS = {"mediaan": N_("%(proces)s (mediaan, dagen)"), "p90": N_("%(proces)s (p90, dagen)")}


@dataclass(frozen=True)
class Duration:
    """How long the cases of one process that completed in one year took (days)."""

    completed: int
    median: float
    p90: float


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The start of `year` and of the next one in Breda, in UTC."""
    return (
        datetime(year, 1, 1, tzinfo=LOCAL).astimezone(UTC),
        datetime(year + 1, 1, 1, tzinfo=LOCAL).astimezone(UTC),
    )


def process_duration(session: Session, process_key: str, year: int) -> Duration | None:
    """Median and p90 days from start to end of the process's instances completed in `year` (None: none did)."""
    since, until = year_bounds(year)
    where: list[Any] = [
        Instance.process_key == process_key,
        Instance.status == COMPLETED,
        Instance.ended_at >= since,
        Instance.ended_at < until,
    ]
    count = session.scalar(select(func.count()).select_from(Instance).where(*where)) or 0
    if not count:
        return None
    value = epoch_seconds(Instance.ended_at) - epoch_seconds(Instance.started_at)
    found = quantiles(session, value=value, where=where, count=count, percents=[50, 90])
    if len(found) != 2:
        return None
    return Duration(count, float(found[50]) / _DAY, float(found[90]) / _DAY)


def step_durations(session: Session, process_key: str, year: int) -> list[StepLeadTime]:
    """Median and p90 (seconds) of every step of the process completed in `year`."""
    since, until = year_bounds(year)
    return lead_times(session, process_key, since, until)


def days(value: float | None) -> str:
    """A number of days as the report writes it: one decimal, Dutch decimal comma; `–` for none."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def doorlooptijden(session: Session, years: list[int], *, translate: Translate = dutch) -> Table:
    """Per process two rows (median, p90) with one column per year, in days (`translate`: the texts' language)."""
    rows = []
    for version in list_processes(session):
        found = [process_duration(session, version.process_key, year) for year in years]
        medians = [d.median if d else None for d in found]
        p90s = [d.p90 if d else None for d in found]
        for suffix, values in (("mediaan", medians), ("p90", p90s)):
            cells = tuple(Cell(value, days(value)) for value in values)
            label = translate(ROW_LABELS[suffix], proces=version.name)
            rows.append(Row(f"{version.process_key}/{suffix}", label, cells))
    return Table(
        DOORLOOPTIJDEN.in_language(translate), translate(N_("Proces")), tuple(str(y) for y in years), tuple(rows)
    )
