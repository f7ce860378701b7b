"""One user's bell: the kinds of notification, the list, the unread count, marking read, and the preferences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import InvalidInput, NotFound
from engine.models import Notification, NotificationPreference, User

Kind = Literal["new_task", "assigned", "deadline", "stalled", "incident", "retention", "overleg"]
KINDS: tuple[Kind, ...] = ("new_task", "assigned", "deadline", "stalled", "incident", "retention", "overleg")
#: (in the app, by e-mail) for a kind the user never chose for.
DEFAULT_PREFERENCE = (True, False)
#: Where the bell lives.
BELL_LINK = "/meldingen"
#: The INSERT with ON CONFLICT of each dialect.
DIALECT_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


@dataclass(frozen=True)
class NotificationRow:
    """One notification as the bell lists it."""

    id: int
    kind: str
    #: the first part of its key: the kind, with a deadline's split into `deadline_near` and `deadline_passed`
    reason: str
    title: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


_UNREAD = select(func.count()).where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def unread_count(session: Session, *, user: User) -> int:
    """How many notifications `user` has not read (one range of the (user_id, read_at) index)."""
    return int(session.scalar(_UNREAD, {"user_id": user.id}) or 0)


def list_notifications(session: Session, *, user: User, limit: int = 50) -> list[NotificationRow]:
    """The newest notifications of `user`, read and unread."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [
        NotificationRow(
            id=n.id,
            kind=n.kind,
            reason=n.key.partition(":")[0],
            title=n.title,
            link=n.link,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in session.scalars(query)
    ]


def _own(session: Session, user: User, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("Deze melding bestaat niet of is niet voor u.")
    return notification


def mark_read(session: Session, *, user: User, notification_id: int | None, at: datetime) -> int:
    """Mark one of `user`'s notifications read, or all of them (None); returns how many were unread."""
    conditions = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if notification_id is not None:
        conditions.append(Notification.id == _own(session, user, notification_id).id)
    result = session.execute(update(Notification).where(*conditions).values(read_at=at))
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_notification(session: Session, *, user: User, notification_id: int, at: datetime) -> str:
    """Mark one of `user`'s notifications read and return where it points."""
    notification = _own(session, user, notification_id)
    if notification.read_at is None:
        notification.read_at = at
    return notification.link


# --- preferences ---------------------------------------------------------------------------------------------


def preferences(session: Session, *, user: User) -> dict[str, tuple[bool, bool]]:
    """Per kind: (in the app, by e-mail); kinds never chosen have the defaults."""
    chosen = {
        kind: (in_app, email)
        for kind, in_app, email in session.execute(
            select(NotificationPreference.kind, NotificationPreference.in_app, NotificationPreference.email).where(
                NotificationPreference.user_id == user.id
            )
        ).tuples()
    }
    return {kind: chosen.get(kind, DEFAULT_PREFERENCE) for kind in KINDS}


def _preference_problems(user: User, values: Mapping[str, tuple[bool, bool]]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for kind, (in_app, email) in values.items():
        if kind not in KINDS:
            problems[kind] = ["Onbekende soort melding."]
        elif email and not in_app:
            problems[kind] = ["De e-mail bundelt meldingen uit de app: zet ook 'in de app' aan."]
        elif email and not user.email:
            problems[kind] = ["Er is geen e-mailadres van u bekend; vraag functioneel beheer het vast te leggen."]
    return problems


def set_preferences(session: Session, *, user: User, values: Mapping[str, tuple[bool, bool]], at: datetime) -> None:
    """Store per kind whether `user` wants it in the app and in the e-mail digest."""
    problems = _preference_problems(user, values)
    if problems:
        raise InvalidInput("De instellingen zijn niet opgeslagen.", problems)
    insert = DIALECT_INSERTS[session.get_bind().dialect.name]
    for kind, (in_app, email) in values.items():
        statement = insert(NotificationPreference).values(user_id=user.id, kind=kind, in_app=in_app, email=email)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "kind"],
                set_={"in_app": statement.excluded.in_app, "email": statement.excluded.email},
            )
        )
    record(
        session,
        actor=user.username,
        action="notify_prefs",
        at=at,
        summary="Changed notification preferences",
        details={kind: {"app": in_app, "email": email} for kind, (in_app, email) in values.items()},
    )
