"""Vervanging (absence cover): while someone is away, their new work goes to a substitute.

A substitution names who is absent, who covers, and for which period. While it runs, a task assigned to the absent
person (by a coordinator, or a lane-less task of a case they started) lands with the substitute instead, and tasks
already on their name can be moved in bulk. The substitute gets need-to-know for exactly those cases and only until
the period ends (a participant row that expires); every grant and every move is in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from engine.access import take_part
from engine.audit import record
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.inbox import COORDINATOR_ROLES
from engine.models import AuditEvent, HumanTask, Participant, Substitution, User
from engine.privacy.organisations import role_queues

#: The participant reason of a substitute's (expiring) need-to-know.
COVER_REASON = "vervanging"
#: Audit actions that hand a task to a substitute (and so grant access to its case).
COVER_ACTIONS = ("substitute", "reassign")
MAX_REASON = 500

# Runs on the hot path (a save that opens a lane-less task): built once, one range of the absent-period index.
_ACTIVE_COVER = (
    select(Substitution)
    .where(
        Substitution.absent_id == bindparam("user_id"),
        Substitution.starts_at <= bindparam("at"),
        Substitution.ends_at > bindparam("at"),
        Substitution.withdrawn_at.is_(None),
    )
    .order_by(Substitution.starts_at.desc())
    .limit(1)
)


def active_substitution(session: Session, *, user_id: int, at: datetime) -> Substitution | None:
    """The cover that runs for `user_id` at `at`, if any (a deactivated substitute covers no one)."""
    cover = session.scalar(_ACTIVE_COVER, {"user_id": user_id, "at": at})
    return cover if cover is not None and cover.substitute.active else None


def active_substitute(session: Session, *, user_id: int, at: datetime) -> User | None:
    """Who covers for `user_id` at `at`, if anyone."""
    cover = active_substitution(session, user_id=user_id, at=at)
    return cover.substitute if cover is not None else None


def may_take_over(cover: Substitution, queue: str | None) -> bool:
    """Whether the substitute may do a task of this (scoped) role queue (a lane-less task goes with the person)."""
    return queue is None or queue in role_queues(cover.substitute)


def cover_access(session: Session, cover: Substitution, *, instance_id: int, at: datetime) -> None:
    """Give the substitute need-to-know for one case, until the cover ends."""
    take_part(
        session,
        instance_id=instance_id,
        user_id=cover.substitute_id,
        reason=COVER_REASON,
        at=at,
        expires_at=cover.ends_at,
    )


def cover_details(cover: Substitution) -> dict[str, Any]:
    """What an audit event of a task handed to a substitute records about the cover."""
    return {
        "substitution_id": cover.id,
        "covering_for": cover.absent.username,
        "to": cover.substitute.username,
        "access_until": cover.ends_at.isoformat(),
    }


def may_manage(user: User, substitution: Substitution) -> bool:
    """The absent person, whoever set the cover, and coordinators may withdraw it and move tasks."""
    return user.id in (substitution.absent_id, substitution.created_by_id) or bool(user.role_keys & COORDINATOR_ROLES)


def set_substitution(
    session: Session,
    *,
    actor: User,
    absent: User,
    substitute: User | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    reason: str,
    at: datetime,
) -> Substitution:
    """Let `substitute` cover for `absent` from `starts_at` to `ends_at` (a start in the past starts now)."""
    if actor.id != absent.id and not (actor.role_keys & COORDINATOR_ROLES):
        raise PermissionDenied("Alleen een coördinator of manager regelt vervanging voor een collega.")
    reason = reason.strip()
    fields = _substitute_problems(absent, substitute) | _period_problems(starts_at, ends_at, at)
    if not reason:
        fields["reason"] = ["Geef de reden van de afwezigheid."]
    elif len(reason) > MAX_REASON:
        fields["reason"] = [f"Gebruik hoogstens {MAX_REASON} tekens."]
    if starts_at is not None and ends_at is not None and not fields.keys() & {"starts_at", "ends_at"}:
        starts_at = max(starts_at, at)
        if (overlapping := _overlapping(session, absent, starts_at, ends_at)) is not None:
            fields["starts_at"] = [
                f"Voor {absent.display_name} is in (een deel van) deze periode al vervanging geregeld "
                f"door {overlapping.substitute.display_name}."
            ]
    if fields or substitute is None or starts_at is None or ends_at is None:
        raise InvalidInput("De vervanging is niet opgeslagen.", fields)
    substitution = Substitution(
        absent_id=absent.id,
        substitute_id=substitute.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by_id=actor.id,
        created_at=at,
    )
    session.add(substitution)
    session.flush()
    record(
        session,
        actor=actor.username,
        action="substitution_set",
        at=at,
        summary=f"{substitute.username} covers for {absent.username} from {starts_at:%Y-%m-%d %H:%M} "
        f"to {ends_at:%Y-%m-%d %H:%M} UTC: {reason}",
        details=_details(substitution, reason),
    )
    return substitution


def _substitute_problems(absent: User, substitute: User | None) -> dict[str, list[str]]:
    if substitute is None:
        return {"substitute": ["Kies een vervanger."]}
    if substitute.id == absent.id:
        return {"substitute": ["Kies een andere collega dan wie afwezig is."]}
    if not substitute.active:
        return {"substitute": [f"{substitute.display_name} is niet meer actief."]}
    if absent.role_keys and not (absent.role_keys & substitute.role_keys):
        return {"substitute": [f"{substitute.display_name} heeft geen van de rollen van {absent.display_name}."]}
    return {}


def _period_problems(starts_at: datetime | None, ends_at: datetime | None, at: datetime) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if starts_at is None:
        fields["starts_at"] = ["Vul een geldige begindatum en -tijd in."]
    if ends_at is None:
        fields["ends_at"] = ["Vul een geldige einddatum en -tijd in."]
    elif starts_at is not None and ends_at <= starts_at:
        fields["ends_at"] = ["Het einde moet na het begin liggen."]
    elif ends_at <= at:
        fields["ends_at"] = ["Het einde ligt in het verleden."]
    return fields


def _overlapping(session: Session, absent: User, starts_at: datetime, ends_at: datetime) -> Substitution | None:
    return session.scalar(
        select(Substitution)
        .where(
            Substitution.absent_id == absent.id,
            Substitution.withdrawn_at.is_(None),
            Substitution.starts_at < ends_at,
            Substitution.ends_at > starts_at,
        )
        .limit(1)
    )


def _details(substitution: Substitution, reason: str) -> dict[str, Any]:
    return {
        "substitution_id": substitution.id,
        "absent": substitution.absent.username,
        "substitute": substitution.substitute.username,
        "starts_at": substitution.starts_at.isoformat(),
        "ends_at": substitution.ends_at.isoformat(),
        "reason": reason,
    }


def _running_or_planned(session: Session, *, actor: User, substitution_id: int, at: datetime) -> Substitution:
    """A substitution `actor` may manage that has not been withdrawn and has not ended."""
    substitution = session.get(Substitution, substitution_id)
    if substitution is None:
        raise NotFound("Deze vervanging bestaat niet.")
    if not may_manage(actor, substitution):
        raise PermissionDenied("Alleen wie afwezig is, wie de vervanging regelde of een coördinator kan dit doen.")
    if substitution.withdrawn_at is not None or substitution.ends_at <= at:
        raise Conflict("Deze vervanging is ingetrokken of afgelopen.")
    return substitution


def withdraw_substitution(session: Session, *, actor: User, substitution_id: int, at: datetime) -> Substitution:
    """End a cover now (or cancel a planned one); the access it gave to the substitute ends with it."""
    substitution = _running_or_planned(session, actor=actor, substitution_id=substitution_id, at=at)
    substitution.withdrawn_at = at
    granted = select(AuditEvent.instance_id).where(
        AuditEvent.action.in_(COVER_ACTIONS),
        AuditEvent.details["substitution_id"].as_integer() == substitution.id,
    )
    # Access that a later cover extended (a later end) is that cover's, and stays.
    session.execute(
        update(Participant)
        .where(
            Participant.user_id == substitution.substitute_id,
            Participant.reason == COVER_REASON,
            Participant.expires_at > at,
            Participant.expires_at <= substitution.ends_at,
            Participant.instance_id.in_(granted),
        )
        .values(expires_at=at)
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        actor=actor.username,
        action="substitution_withdraw",
        at=at,
        summary=f"Withdrew the cover of {substitution.substitute.username} for {substitution.absent.username}",
        details=_details(substitution, substitution.reason),
    )
    session.flush()
    return substitution


def substitutions_for(session: Session, *, user: User, at: datetime) -> list[Substitution]:
    """Current and upcoming covers: the ones `user` is part of, or everyone's for a coordinator."""
    query = select(Substitution).where(Substitution.withdrawn_at.is_(None), Substitution.ends_at > at)
    if not (user.role_keys & COORDINATOR_ROLES):
        query = query.where(
            or_(
                Substitution.absent_id == user.id,
                Substitution.substitute_id == user.id,
                Substitution.created_by_id == user.id,
            )
        )
    return list(session.scalars(query.order_by(Substitution.starts_at, Substitution.id)))


