"""Need-to-know: who may see an instance (a case), and who takes part in it.

A user sees an instance when they take part in it (they started it, worked on one of its tasks, or were added as a
participant — a logged decision) or when one of its open tasks is in their inbox (their role's queue in the gemeente
or organisation the task is for, assigned to them, or their own lane-less task). A coordinator, who divides the work
in the team view, also opens the cases of every open task there — read-only where they lack the task's role (they
manage no participants through it), and every read is logged like anyone's. Nothing else: a manager sees the
monitoring figures, not case contents, and opens a case from the Bewaking with a reason. A ZVH professional who must
see a case they do not take part in states a reason first (noodtoegang): access for a day, flagged in the log and
listed for the FG.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.inbox import audiences, may_read_team_cases
from engine.models import HumanTask, Instance, Participant, User
from engine.privacy.visibility import confidential_filter, emergency_refusal

#: Roles that may add a colleague to a case they take part in, or remove one.
PARTICIPANT_MANAGERS = frozenset({"procesregisseur", "coordinator", "zorgcoordinator", "re_integratiecoordinator"})
#: Who may ask for noodtoegang: people of the ZVH (partners ask the ZVH), and coordinators and managers.
EMERGENCY_ROLES = frozenset({"coordinator", "manager"})
#: Roles that look after the system, not after cases: they never need a case's content.
SYSTEM_ONLY_ROLES = frozenset({"beheerder", "procesbeheerder"})
#: How long noodtoegang lasts; then the case is closed to them again unless someone adds them as a participant.
EMERGENCY_ACCESS = timedelta(hours=24)


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


def may_view(session: Session, user: User, instance_id: int, *, at: datetime | None = None, team: bool = True) -> bool:
    """Whether `user` may see this instance at all (at `at`, None: now); `team=False` leaves out what a coordinator
    sees only through the team view (the cases of tasks they hold no role for)."""
    takes_part = exists().where(Participant.instance_id == instance_id, Participant.user_id == user.id, _current(at))
    if team and may_read_team_cases(user):  # a coordinator opens the team's cases (read-only without the role)
        has_task = exists().where(HumanTask.instance_id == instance_id)
    else:
        has_task = exists().where(HumanTask.instance_id == instance_id, HumanTask.audience.in_(audiences(user)))
    # A secret case (vertrouwelijkheid geheim, zeer_geheim) only for explicit participants and assignees.
    allowed = exists().where(Instance.id == instance_id, confidential_filter(user, at=at))
    return bool(session.scalar(select((takes_part | has_task) & allowed)))


def visible_instance(session: Session, user: User, instance_id: int, *, at: datetime | None = None) -> Instance:
    """The instance, or `NotFound` — also when it exists but `user` may not know that."""
    instance = session.get(Instance, instance_id)
    if instance is None or not may_view(session, user, instance_id, at=at):
        raise NotFound("Deze zaak bestaat niet of u heeft er geen toegang toe.")
    if instance.destroyed_at is not None:
        raise NotFound("De gegevens van deze zaak zijn vernietigd.")
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


def _reason(reason: str, message: str) -> str:
    return required_text(reason, field="reden", message=message)


def may_manage_participants(session: Session, user: User, instance_id: int, *, at: datetime | None = None) -> bool:
    """Whether `user` may add or remove a case's participants: a participant manager who works on the case (not one
    who only sees it through the team view)."""
    return bool(user.role_keys & PARTICIPANT_MANAGERS) and may_view(session, user, instance_id, at=at, team=False)


def _may_manage_participants(session: Session, actor: User, instance_id: int, at: datetime) -> None:
    visible_instance(session, actor, instance_id, at=at)
    if not (actor.role_keys & PARTICIPANT_MANAGERS):
        raise PermissionDenied("Alleen een procesregisseur of coördinator beheert de deelnemers van een zaak.")
    if not may_view(session, actor, instance_id, at=at, team=False):
        # Giving a colleague access is a decision for those who work on the case, not for whoever oversees the team.
        raise PermissionDenied(
            "U ziet deze zaak via de taken van het team; wie aan de zaak werkt, beheert de deelnemers."
        )


def add_participant(session: Session, *, instance_id: int, actor: User, user: User, reason: str, at: datetime) -> None:
    """A deliberate, logged decision to give a colleague access to a case (need-to-know)."""
    _may_manage_participants(session, actor, instance_id, at)
    why = _reason(reason, "Geef de reden (need-to-know).")
    if not user.active:
        raise InvalidInput("Deze gebruiker is niet actief.", {"gebruiker": ["Kies een actieve collega."]})
    take_part(session, instance_id=instance_id, user_id=user.id, reason="added", at=at)
    record(
        session,
        actor=actor.username,
        action="participant",
        at=at,
        instance_id=instance_id,
        object_type="participant",
        object_id=str(user.id),
        summary=f"Added {user.username} as participant: {why}",
        details={"user": user.username, "reason": why},
    )


def remove_participant(
    session: Session, *, instance_id: int, actor: User, user: User, reason: str, at: datetime
) -> None:
    """End a colleague's access to a case (need-to-know ended), logged with the reason."""
    _may_manage_participants(session, actor, instance_id, at)
    why = _reason(reason, "Geef de reden om deze deelnemer te verwijderen.")
    if user.id == actor.id:
        raise InvalidInput("U kunt uzelf niet verwijderen.", {"gebruiker": ["Vraag een collega om dit te doen."]})
    removed = session.execute(
        delete(Participant).where(Participant.instance_id == instance_id, Participant.user_id == user.id)
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("%(naam)s is geen deelnemer van deze zaak.", naam=user.display_name)
    # Tasks they held go back to their queue: without access they cannot do them.
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)):
        if task.assignee_id == user.id:
            task.assign(None)
    record(
        session,
        actor=actor.username,
        action="participant_removed",
        at=at,
        instance_id=instance_id,
        object_type="participant",
        object_id=str(user.id),
        summary=f"Removed {user.username} as participant: {why}",
        details={"user": user.username, "reason": why},
    )


