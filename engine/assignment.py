"""Who works on an open task: whose queue it is in, and claiming, releasing and reassigning it (all logged).

`Runtime` offers these with its clock (`claim_task`, `unclaim_task`, `reassign_task`); completing a task stays in
the runtime, which asks here whether the actor may.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.access import take_part
from engine.audit import record
from engine.dates import local_moment
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.i18n import N_, translated
from engine.inbox import COORDINATOR_ROLES, InboxRow, role_label, role_names, task_row
from engine.models import AuditEvent, HumanTask, User, task_audience
from engine.privacy.organisations import role_queues
from engine.substitutions import active_substitution, cover_access, cover_details, may_take_over

#: Why a colleague cannot be given a task (shown at the field where they were chosen).
_LACKS_ROLE = N_("%(naam)s heeft niet de rol %(rol)s die de taak ‘%(taak)s’ vraagt. Kies een collega met die rol.")
_AWAY = N_("%(naam)s is afwezig en vervanger %(vervanger)s heeft niet de rol %(rol)s voor de taak ‘%(taak)s’.")
_INACTIVE = N_("%(naam)s werkt hier niet meer en kan de taak ‘%(taak)s’ niet aannemen.")

_OPEN_TASK = select(HumanTask).where(HumanTask.id == bindparam("task_id"))
_CLAIM = (
    update(HumanTask)
    .where(HumanTask.id == bindparam("task_id"), HumanTask.assignee_id.is_(None))
    .values(assignee_id=bindparam("user_id"), audience=bindparam("audience"))
    .execution_options(synchronize_session=False)
)


def open_task(session: Session, task_id: str) -> HumanTask:
    """The open task, or `Conflict` when it was completed already, or `NotFound`."""
    task = session.scalar(_OPEN_TASK, {"task_id": task_id})
    if task is not None:
        return task
    completed = session.scalar(
        select(AuditEvent).where(AuditEvent.task_id == task_id, AuditEvent.action == "complete").limit(1)
    )
    if completed is not None:
        raise Conflict(
            "Deze taak is al afgerond door %(naam)s op %(moment)s.",
            naam=session.scalar(select(User.display_name).where(User.username == completed.actor)) or completed.actor,
            moment=local_moment(completed.at),
        )
    raise NotFound("Deze taak bestaat niet (meer) of staat niet meer open.")


def eligible(actor: User, task: HumanTask) -> bool:
    """Whether the task's queue is one of `actor`'s: their role, in the gemeente or organisation it is for."""
    return task.queue in role_queues(actor) if task.queue is not None else task.owner_id == actor.id


def may_work_on(actor: User, task: HumanTask) -> bool:
    """True when `actor` may claim or complete `task`: its role, its owner (lane-less task) or its assignee."""
    if task.assignee_id is not None:
        return task.assignee_id == actor.id
    return eligible(actor, task)


def holder_name(session: Session, task: HumanTask) -> str:
    """Who holds a claimed task, as colleagues know them."""
    holder = session.get(User, task.assignee_id) if task.assignee_id else None
    return holder.display_name if holder else "een collega"


def record_task_event(
    session: Session,
    actor: User,
    action: str,
    task: HumanTask,
    summary: str,
    *,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Log something done to a task (claim, release, reassign, complete)."""
    record(
        session,
        actor=actor.username,
        action=action,
        at=at,
        instance_id=task.instance_id,
        task_id=task.id,
        element_id=task.element_id,
        summary=summary,
        details=details,
    )


def claim_task(session: Session, *, task_id: str, actor: User, at: datetime) -> InboxRow:
    """Take an open task so colleagues see it is being handled."""
    task = open_task(session, task_id)
    if not eligible(actor, task):
        raise PermissionDenied("U heeft niet de rol die deze taak vraagt.")
    if task.assignee_id == actor.id:
        return task_row(session, task_id)
    audience = task_audience(assignee_id=actor.id, role=None, owner_id=None)
    claimed = session.execute(_CLAIM, {"task_id": task_id, "user_id": actor.id, "audience": audience})
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(task)
        raise Conflict("Deze taak is al opgepakt door %(naam)s.", naam=holder_name(session, task))
    # No participation yet: the task in their inbox lets them see the case; only completing it (work done)
    # makes them a participant, so claiming and releasing leaves no access behind.
    record_task_event(session, actor, "claim", task, f"Claimed '{task.name}'", at=at)
    return task_row(session, task_id)


def unclaim_task(session: Session, *, task_id: str, actor: User, at: datetime) -> InboxRow:
    """Give a claimed task back to the role's shared queue."""
    task = open_task(session, task_id)
    if task.assignee_id is None:
        return task_row(session, task_id)
    if task.assignee_id != actor.id and not (actor.role_keys & COORDINATOR_ROLES):
        raise PermissionDenied("Alleen wie de taak heeft of een coördinator kan deze taak teruggeven.")
    task.assign(None)
    record_task_event(session, actor, "unclaim", task, f"Released '{task.name}'", at=at)
    session.flush()
    return task_row(session, task_id)


def reassign_task(
    session: Session, *, task_id: str, actor: User, assignee: User, reason: str, at: datetime
) -> InboxRow:
    """(Coordinator) hand a task to a colleague who holds its role; the reason goes to the audit log."""
    if not (actor.role_keys & COORDINATOR_ROLES):
        raise PermissionDenied("Alleen een coördinator of manager kan taken toewijzen.")
    reason = required_text(reason, field="reason", message="Geef een reden.")
    task = open_task(session, task_id)
    names = {"naam": assignee.display_name, "taak": task.name}
    if not assignee.active:
        raise InvalidInput(
            "%(naam)s kan deze taak niet aannemen.",
            {"assignee": [translated(_INACTIVE, **names)]},
            naam=assignee.display_name,
        )
    if not eligible(assignee, task):
        role = role_label(task.role, role_names(session))
        raise InvalidInput(
            "%(naam)s kan deze taak niet aannemen.",
            {"assignee": [translated(_LACKS_ROLE, rol=role, **names)]},
            naam=assignee.display_name,
        )
    cover = active_substitution(session, user_id=assignee.id, at=at)
    if cover is not None and not may_take_over(cover, task.queue):
        role = role_label(task.role, role_names(session))
        raise InvalidInput(
            "%(naam)s is afwezig en de vervanger kan deze taak niet aannemen.",
            {"assignee": [translated(_AWAY, vervanger=cover.substitute.display_name, rol=role, **names)]},
            naam=assignee.display_name,
        )
    previous = task.assignee_id
    receiver = cover.substitute if cover is not None else assignee
    task.assign(receiver.id)
    details = {"from_user_id": previous, "to": receiver.username, "reason": reason}
    if cover is not None:
        cover_access(session, cover, instance_id=task.instance_id, at=at)
        details |= cover_details(cover)
    else:
        take_part(session, instance_id=task.instance_id, user_id=receiver.id, reason="assigned", at=at)
    covering = f" (covering for {assignee.username})" if cover is not None else ""
    summary = f"Reassigned '{task.name}' to {receiver.username}{covering}: {reason}"
    record_task_event(session, actor, "reassign", task, summary, at=at, details=details)
    session.flush()
    return task_row(session, task_id)
