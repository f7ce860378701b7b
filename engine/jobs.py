"""Background work: Celery tasks (ids only, JSON) and the embedded-mode job thread.

Both call the same engine functions as the CLI and the web app. `zvh worker` runs the tasks, `zvh beat` queues the
periodic ones; without Redis, `zvh serve` runs the same periodic jobs from a thread (`EmbeddedJobLoop`).

What makes the jobs hold under faults: a job is acknowledged only after it ran, so a job held by a worker that dies
goes back to the queue (after the visibility timeout) and runs elsewhere; every job re-checks in the database whether
its work is still to be done, under a row lock, so a job that runs twice has its effect once; and the periodic scans
select everything due up to now, so what came due while beat, the workers or Redis were down is done on the next run.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from celery import Celery
from celery.signals import task_prerun

from engine import notifications
from engine.audit import AccessContext, set_access
from engine.config import Settings
from engine.db import Database
from engine.overleg.meetings import plan_upcoming
from engine.privacy.retention import run_retention_job
from engine.runtime import Runtime
from engine.timers import due_instances, fire_due_timers, fire_instance_timers

log = logging.getLogger(__name__)

TIMER_INTERVAL_SECONDS = 30.0
NOTIFICATION_INTERVAL_SECONDS = 60.0
OVERLEG_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class JobTiming:
    """How often beat queues the periodic jobs, and when a job held by a vanished worker is handed out again."""

    timer_interval: float = TIMER_INTERVAL_SECONDS
    notification_interval: float = NOTIFICATION_INTERVAL_SECONDS
    #: Seconds after which Redis gives an unacknowledged job to another worker: longer than any job runs.
    visibility_timeout: int = 300

    @classmethod
    def from_env(cls) -> JobTiming:
        """ZVH_TIMER_INTERVAL and ZVH_JOB_VISIBILITY_TIMEOUT (seconds), else the defaults."""
        return cls(
            timer_interval=float(os.environ.get("ZVH_TIMER_INTERVAL") or TIMER_INTERVAL_SECONDS),
            visibility_timeout=int(os.environ.get("ZVH_JOB_VISIBILITY_TIMEOUT") or cls.visibility_timeout),
        )


def make_celery(settings: Settings, timing: JobTiming | None = None) -> Celery:
    """The Celery app; in embedded mode (no Redis) it exists but nothing is sent to it."""
    timing = timing or JobTiming()
    app = Celery("zvh", broker=settings.redis_url or "memory://", backend=settings.redis_url or "cache+memory://")
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # Acknowledge after the job ran, and give a job back when its worker process dies under it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": timing.visibility_timeout,
            # Look for jobs of dead workers every few seconds rather than Kombu's default of every ~100 s.
            "unacked_restore_interval": min(10, timing.visibility_timeout),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a Redis outage of any length is waited out, never a reason to exit
        result_expires=3600,
        beat_schedule={
            "dispatch-due-timers": {"task": "zvh.dispatch_due_timers", "schedule": timing.timer_interval},
            "run-notification-jobs": {"task": "zvh.run_notification_jobs", "schedule": timing.notification_interval},
            # Hourly, but it works once a day (a job mark): a day missed while beat was down is caught up.
            "run-retention-job": {"task": "zvh.run_retention_job", "schedule": 3600.0},
            # Hourly: plan the overleggen of the coming two weeks and bring their agendas up to date.
            "plan-overleggen": {"task": "zvh.plan_overleggen", "schedule": OVERLEG_INTERVAL_SECONDS},
        },
    )
    return app


TIMING = JobTiming.from_env()
celery_app = make_celery(Settings.from_env(), TIMING)


@dataclass(frozen=True)
class _Services:
    settings: Settings
    db: Database
    runtime: Runtime


@task_prerun.connect
def _job_access(task_id: str | None = None, **_: Any) -> None:
    """What a job writes to the audit log carries the job's id as its request id."""
    set_access(AccessContext(request_id=f"job-{task_id}", client="job"))


