"""Extending the deadline of an open task: moving the boundary timer that guards it, logged with a reason.

A task's deadline is the moment of a clocked timer attached to it, or to an enclosing step around it (a sub-process,
a called process, a multi-instance or loop activity): the same timers the inbox projection reads for `due_at`
(engine.projection). Extending moves every such timer that would fall before the new moment, so the task's deadline
becomes exactly that moment. A timer that still waits fires at the new moment instead of the old one. A
non-interrupting timer that already fired (the escalation is under way) keeps what it started; extending then
moves the deadline the task shows, and no second escalation follows.

A legal deadline (a timer with the property `wettelijke_termijn`, engine.suspension) moves its data fields with it
(`deadline`, `uiterste_datum`: they take the new moment, or its date), and its timer property `verlenging_max` (an ISO
duration, `P2M` for art. 12 lid 3 AVG) bounds the total extension of the case's legal deadline: every extension of
a legal deadline counts (the audit log keeps them), a pause does not (it moves the deadline, not the term).

Who may: coordinators and managers, and the procesregisseur who works on the case (the procesregisseur directs the
process and "komt tot vooruitgang als het proces stagneert"). A task whose case the actor may not see is
`NotFound`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import may_view
from engine.assignment import open_task, record_task_event
from engine.dates import local_moment
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.holidays import LOCAL, legal_term_end_moment
from engine.i18n import N_, translated
from engine.inbox import COORDINATOR_ROLES
from engine.instance import ACTIVE_STATUSES, WorkflowInstance
from engine.models import NO_DEADLINE, AuditEvent, HumanTask, Instance, User
from engine.projection import deadline_timers, task_due_at, timer_moment
from engine.runtime import Runtime
from engine.spiff import LEGAL_DEADLINE, SUSPENDED_SINCE, is_legal_deadline, timer_due

#: Timer property: the most a legal deadline may be extended in total (ISO duration, `P2M`).
EXTENSION_MAX = "verlenging_max"

#: Who directs a case's process and so may move its deadlines (when they work on the case).
DIRECTING_ROLES = frozenset({"procesregisseur"})

_NO_ACCESS = N_("Deze taak bestaat niet of u heeft er geen toegang toe.")
_NOT_ALLOWED = N_("Alleen een coördinator, een manager of de procesregisseur van de zaak kan een termijn verlengen.")
_NO_DEADLINE = N_("Deze taak heeft geen termijn; er is niets te verlengen.")
_NO_MOMENT = N_("Vul een geldige datum en tijd in.")
_IN_THE_PAST = N_("Kies een moment in de toekomst.")
_NOT_LATER = N_("Kies een moment na de huidige termijn (%(moment)s).")
_BEYOND_MAX = N_(
    "Deze wettelijke termijn mag in totaal ten hoogste %(maximum)s worden verlengd: kies uiterlijk %(moment)s."
)
_PAUSED = N_("De wettelijke termijn van deze zaak is opgeschort; hervat hem eerst.")
_UNITS = {
    "Y": (N_("%(n)s jaar"), N_("%(n)s jaar")),
    "M": (N_("%(n)s maand"), N_("%(n)s maanden")),
    "W": (N_("%(n)s week"), N_("%(n)s weken")),
    "D": (N_("%(n)s dag"), N_("%(n)s dagen")),
}
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Deadline:
    """An open task and its deadline, as the page to extend it shows them."""

    task: HumanTask
    instance: Instance
    due_at: datetime | None
    #: the timer already fired: the escalation it started goes on, the task shows the new deadline
    fired: bool


def may_extend(session: Session, user: User, instance_id: int, *, at: datetime) -> bool:
    """Whether `user` may extend the deadlines of this case's open tasks: a coordinator or manager who sees the
    case, or a procesregisseur who works on it (not one who only sees it through the team view)."""
    if user.role_keys & COORDINATOR_ROLES and may_view(session, user, instance_id, at=at):
        return True
    return bool(user.role_keys & DIRECTING_ROLES) and may_view(session, user, instance_id, at=at, team=False)


def _visible_task(session: Session, task_id: str, actor: User, at: datetime) -> HumanTask:
    """The open task, or `NotFound` when it does not exist or its case is not the actor's to see (`Conflict` when
    it was completed in a case they see)."""
    task = session.get(HumanTask, task_id)
    if task is None:
        done = session.scalar(
            select(AuditEvent.instance_id).where(AuditEvent.task_id == task_id, AuditEvent.action == "complete")
        )
        if done is not None and may_view(session, actor, done, at=at):
            open_task(session, task_id)  # says who completed it, and when
        raise NotFound(_NO_ACCESS)
    if not may_view(session, actor, task.instance_id, at=at):
        raise NotFound(_NO_ACCESS)
    if not may_extend(session, actor, task.instance_id, at=at):
        raise PermissionDenied(_NOT_ALLOWED)
    return task


def _moment(timer: Any) -> datetime:
    moment = timer_moment(timer)
    assert moment is not None  # deadline_timers keeps only timers with a moment
    return moment


def _move(timer: Any, until: datetime) -> None:
    """Set the timer's stored moment to `until` (a date string, or a cycle's next moment)."""
    value = timer._get_internal_data("event_value")
    moment = until.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        timer._set_internal_data(event_value={**value, "next": moment})
    else:
        timer._set_internal_data(event_value=moment)


def deadline(session: Session, runtime: Runtime, *, task_id: str, actor: User, at: datetime) -> Deadline:
    """The open task and its current deadline, for someone who may extend it (`NotFound`, `PermissionDenied`)."""
    task = _visible_task(session, task_id, actor, at)
    instance = runtime.load(session, task.instance_id)
    spiff_task = instance.find_task(task_id)
    timers = deadline_timers(spiff_task) if spiff_task is not None else []
    due = min((_moment(t) for t in timers), default=None)
    fired = any(t.state == TaskState.COMPLETED and _moment(t) == due for t in timers)
    return Deadline(task=task, instance=instance.row, due_at=due, fired=fired)


def extend_deadline(
    session: Session,
    runtime: Runtime,
    *,
    task_id: str,
    actor: User,
    until: datetime | None,
    reason: str,
    at: datetime,
) -> Deadline:
    """Move the deadline of an open task to `until` (later than now and than the current deadline), with a reason.

    The timers, the task's inbox row (due_at), the case's next timer moment and its lock version change in the
    caller's transaction, with an audit event `extend` (old and new moment, reason); a refusal changes nothing.
    """
    task = _visible_task(session, task_id, actor, at)
    fields: dict[str, list[str]] = {}
    try:
        reason = required_text(reason, field="reason", message="Geef een reden.")
    except InvalidInput as refused:
        fields |= refused.fields
    instance = runtime.load(session, task.instance_id, for_update=True)
    if instance.row.status not in ACTIVE_STATUSES:
        raise Conflict("Deze zaak loopt niet meer; de termijn kan niet worden verlengd.")
    spiff_task = instance.find_task(task_id)
    if spiff_task is None or spiff_task.state != TaskState.READY:
        raise Conflict("Deze taak is intussen afgerond; er is niets verlengd.")
    timers = deadline_timers(spiff_task)
    if not timers:
        raise InvalidInput("Deze taak heeft geen termijn; er is niets te verlengen.", {"until": [_NO_DEADLINE]})
    previous = min(_moment(t) for t in timers)
    if until is None:
        fields["until"] = [_NO_MOMENT]
    elif until <= at:
        fields["until"] = [_IN_THE_PAST]
    elif until <= previous:
        fields["until"] = [translated(_NOT_LATER, moment=local_moment(previous))]
    if fields or until is None:
        raise InvalidInput("De termijn is niet verlengd.", fields)
    legal = [t for t in timers if is_legal_deadline(t.task_spec)]
    if legal and instance.workflow.data.get(SUSPENDED_SINCE) is not None:
        raise InvalidInput(_PAUSED, {"until": [_PAUSED]})
    if legal and (beyond := _beyond_maximum(session, instance, legal, previous, until)):
        raise InvalidInput("De termijn is niet verlengd.", {"until": [beyond]})
    for timer in timers:
        if _moment(timer) < until:
            _move(timer, until)
    _move_fields(instance, legal, until)
    runtime.save(session, instance, actor=actor, failure=None, progressed=False)
    refresh_due_dates(session, instance)
    details: dict[str, Any] = {"from": previous.isoformat(), "to": until.isoformat(), "reason": reason}
    if legal:
        details["legal"] = True
    summary = f"Extended the deadline of '{task.name}' from {previous.isoformat()} to {until.isoformat()}: {reason}"
    record_task_event(session, actor, "extend", task, summary, at=at, details=details)
    session.flush()
    return Deadline(task=task, instance=instance.row, due_at=until, fired=False)


def refresh_due_dates(session: Session, instance: WorkflowInstance) -> None:
    """Give the inbox rows of tasks that stayed open their current deadline (the projection writes new rows only)."""
    for ready in instance.ready_human_tasks:
        row = session.get(HumanTask, str(ready.id))
        if row is not None and row.due_at != (due := task_due_at(ready)):
            row.due_at, row.due_sort = due, due or NO_DEADLINE


def duration_label(value: str) -> str:
    """An ISO duration as people read it (`P2M` → "2 maanden"), in the current language; else as it is."""
    match = _DURATION.match(value.strip().upper())
    if match is None or not any(match.groups()):
        return value
    parts = [
        translated(_UNITS[unit][0 if int(number) == 1 else 1], n=int(number))
        for unit, number in zip("YMWD", match.groups(), strict=True)
        if number
    ]
    return " ".join(parts)


def _extended_so_far(session: Session, instance_id: int) -> timedelta:
    """How far the case's legal deadline was extended before (the audit log's legal extensions)."""
    total = timedelta()
    events = session.scalars(
        select(AuditEvent.details).where(AuditEvent.instance_id == instance_id, AuditEvent.action == "extend")
    )
    for details in events:
        if details and details.get("legal"):
            total += datetime.fromisoformat(details["to"]) - datetime.fromisoformat(details["from"])
    return total


def _beyond_maximum(
    session: Session, instance: WorkflowInstance, legal: list[Any], previous: datetime, until: datetime
) -> str | None:
    """Why extending the legal deadline to `until` is refused (beyond `verlenging_max`), or None."""
    maxima = [str(p[EXTENSION_MAX]) for t in legal if EXTENSION_MAX in (p := t.task_spec.extensions["properties"])]
    if not maxima:
        return None  # the process sets no maximum
    maximum = min(maxima, key=lambda m: timer_due(m, previous) - previous)
    base = previous - _extended_so_far(session, instance.row.id)
    latest = legal_term_end_moment(timer_due(maximum, base.astimezone(LOCAL))).astimezone(UTC)
    if until <= latest:
        return None
    return translated(_BEYOND_MAX, maximum=duration_label(maximum), moment=local_moment(latest))


def _move_fields(instance: WorkflowInstance, legal: list[Any], until: datetime) -> None:
    """The data fields the legal-deadline timers name take the new moment (a date field: its Dutch date)."""
    from engine.suspension import move_data_fields  # suspension builds on this module

    names: list[str] = []
    for timer in legal:
        value = str(timer.task_spec.extensions["properties"][LEGAL_DEADLINE])
        names += [n.strip() for n in value.split(",") if n.strip() and n.strip().lower() != "ja"]

    def moved(value: object) -> object:
        if not isinstance(value, str):
            return value
        if len(value) == 10:
            return until.astimezone(LOCAL).date().isoformat()
        try:
            current = datetime.fromisoformat(value)
        except ValueError:
            return value
        if current.tzinfo is None:
            return until.astimezone(LOCAL).replace(tzinfo=None).isoformat()
        return until.astimezone(current.tzinfo).isoformat()

    move_data_fields(instance, list(dict.fromkeys(names)), moved)
