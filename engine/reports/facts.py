"""What the management reports count: facts recorded when a case reaches a marked element, in the same transaction.

A process owner marks an element with the property `rapportage` (a kengetal such as `melding` or `casus`). When a
save finds the element completed for the first time in an instance, one row goes into `report_facts`: the kengetal,
the gemeente of the case at that moment (a report row: one of the nine gemeenten or `overig`), the moment and its
local year and quarter, and optionally a split (`rapportage_uitsplitsing`: a data field whose value is recorded,
e.g. the datalek's `registratie_categorie`). `rapportage_datum` says which moment counts: `moment` (when the element
was reached, the default) or `start` (when the case started: a referral counts in the year it was submitted).

A fact holds no personal data, and destruction of a case leaves its facts: what the reports count stays the same
when the personal data goes. Each kengetal counts once per instance (`instances.counted` lists those recorded, so
the hot path needs no query to know); reports read the facts with one grouped, indexed query — never a workflow.

Cases that existed before the reports did have `counted` NULL: `backfill_facts` (run by `zvh init`) counts what
they reached, dating a mark by the step's completion in `completed_tasks` (else the engine's own state-change time);
a legacy case saved before that is dated the same way, not by the moment of that save.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from engine.models import CompletedTask, Instance, ReportFact
from engine.monitor.norms import LOCAL
from engine.privacy.organisations import gemeente_key

#: The report row of a case whose gemeente is none of the nine (no fixed abode, outside the district, secret).
OVERIG = "overig"
START, MOMENT = "start", "moment"
if TYPE_CHECKING:  # the runtime imports this module
    from engine.db import Database
    from engine.runtime import Runtime

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ADD_FACTS = insert(ReportFact)


@dataclass(frozen=True)
class ReportMark:
    """A marked element: the kengetal it counts, which moment dates it, and the data field that splits it."""

    kengetal: str
    datum: str = MOMENT
    uitsplitsing: str | None = None


def parse_mark(properties: Mapping[str, str]) -> ReportMark | None:
    """The mark in an element's `spiffworkflow:properties`, None without one; `ValueError` says what is wrong."""
    kengetal = properties.get("rapportage")
    if kengetal is None:
        if "rapportage_datum" in properties or "rapportage_uitsplitsing" in properties:
            raise ValueError("rapportage_datum and rapportage_uitsplitsing need a rapportage property beside them")
        return None
    if not _KEY.fullmatch(kengetal):
        raise ValueError(f"rapportage '{kengetal}' must be a key of lower-case letters, digits and '_'")
    datum = properties.get("rapportage_datum", MOMENT)
    if datum not in (START, MOMENT):
        raise ValueError(f"rapportage_datum '{datum}' must be 'start' (the case's start) or 'moment' (when reached)")
    split = properties.get("rapportage_uitsplitsing")
    if split is not None and not _FIELD.fullmatch(split):
        raise ValueError(f"rapportage_uitsplitsing '{split}' must name a data field")
    return ReportMark(kengetal, datum, split)


def report_row(gemeente: object) -> str:
    """The report row of a gemeente value: its key (`breda`) for the nine gemeenten, else `overig`."""
    return gemeente_key(gemeente) or OVERIG


def reached_marks(workflows: Iterable[Any], marks: Mapping[str, ReportMark]) -> dict[str, tuple[ReportMark, Any]]:
    """The marks whose element has completed in these workflows, by kengetal (the first one per kengetal), with
    the completed task."""
    reached: dict[str, tuple[ReportMark, Any]] = {}
    for workflow in workflows:
        for task in workflow.tasks.values():
            mark = marks.get(task.task_spec.bpmn_id) if task.task_spec.bpmn_id else None
            if mark is not None and task.state == TaskState.COMPLETED:
                reached.setdefault(mark.kengetal, (mark, task))
    return reached


def _completed_at(session: Session, instance_id: int, task: Any) -> datetime:
    """When a step completed in a case from before the reports: its completion in the history, else the engine's."""
    recorded = session.scalar(
        select(func.min(CompletedTask.completed_at)).where(
            CompletedTask.instance_id == instance_id, CompletedTask.element_id == task.task_spec.bpmn_id
        )
    )
    return recorded if recorded is not None else datetime.fromtimestamp(task.last_state_change, UTC)


def _value(data: Mapping[str, Any], field: str | None) -> str | None:
    value = data.get(field) if field else None
    return str(value)[:64] if isinstance(value, str | int | bool) and not isinstance(value, float) else None


def record_facts(
    session: Session,
    *,
    row: Any,
    workflows: Iterable[Any],
    marks: Mapping[str, ReportMark],
    data: Mapping[str, Any],
    now: datetime,
    fresh: bool = False,
) -> int:
    """Record the facts of marks reached since the last save (`row` is the instance; `data` its current data).

    Returns how many were recorded. `fresh`: the instance is being created (never a case from before the reports).
    """
    legacy = row.counted is None and not fresh
    if row.counted is None:
        row.counted = ""
    counted = set(row.counted.split(",")) if row.counted else set()
    if counted.issuperset(mark.kengetal for mark in marks.values()):
        return 0  # nothing left to count (or nothing marked): no walk over the workflow on this save
    new = {k: found for k, found in reached_marks(workflows, marks).items() if k not in counted}
    if not new:
        return 0
    rows = []
    for kengetal, (mark, task) in sorted(new.items()):
        if mark.datum == START:
            moment = row.started_at
        elif legacy:
            moment = _completed_at(session, row.id, task)
        else:
            moment = now
        local = moment.astimezone(LOCAL)
        rows.append(
            {
                "instance_id": row.id,
                "process_key": row.process_key,
                "kengetal": kengetal,
                "uitsplitsing": _value(data, mark.uitsplitsing),
                "gemeente": report_row(data.get("gemeente")) if "gemeente" in data else None,
                "occurred_at": moment,
                "jaar": local.year,
                "kwartaal": (local.month - 1) // 3 + 1,
            }
        )
    session.execute(_ADD_FACTS, rows)
    row.counted = ",".join(sorted(counted | set(new)))
    return len(rows)


def backfill_facts(db: Database, runtime: Runtime, *, batch: int = 200) -> tuple[int, int]:
    """Count what the cases from before the reports reached (`counted` NULL, not destroyed); returns (facts
    recorded, cases that could not be read). Run by `zvh init`; a second run finds nothing left to do."""
    recorded = unreadable = 0
    last_id = 0
    while True:
        with db.reader() as session:
            ids = session.scalars(
                select(Instance.id)
                .where(Instance.counted.is_(None), Instance.destroyed_at.is_(None), Instance.id > last_id)
                .order_by(Instance.id)
                .limit(batch)
            ).all()
        if not ids:
            return recorded, unreadable
        last_id = ids[-1]
        for instance_id in ids:
            try:
                with db.transaction() as session:
                    loaded = runtime.load(session, instance_id, for_update=True)
                    workflow = loaded.workflow
                    recorded += record_facts(
                        session,
                        row=loaded.row,
                        workflows=[workflow, *workflow.subprocesses.values()],
                        marks=loaded.version.report_marks,
                        data=loaded.current_data(),
                        now=runtime.clock.now(),
                    )
            except Exception:  # a case whose state cannot be read stays uncounted, and is reported
                unreadable += 1
