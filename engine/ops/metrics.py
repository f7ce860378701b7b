"""Prometheus metrics: what the web processes and the workers count, and what /metrics reads from the database.

Counted in each process: requests by route, method and status with their latency; task completions and timers fired
(counted when their transaction commits, so a rolled-back step counts nothing); jobs by name and outcome with their
run time and how long they waited in the queue. Read when scraped: instances by status, open tasks, the Bewaking's
stalled/overdue/incident/paused counts, and the job queue's length and the age of its oldest job.

Several processes (gunicorn workers, Celery workers, beat) each count for themselves. With `ZVH_METRICS_DIR` set to
a folder they all share (one machine, or one volume in docker-compose), prometheus-client's multiprocess mode adds
them up at every scrape; without it, a scrape shows the counts of the process that answers it. The variable must be
set before prometheus-client is first imported, which is why this module sets `PROMETHEUS_MULTIPROC_DIR` itself.

No label ever carries personal data: routes are URL rule templates, processes are process keys.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

_METRICS_DIR = os.environ.get("ZVH_METRICS_DIR") or None
if _METRICS_DIR:
    Path(_METRICS_DIR).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _METRICS_DIR)

from prometheus_client import (  # noqa: E402 - PROMETHEUS_MULTIPROC_DIR must be set first
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric  # noqa: E402
from prometheus_client.registry import Collector  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402


def _process_identifier(pid: int | None = None) -> str:
    """A process in the shared folder: host and pid, because containers sharing ZVH_METRICS_DIR each number their
    processes from 1 (no `_`: the collector splits file names on it)."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid() if pid is None else pid}"


if _METRICS_DIR:
    # Before the first metric is made: each takes its value class from here.
    values.ValueClass = values.MultiProcessValue(_process_identifier)  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The `_created` series (when each counter was made) double a scrape and answer nothing asked here.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Latency buckets (seconds) around what one request or job takes here: a few ms to a few seconds.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("zvh_http_requests", "HTTP requests answered", ["route", "method", "status"])
REQUEST_SECONDS = Histogram(
    "zvh_http_request_duration_seconds", "Time to answer an HTTP request", ["route", "method"], buckets=_BUCKETS
)
TASK_COMPLETIONS = Counter("zvh_task_completions", "User tasks completed", ["process"])
TIMERS_FIRED = Counter("zvh_timers_fired", "Timer events fired", ["process"])
JOBS = Counter("zvh_jobs", "Background jobs run", ["job", "outcome"])
JOB_SECONDS = Histogram("zvh_job_duration_seconds", "Run time of a background job", ["job"], buckets=_BUCKETS)
JOB_LAG_SECONDS = Histogram(
    "zvh_job_queue_lag_seconds",
    "Time a job waited in the queue before a worker took it",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0),
)

#: Counts waiting for their transaction to commit: (counter, process key) per session.
_PENDING = "zvh_metrics_pending"


def count_on_commit(session: Session, counter: Counter, *, process: str, amount: int = 1) -> None:
    """Count `amount` on `counter` for `process` once `session` commits (nothing when it rolls back)."""
    session.info.setdefault(_PENDING, []).append((counter, process, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, process, amount in session.info.pop(_PENDING, ()):
        counter.labels(process=process).inc(amount)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    REQUEST_SECONDS.labels(route=route, method=method).observe(seconds)


def observe_job(*, job: str, outcome: str, seconds: float, queued_seconds: float | None) -> None:
    JOBS.labels(job=job, outcome=outcome).inc()
    JOB_SECONDS.labels(job=job).observe(seconds)
    if queued_seconds is not None:
        JOB_LAG_SECONDS.labels(job=job).observe(max(queued_seconds, 0.0))


def process_exited(pid: int) -> None:
    """A web or job process ended (gunicorn's child_exit): drop its live gauges from the shared folder."""
    if _METRICS_DIR:
        multiprocess.mark_process_dead(_process_identifier(pid), _METRICS_DIR)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Sources:
    """Where the scrape-time figures come from: a database session factory, the clock, and the job queue."""

    session: Any  # () -> context manager yielding a Session (Database.reader)
    now: Any  # () -> datetime
    queue: Any | None = None  # a redis.Redis client, or None in embedded mode
    queue_name: str = "celery"


class _StateCollector(Collector):
    """Figures read at scrape time: they describe stored state, not what this process did."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        from engine.models import HumanTask, Instance
        from engine.monitor.scan import monitor_counts

        now: datetime = self.sources.now()
        with self.sources.session() as session:
            by_status = GaugeMetricFamily("zvh_instances", "Process instances by status", labels=["status"])
            statuses = select(Instance.status, func.count()).group_by(Instance.status)
            for status, count in session.execute(statuses).tuples():
                by_status.add_metric([status], count)
            open_tasks = session.scalar(select(func.count()).select_from(HumanTask)) or 0
            counts = monitor_counts(session, now=now)
        yield by_status
        yield GaugeMetricFamily("zvh_open_tasks", "Open user tasks", value=open_tasks)
        monitor = GaugeMetricFamily(
            "zvh_monitor_items", "The Bewaking's stalled, overdue, incident and paused items", labels=["category"]
        )
        for category in ("stalled", "overdue", "incident", "paused"):
            monitor.add_metric([category], counts.by_category.get(category, 0))
        yield monitor
        yield from self._queue()

    def _queue(self) -> Iterator[Metric]:
        client = self.sources.queue
        if client is None:
            return
        name = self.sources.queue_name
        length = GaugeMetricFamily("zvh_job_queue_length", "Jobs waiting in the queue", labels=["queue"])
        oldest = GaugeMetricFamily(
            "zvh_job_queue_oldest_seconds", "How long the oldest waiting job has waited", labels=["queue"]
        )
        try:
            waiting = int(client.llen(name))
            # Kombu pushes on the left and workers take from the right: the oldest job is the last element.
            last = client.lindex(name, -1) if waiting else None
        except Exception:
            return
        length.add_metric([name], waiting)
        oldest.add_metric([name], _age(last))
        yield length
        yield oldest


def _age(message: bytes | None) -> float:
    """Seconds since the job in `message` (a Kombu envelope) was queued, 0 when unknown."""
    if not message:
        return 0.0
    try:
        headers = json.loads(message).get("headers", {})
        queued_at = float(headers.get("zvh_queued_at"))
    except (ValueError, TypeError, AttributeError):
        return 0.0
    return max(time.time() - queued_at, 0.0)


def exposition(sources: Sources | None) -> bytes:
    """The Prometheus text of this process (or, in multiprocess mode, of all processes) plus the stored state."""
    registry = CollectorRegistry(auto_describe=False)
    if _METRICS_DIR:
        multiprocess.MultiProcessCollector(registry, path=_METRICS_DIR)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if sources is None:
        return body
    state = CollectorRegistry(auto_describe=False)
    state.register(_StateCollector(sources))
    return body + generate_latest(state)
