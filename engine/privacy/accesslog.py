"""Access-log entries for reads, searches and refusals of personal data (NEN 7513: reads count too).

An entry says who looked at which object of which case, never what they saw: no form content, no search terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.models import AuditEvent, HumanTask, Instance, User

#: the action of a read (older entries used it too, so the FG sees one event type for every read)
READ = "view"
SEARCH = "search"


def record_read(
    session: Session,
    *,
    user: User,
    instance_id: int,
    object_type: str,
    at: datetime,
    object_id: str | None = None,
    task_id: str | None = None,
) -> None:
    """Log that `user` saw personal data of a case: a page, a diagram, an API answer, an export."""
    what = f"{object_type} {object_id}" if object_id else object_type
    record(
        session,
        actor=user.username,
        action=READ,
        at=at,
        instance_id=instance_id,
        task_id=task_id,
        summary=f"Viewed {what}",
        object_type=object_type,
        object_id=object_id,
    )


def record_search(
    session: Session, *, user: User, object_type: str, filters: Iterable[str], at: datetime, found: int | None = None
) -> None:
    """Log that `user` searched: which filters were used, never the terms (a case number or name is personal)."""
    keys = sorted(set(filters))
    record(
        session,
        actor=user.username,
        action=SEARCH,
        at=at,
        summary=f"Searched {object_type} by {', '.join(keys) or 'nothing'}",
        details={"filters": keys, **({} if found is None else {"found": found})},
        object_type=object_type,
    )


_TASK_CASE = select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"))
_DONE_TASK_CASE = (
    select(AuditEvent.instance_id)
    .where(AuditEvent.task_id == bindparam("task_id"), AuditEvent.instance_id.is_not(None))
    .limit(1)
)


def record_refusal(
    session: Session,
    *,
    user: User,
    object_type: str,
    at: datetime,
    instance_id: int | None = None,
    task_id: str | None = None,
    object_id: str | None = None,
) -> bool:
    """Log a refused access to an existing case or task (or any other object); False when there was nothing there.

    Guessing ids of cases that do not exist is not logged as an access to personal data.
    """
    if task_id is not None and instance_id is None:
        instance_id = session.scalar(_TASK_CASE, {"task_id": task_id}) or session.scalar(
            _DONE_TASK_CASE, {"task_id": task_id}
        )
        if instance_id is None:
            return False
    if instance_id is not None and session.get(Instance, instance_id) is None:
        return False
    what = object_id or task_id or (str(instance_id) if instance_id is not None else "")
    record(
        session,
        actor=user.username,
        action=READ,
        at=at,
        instance_id=instance_id,
        task_id=task_id,
        summary=f"Refused access to {object_type} {what}".rstrip(),
        object_type=object_type,
        object_id=object_id or task_id or (str(instance_id) if instance_id is not None else None),
        outcome="refused",
    )
    return True
