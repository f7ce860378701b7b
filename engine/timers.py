"""Firing due timers: Celery beat + workers in production, a background thread in embedded mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict
from engine.instance import ACTIVE_STATUSES
from engine.models import Instance
from engine.runtime import Runtime


@dataclass(frozen=True)
class FiredTimers:
    """The timer events that fired in one instance."""

    instance_id: int
    element_ids: list[str]


def due_instances(session: Session, now: datetime, *, limit: int = 500) -> list[int]:
    """Ids of active instances with a timer due at or before `now`, most overdue first."""
    query = (
        select(Instance.id)
        .where(Instance.next_timer_due_at <= now, Instance.status.in_(ACTIVE_STATUSES))
        .order_by(Instance.next_timer_due_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def fire_instance_timers(db: Database, runtime: Runtime, instance_id: int) -> FiredTimers | None:
    """Fire the due timers of one instance in its own transaction; None when nothing was (still) due."""
    now = runtime.clock.now()
    try:
        with db.transaction() as session:
            if not _lock_if_still_due(session, instance_id, now):
                return None
            element_ids = runtime.fire_timers(session, instance_id)
    except Conflict:
        return None  # a person or another worker changed the instance first; it is picked up next round
    return FiredTimers(instance_id, element_ids) if element_ids else None


def fire_due_timers(db: Database, runtime: Runtime, *, now: datetime | None = None) -> list[FiredTimers]:
    """Fire every due timer, instance by instance, so one failure does not hold up the rest."""
    if now is not None:
        runtime = runtime.with_clock(FixedClock(now))
    with db.reader() as session:
        candidates = due_instances(session, runtime.clock.now())
    results = [fire_instance_timers(db, runtime, instance_id) for instance_id in candidates]
    return [result for result in results if result is not None]


def _lock_if_still_due(session: Session, instance_id: int, now: datetime) -> bool:
    query = select(Instance.id).where(
        Instance.id == instance_id, Instance.next_timer_due_at <= now, Instance.status.in_(ACTIVE_STATUSES)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query) is not None
