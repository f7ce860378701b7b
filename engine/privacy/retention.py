"""Retention: when a case's personal data must go, which cases are due, which cannot be computed, extensions.

The rules come from the process model (`engine.privacy.retention_rules`); `update_retention` writes the due moment
and the rule on every save of an instance. Retention counts from the end of the case, or earlier from a date in
its data (`bewaartermijn_vanaf`: the purpose ended then, whatever path the case took), whichever comes first.

An extension needs a reason and is limited to one per case, of at most the original period again: the Raad van
State questioned repeated extension under the WGS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, defer

from engine.audit import record
from engine.db import Database
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.instance import COMPLETED, TERMINATED, WorkflowInstance
from engine.models import (
    DestructionList,
    DestructionListItem,
    Instance,
    Notification,
    RetentionExtension,
    User,
    UserRole,
)
from engine.notifications.bell import DIALECT_INSERTS
from engine.notifications.scan import job_mark, set_job_mark
from engine.registry import load_version
from engine.spiff import timer_due

ENDED_STATUSES = frozenset({COMPLETED, TERMINATED})
#: Who sees the retention lists and may extend a period.
RETENTION_ROLES = frozenset({"manager", "privacyfunctionaris"})
#: A list that is still open keeps its cases off the due list (they are on their way).
OPEN_LIST_STATUSES = ("proposed", "approved")
#: How long a case may wait for its `vanaf` date, or go without any progress, before the daily job asks about it.
#: A year: longer than any step norm in the models (the longest is a few months), so a case beyond it is forgotten
#: rather than slow — and without a due date it would otherwise be kept forever.
HORIZON = timedelta(days=365)
MAX_EXTENSIONS = 1


@dataclass(frozen=True)
class RetentionCase:
    """One case on a retention list: no personal data, only what identifies the case and why it is listed."""

    instance_id: int
    case_number: str
    process_key: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    retention_due_at: datetime | None
    rule: str | None
    extensions: int
    #: why it is listed (uncomputable cases): `geen_regel`, `datum_ontbreekt` or `geen_voortgang`
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "case_number": self.case_number,
            "process_key": self.process_key,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "retention_due_at": self.retention_due_at.isoformat() if self.retention_due_at else None,
            "rule": self.rule,
            "extensions": self.extensions,
            "reason": self.reason,
        }


def _reached_end_events(instance: WorkflowInstance) -> list[str]:
    """The end events of the main process this instance reached (sub-process ends do not end a case)."""
    return [
        str(task.task_spec.bpmn_id)
        for task in instance.workflow.get_tasks(state=TaskState.COMPLETED)
        if isinstance(task.task_spec, EndEvent) and task.workflow is instance.workflow
    ]


def update_retention(instance: WorkflowInstance, data: Mapping[str, Any]) -> None:
    """Set the instance's retention due moment and rule from its process model (on every save)."""
    row = instance.row
    if row.destroyed_at is not None or row.retention_extensions:
        return  # an extended period is a decision, not recomputed
    rules = instance.version.retention
    candidates = []
    if (counted_from := rules.due_from(data)) is not None:
        candidates.append(counted_from)
    ended = row.status in ENDED_STATUSES and row.ended_at is not None
    if ended and (at_end := rules.due_at_end(_reached_end_events(instance), row.ended_at or row.started_at)):
        candidates.append(at_end)
    due, rule = min(candidates) if candidates else (None, None)
    row.retention_due_at, row.retention_rule = due, rule[:128] if rule else None


def _case(row: Instance, reason: str | None = None) -> RetentionCase:
    return RetentionCase(
        instance_id=row.id,
        case_number=row.case_number,
        process_key=row.process_key,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        retention_due_at=row.retention_due_at,
        rule=row.retention_rule,
        extensions=row.retention_extensions,
        reason=reason,
    )


def _on_open_list() -> Any:
    return exists().where(
        DestructionListItem.instance_id == Instance.id,
        DestructionListItem.list_id == DestructionList.id,
        DestructionList.status.in_(OPEN_LIST_STATUSES),
    )


def due_for_destruction(session: Session, at: datetime) -> list[RetentionCase]:
    """Cases whose retention has passed at `at`, not destroyed and not already on an open destruction list."""
    rows = session.scalars(
        select(Instance)
        .options(defer(Instance.state))
        .where(
            Instance.destroyed_at.is_(None),
            Instance.retention_due_at.is_not(None),
            Instance.retention_due_at <= at,
            ~_on_open_list(),
        )
        .order_by(Instance.retention_due_at, Instance.id)
    )
    return [_case(row) for row in rows]


def uncomputable(session: Session, at: datetime, *, horizon: timedelta = HORIZON) -> list[RetentionCase]:
    """Cases that would be kept forever by accident: no retention date and none to expect.

    - ended without a rule (its process and end state name no `bewaartermijn`): `geen_regel`;
    - still running, its process counts from a date field, and that field is still missing after `horizon`
      since the start: `datum_ontbreekt`;
    - still running without any progress for longer than `horizon`: `geen_voortgang` (a forgotten case never
      reaches the end its retention counts from).
    """
    rows = session.scalars(
        select(Instance)
        .options(defer(Instance.state))
        .where(
            Instance.destroyed_at.is_(None),
            Instance.retention_due_at.is_(None),
            Instance.status.in_(ENDED_STATUSES) | (Instance.started_at < at - horizon),
        )
        .order_by(Instance.started_at, Instance.id)
    )
    found = []
    for row in rows:
        if row.status in ENDED_STATUSES:
            found.append(_case(row, "geen_regel"))
        elif row.last_progress_at < at - horizon:
            found.append(_case(row, "geen_voortgang"))
        elif row.started_at < at - horizon and load_version(row.process_version).retention.from_fields:
            found.append(_case(row, "datum_ontbreekt"))
    return found


