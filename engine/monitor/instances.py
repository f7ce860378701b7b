"""Instances by status for beheer: which cases are stuck, where and why (`zvh instances`, the Storingen page).

Reads the instance columns only — never the workflow state, which may be megabytes per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.instance import COMPLETED, ERROR, RUNNING, WAITING
from engine.models import Instance, ProcessVersion, User
from engine.runtime import RETRY_ROLES

#: The statuses an instance can be listed by.
INSTANCE_STATUSES = (ERROR, RUNNING, WAITING, COMPLETED)


@dataclass(frozen=True)
class InstanceRow:
    """One instance with what beheer needs to repair it."""

    id: int
    case_number: str
    process_key: str
    process_name: str
    status: str
    error_element: str | None
    error_message: str | None
    last_progress_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 times)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in self.__dict__.items()}


def require_repairer(user: User) -> None:
    """Only who may retry a failed step knows the Storingen page exists: everyone else gets a 404."""
    if not (user.role_keys & RETRY_ROLES):
        raise NotFound("Deze pagina bestaat niet.")


def list_instances(
    session: Session, *, status: str | None = None, process: str | None = None, limit: int = 100
) -> list[InstanceRow]:
    """Instances (of one status and process, when given), the most recently moved first."""
    query = (
        select(
            Instance.id,
            Instance.case_number,
            Instance.process_key,
            ProcessVersion.name,
            Instance.status,
            Instance.error_element,
            Instance.error_message,
            Instance.last_progress_at,
        )
        .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
        .order_by(Instance.last_progress_at.desc(), Instance.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Instance.status == status)
    if process is not None:
        query = query.where(Instance.process_key == process)
    return [InstanceRow(*row) for row in session.execute(query).tuples()]
