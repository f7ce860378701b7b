"""A sign-in halfway: the password was right, the second factor is still to come (kept in the signed cookie)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from engine.models import User
from web.security import fresh_session
from web.services import now

#: {"id", "naam", "sinds", "verder"}: who gave the right password, when (app clock, epoch s), and where to go next
PENDING = "tweede_stap"
#: Where a user who must first set up their app goes afterwards.
ENROL_NEXT = "na_instellen"
#: How long the code may take after the password.
PENDING_SECONDS = 5 * 60


@dataclass(frozen=True)
class PendingSignIn:
    user_id: int
    username: str
    next_url: str


def await_second_factor(user: User, *, next_url: str) -> None:
    """Remember that `user` gave the right password; nobody is signed in yet."""
    fresh_session()
    session[PENDING] = {"id": user.id, "naam": user.username, "sinds": now().timestamp(), "verder": next_url}


def pending_sign_in() -> PendingSignIn | None:
    """The sign-in waiting for its code, unless it waited too long."""
    value = session.get(PENDING)
    if not isinstance(value, dict) or now().timestamp() - float(value.get("sinds", 0)) > PENDING_SECONDS:
        return None
    return PendingSignIn(int(value["id"]), str(value["naam"]), str(value["verder"]))
