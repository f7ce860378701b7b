"""Throughput of a process: cases started, finished and running per month, and lead times per step.

Months are calendar months in Breda (Europe/Amsterdam). The monthly counts are one aggregate query over the
process's instances (`instances.process_key`); lead times are ranked in the database, per step, from the
completed-task history read by the index on `completed_tasks (process_key, completed_at)`. Workflows are never
loaded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.models import CompletedTask, Instance
from engine.monitor.norms import LOCAL
from engine.monitor.quantiles import epoch_seconds, quantiles


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month: cases started and finished in it, and cases running at its end (now, if current)."""

    month: date
    started: int
    finished: int
    running: int


@dataclass(frozen=True)
class StepLeadTime:
    """How long one step took, from opening to completion, over the period (seconds)."""

    element_id: str
    name: str
    completed: int
    median: float
    p90: float


@dataclass(frozen=True)
class Throughput:
    """A process's figures over the last months (oldest first), from `since` up to `until` (now)."""

    process_key: str
    since: datetime
    until: datetime
    months: list[MonthFigures]
    steps: list[StepLeadTime]


def month_starts(now: datetime, months: int) -> list[datetime]:
    """The starts of the last `months` local calendar months up to `now`, and of the month after (UTC)."""
    local = now.astimezone(LOCAL)
    index = local.year * 12 + local.month - 1
    firsts = [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 2)]
    return [datetime.combine(first, time(), tzinfo=LOCAL).astimezone(UTC) for first in firsts]


def _monthly(session: Session, process_key: str, spans: list[tuple[datetime, datetime]]) -> list[tuple[int, ...]]:
    """Started, finished and running-at-end per span, counted in one pass over the process's instances."""
    columns: list[Any] = []
    for start, end in spans:
        columns += [
            func.count(case((and_(Instance.started_at >= start, Instance.started_at < end), 1))),
            func.count(case((and_(Instance.ended_at >= start, Instance.ended_at < end), 1))),
            func.count(
                case((and_(Instance.started_at < end, or_(Instance.ended_at.is_(None), Instance.ended_at >= end)), 1))
            ),
        ]
    row = session.execute(select(*columns).where(Instance.process_key == process_key)).one()
    return [tuple(row[i : i + 3]) for i in range(0, len(row), 3)]


def lead_times(session: Session, process_key: str, since: datetime, until: datetime) -> list[StepLeadTime]:
    """Median and p90 time from opening to completion of each step completed in [since, until), by step name."""
    in_period = [
        CompletedTask.process_key == process_key,
        CompletedTask.completed_at >= since,
        CompletedTask.completed_at < until,
    ]
    # Grouped by name too, oldest first: the name in the version most recently worked on wins.
    named = (
        select(CompletedTask.element_id, CompletedTask.name, func.count())
        .where(*in_period)
        .group_by(CompletedTask.element_id, CompletedTask.name)
        .order_by(func.max(CompletedTask.completed_at))
    )
    names: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for element_id, name, count in session.execute(named).tuples():
        names[element_id] = name
        counts[element_id] += count
    lead_time = epoch_seconds(CompletedTask.completed_at) - epoch_seconds(CompletedTask.created_at)
    steps = []
    for element_id, count in counts.items():
        found = quantiles(
            session,
            value=lead_time,
            where=[*in_period, CompletedTask.element_id == element_id],
            count=count,
            percents=[50, 90],
        )
        if len(found) == 2:
            steps.append(StepLeadTime(element_id, names[element_id], count, float(found[50]), float(found[90])))
    return sorted(steps, key=lambda step: (step.name, step.element_id))


def throughput(session: Session, *, process_key: str, now: datetime, months: int = 12) -> Throughput:
    """Started, finished and running per month over the last `months` months, and lead times per step."""
    starts = month_starts(now, months)
    spans = list(pairwise(starts))  # the current month ends in the future: its figures are those of now
    counts = _monthly(session, process_key, spans)
    return Throughput(
        process_key=process_key,
        since=starts[0],
        until=now,
        months=[
            MonthFigures(month=start.astimezone(LOCAL).date(), started=started, finished=finished, running=running)
            for (start, _), (started, finished, running) in zip(spans, counts, strict=True)
        ],
        steps=lead_times(session, process_key, starts[0], starts[-1]),
    )
