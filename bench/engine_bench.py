"""Engine figures for the reference workload (tests/fixtures/three-user-tasks: start + 3 user tasks).

Prints medians and p95 of start-to-first-task, complete-one-task and the inbox listing with 10,000 open tasks,
on SQLite and on PostgreSQL (a throw-away cluster with fsync on, unless --postgres-url is given), next to the
raw SpiffWorkflow in-memory round trip (deserialize -> complete -> serialize) measured in the same run.

    .venv/bin/python bench/engine_bench.py [--rounds 300] [--open-tasks 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.db import Database  # noqa: E402
from engine.inbox import list_tasks  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.models import User  # noqa: E402
from engine.registry import deploy_file  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_user  # noqa: E402

WORKLOAD = ROOT / "tests" / "fixtures" / "three-user-tasks"
PROCESS = "Process_three_user_tasks"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms   (n={len(ordered)})"


def timed(action: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


class RawRoundTrip:
    """Plain SpiffWorkflow: deserialize -> complete one task -> serialize, spec embedded (the library default)."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(WORKLOAD / "three_user_tasks.bpmn"))
        self.spec, self.subprocess_specs = parser.get_spec(PROCESS), parser.get_subprocess_specs(PROCESS)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.samples: list[float] = []

    def measure(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.do_engine_steps()
        state = self.serializer.serialize_json(workflow)
        began = time.perf_counter()
        restored = self.serializer.deserialize_json(state)
        task = restored.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(field1="waarde")
        task.run()
        restored.do_engine_steps()
        self.serializer.serialize_json(restored)
        self.samples.append(time.perf_counter() - began)


def bench_database(url: str, raw: RawRoundTrip, *, rounds: int, open_tasks: int, work: Path) -> dict[str, list[float]]:
    upgrade_to_head(url)
    db = Database(url)
    runtime = Runtime()
    for item in WORKLOAD.iterdir():
        shutil.copy(item, work / item.name)
    with db.transaction() as session:
        deploy_file(session, work / "three_user_tasks.bpmn", actor="bench")
        users = [
            create_user(session, username=f"bench{i}", display_name=f"Bench {i}", roles=["melder"]) for i in range(10)
        ]
    figures: dict[str, list[float]] = {"start-to-first-task": [], "complete-one-task": []}

    def start(user: User) -> str:
        with db.transaction() as session:
            return runtime.start_instance(session, process_key=PROCESS, actor=user).next_tasks[0].id

    def complete(task_id: str, user: User, field: str) -> str | None:
        with db.transaction() as session:
            outcome = runtime.complete_task(session, task_id=task_id, actor=user, data={field: "waarde"})
            return outcome.next_tasks[0].id if outcome.next_tasks else None

    for _ in range(rounds):
        elapsed, task_id = timed(lambda: start(users[0]))
        figures["start-to-first-task"].append(elapsed)
        for field in ("field1", "field2", "field3"):
            assert task_id is not None
            raw.measure()  # interleaved, so both figures see the same machine conditions
            elapsed, task_id = timed(lambda t=task_id, f=field: complete(t, users[0], f))
            figures["complete-one-task"].append(elapsed)

    print(f"  filling the inbox projection with {open_tasks} open tasks ...", flush=True)
    batch = 250
    for offset in range(0, open_tasks, batch):
        with db.transaction() as session:
            for index in range(offset, min(offset + batch, open_tasks)):
                runtime.start_instance(session, process_key=PROCESS, actor=users[index % len(users)])
    with db.transaction() as session:  # statistics as autovacuum/autoanalyze would have them after a bulk load
        session.execute(text("ANALYZE"))
    listing: list[float] = []
    for _ in range(200):
        with db.reader() as session:
            listing.append(timed(lambda s=session: list_tasks(s, user=users[1], limit=50))[0])
    with db.reader() as session:
        page = list_tasks(session, user=users[1], limit=50)
    print(f"  inbox of bench1: {len(page.tasks)} rows of {page.total} visible (of {open_tasks} open in total)")
    figures[f"inbox listing, {open_tasks} open tasks"] = listing
    db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300, help="instances run start-to-end per database")
    parser.add_argument("--open-tasks", type=int, default=10_000)
    parser.add_argument("--postgres-url", help="use this PostgreSQL database instead of a throw-away cluster")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    # Long-lived objects from imports (SQLAlchemy mappers, parsed specs) are frozen out of the cyclic GC, as
    # `zvh serve` does after start-up, so collections do not rescan them during every measured call.
    gc.collect()
    gc.freeze()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="zvh-bench-") as tmp:
        work = Path(tmp)
        print("SQLite (WAL, synchronous=NORMAL):", flush=True)
        raws = {"sqlite": RawRoundTrip(), "postgresql": RawRoundTrip()}
        results["sqlite"] = bench_database(
            f"sqlite:///{work / 'bench.sqlite3'}",
            raws["sqlite"],
            rounds=args.rounds,
            open_tasks=args.open_tasks,
            work=work,
        )
        if not args.no_postgres:
            server = None
            url = args.postgres_url
            if url is None:
                from tests.services import Postgres

                server = Postgres.start(durable=True)
                url = server.create_database("zvh_bench")
            print("PostgreSQL (fsync on):", flush=True)
            try:
                results["postgresql"] = bench_database(
                    url, raws["postgresql"], rounds=args.rounds, open_tasks=args.open_tasks, work=work
                )
            finally:
                if server is not None:
                    server.stop()
    print()
    print(f"{'figure':46} {'database':11} result")
    for database, figures in results.items():
        print(f"{'raw SpiffWorkflow round trip (same run)':46} {database:11} {summary(raws[database].samples)}")
        for figure, samples in figures.items():
            print(f"{figure:46} {database:11} {summary(samples)}")
    for database, figures in results.items():
        ratio = statistics.median(figures["complete-one-task"]) / statistics.median(raws[database].samples)
        print(f"complete-one-task / raw round trip on {database}: {ratio:.1f}x (target on SQLite: <= 4x)")
    for database, figures in results.items():
        key = next(k for k in figures if k.startswith("inbox"))
        print(f"inbox listing median on {database}: {statistics.median(figures[key]) * 1000:.2f} ms (target <= 5 ms)")


if __name__ == "__main__":
    main()
