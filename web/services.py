"""Access to the engine from a request: the database, the runtime, the signed-in user, the clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from engine.db import Database
from engine.jobs import queue_due_timers
from engine.models import User
from engine.runtime import Outcome, Runtime


@dataclass(frozen=True)
class Services:
    """What the app shares between requests (stored in `app.extensions["zvh"]`)."""

    db: Database
    runtime: Runtime


def services() -> Services:
    return current_app.extensions["zvh"]  # type: ignore[no-any-return]


def runtime() -> Runtime:
    return services().runtime


def now() -> datetime:
    return services().runtime.clock.now()


@contextmanager
def transaction() -> Iterator[Session]:
    """A unit of work that commits at the end of the block."""
    with services().db.transaction() as session:
        yield session


@contextmanager
def reader() -> Iterator[Session]:
    """A read-only unit of work."""
    with services().db.reader() as session:
        yield session


def me() -> User:
    """The signed-in user (routes are guarded by `login_required`)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def queue_timers(outcome: Outcome) -> None:
    """After the transaction: a timer of the instance that comes due within minutes gets its job queued for then
    (with Redis; beat's scan remains the catch-all), and the job carries this request's id."""
    queue_due_timers([outcome.instance], now=now())
