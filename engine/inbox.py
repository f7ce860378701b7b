"""Queries on the inbox projection: never deserializes a workflow."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from engine.models import HumanTask, User


def visible_to(user: User) -> ColumnElement[bool]:
    """Tasks `user` may work on: assigned to them, or unassigned and of one of their roles (or their own)."""
    unassigned = HumanTask.assignee_id.is_(None)
    return or_(
        HumanTask.assignee_id == user.id,
        and_(unassigned, HumanTask.role.in_(sorted(user.role_keys))),
        and_(unassigned, HumanTask.role.is_(None), HumanTask.owner_id == user.id),
    )


@dataclass(frozen=True)
class InboxPage:
    """One page of inbox rows and the number of rows in all pages."""

    tasks: list[HumanTask]
    total: int


def list_tasks(
    session: Session,
    *,
    user: User | None = None,
    instance_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> InboxPage:
    """Open tasks, newest due first; only those `user` may work on when a user is given."""
    conditions: list[ColumnElement[bool]] = []
    if user is not None:
        conditions.append(visible_to(user))
    if instance_id is not None:
        conditions.append(HumanTask.instance_id == instance_id)
    query = select(HumanTask).options(joinedload(HumanTask.assignee)).where(*conditions)
    total = session.scalar(select(func.count()).select_from(HumanTask).where(*conditions)) or 0
    rows = session.scalars(
        query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
        .limit(limit)
        .offset(offset)
    )
    return InboxPage(list(rows), total)
