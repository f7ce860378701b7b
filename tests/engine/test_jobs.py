"""Background timers through a real Celery worker, Redis broker and PostgreSQL, started by the test harness."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery

from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.jobs import TIMER_INTERVAL_SECONDS, make_celery
from engine.runtime import Runtime
from engine.users import create_user
from tests.conftest import _truncate_all
from tests.engine.bpmn import write
from tests.engine.test_runtime import deploy, open_tasks, start
from tests.engine.test_timers import deadline_process
from tests.services import Redis, _wait_until


@pytest.fixture
def pg(postgres_database: str) -> Iterator[Database]:
    _truncate_all(postgres_database)
    database = Database(postgres_database)
    yield database
    database.dispose()


@pytest.fixture
def worker(postgres_database: str, redis_server: Redis, tmp_path: Path) -> Iterator[Celery]:
    """A real `celery worker` process (solo pool: jobs run one at a time, in order)."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "ZVH_DATABASE_URL": postgres_database,
        "ZVH_REDIS_URL": redis_server.url,
        "ZVH_INSTANCE_PATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "engine.jobs",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            f"--logfile={log}",
            "-Q",
            "celery",
        ],
        env=env,
    )
    _wait_until(lambda: log.exists() and "ready." in log.read_text(), "celery worker", timeout=60)
    settings = Settings(database_url=postgres_database, redis_url=redis_server.url, instance_path=tmp_path)
    yield make_celery(settings)
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.celery
def test_worker__fires_a_due_deadline_and_the_beat_job_fans_out(pg: Database, worker: Celery, tmp_path: Path) -> None:
    write(tmp_path, "deadline.json", {"type": "object", "properties": {}})
    deploy(pg, write(tmp_path, "d.bpmn", deadline_process('"P5D"')))
    with pg.transaction() as session:
        sven = create_user(session, username="sven", display_name="Sven", roles=["screener"])
    six_days_ago = Runtime(clock=FixedClock(datetime.now(UTC) - timedelta(days=6)))
    first = start(pg, six_days_ago, "deadline", sven).instance.id
    second = start(pg, six_days_ago, "deadline", sven).instance.id

    fired = worker.send_task("zvh.fire_timers_of_instance", args=[first]).get(timeout=60)

    assert fired == ["Late"]
    assert {t.role for t in open_tasks(pg, first)} == {"screener", "manager"}

    dispatched = worker.send_task("zvh.dispatch_due_timers").get(timeout=60)
    assert dispatched == [second]
    # The solo worker runs jobs in order: once this one is done, the fanned-out job for `second` has run.
    assert worker.send_task("zvh.fire_timers_of_instance", args=[second]).get(timeout=60) == []
    assert {t.role for t in open_tasks(pg, second)} == {"screener", "manager"}


def test_celery__beat_schedules_the_timer_dispatch() -> None:
    schedule = make_celery(Settings(database_url="sqlite://", redis_url=None, instance_path=Path("."))).conf
    assert schedule.beat_schedule["dispatch-due-timers"] == {
        "task": "zvh.dispatch_due_timers",
        "schedule": TIMER_INTERVAL_SECONDS,
    }
    assert schedule.task_serializer == "json" and schedule.accept_content == ["json"]
