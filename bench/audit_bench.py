"""Answer time of the 404 for an unknown task id and the 409 of a double submit as the audit log grows.

On a throw-away SQLite database (and PostgreSQL with `--postgres`, a server started from tests/services.py):
deploy the reference workload (tests/fixtures/three-user-tasks), complete one task, then bulk-insert N audit
events for other task ids (the chain need not verify for them; no answer below reads them) and measure through
the Flask test client, for each N:

* `GET /api/v1/tasks/<unknown uuid>` — 404;
* `POST /api/v1/tasks/<completed id>/complete` — 409 (a double submit).

"before" drops `ix_audit_events_task_id` in the bench database, "after" puts it back; both in the same run.

    .venv/bin/python bench/audit_bench.py [--events 0,300000,1000000] [--rounds 50] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ZVH_INSTANCE_PATH", tempfile.mkdtemp(prefix="zvh-auditbench-"))

from sqlalchemy import insert, text  # noqa: E402

from bench.web_bench import PROCESS, deploy_workload  # noqa: E402
from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import AuditEvent  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_api_token, create_user  # noqa: E402
from web import create_app  # noqa: E402

INDEX = "ix_audit_events_task_id"
BATCH = 20_000
ACTIONS = ("complete", "read", "claim", "start", "save")


def prepare(url: str, work: Path) -> tuple[str, str]:
    """Deploy the workload, one user with a token, one completed task; the token and the completed task's id."""
    db = deploy_workload(url, work)
    runtime = Runtime()
    with db.transaction() as session:
        user = create_user(session, username="bench", display_name="Bench", roles=["melder"])
        token = create_api_token(session, user=user, name="bench", at=SYSTEM_CLOCK.now())
    with db.transaction() as session:
        outcome = runtime.start_instance(session, process_key=PROCESS, actor=user)
        done = outcome.next_tasks[0].id
        runtime.complete_task(session, task_id=done, actor=user, data={"field1": "waarde"})
    db.dispose()
    return token, done


def fill(db: Database, total: int, have: int) -> None:
    """Add audit events until there are `total` bench rows: about a fifth `complete`, all for other task ids."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(have, total, BATCH):
        rows: list[dict[str, Any]] = [
            {
                "at": at,
                "actor": "bench",
                "action": ACTIONS[n % len(ACTIONS)],
                "task_id": str(uuid.UUID(int=n + 1)),
                "summary": "bench",
                "outcome": "allowed",
            }
            for n in range(start, min(start + BATCH, total))
        ]
        with db.engine.begin() as connection:
            connection.execute(insert(AuditEvent), rows)
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def set_index(db: Database, present: bool) -> float:
    """Drop or (re)create the task_id index; the seconds it took."""
    began = time.perf_counter()
    with db.engine.begin() as connection:
        if present:
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_events (task_id)"))
        else:
            connection.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
        connection.execute(text("ANALYZE audit_events"))
    return time.perf_counter() - began


def median_ms(rounds: int, call: Callable[[], int], status: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        got = call()
        samples.append((time.perf_counter() - began) * 1000)
        assert got == status, f"expected {status}, got {got}"
    return statistics.median(samples)


def measure(url: str, token: str, done: str, rounds: int) -> tuple[float, float]:
    app = create_app({"ZVH_DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    client = app.test_client()
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    unknown = str(uuid.uuid4())

    def not_found() -> int:
        return client.get(f"/api/v1/tasks/{unknown}", headers=api).status_code

    def double_submit() -> int:
        return client.post(f"/api/v1/tasks/{done}/complete", json={"data": {"field1": "x"}}, headers=api).status_code

    not_found(), double_submit()  # warm up: compiled statements, page cache
    figures = median_ms(rounds, not_found, 404), median_ms(rounds, double_submit, 409)
    app.extensions["zvh"].db.dispose()
    return figures


def run(label: str, url: str, work: Path, sizes: list[int], rounds: int) -> list[str]:
    token, done = prepare(url, work)
    db = Database(url)
    lines, have = [], 0
    for size in sizes:
        print(f"  {label}: {size:,} audit events ...", flush=True)
        fill(db, size, have)
        have = max(have, size)
        set_index(db, present=False)
        before = measure(url, token, done, rounds)
        build = set_index(db, present=True)
        after = measure(url, token, done, rounds)
        lines.append(
            f"| {label} | {size:>9,} | {before[0]:8.2f} | {after[0]:8.2f} | {before[1]:8.2f} | {after[1]:8.2f} "
            f"| {build * 1000:8.0f} |"
        )
    db.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="0,300000,1000000", help="audit event counts, comma-separated, rising")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    sizes = [int(n) for n in args.events.split(",")]
    lines = []
    with tempfile.TemporaryDirectory(prefix="zvh-auditbench-") as tmp:
        work = Path(tmp)
        lines += run("SQLite", f"sqlite:///{work / 'bench.sqlite3'}", work, sizes, args.rounds)
        if args.postgres:
            from tests.services import Postgres

            server = Postgres.start()
            try:
                lines += run("PostgreSQL", server.create_database("zvh_auditbench"), work, sizes, args.rounds)
            finally:
                server.stop()
    print(f"\nmedian of {args.rounds} requests, Flask test client (no HTTP), ms; index build in ms")
    print("| database | events | 404 before | 404 after | 409 before | 409 after | index build |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
