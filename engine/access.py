"""Need-to-know: who may see an instance (a case), and who takes part in it.

A user sees an instance when they take part in it (they started it, worked on one of its tasks, or were added as a
participant — a logged decision) or when one of its open tasks is in their inbox (their role's queue, assigned to
them, or their own lane-less task). Nothing else: a manager sees the monitoring figures, not case contents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.inbox import audiences
from engine.models import HumanTask, Instance, Participant, User

#: Roles that may add a colleague to a case they take part in.
PARTICIPANT_MANAGERS = frozenset({"procesregisseur", "coordinator", "zorgcoordinator", "re_integratiecoordinator"})


def _take_part_statement(insert: Any) -> Any:
    names = ("instance_id", "user_id", "reason", "added_at", "expires_at")
    statement = insert(Participant).values(**{name: bindparam(name) for name in names})
    # Access that ends (a substitute's) gives way to longer access: a later end, or none (the same substitute
    # covering again next holiday, or claiming a task of the case).
    longer = statement.excluded.expires_at.is_(None) | (statement.excluded.expires_at > Participant.expires_at)
    return statement.on_conflict_do_update(
        index_elements=["instance_id", "user_id"],
        set_={"reason": statement.excluded.reason, "expires_at": statement.excluded.expires_at},
        where=Participant.expires_at.is_not(None) & longer,
    )


# Built once per dialect: this runs on every completion.
_TAKE_PART = {"postgresql": _take_part_statement(pg_insert), "sqlite": _take_part_statement(sqlite_insert)}


def take_part(
    session: Session,
    *,
    instance_id: int,
    user_id: int,
    reason: str,
    at: datetime,
    expires_at: datetime | None = None,
) -> None:
    """Record that a user takes part in an instance (idempotent: the first reason is kept unless access grows)."""
    statement = _TAKE_PART[session.get_bind().dialect.name]
    session.execute(
        statement,
        {"instance_id": instance_id, "user_id": user_id, "reason": reason, "added_at": at, "expires_at": expires_at},
    )


def _current(at: datetime | None) -> ColumnElement[bool]:
    """Participant rows that still give access at `at` (None: now)."""
    moment = datetime.now(UTC) if at is None else at
    return Participant.expires_at.is_(None) | (Participant.expires_at > moment)


def may_view(session: Session, user: User, instance_id: int, *, at: datetime | None = None) -> bool:
    """Whether `user` may see this instance at all (at `at`, None: now)."""
    takes_part = exists().where(Participant.instance_id == instance_id, Participant.user_id == user.id, _current(at))
    has_task = exists().where(HumanTask.instance_id == instance_id, HumanTask.audience.in_(audiences(user)))
    return bool(session.scalar(select(takes_part | has_task)))


def visible_instance(session: Session, user: User, instance_id: int, *, at: datetime | None = None) -> Instance:
    """The instance, or `NotFound` — also when it exists but `user` may not know that."""
    instance = session.get(Instance, instance_id)
    if instance is None or not may_view(session, user, instance_id, at=at):
        raise NotFound("Deze zaak bestaat niet of u heeft er geen toegang toe.")
    return instance


def participants(session: Session, instance_id: int, *, at: datetime | None = None) -> list[tuple[User, Participant]]:
    """Who takes part in an instance (at `at`, None: now), in the order they joined."""
    rows = session.execute(
        select(User, Participant)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.instance_id == instance_id, _current(at))
        .order_by(Participant.added_at, User.username)
    )
    return [(user, participant) for user, participant in rows.tuples()]


def add_participant(session: Session, *, instance_id: int, actor: User, user: User, reason: str, at: datetime) -> None:
    """A deliberate, logged decision to give a colleague access to a case (need-to-know)."""
    visible_instance(session, actor, instance_id, at=at)
    if not (actor.role_keys & PARTICIPANT_MANAGERS):
        raise PermissionDenied("Alleen een procesregisseur of coördinator kan deelnemers toevoegen.")
    if not reason.strip():
        raise InvalidInput("Geef de reden (need-to-know).", {"reden": ["Dit veld is verplicht."]})
    take_part(session, instance_id=instance_id, user_id=user.id, reason="added", at=at)
    record(
        session,
        actor=actor.username,
        action="participant",
        at=at,
        instance_id=instance_id,
        summary=f"Added {user.username} as participant: {reason.strip()}",
        details={"user": user.username, "reason": reason.strip()},
    )


def my_instances(session: Session, user: User, *, limit: int = 50, at: datetime | None = None) -> list[Instance]:
    """Instances `user` takes part in (at `at`, None: now), most recently active first."""
    return list(
        session.scalars(
            select(Instance)
            .join(Participant, Participant.instance_id == Instance.id)
            .where(Participant.user_id == user.id, _current(at))
            .order_by(Instance.last_progress_at.desc())
            .limit(limit)
        )
    )
