"""Monitoring figures at ZVH scale: the Bewaking scan, its counts, the heat map and the throughput on PostgreSQL.

Starts a throw-away PostgreSQL cluster (fsync off: only the bulk load writes) unless --postgres-url is given,
migrates it and bulk-loads --instances instances with Core inserts: most wait at one or two open human tasks (a
share past their norm, some past their deadline, some claimed), a few failed, a few wait on a timer with no task
(some of those timers overdue), and each has one completed step in the history. After ANALYZE it times:

* monitor_rows and monitor_counts (the Bewaking page), over every instance;
* heat_map of every process (the whole inbox projection) and of the largest;
* throughput of the largest process (twelve months, lead times per step).

Each figure is the median (and max) of --runs runs. The target: the full scan stays under 1 s.

    .venv/bin/python bench/monitor_bench.py [--instances 100000] [--runs 7] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.models import (  # noqa: E402
    NO_DEADLINE,
    CompletedTask,
    HumanTask,
    Instance,
    ProcessVersion,
    User,
    task_audience,
)
from engine.monitor import heat_map, monitor_counts, monitor_rows, throughput  # noqa: E402
from engine.monitor.norms import add_working_days  # noqa: E402

#: Monday 2 March 2026, 08:00 UTC: "now" for the loaded data and every timed call.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BATCH = 5_000
GEMEENTEN = ("Breda", "Oosterhout", "Etten-Leur", "Roosendaal", "Bergen op Zoom", "Halderberge", "Moerdijk")


@dataclass(frozen=True)
class Step:
    element_id: str
    name: str
    role: str | None
    norm: str | None

    def norm_due(self, start: datetime) -> datetime | None:
        """As the runtime computes it: ISO days, or working days in Breda's calendar."""
        if self.norm is None:
            return None
        if self.norm.endswith("werkdagen"):
            return add_working_days(start, int(self.norm.split()[0]))
        return start + timedelta(days=int(self.norm.strip("PD")))


@dataclass(frozen=True)
class Process:
    key: str
    name: str
    share: float
    steps: tuple[Step, ...]


PROCESSES = (
    Process(
        "aanmelding_triage",
        "Aanmelding en triage",
        0.40,
        (
            Step("Task_volledigheid", "Volledigheid controleren", "procesregisseur", "P2D"),
            Step("Task_bekendheid", "Bekendheidscheck uitvoeren", "procesregisseur", "P3D"),
            Step("Task_criteria", "Toetsen aan landelijke criteria", "procesregisseur", "5 werkdagen"),
            Step("Task_verrijken", "Informatie verrijken", "politie", "P5D"),
            Step("Task_triage", "Triage en besluit", "procesregisseur", "P5D"),
            Step("Task_terugkoppeling", "Terugkoppelen aan melder", None, None),
        ),
    ),
    Process(
        "procesregie",
        "Procesregie",
        0.30,
        (
            Step("Task_casusoverleg", "Casusoverleg voorbereiden", "procesregisseur", "P10D"),
            Step("Task_plan", "Plan van aanpak opstellen", "procesregisseur", "10 werkdagen"),
            Step("Task_uitvoering", "Acties uitvoeren", "zorgcoordinator", "P30D"),
            Step("Task_evaluatie", "Evalueren", "procesregisseur", "P14D"),
        ),
    ),
    Process(
        "isd_traject",
        "ISD-traject",
        0.20,
        (
            Step("Task_screening", "Screening", "reclassering", "P7D"),
            Step("Task_advies", "Advies opstellen", "reclassering", "5 werkdagen"),
            Step("Task_nazorg", "Nazorg afstemmen", "gemeente", "P21D"),
        ),
    ),
    Process(
        "datalek",
        "Datalek",
        0.10,
        (
            Step("Task_melden", "Datalek beoordelen", "privacyfunctionaris", "P1D"),
            Step("Task_ap", "Melden bij de AP", "privacyfunctionaris", "P3D"),
        ),
    ),
)


