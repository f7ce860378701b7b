"""Background work: Celery tasks (ids only, JSON) and the embedded-mode job thread.

Both call the same engine functions as the CLI and the web app. `zvh worker` runs the tasks, `zvh beat` queues the
periodic ones; without Redis, `zvh serve` runs the same periodic jobs from a thread (`EmbeddedJobLoop`).

What makes the jobs hold under faults: a job is acknowledged only after it ran, so a job held by a worker that dies
goes back to the queue (after the visibility timeout) and runs elsewhere; every job re-checks in the database whether
its work is still to be done, under a row lock, so a job that runs twice has its effect once; and the periodic scans
select everything due up to now, so what came due while beat, the workers or Redis were down is done on the next run.

A request id follows the work: a job carries the request id of whatever queued it (a web request, a command, or a
fresh one for each job beat queues) in its message headers, and runs under it, so its audit entries and log lines
name the request that caused them; every job ends with one log line (job, job_id, request_id, outcome, duration_ms,
queued_ms: how long it waited for a worker once it could run).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    worker_init,
)

from engine import notifications
from engine.audit import AccessContext, current_access, set_access
from engine.config import Settings
from engine.db import Database
from engine.models import Instance
from engine.ops import metrics
from engine.ops.logs import configure_logging
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
#: A request queues the timer job of an instance whose timer comes due this soon. Well under the visibility timeout:
#: Redis hands a job that waits for its eta longer than that to a second worker. Beat's scan stays the catch-all.
QUEUE_AHEAD = timedelta(seconds=min(120, TIMING.visibility_timeout // 2))
#: The message headers that carry the request id and the moment the job could run (epoch seconds).
REQUEST_ID_HEADER = "zvh_request_id"
QUEUED_AT_HEADER = "zvh_queued_at"


@dataclass(frozen=True)
class _Services:
    settings: Settings
    db: Database
    runtime: Runtime


@setup_logging.connect
def _celery_logging(loglevel: int | str | None = None, logfile: str | None = None, **_: Any) -> None:
    """Worker and beat log as the rest of ZVH does (a receiver here keeps Celery from setting up its own logging);
    `--logfile` and `--loglevel` still choose where and from which level."""
    configure_logging(level=loglevel or None, logfile=logfile or None)


@beat_init.connect
def _beat_access(**_: Any) -> None:
    """Each job beat queues gets a request id of its own (not the id of the `zvh beat` command)."""
    set_access(AccessContext(client="beat"))


@worker_init.connect
def _worker_access(**_: Any) -> None:
    """Between jobs a worker works for no request: its own lines carry no request id (not the `zvh worker` one)."""
    set_access(AccessContext(client="worker"))


@before_task_publish.connect
def _stamp_job(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Give a job the request id of the work that queues it, and the moment from which it could run."""
    if headers is None:
        return
    headers.setdefault(REQUEST_ID_HEADER, current_access().request_id or f"job-{uuid.uuid4().hex}")
    eta = headers.get("eta")
    runnable = datetime.fromisoformat(eta).timestamp() if isinstance(eta, str) else 0.0
    headers.setdefault(QUEUED_AT_HEADER, max(time.time(), runnable))


@dataclass(frozen=True)
class _Started:
    at: float
    queued_ms: int | None
    #: the access context before the job, restored after it (a job run in-process hands back its caller's)
    before: AccessContext


#: The jobs running in this process, by job id (one per pool thread at most).
_RUNNING: dict[str, _Started] = {}
#: The exception type of a job that failed, by job id, until its end is logged.
_FAILED: dict[str, str] = {}


def _header(task: Any, name: str) -> Any:
    headers = getattr(getattr(task, "request", None), "headers", None)
    return headers.get(name) if isinstance(headers, dict) else None


@task_prerun.connect
def _job_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """A job runs under the request id it was queued with; what it writes to the audit log and its log lines say so."""
    before = current_access()
    request_id = _header(task, REQUEST_ID_HEADER)
    set_access(AccessContext(request_id=str(request_id) if request_id else f"job-{task_id}", client="job"))
    queued_at = _header(task, QUEUED_AT_HEADER)
    started = time.time()
    queued_ms = round(max(0.0, started - float(queued_at)) * 1000) if isinstance(queued_at, int | float) else None
    _RUNNING[str(task_id)] = _Started(time.monotonic(), queued_ms, before)


@task_failure.connect
def _job_failed(task_id: str | None = None, exception: BaseException | None = None, **_: Any) -> None:
    _FAILED[str(task_id)] = type(exception).__name__


@task_postrun.connect
def _job_ended(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    """One log line per job: which job, under which request, how it ended, how long it waited and ran."""
    started = _RUNNING.pop(str(task_id), None)
    failure = _FAILED.pop(str(task_id), None)
    fields: dict[str, Any] = {
        "job": getattr(task, "name", None),
        "job_id": task_id,
        "outcome": (state or "unknown").lower(),
    }
    if started is not None:
        fields["duration_ms"] = round((time.monotonic() - started.at) * 1000)
        fields["queued_ms"] = started.queued_ms
    if failure is not None:
        fields["exc_type"] = failure
    log.log(logging.ERROR if failure else logging.INFO, "job ended", extra=fields)
    if started is not None:
        queued = started.queued_ms / 1000 if started.queued_ms is not None else None
        seconds = time.monotonic() - started.at
        metrics.observe_job(job=fields["job"] or "?", outcome=fields["outcome"], seconds=seconds, queued_seconds=queued)
        set_access(started.before)


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


def queue_due_timers(instances: Iterable[Instance], *, now: datetime, app: Celery | None = None) -> list[int]:
    """After a request committed: queue the timer job of each instance whose next timer comes due within
    `QUEUE_AHEAD`, to run at that moment; returns the ids of the instances queued (none without Redis).

    Beat's scan fires whatever this misses (Redis away, a job lost); the job re-checks under a row lock whether the
    timer is still due, so a timer queued twice fires once.
    """
    app = app or celery_app
    if str(app.conf.broker_url).startswith("memory://"):  # embedded mode: `zvh serve`'s job thread fires timers
        return []
    queued: list[int] = []
    for instance in instances:
        due = instance.next_timer_due_at
        if due is None or due - now > QUEUE_AHEAD:
            continue
        try:
            # No result is kept: a result subscription in the web process would never be read.
            app.send_task(
                fire_timers_of_instance.name,
                args=[instance.id],
                eta=due if due > now else None,
                retry=False,
                ignore_result=True,
            )
        except Exception as error:  # the request succeeded; the timer fires on beat's next scan instead
            log.warning(
                "queueing a timer job failed; the periodic scan fires it",
                extra={"instance_id": instance.id, "exc_type": type(error).__name__},
            )
            continue
        queued.append(instance.id)
    return queued


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
                log.info("timers fired", extra={"instance_id": fired.instance_id, "elements": fired.element_ids})
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
