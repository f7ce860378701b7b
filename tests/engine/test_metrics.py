"""What the engine counts for /metrics: timers fired and tasks completed, once their transaction commits."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from engine.db import Database
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from tests.conftest import START, UserFactory
from tests.engine.bpmn import write
from tests.engine.test_runtime import complete, deploy, start
from tests.engine.test_timers import deadline_form, deadline_process  # noqa: F401 - deadline_form is a fixture


def counted(name: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"process": "deadline"}) or 0.0


def test_metrics__a_fired_timer_and_a_completion_count_once_committed(
    db: Database,
    runtime: Runtime,
    make_user: UserFactory,
    deadline_form: Path,  # noqa: F811
) -> None:
    deploy(db, write(deadline_form, "d.bpmn", deadline_process('"P5D"')))
    sven = make_user("sven", "screener")
    outcome = start(db, runtime, "deadline", sven)
    timers, completions = counted("zvh_timers_fired"), counted("zvh_task_completions")

    fire_due_timers(db, runtime, now=START + timedelta(days=5))
    fire_due_timers(db, runtime, now=START + timedelta(days=6))

    def complete_then_fail() -> None:
        with db.transaction() as session:
            runtime.complete_task(session, task_id=outcome.next_tasks[0].id, actor=sven, data={"klaar": True})
            raise RuntimeError("rolled back after the step")

    with pytest.raises(RuntimeError):
        complete_then_fail()
    complete(db, runtime, outcome.next_tasks[0].id, sven, {"klaar": True})

    assert counted("zvh_timers_fired") == timers + 1, "a timer fires once, however often the scan runs"
    assert counted("zvh_task_completions") == completions + 1, "the rolled-back completion is not counted"


def test_metrics__with_a_shared_folder_a_scrape_adds_up_every_process(tmp_path: Path) -> None:
    """ZVH_METRICS_DIR: gunicorn workers, Celery workers and beat each write their own file; a scrape sums them."""
    env = {**os.environ, "ZVH_METRICS_DIR": str(tmp_path)}
    count = "from engine.ops import metrics; metrics.TIMERS_FIRED.labels(process='deadline').inc(3)"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True)
    scrape = "import sys; from engine.ops import metrics; sys.stdout.write(metrics.exposition(None).decode())"

    text = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, capture_output=True, text=True).stdout

    assert 'zvh_timers_fired_total{process="deadline"} 6.0' in text.splitlines()
    files = sorted(path.name for path in tmp_path.iterdir())
    assert len(files) == 2 and all(name.startswith("counter_") and name.count("_") == 1 for name in files), files
