"""Pausing (opschorting) and resuming a case's legal deadlines, with a reason, audited and on the timeline.

A process marks a timer as a legal deadline with the timer property `wettelijke_termijn` (engine.spiff
`LEGAL_DEADLINE`); its value names the data fields that hold the deadline (`deadline, uiterste_datum`) or is `ja`.
While a case is paused, the top workflow's data holds `SUSPENDED_SINCE` and no legal-deadline timer fires, also one
that starts waiting during the pause; every other timer runs on. Resuming moves every waiting legal-deadline timer
and the named data fields forward by the paused time, counted in whole days (rounded up, added in Dutch local time,
so a deadline at the end of a day stays at the end of a day; Awb 4:15 counts days), then off a Saturday, Sunday or
holiday (Algemene termijnenwet). A timer that started waiting during the pause had its term start at the pause: a
duration timer counts again from the resume, a date timer moves with its data field. Nothing fires at the resume
itself: every moved moment lies after it.

Who may: coordinators and managers who see the case, the procesregisseur who works on it, and the holders of a role
whose lane holds a legal-deadline timer of the process (the privacyfunctionaris for an inzageverzoek) who take part
in the case (need-to-know). A case the actor may not see is `NotFound`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import may_view
from engine.audit import record
from engine.dates import local_moment
from engine.deadlines import DIRECTING_ROLES, refresh_due_dates
from engine.errors import Conflict, NotFound, PermissionDenied
from engine.forms import required_text
from engine.holidays import LOCAL, legal_term_end, legal_term_end_moment
from engine.i18n import N_
from engine.inbox import COORDINATOR_ROLES
from engine.instance import ACTIVE_STATUSES, WorkflowInstance
from engine.models import DeadlinePause, Instance, User
from engine.projection import timer_moment
from engine.registry import LoadedVersion, load_version
from engine.runtime import Runtime
from engine.spiff import LEGAL_DEADLINE, SUSPENDED_SINCE, is_clocked_timer, is_legal_deadline, role_key, timer_due

#: Internal data on a legal-deadline timer that was already waiting when the pause began (its whole term ran).
PAUSED_MARK = "zvh_opgeschort"

_NO_ACCESS = N_("Deze zaak bestaat niet of u heeft er geen toegang toe.")
_NOT_ALLOWED = N_(
    "Alleen een coördinator, een manager, de procesregisseur of de behandelaar van de wettelijke termijn kan de "
    "termijn opschorten of hervatten."
)
_NO_LEGAL_DEADLINE = N_("Dit proces heeft geen wettelijke termijn; er is niets op te schorten.")
_NOT_RUNNING = N_("Deze zaak loopt niet meer; de wettelijke termijn kan niet worden opgeschort of hervat.")
_ALREADY_PAUSED = N_("De wettelijke termijn van deze zaak is al opgeschort sinds %(moment)s.")
_NOT_PAUSED = N_("De wettelijke termijn van deze zaak is niet opgeschort; er is niets te hervatten.")


@dataclass(frozen=True)
class PauseState:
    """An open pause of a case's legal deadlines, as pages show it."""

    instance_id: int
    since: datetime
    reason: str
    started_by: str


def open_pause(session: Session, instance_id: int) -> DeadlinePause | None:
    """The case's open pause, if its legal deadlines are paused now."""
    return session.scalar(
        select(DeadlinePause).where(DeadlinePause.instance_id == instance_id, DeadlinePause.ended_at.is_(None))
    )


def open_pauses(session: Session, instance_ids: Iterable[int] | None = None) -> dict[int, PauseState]:
    """The open pauses by instance (of `instance_ids`, or of every case), with who started them: one query."""
    query = (
        select(DeadlinePause, User.display_name, User.username)
        .join(User, User.id == DeadlinePause.started_by_id)
        .where(DeadlinePause.ended_at.is_(None))
    )
    if instance_ids is not None:
        ids = sorted(set(instance_ids))
        if not ids:
            return {}
        query = query.where(DeadlinePause.instance_id.in_(ids))
    return {
        pause.instance_id: PauseState(pause.instance_id, pause.started_at, pause.reason, display_name or username)
        for pause, display_name, username in session.execute(query)
    }


def _guarded_lane(timer_spec: Any) -> str | None:
    """The lane of the step a legal-deadline timer guards (a boundary event's own lane, else its activity's)."""
    if timer_spec.lane:
        return str(timer_spec.lane)
    for split in timer_spec.inputs:  # a boundary event hangs off its activity's BoundaryEventSplit
        for output in split.outputs:
            if output is not timer_spec and not is_clocked_timer(output) and getattr(output, "lane", None):
                return str(output.lane)
    return None


