"""Drafts: what a user typed into a task form, kept per task and user until the task is completed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.orm import Session

from engine.models import Draft, User


def save_draft(session: Session, *, task_id: str, user: User, data: dict[str, Any], at: datetime) -> None:
    """Keep `data` (unvalidated, as typed) as the user's draft of the task; replaces an earlier draft."""
    draft = session.get(Draft, (task_id, user.id))
    if draft is None:
        session.add(Draft(task_id=task_id, user_id=user.id, data=data, saved_at=at))
    else:
        draft.data, draft.saved_at = data, at


def load_draft(session: Session, *, task_id: str, user: User) -> Draft | None:
    """The user's draft of a task, if any."""
    return session.get(Draft, (task_id, user.id))


_DISCARD = (
    delete(Draft)
    .where(Draft.task_id.in_(bindparam("task_ids", expanding=True)))
    .execution_options(synchronize_session=False)
)


def discard_drafts(session: Session, task_ids: list[str]) -> None:
    """Drop every draft of tasks that are no longer open (called when the inbox projection drops them)."""
    session.execute(_DISCARD, {"task_ids": task_ids})