@cache
def _services() -> _Services:
    settings = Settings.from_env()
    return _Services(settings, Database(settings.database_url), Runtime.from_settings(settings))


# The periodic jobs expire after one interval: beat queues a fresh one by then, so the queue does not fill up with
# stale copies while no worker is running.
@celery_app.task(name="zvh.dispatch_due_timers", expires=TIMING.timer_interval)
def dispatch_due_timers() -> list[int]:
    """(Beat) queue one job per instance with a due timer, so workers fire them in parallel."""
    services = _services()
    with services.db.reader() as session:
        instance_ids = due_instances(session, services.runtime.clock.now())
    for instance_id in instance_ids:
        fire_timers_of_instance.delay(instance_id)
    return instance_ids


@celery_app.task(name="zvh.fire_timers_of_instance")
def fire_timers_of_instance(instance_id: int) -> list[str]:
    """Fire the due timers of one instance; returns the ids of the timer events that fired."""
    services = _services()
    fired = fire_instance_timers(services.db, services.runtime, instance_id)
    return fired.element_ids if fired else []


@celery_app.task(name="zvh.run_notification_jobs", expires=TIMING.notification_interval, ignore_result=True)
def run_notification_jobs() -> None:
    """(Beat) scan for stalled work and deadlines to notify about, and send the e-mail digests that are due."""
    services = _services()
    notifications.run_notification_jobs(services.db, services.settings, now=services.runtime.clock.now())


@celery_app.task(name="zvh.run_retention_job", expires=3600, ignore_result=True)
def retention_job() -> None:
    """(Beat) once a day: tell managers and the FG how many cases are due for destruction or lack a retention."""
    services = _services()
    run_retention_job(services.db, now=services.runtime.clock.now())


def plan_overleggen(db: Database, *, now: datetime) -> int:
    """Plan the regular overleggen of the coming two weeks and refresh the agendas of those still to come; returns
    how many meetings were planned (idempotent: a second run plans nothing)."""
    with db.transaction() as session:
        planned = len(plan_upcoming(session, now=now))
    if planned:
        log.info("overleggen planned", extra={"planned": planned})
    return planned


@celery_app.task(name="zvh.plan_overleggen", expires=OVERLEG_INTERVAL_SECONDS, ignore_result=True)
def plan_overleggen_job() -> None:
    """(Beat) hourly: plan the coming overleggen and keep their agendas up to date."""
    services = _services()
    plan_overleggen(services.db, now=services.runtime.clock.now())


class EmbeddedJobLoop(threading.Thread):
    """Without Redis there is no worker or beat: run the periodic jobs from a daemon thread of `zvh serve`."""

    def __init__(
        self, db: Database, runtime: Runtime, settings: Settings, interval: float = TIMER_INTERVAL_SECONDS
    ) -> None:
        super().__init__(name="zvh-jobs", daemon=True)
        self.db, self.runtime, self.settings, self.interval = db, runtime, settings, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.run_once()
            if self.stopped.wait(self.interval):
                return

    def run_once(self) -> None:
        """One round: due timers, notification jobs, the daily retention job, the overleggen to plan; a failed job is
        tried again next round."""
        set_access(AccessContext(request_id=f"job-{uuid.uuid4().hex}", client="job"))
        try:
            for fired in fire_due_timers(self.db, self.runtime):
                log.info("timers fired", extra={"instance": fired.instance_id, "elements": fired.element_ids})
        except Exception:
            log.exception("firing due timers failed; retrying next round")
        try:
            notifications.run_notification_jobs(self.db, self.settings, now=self.runtime.clock.now())
        except Exception:
            log.exception("notification jobs failed; retrying next round")
        try:
            run_retention_job(self.db, now=self.runtime.clock.now())
        except Exception:
            log.exception("retention job failed; retrying next round")
        try:
            plan_overleggen(self.db, now=self.runtime.clock.now())
        except Exception:
            log.exception("planning overleggen failed; retrying next round")
