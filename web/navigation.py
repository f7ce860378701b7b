"""Template globals for what the header and shared parts offer: which processes the user may start, role names, and
what a refused reassignment had typed.

Each is computed at most once per request (kept on `flask.g`), so every page may ask without a cost per call.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, session
from flask_login import current_user

from engine.inbox import InboxRow, audiences, may_read_team_cases, role_label, role_names
from engine.registry import startable
from web.services import reader

#: Where a refused reassignment keeps what was typed until the page it came from shows it again (once).
REASSIGN_TYPED = "zvh_toewijzen"


def startable_processes() -> list[tuple[str, str]]:
    """The processes the signed-in user may start (nothing for a visitor), once per request."""
    if "zvh_startable" not in g:
        if not current_user.is_authenticated:
            return []
        with reader() as db_session:
            g.zvh_startable = startable(db_session, current_user.role_keys)
    found: list[tuple[str, str]] = g.zvh_startable
    return found


def may_start(process_key: str) -> bool:
    """Whether the signed-in user may start this process (the header's "Nieuwe aanmelding")."""
    return any(key == process_key for key, _ in startable_processes())


def role_name(role: str | None) -> str:
    """A role by the name people know it (its lane name), once per request for all roles."""
    if "zvh_role_names" not in g:
        with reader() as db_session:
            g.zvh_role_names = role_names(db_session)
    return role_label(role, g.zvh_role_names)


def may_open_task(task: InboxRow) -> bool:
    """Whether the signed-in user may open this open task's page: it waits for them (their role's queue, assigned to
    them, their own), or they are a coordinator (read-only) and it is not a secret case's."""
    user = current_user._get_current_object()
    if "zvh_audiences" not in g:
        g.zvh_audiences = frozenset(audiences(user))
    if task.audience in g.zvh_audiences:
        return True
    return may_read_team_cases(user) and not task.secret


def keep_reassign_typed(**typed: Any) -> None:
    """Remember what a refused reassignment had typed (colleague, reason, chosen tasks, why) for the next page."""
    session[REASSIGN_TYPED] = typed


def reassign_typed() -> dict[str, Any]:
    """What the last refused reassignment had typed, for the page that shows the form again (then forgotten)."""
    if "zvh_reassign_typed" not in g:
        g.zvh_reassign_typed = session.pop(REASSIGN_TYPED, None) or {}
    typed: dict[str, Any] = g.zvh_reassign_typed
    return typed


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        startable_processes=startable_processes,
        may_start=may_start,
        role_name=role_name,
        reassign_typed=reassign_typed,
        may_open_task=may_open_task,
    )
    app.jinja_env.filters["role_name"] = role_name
