"""Users and their roles; passwords are stored as argon2 hashes only."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import ApiToken, User, UserRole

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _HASHER.hash(password)


def verify_password(user: User, password: str) -> bool:
    """True when `password` matches the user's stored hash (constant-time inside argon2)."""
    if not user.password_hash:
        return False
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    roles: Iterable[str],
    password: str | None = None,
    email: str | None = None,
    actor: str = "system",
    clock: Clock = SYSTEM_CLOCK,
) -> User:
    """Add a user with one or more roles."""
    role_list = sorted(set(roles))
    fields: dict[str, list[str]] = {}
    if not _USERNAME.match(username):
        fields["username"] = ["Use 2-64 lower-case letters, digits, '.', '_' or '-'."]
    bad_roles = [r for r in role_list if not _ROLE.match(r)]
    if bad_roles or not role_list:
        fields["roles"] = [f"Invalid role(s): {', '.join(bad_roles)}" if bad_roles else "Give at least one role."]
    if password is not None and len(password) < 12:
        fields["password"] = ["Use at least 12 characters."]
    if fields:
        raise InvalidInput("The user cannot be created.", fields)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"A user named '{username}' already exists.")
    now = clock.now()
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email,
        password_hash=hash_password(password) if password else None,
        created_at=now,
        roles=[UserRole(role=role) for role in role_list],
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user_add",
        at=now,
        summary=f"Added user {username} ({', '.join(role_list)})",
    )
    return user


def get_user(session: Session, username: str) -> User:
    """The user with this username."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user named '{username}'.")
    return user


def list_users(session: Session) -> list[User]:
    """All users by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, user: User, name: str, at: datetime, actor: str = "system") -> str:
    """A new personal API token for `user`; the token is returned once, only its hash is stored."""
    token = "zvh_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, name=name.strip()[:80] or "token", token_hash=_token_hash(token), created_at=at)
    )
    record(session, actor=actor, action="token", at=at, summary=f"Issued API token '{name}' for {user.username}")
    return token


#: How stale `last_used_at` may get before a request writes it again (keeps API calls read-only mostly).
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def user_for_token(session: Session, token: str, *, at: datetime) -> User | None:
    """The active user a (non-revoked) API token belongs to, or None; notes when the token was last used."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None), User.active)
    ).first()
    if row is None:
        return None
    stored: ApiToken = row[0]
    user: User = row[1]
    if stored.last_used_at is None or at - stored.last_used_at > TOKEN_USE_RESOLUTION:
        stored.last_used_at = at
    return user