def move_assigned_tasks(session: Session, *, actor: User, substitution_id: int, reason: str, at: datetime) -> int:
    """Move every open task on the absent person's name to the substitute; returns how many tasks moved.

    A task of a role the substitute does not hold goes back to that role's queue instead, so it does not wait for
    someone who is away. Each move is logged with the reason; the substitute gets need-to-know for the cases of
    the tasks they receive, until the cover ends.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Geef een reden.", {"reason": ["Geef de reden om de taken te verplaatsen."]})
    cover = _running_or_planned(session, actor=actor, substitution_id=substitution_id, at=at)
    if not cover.substitute.active:
        raise Conflict("%(naam)s is niet meer actief; regel een andere vervanger.", naam=cover.substitute.display_name)
    mine = [f"user:{cover.absent_id}", f"owner:{cover.absent_id}"]
    tasks = session.scalars(
        select(HumanTask)
        .where(HumanTask.audience.in_(mine))
        .order_by(HumanTask.created_at, HumanTask.id)
        .with_for_update()
    ).all()
    for task in tasks:
        if may_take_over(cover, task.queue):
            task.assign(cover.substitute_id)
            cover_access(session, cover, instance_id=task.instance_id, at=at)
            summary = f"Moved '{task.name}' from {cover.absent.username} to {cover.substitute.username}: {reason}"
            details = {**cover_details(cover), "reason": reason}
        else:
            task.assign(None)
            summary = (
                f"Returned '{task.name}' of {cover.absent.username} to the {task.role} queue "
                f"({cover.substitute.username} does not hold the role): {reason}"
            )
            details = {**cover_details(cover), "to": None, "reason": reason}
        record(
            session,
            actor=actor.username,
            action="substitute",
            at=at,
            instance_id=task.instance_id,
            task_id=task.id,
            element_id=task.element_id,
            summary=summary,
            details=details,
        )
    session.flush()
    return len(tasks)