class Loader:
    """Realistic rows from one seeded random source: `instance` returns an instance and collects its tasks."""

    def __init__(self, rng: random.Random, version_ids: dict[str, int], user_ids: list[int]) -> None:
        self.rng, self.version_ids, self.user_ids = rng, version_ids, user_ids
        self.tasks: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []

    def ago(self, mean_days: float) -> timedelta:
        return timedelta(days=self.rng.expovariate(1 / mean_days))

    def instance(self, number: int) -> dict[str, Any]:
        rng = self.rng
        process = rng.choices(PROCESSES, weights=[p.share for p in PROCESSES])[0]
        waiting = self.ago(4)  # most work is recent; a long tail waits for weeks
        last_progress = NOW - waiting
        started = last_progress - self.ago(30)
        kind = rng.random()
        status, error_element, error_message, timer = "running", None, None, None
        if kind < 0.02:
            status, error_element = "error", rng.choice(process.steps).element_id
            error_message = "NameError: name 'gemeente' is not defined"
        elif kind < 0.05:  # waits on a timer with no task open; one in ten timers is behind
            status = "waiting"
            timer = NOW - timedelta(hours=1) if rng.random() < 0.1 else NOW + self.ago(10)
        elif kind < 0.20:  # a deadline (boundary timer) on the open task
            timer = last_progress + timedelta(days=rng.choice((5, 10, 20)))
        starter = rng.choice(self.user_ids)
        gemeente = rng.choice(GEMEENTEN)
        case_number = f"ZVH-{started.year}-{number:06d}"
        if status == "running":
            steps = rng.sample(process.steps, 2 if rng.random() < 0.3 else 1)
            for step in steps:
                self.tasks.append(
                    self.task(number, process, step, last_progress, timer, starter, gemeente, case_number)
                )
        done = process.steps[0]
        self.history.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "instance_id": number,
                "process_key": process.key,
                "element_id": done.element_id,
                "name": done.name,
                "role": done.role,
                "created_at": started,
                "completed_at": started + (last_progress - started) * rng.random(),
                "completed_by_id": rng.choice(self.user_ids),
            }
        )
        return {
            "id": number,
            "process_version_id": self.version_ids[process.key],
            "process_key": process.key,
            "parent_instance_id": None,
            "status": status,
            "state": "{}",
            "serializer_version": "bench",
            "library_version": "bench",
            "case_number": case_number,
            "gemeente": gemeente,
            "subject_person": None,
            "started_by_id": starter,
            "started_at": started,
            "last_progress_at": last_progress,
            "ended_at": None,
            "next_timer_due_at": timer,
            "error_element": error_element,
            "error_message": error_message,
            "stall_at": last_progress + timedelta(days=30),
            "lock_version": 1,
        }

    def task(
        self,
        instance_id: int,
        process: Process,
        step: Step,
        created: datetime,
        due: datetime | None,
        starter: int,
        gemeente: str,
        case_number: str,
    ) -> dict[str, Any]:
        owner = starter if step.role is None else None
        assignee = self.rng.choice(self.user_ids) if self.rng.random() < 0.3 else None
        return {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "instance_id": instance_id,
            "element_id": step.element_id,
            "name": step.name,
            "role": step.role,
            "owner_id": owner,
            "assignee_id": assignee,
            "audience": task_audience(assignee_id=assignee, role=step.role, owner_id=owner),
            "form": None,
            "ui_form": None,
            "created_at": created,
            "due_at": due,
            "norm": step.norm,
            "norm_due_at": step.norm_due(created),
            "due_sort": due or NO_DEADLINE,
            "case_number": case_number,
            "gemeente": gemeente,
            "process_key": process.key,
            "process_name": process.name,
        }


