"""Queries on the inbox projection: never deserializes a workflow.

Each open task row carries its `audience` (`user:<id>`, `role:<role>` or `owner:<id>`), so "what may this person
pick up" is one range scan of the (audience, due_sort, created_at, id) index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from engine.models import HumanTask, User

_Assignee = aliased(User)


def audiences(user: User) -> list[str]:
    """The audiences whose tasks `user` may work on: their own, their roles' queues, their lane-less tasks."""
    return [f"user:{user.id}", f"owner:{user.id}", *(f"role:{role}" for role in sorted(user.role_keys))]


@dataclass(frozen=True)
class InboxRow:
    """One open task as the inbox shows it."""

    id: str
    instance_id: int
    element_id: str
    name: str
    role: str | None
    form: str | None
    created_at: datetime
    due_at: datetime | None
    case_number: str
    gemeente: str | None
    process_key: str
    process_name: str
    assignee: str | None


@dataclass(frozen=True)
class InboxPage:
    """One page of inbox rows and the number of rows in all pages."""

    tasks: list[InboxRow]
    total: int


_COLUMNS = (
    HumanTask.id,
    HumanTask.instance_id,
    HumanTask.element_id,
    HumanTask.name,
    HumanTask.role,
    HumanTask.form,
    HumanTask.created_at,
    HumanTask.due_at,
    HumanTask.case_number,
    HumanTask.gemeente,
    HumanTask.process_key,
    HumanTask.process_name,
    _Assignee.username,
)
_ORDER = (HumanTask.due_sort, HumanTask.created_at, HumanTask.id)


@cache
def _statements(by_user: bool, by_instance: bool, by_task: bool) -> tuple[Select[Any], Select[Any]]:
    """The count and page statements for one combination of conditions, built once (building is costly)."""
    conditions: list[ColumnElement[bool]] = []
    if by_user:
        conditions.append(HumanTask.audience.in_(bindparam("audiences", expanding=True)))
    if by_instance:
        conditions.append(HumanTask.instance_id == bindparam("instance_id"))
    if by_task:
        conditions.append(HumanTask.id == bindparam("task_id"))
    count = select(func.count()).select_from(HumanTask).where(*conditions)
    # Sort and cut on the covering index first, then read the few rows of the page.
    page_ids = (
        select(HumanTask.id)
        .where(*conditions)
        .order_by(*_ORDER)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery()
    )
    page = (
        select(*_COLUMNS)
        .join(page_ids, page_ids.c.id == HumanTask.id)
        .outerjoin(_Assignee, _Assignee.id == HumanTask.assignee_id)
        .order_by(*_ORDER)
    )
    return count, page


def list_tasks(
    session: Session,
    *,
    user: User | None = None,
    instance_id: int | None = None,
    task_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
) -> InboxPage:
    """Open tasks, earliest deadline first; only those `user` may work on when a user is given."""
    count, page = _statements(user is not None, instance_id is not None, task_id is not None)
    parameters: dict[str, Any] = {"instance_id": instance_id, "task_id": task_id, "limit": limit, "offset": offset}
    if user is not None:
        parameters["audiences"] = audiences(user)
    rows = [InboxRow(*row) for row in session.execute(page, parameters)]
    total = (session.scalar(count, parameters) or 0) if with_total else len(rows)
    return InboxPage(rows, total)


def task_row(session: Session, task_id: str) -> InboxRow:
    """One open task as the inbox shows it (after a claim or reassignment)."""
    return list_tasks(session, task_id=task_id, with_total=False).tasks[0]
