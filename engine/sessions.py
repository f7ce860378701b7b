"""Server-side sign-in sessions: started at sign-in, checked on every request, ended for good on sign-out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from engine.audit import record
from engine.errors import NotFound
from engine.models import User, UserSession

#: How stale `last_seen_at` may get before a request writes it again (most requests only read).
TOUCH_RESOLUTION = timedelta(minutes=1)
#: The role that may see and end anyone's sessions.
ADMIN_ROLE = "beheerder"


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session, *, user: User, at: datetime, user_agent: str | None = None, ip: str | None = None
) -> str:
    """A new session for `user`; returns the token for the signed cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=_session_id(token),
            user_id=user.id,
            created_at=at,
            last_seen_at=at,
            user_agent=(user_agent or "")[:200] or None,
            ip=(ip or "")[:45] or None,
        )
    )
    return token


def note_sign_in(session: Session, *, user_id: int, at: datetime) -> None:
    """Remember a completed sign-in (password and, where set up, the second factor): the account review shows it."""
    session.execute(update(User).where(User.id == user_id).values(last_login_at=at))


@dataclass(frozen=True)
class ActiveSession:
    """The signed-in user of a session, and whether its `last_seen_at` is due to be written."""

    session_id: str
    user: User
    stale: bool


def _idle_since(at: datetime, idle: timedelta) -> datetime:
    """Sessions last used before this moment have timed out (`last_seen_at` lags by up to TOUCH_RESOLUTION)."""
    return at - idle - TOUCH_RESOLUTION


# Every signed-in request runs this: built once, and one statement with the user's roles and gemeenten joined in.
_SESSION = (
    select(UserSession)
    .where(UserSession.id == bindparam("session_id"))
    .options(
        joinedload(UserSession.user).joinedload(User.roles), joinedload(UserSession.user).joinedload(User.gemeenten)
    )
)


def active_session(session: Session, *, token: str, at: datetime, idle: timedelta) -> ActiveSession | None:
    """The live session of this token (not ended, not idle for `idle`, account active), or None: one lookup."""
    row = session.execute(_SESSION, {"session_id": _session_id(token)}).unique().scalar_one_or_none()
    if row is None or row.ended_at is not None or row.last_seen_at < _idle_since(at, idle) or not row.user.active:
        return None
    return ActiveSession(row.id, row.user, stale=at - row.last_seen_at >= TOUCH_RESOLUTION)


def touch_session(session: Session, *, session_id: str, at: datetime) -> None:
    """Note that the session was used now."""
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=at))


def end_session(session: Session, *, token: str, at: datetime) -> None:
    """End the session this token belongs to (sign-out, idle timeout)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == _session_id(token), UserSession.ended_at.is_(None))
        .values(ended_at=at)
    )


def end_sessions_of(session: Session, *, user: User, at: datetime, keep_token: str | None = None) -> int:
    """End every live session of `user` (but the one of `keep_token`); returns how many were ended."""
    statement = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_token is not None:
        statement = statement.where(UserSession.id != _session_id(keep_token))
    result = session.execute(statement.values(ended_at=at))
    return int(result.rowcount)  # type: ignore[attr-defined]


def live_sessions(session: Session, *, at: datetime, idle: timedelta, user: User | None = None) -> list[UserSession]:
    """Sessions neither ended nor timed out, of one user or (None) of everyone, most recently used first."""
    statement = select(UserSession).where(
        UserSession.ended_at.is_(None), UserSession.last_seen_at >= _idle_since(at, idle)
    )
    if user is not None:
        statement = statement.where(UserSession.user_id == user.id)
    return list(session.scalars(statement.order_by(UserSession.last_seen_at.desc())))


def is_current(row: UserSession, token: str | None) -> bool:
    """Whether `row` is the session of this cookie token."""
    return token is not None and row.id == _session_id(token)


def end_session_by_id(session: Session, *, session_id: str, actor: User, at: datetime) -> UserSession:
    """End one session: its own user may, and a beheerder may end anyone's (logged)."""
    row = session.get(UserSession, session_id)
    if row is None or (row.user_id != actor.id and not actor.has_role(ADMIN_ROLE)):
        raise NotFound("Deze sessie bestaat niet.")
    if row.ended_at is None:
        row.ended_at = at
        if row.user_id != actor.id:
            record(
                session,
                actor=actor.username,
                action="session_end",
                at=at,
                summary=f"Ended a session of {row.user.username}",
            )
    return row