def _period_of(rule: str | None) -> str | None:
    """The period a rule string names (`reintegratie/proces P6M vanaf einde` -> `P6M`)."""
    parts = (rule or "").split()
    return parts[1] if len(parts) > 1 and parts[1].startswith("P") else None


def extend_retention(
    session: Session, *, instance_id: int, actor: User, reason: str, until: datetime, at: datetime
) -> RetentionExtension:
    """Extend a case's retention once, with a reason, by at most its original period (recorded and logged)."""
    if not actor.role_keys & RETENTION_ROLES:
        raise PermissionDenied("Alleen een manager of de privacyfunctionaris mag een bewaartermijn verlengen.")
    row = session.get(Instance, instance_id, with_for_update=True)
    if row is None or row.destroyed_at is not None:
        raise NotFound("Deze zaak bestaat niet of is vernietigd.")
    reason = required_text(reason, field="reason", message="Geef een reden voor de verlenging.")
    if row.retention_due_at is None or (period := _period_of(row.retention_rule)) is None:
        raise Conflict("Deze zaak heeft (nog) geen bewaartermijn die verlengd kan worden.")
    if row.retention_extensions >= MAX_EXTENSIONS:
        raise Conflict("De bewaartermijn van deze zaak is al eens verlengd; nog een verlenging is niet toegestaan.")
    if session.scalar(select(_on_open_list().where(DestructionListItem.instance_id == instance_id))):
        raise Conflict("Deze zaak staat op een vernietigingslijst; handel die lijst eerst af.")
    limit = timer_due(period, row.retention_due_at) if period != "P0D" else row.retention_due_at
    if until <= row.retention_due_at or until > limit:
        raise InvalidInput(
            "Verleng tot na %(vanaf)s en uiterlijk %(uiterlijk)s (ten hoogste de oorspronkelijke termijn %(termijn)s "
            "nog eens).",
            {"until": ["Buiten de toegestane verlenging."]},
            vanaf=row.retention_due_at.strftime("%d-%m-%Y"),
            uiterlijk=limit.strftime("%d-%m-%Y"),
            termijn=period,
        )
    extension = RetentionExtension(
        instance_id=row.id,
        extended_by_id=actor.id,
        extended_at=at,
        previous_due_at=row.retention_due_at,
        new_due_at=until,
        reason=reason,
    )
    session.add(extension)
    row.retention_due_at = until
    row.retention_extensions += 1
    record(
        session,
        actor=actor.username,
        action="retention_extend",
        at=at,
        instance_id=row.id,
        summary=f"Bewaartermijn van zaak {row.case_number} verlengd tot {until:%Y-%m-%d}",
        details={"previous_due_at": extension.previous_due_at.isoformat(), "new_due_at": until.isoformat()},
        object_type="case",
        object_id=str(row.id),
    )
    session.flush()
    return extension


_JOB_MARK = "retention"
#: The daily job runs at most once per this interval; it is called every round, so a missed day is caught up.
JOB_INTERVAL = timedelta(days=1)
RETENTION_LINK = "/bewaartermijnen"


def notify_retention(session: Session, *, now: datetime) -> tuple[int, int]:
    """Tell every manager and the FG how many cases are due and how many have no computable retention.

    Counts only: no case numbers, no personal data. Returns (due, uncomputable).
    """
    due, unknown = len(due_for_destruction(session, now)), len(uncomputable(session, now))
    if not due and not unknown:
        return due, unknown
    recipients = session.scalars(
        select(UserRole.user_id).join(User).where(UserRole.role.in_(RETENTION_ROLES), User.active.is_(True)).distinct()
    ).all()
    title = f"Bewaartermijnen: {due} zaken te vernietigen, {unknown} zonder berekenbare bewaartermijn"
    insert = DIALECT_INSERTS[session.get_bind().dialect.name]
    rows = [
        {
            "user_id": user_id,
            "kind": "retention",
            "key": f"retention:{now:%Y-%m-%d}",
            "title": title,
            "link": RETENTION_LINK,
            "instance_id": None,
            "created_at": now,
        }
        for user_id in recipients
    ]
    if rows:
        session.execute(insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["user_id", "key"]))
    return due, unknown


def run_retention_job(db: Database, *, now: datetime, every: timedelta = JOB_INTERVAL) -> tuple[int, int] | None:
    """The daily job (beat and the embedded loop call it often; it works once per `every`)."""
    with db.transaction() as session:
        last = job_mark(session, _JOB_MARK)
        if last is not None and now - last < every:
            return None
        counts = notify_retention(session, now=now)
        set_job_mark(session, _JOB_MARK, now)
    return counts


def require_retention_role(user: User) -> None:
    """Retention and destruction lists are for managers and the FG."""
    if not user.role_keys & RETENTION_ROLES:
        raise PermissionDenied("Alleen managers en de privacyfunctionaris zien de bewaartermijnen.")
