"""Drafts: what a user typed into a task form or a start form, kept until the step is done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.forms import storable
from engine.models import Draft, User


def _find(session: Session, user: User, task_id: str | None, process_key: str | None) -> Draft | None:
    query = select(Draft).where(Draft.user_id == user.id)
    query = query.where(Draft.task_id == task_id) if task_id else query.where(Draft.process_key == process_key)
    return session.scalar(query)


def save_draft(
    session: Session,
    *,
    user: User,
    data: dict[str, Any],
    at: datetime,
    task_id: str | None = None,
    process_key: str | None = None,
) -> None:
    """Keep `data` (unvalidated, as typed) as the user's draft of a task or of a start form; replaces an older one."""
    if (task_id is None) == (process_key is None):
        raise ValueError("a draft is for either a task or a start form")
    data = storable(data)  # a NUL or a lone surrogate would fail to store (PostgreSQL) or to show again
    draft = _find(session, user, task_id, process_key)
    if draft is None:
        session.add(Draft(user_id=user.id, task_id=task_id, process_key=process_key, data=data, saved_at=at))
    else:
        draft.data, draft.saved_at = data, at


def load_draft(
    session: Session, *, user: User, task_id: str | None = None, process_key: str | None = None
) -> Draft | None:
    """The user's draft of a task or of a start form, if any."""
    return _find(session, user, task_id, process_key)


def discard_start_draft(session: Session, *, user: User, process_key: str) -> None:
    """Drop the user's start-form draft once the process was started."""
    session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.process_key == process_key))
