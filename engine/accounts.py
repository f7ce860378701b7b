"""The beheerder's account review: who has which roles, where they work, whether they use 2FA, who is idle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, PermissionDenied
from engine.models import User
from engine.privacy.organisations import GEMEENTEN, organisation_name
from engine.twofactor import has_second_factor, reset_second_factor, second_factor_required
from engine.users import disable_user, get_user

#: An account not used to sign in for this long (or never) is flagged for the beheerder to disable.
INACTIVE_AFTER = timedelta(days=90)
ADMIN_ROLE = "beheerder"


@dataclass(frozen=True)
class AccountRow:
    """One account as the review shows it."""

    username: str
    display_name: str
    roles: list[str]
    organisation: str
    gemeenten: list[str]
    active: bool
    #: `aan`, `vereist` (needed by a role but not set up) or `uit`
    second_factor: str
    last_login_at: datetime | None
    created_at: datetime
    inactive: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "roles": self.roles,
            "organisation": self.organisation,
            "gemeenten": self.gemeenten,
            "active": self.active,
            "second_factor": self.second_factor,
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
            "created_at": self.created_at.isoformat(),
            "inactive": self.inactive,
        }


def _second_factor(user: User) -> str:
    if has_second_factor(user):
        return "aan"
    return "vereist" if second_factor_required(user) else "uit"


def is_inactive(user: User, *, at: datetime) -> bool:
    """An active account that never signed in, or not for INACTIVE_AFTER."""
    return user.active and (user.last_login_at is None or at - user.last_login_at > INACTIVE_AFTER)


def account_row(user: User, *, at: datetime) -> AccountRow:
    return AccountRow(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.role_keys),
        organisation=organisation_name(user.organisation),
        gemeenten=[GEMEENTEN.get(key, key) for key in sorted(user.gemeente_keys)],
        active=user.active,
        second_factor=_second_factor(user),
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        inactive=is_inactive(user, at=at),
    )


def account_review(session: Session, *, at: datetime) -> list[AccountRow]:
    """Every account, idle ones first, then by username."""
    rows = [account_row(user, at=at) for user in session.scalars(select(User).order_by(User.username))]
    return sorted(rows, key=lambda row: (not row.inactive, row.username))


def require_admin(actor: User) -> None:
    """Only a beheerder reviews, disables and resets accounts."""
    if not actor.has_role(ADMIN_ROLE):
        raise PermissionDenied("Alleen een beheerder kan accounts beoordelen.")


def review_accounts(session: Session, *, actor: User, at: datetime) -> list[AccountRow]:
    """(Beheerder) the account review."""
    require_admin(actor)
    return account_review(session, at=at)


def disable_account(session: Session, *, actor: User, username: str, at: datetime) -> User:
    """(Beheerder) stop an account from signing in (logged; its sessions end)."""
    require_admin(actor)
    if username == actor.username:
        raise Conflict("U kunt uw eigen account niet uitschakelen.")
    return disable_user(session, username=username, at=at, actor=actor.username)


def reset_account_second_factor(session: Session, *, actor: User, username: str, at: datetime) -> User:
    """(Beheerder) remove a user's authenticator app, e.g. after a lost phone; they set up a new one (logged)."""
    require_admin(actor)
    user = get_user(session, username)
    reset_second_factor(session, user=user, actor=actor.username, at=at)
    return user
