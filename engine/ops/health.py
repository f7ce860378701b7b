"""Readiness: can this process do its work — database reachable, schema at the newest migration, Redis reachable.

`/readyz` and `zvh ready` (the compose healthchecks of the worker and beat) run the same checks. Liveness
(`/healthz`) does no I/O at all: it only shows that the process answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from engine.migrate import alembic_config

OK = "ok"
FAIL = "fail"
NOT_CONFIGURED = "not configured"
#: A check waits no longer than this (seconds) for a database or Redis that does not answer.
CHECK_TIMEOUT = 2.0


@dataclass(frozen=True)
class Readiness:
    """The outcome of every check by name: "ok", "not configured", or what failed (no secrets, no data)."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(outcome == NOT_CONFIGURED or outcome.startswith(OK) for outcome in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"status": OK if self.ready else FAIL, "checks": dict(self.checks)}


@cache
def _scripts() -> ScriptDirectory:
    """The migrations this code knows (read once: they do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str | None:
    return _scripts().get_current_head()


def migration_state(stored: str | None) -> str:
    """Whether a database at revision `stored` suits this code.

    Behind the code's newest migration: not ready (run `zvh init`). At it: ok. At a revision this code does not know:
    a newer release has migrated during a rolling upgrade, and migrations stay backwards compatible for one
    release, so this process keeps serving until it is replaced.
    """
    head = head_revision()
    if stored == head:
        return OK
    known = {script.revision for script in _scripts().walk_revisions()}
    if stored is not None and stored not in known:
        return f"{OK}: database at newer revision {stored}"
    return f"{FAIL}: database at {stored}, code expects {head} (run zvh init)"


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT)


def check(engine: Engine, redis_url: str | None) -> Readiness:
    """Run every check; one failing does not stop the others."""
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            checks["database"] = OK
            try:
                stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError:
                checks["migrations"] = f"{FAIL}: no schema (run zvh init)"
            else:
                checks["migrations"] = migration_state(stored)
    except Exception as error:
        checks["database"] = f"{FAIL}: {type(error).__name__}"
        checks.setdefault("migrations", f"{FAIL}: unknown")
    if redis_url is None:
        checks["redis"] = NOT_CONFIGURED
    else:
        try:
            _redis_client(redis_url).ping()
            checks["redis"] = OK
        except Exception as error:
            checks["redis"] = f"{FAIL}: {type(error).__name__}"
    return Readiness(checks)
