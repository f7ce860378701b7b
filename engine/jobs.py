"""Background work: Celery tasks (ids only, JSON) and the embedded-mode timer thread.

Both call the same engine functions as the CLI and the web app. Start a worker with
`celery -A engine.jobs worker` and the schedule with `celery -A engine.jobs beat`.
"""

from __future__ import annotations

import logging
import threading
from functools import cache

from celery import Celery

from engine.config import Settings
from engine.db import Database
from engine.runtime import Runtime
from engine.timers import due_instances, fire_due_timers, fire_instance_timers

log = logging.getLogger(__name__)

TIMER_INTERVAL_SECONDS = 30.0


def make_celery(settings: Settings) -> Celery:
    """The Celery app; in embedded mode (no Redis) it exists but nothing is sent to it."""
    app = Celery("zvh", broker=settings.redis_url or "memory://", backend=settings.redis_url or "cache+memory://")
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        beat_schedule={
            "dispatch-due-timers": {"task": "zvh.dispatch_due_timers", "schedule": TIMER_INTERVAL_SECONDS},
        },
    )
    return app


celery_app = make_celery(Settings.from_env())


@cache
def _services() -> tuple[Database, Runtime]:
    settings = Settings.from_env()
    return Database(settings.database_url), Runtime.from_settings(settings)


@celery_app.task(name="zvh.dispatch_due_timers")
def dispatch_due_timers() -> list[int]:
    """(Beat) queue one job per instance with a due timer, so workers fire them in parallel."""
    db, runtime = _services()
    with db.reader() as session:
        instance_ids = due_instances(session, runtime.clock.now())
    for instance_id in instance_ids:
        fire_timers_of_instance.delay(instance_id)
    return instance_ids


@celery_app.task(name="zvh.fire_timers_of_instance")
def fire_timers_of_instance(instance_id: int) -> list[str]:
    """Fire the due timers of one instance; returns the ids of the timer events that fired."""
    db, runtime = _services()
    fired = fire_instance_timers(db, runtime, instance_id)
    return fired.element_ids if fired else []


class EmbeddedTimerLoop(threading.Thread):
    """Without Redis there is no Celery beat: fire due timers from a daemon thread of `zvh serve`."""

    def __init__(self, db: Database, runtime: Runtime, interval: float = TIMER_INTERVAL_SECONDS) -> None:
        super().__init__(name="zvh-timers", daemon=True)
        self.db, self.runtime, self.interval = db, runtime, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                for fired in fire_due_timers(self.db, self.runtime):
                    log.info("timers fired", extra={"instance": fired.instance_id, "elements": fired.element_ids})
            except Exception:
                log.exception("firing due timers failed; retrying next round")
            if self.stopped.wait(self.interval):
                return