def may_ask_emergency_access(user: User) -> bool:
    """Whether `user` may open a case they do not take part in by stating a reason (noodtoegang): a ZVH
    professional who works on cases (not only on the system), a coordinator or a manager."""
    works_on_cases = bool(user.role_keys - SYSTEM_ONLY_ROLES)
    return (user.organisation == "zvh" and works_on_cases) or bool(user.role_keys & EMERGENCY_ROLES)


def emergency_access(
    session: Session, *, instance_id: int, actor: User, reason: str, at: datetime, via: str = "zaak"
) -> Instance:
    """Noodtoegang: a non-participant opens a case after stating why — access for a day, flagged for the FG."""
    if not may_ask_emergency_access(actor):
        raise PermissionDenied("Noodtoegang is voorbehouden aan medewerkers van het Zorg- en Veiligheidshuis.")
    why = _reason(reason, "Geef de reden voor noodtoegang.")
    instance = session.get(Instance, instance_id)
    if instance is None or instance.destroyed_at is not None:
        raise NotFound("Deze zaak bestaat niet (meer).")
    if may_view(session, actor, instance_id, at=at):
        return instance
    if (refusal := emergency_refusal(actor, instance)) is not None:
        raise PermissionDenied(refusal)
    take_part(
        session,
        instance_id=instance_id,
        user_id=actor.id,
        reason="noodtoegang",
        at=at,
        expires_at=at + EMERGENCY_ACCESS,
    )
    record(
        session,
        actor=actor.username,
        action="noodtoegang",
        at=at,
        instance_id=instance_id,
        object_type="case",
        object_id=str(instance_id),
        summary=f"Noodtoegang ({via}): {why}",
        details={"user": actor.username, "reason": why, "via": via, "until": (at + EMERGENCY_ACCESS).isoformat()},
    )
    return instance


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