def legal_deadline_roles(version: LoadedVersion) -> frozenset[str]:
    """The roles of the lanes whose steps a legal-deadline timer guards in this process (who handle the term)."""
    roles = set()
    for spec in [version.spec, *version.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if is_clocked_timer(task_spec) and is_legal_deadline(task_spec):
                role = role_key(_guarded_lane(task_spec))
                if role is not None:
                    roles.add(role)
    return frozenset(roles)


def has_legal_deadlines(version: LoadedVersion) -> bool:
    """Whether the process marks any timer as a legal deadline."""
    return any(
        is_clocked_timer(task_spec) and is_legal_deadline(task_spec)
        for spec in [version.spec, *version.subprocess_specs.values()]
        for task_spec in spec.task_specs.values()
    )


def may_suspend(session: Session, user: User, instance_id: int, *, at: datetime) -> bool:
    """Whether `user` may pause and resume this case's legal deadlines (see the module docstring)."""
    row = session.get(Instance, instance_id)
    if row is None or not has_legal_deadlines(load_version(row.process_version)):
        return False
    if user.role_keys & COORDINATOR_ROLES and may_view(session, user, instance_id, at=at):
        return True
    handlers = DIRECTING_ROLES | legal_deadline_roles(load_version(row.process_version))
    return bool(user.role_keys & handlers) and may_view(session, user, instance_id, at=at, team=False)


def authorize(session: Session, actor: User, instance_id: int, at: datetime) -> Instance:
    """The case, for someone who may pause its legal deadlines (`NotFound`, `PermissionDenied`)."""
    row = session.get(Instance, instance_id)
    if session.get(Instance, instance_id) is None or not may_view(session, actor, instance_id, at=at):
        raise NotFound(_NO_ACCESS)
    if row is None or not may_suspend(session, actor, instance_id, at=at):
        raise PermissionDenied(_NOT_ALLOWED)
    return row


def _reason(reason: str) -> str:
    return required_text(reason, field="reason", message="Geef een reden.")


def _load(session: Session, runtime: Runtime, instance_id: int) -> WorkflowInstance:
    instance = runtime.load(session, instance_id, for_update=True)
    if instance.row.status not in ACTIVE_STATUSES:
        raise Conflict(_NOT_RUNNING)
    if not has_legal_deadlines(instance.version):
        raise Conflict(_NO_LEGAL_DEADLINE)
    return instance


def _workflows(instance: WorkflowInstance) -> list[Any]:
    return [instance.workflow, *instance.workflow.subprocesses.values()]


def legal_timers(instance: WorkflowInstance) -> Iterator[Any]:
    """The case's waiting legal-deadline timers."""
    for workflow in _workflows(instance):
        for task in workflow.get_tasks(state=TaskState.WAITING):
            if is_clocked_timer(task.task_spec) and is_legal_deadline(task.task_spec):
                yield task


def suspend_deadlines(
    session: Session, runtime: Runtime, *, instance_id: int, actor: User, reason: str, at: datetime
) -> DeadlinePause:
    """Pause the case's legal deadlines with a reason (audited `suspend`); a refusal changes nothing."""
    authorize(session, actor, instance_id, at)
    reason = _reason(reason)
    instance = _load(session, runtime, instance_id)
    current = open_pause(session, instance_id)
    if current is not None:
        raise Conflict(_ALREADY_PAUSED, moment=local_moment(current.started_at))
    instance.workflow.data[SUSPENDED_SINCE] = at.astimezone(UTC).isoformat()
    for timer in legal_timers(instance):
        timer._set_internal_data(**{PAUSED_MARK: True})
    runtime.save(session, instance, actor=actor, failure=None, progressed=False)
    pause = DeadlinePause(instance_id=instance_id, started_at=at, started_by_id=actor.id, reason=reason)
    session.add(pause)
    record(
        session,
        actor=actor.username,
        action="suspend",
        at=at,
        instance_id=instance_id,
        process_version_id=instance.row.process_version_id,
        summary=f"Paused the legal deadlines: {reason}",
        details={"reason": reason, "since": at.isoformat()},
    )
    session.flush()
    return pause


def paused_days(since: datetime, until: datetime) -> int:
    """The paused time in whole days, rounded up (a pause of an hour costs the term a day, none costs nothing)."""
    return max(0, math.ceil((until - since) / timedelta(days=1)))


def shift_moment(moment: datetime, days: int) -> datetime:
    """`moment` moved `days` forward in Dutch local time (same time of day), then off a day that ends no legal term."""
    local = moment.astimezone(LOCAL)
    wall = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=LOCAL)
    return legal_term_end_moment(wall).astimezone(moment.tzinfo)