def load(db: Database, instances: int, seed: int) -> dict[str, int]:
    """Bulk-load the data set; returns the number of rows per table."""
    rng = random.Random(seed)
    with db.transaction() as session:
        user_ids = [
            session.execute(
                insert(User)
                .values(username=f"bench{i}", display_name=f"Bench {i}", active=True, created_at=NOW)
                .returning(User.id)
            ).scalar_one()
            for i in range(50)
        ]
        version_ids = {
            process.key: session.execute(
                insert(ProcessVersion)
                .values(
                    process_key=process.key,
                    version=1,
                    name=process.name,
                    content_hash=f"{index:064x}",
                    files={"bpmn": {f"{process.key}.bpmn": "<definitions/>"}, "dmn": {}, "forms": {}},
                    main_file=f"{process.key}.bpmn",
                    deployed_by="bench",
                    deployed_at=NOW,
                )
                .returning(ProcessVersion.id)
            ).scalar_one()
            for index, process in enumerate(PROCESSES)
        }
    loader = Loader(rng, version_ids, user_ids)
    counts = {"instances": 0, "human_tasks": 0, "completed_tasks": 0}
    for offset in range(0, instances, BATCH):
        rows = [loader.instance(number) for number in range(offset + 1, min(offset + BATCH, instances) + 1)]
        with db.transaction() as session:
            session.execute(insert(Instance.__table__), rows)
            session.execute(insert(HumanTask.__table__), loader.tasks)
            session.execute(insert(CompletedTask.__table__), loader.history)
        counts["instances"] += len(rows)
        counts["human_tasks"] += len(loader.tasks)
        counts["completed_tasks"] += len(loader.history)
        loader.tasks, loader.history = [], []
    return counts


def timed(db: Database, runs: int, action: Callable[[Session], object]) -> list[float]:
    samples = []
    for _ in range(runs):
        with db.reader() as session:
            began = time.perf_counter()
            action(session)
            samples.append(time.perf_counter() - began)
    return samples


def summary(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:8.1f} ms   max {max(samples) * 1000:8.1f} ms   (n={len(samples)})"
    )


def bench(url: str, *, instances: int, runs: int, seed: int) -> None:
    upgrade_to_head(url)
    db = Database(url)
    print(f"  loading {instances:,} instances ...", flush=True)
    began = time.perf_counter()
    counts = load(db, instances, seed)
    with db.engine.connect() as connection:  # statistics as autovacuum/autoanalyze would have them after a bulk load
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    print(f"  loaded in {time.perf_counter() - began:.0f} s: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    with db.reader() as session:
        found = monitor_counts(session, now=NOW)
        print(f"  signals: {found.by_category} over {len(found.by_step)} steps", flush=True)

    largest = max(PROCESSES, key=lambda process: process.share).key
    figures = {
        "monitor_rows (all categories)": timed(db, runs, lambda s: monitor_rows(s, now=NOW)),
        "monitor_counts": timed(db, runs, lambda s: monitor_counts(s, now=NOW)),
        f"heat_map {largest}": timed(db, runs, lambda s: heat_map(s, process_key=largest, now=NOW)),
        "heat_map, every process": timed(
            db, runs, lambda s: [heat_map(s, process_key=p.key, now=NOW) for p in PROCESSES]
        ),
        f"throughput {largest} (12 months)": timed(db, runs, lambda s: throughput(s, process_key=largest, now=NOW)),
    }
    db.dispose()
    print()
    print(f"{'figure':42} result")
    for name, samples in figures.items():
        print(f"{name:42} {summary(samples)}")
    scan = sum(
        statistics.median(figures[name])
        for name in ("monitor_rows (all categories)", "monitor_counts", "heat_map, every process")
    )
    verdict = "under" if scan < 1 else "OVER"
    print(f"full scan (rows + counts + heat map of every process): {scan * 1000:.0f} ms, {verdict} the 1 s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres-url", help="use this (empty) PostgreSQL database instead of a throw-away cluster")
    args = parser.parse_args()
    gc.collect()
    gc.freeze()  # as `zvh serve` does after start-up (see engine_bench.py)
    server = None
    url = args.postgres_url
    if url is None:
        from tests.services import Postgres

        server = Postgres.start()
        url = server.create_database("zvh_monitor_bench")
    print("PostgreSQL:", flush=True)
    try:
        bench(url, instances=args.instances, runs=args.runs, seed=args.seed)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
