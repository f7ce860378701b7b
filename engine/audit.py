"""The append-only audit log: every deploy, start, claim, completion, timer, error and retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent

_APPEND = insert(AuditEvent)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    at: datetime,
    summary: str,
    instance_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    process_version_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event to the audit log in the caller's transaction."""
    session.execute(
        _APPEND,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "instance_id": instance_id,
            "task_id": task_id,
            "element_id": element_id,
            "process_version_id": process_version_id,
            "summary": summary,
            "details": details,
        },
    )


def events_for_instance(session: Session, instance_id: int) -> list[AuditEvent]:
    """The audit trail of one instance, oldest first."""
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    return list(session.scalars(query))


def record_view(session: Session, *, actor: str, instance_id: int, what: str, at: datetime) -> None:
    """Log that someone looked at a case (NEN 7513: reads of personal data are logged too)."""
    record(session, actor=actor, action="view", at=at, instance_id=instance_id, summary=f"Viewed {what}")