def shift_value(value: object, days: int) -> object:
    """A data field's deadline (an ISO date or date-time string) moved `days` forward; anything else unchanged."""
    if not isinstance(value, str) or days <= 0:
        return value
    try:
        if len(value) == 10:
            return legal_term_end(date.fromisoformat(value) + timedelta(days=days)).isoformat()
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return shift_moment(moment.replace(tzinfo=LOCAL), days).replace(tzinfo=None).isoformat()
    return shift_moment(moment, days).isoformat()


def deadline_fields(instance: WorkflowInstance) -> list[str]:
    """The data fields the process's legal-deadline timers name (they move with the deadline)."""
    names: list[str] = []
    for spec in [instance.version.spec, *instance.version.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if is_clocked_timer(task_spec) and is_legal_deadline(task_spec):
                value = str(task_spec.extensions["properties"][LEGAL_DEADLINE])
                names += [n.strip() for n in value.split(",") if n.strip() and n.strip().lower() != "ja"]
    return list(dict.fromkeys(names))


def move_data_fields(instance: WorkflowInstance, fields: list[str], move: Any) -> None:
    """Apply `move` to the named fields in the workflows' data and in the data of every task not yet finished."""
    if not fields:
        return
    seen: set[int] = set()
    dicts = [w.data for w in _workflows(instance)]
    for workflow in _workflows(instance):
        dicts += [t.data for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
    for data in dicts:
        if id(data) in seen:
            continue
        seen.add(id(data))
        for name in fields:
            if name in data:
                data[name] = move(data[name])


def _set_moment(timer: Any, moment: datetime) -> None:
    value = timer._get_internal_data("event_value")
    if isinstance(value, dict):
        timer._set_internal_data(event_value={**value, "next": moment.astimezone(UTC).isoformat()})
    else:
        timer._set_internal_data(event_value=moment.astimezone(UTC).isoformat())


def resume_deadlines(
    session: Session, runtime: Runtime, *, instance_id: int, actor: User, reason: str, at: datetime
) -> DeadlinePause:
    """Resume the case's legal deadlines, moved by the paused time (audited `resume`); a refusal changes nothing."""
    authorize(session, actor, instance_id, at)
    reason = _reason(reason)
    instance = _load(session, runtime, instance_id)
    pause = open_pause(session, instance_id)
    since_text = instance.workflow.data.get(SUSPENDED_SINCE)
    if pause is None or since_text is None:
        raise Conflict(_NOT_PAUSED)
    since = datetime.fromisoformat(str(since_text))
    days = paused_days(since, at)
    moved: list[dict[str, str]] = []
    for timer in legal_timers(instance):
        before = timer_moment(timer)
        if before is None:
            continue
        if timer._get_internal_data(PAUSED_MARK) or not _is_duration(timer):
            after = shift_moment(before, days)
        else:  # a duration that started waiting during the pause: its term starts now
            expression = str(timer.workflow.script_engine.evaluate(timer, timer.task_spec.event_definition.expression))
            after = legal_term_end_moment(timer_due(expression, at.astimezone(LOCAL))).astimezone(UTC)
        after = max(after, before)
        _set_moment(timer, after)
        timer.internal_data.pop(PAUSED_MARK, None)
        moved.append({"timer": timer.task_spec.bpmn_id, "from": before.isoformat(), "to": after.isoformat()})
    move_data_fields(instance, deadline_fields(instance), lambda value: shift_value(value, days))
    del instance.workflow.data[SUSPENDED_SINCE]
    runtime.save(session, instance, actor=actor, failure=None, progressed=False)
    refresh_due_dates(session, instance)
    pause.ended_at, pause.ended_by_id = at, actor.id
    details = {"reason": reason, "since": since.isoformat(), "days": days, "timers": moved}
    record(
        session,
        actor=actor.username,
        action="resume",
        at=at,
        instance_id=instance_id,
        process_version_id=instance.row.process_version_id,
        summary=f"Resumed the legal deadlines after {days} day(s): {reason}",
        details=details,
    )
    session.flush()
    return pause


def _is_duration(timer: Any) -> bool:
    return type(timer.task_spec.event_definition).__name__ == "ClockedDuration"
