"""Where the time of one task completion goes: HTTP, auth, engine, serialization, SQL, commit and the rest.

The reference workload (tests/fixtures/three-user-tasks) on a throw-away SQLite database and on a durable
PostgreSQL (a throw-away cluster, fsync on). For each database:

* over HTTP (`zvh serve`, one process, loopback, keep-alive): the round trip of `POST /api/v1/tasks/<id>/complete`
  and the server time the app reports (Server-Timing) — their difference is HTTP and the WSGI server;
* in process (the Flask test client, the same app and request): the server time split by timing the functions
  that do each part — the token check (auth), `Runtime.run_engine` (SpiffWorkflow running the step and the engine
  steps after it), `restore_workflow` + `dump_workflow` (serialization), the database's time per statement
  (SQL, from SQLAlchemy's cursor events, COMMIT excluded) and the COMMIT itself — and the rest (routing, form
  validation, building the projection, audit and ORM work in Python).

The raw SpiffWorkflow round trip (deserialize → complete → serialize, bench/engine_bench.py) is measured in the
same run as the reference.

    .venv/bin/python bench/completion_split.py [--rounds 300] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ZVH_INSTANCE_PATH", tempfile.mkdtemp(prefix="zvh-split-"))

from sqlalchemy import event  # noqa: E402

import engine.runtime  # noqa: E402
import web.api.routes  # noqa: E402
from bench.engine_bench import RawRoundTrip  # noqa: E402
from bench.scale_bench import running  # noqa: E402
from bench.web_bench import PROCESS, Client, deploy_workload  # noqa: E402
from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.users import create_api_token, create_user  # noqa: E402
from web import create_app  # noqa: E402

PARTS = ("auth", "engine", "serialization", "SQL", "commit")


class Split:
    """Seconds spent per part during the current request."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.statements = 0

    def timed(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[part] += time.perf_counter() - began

        return wrapper


@contextmanager
def instrumented(split: Split, db_engine: Any) -> Iterator[None]:
    """Time the token check, the engine run, (de)serialization, every statement and the COMMIT."""
    saved = (
        web.api.routes.token_holder,
        engine.runtime.restore_workflow,
        engine.runtime.dump_workflow,
        engine.runtime.Runtime.run_engine,
        db_engine.dialect.do_commit,
    )
    web.api.routes.token_holder = split.timed("auth", saved[0])
    engine.runtime.restore_workflow = split.timed("serialization", saved[1])
    engine.runtime.dump_workflow = split.timed("serialization", saved[2])
    engine.runtime.Runtime.run_engine = staticmethod(split.timed("engine", saved[3]))  # type: ignore[method-assign]
    db_engine.dialect.do_commit = split.timed("commit", saved[4])
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(*_: Any) -> None:
        split.spent["SQL"] += time.perf_counter() - started.pop()
        split.statements += 1

    event.listen(db_engine, "before_cursor_execute", before)
    event.listen(db_engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(db_engine, "before_cursor_execute", before)
        event.remove(db_engine, "after_cursor_execute", after)
        web.api.routes.token_holder = saved[0]
        engine.runtime.restore_workflow, engine.runtime.dump_workflow = saved[1], saved[2]
        engine.runtime.Runtime.run_engine = staticmethod(saved[3])  # type: ignore[method-assign]
        db_engine.dialect.do_commit = saved[4]


def prepare(url: str, work: Path) -> str:
    db = deploy_workload(url, work)
    with db.transaction() as session:
        user = create_user(session, username="bench", display_name="Bench", roles=["melder"])
        token = create_api_token(session, user=user, name="bench", at=SYSTEM_CLOCK.now())
    db.dispose()
    return token


def complete_all(request: Callable[[str, str, bytes], tuple[int, bytes]], rounds: int) -> None:
    """Start `rounds` instances and complete their three tasks."""
    for _ in range(rounds):
        status, body = request("POST", f"/api/v1/processes/{PROCESS}/instances", b'{"data": {}}')
        assert status == 201, body[:300]
        task_id = json.loads(body)["next_tasks"][0]["id"]
        for field in ("field1", "field2", "field3"):
            status, body = request(
                "POST", f"/api/v1/tasks/{task_id}/complete", json.dumps({"data": {field: "w"}}).encode()
            )
            assert status == 200, body[:300]
            following = json.loads(body)["next_tasks"]
            task_id = following[0]["id"] if following else ""


def over_http(url: str, work: Path, token: str, rounds: int) -> tuple[list[float], list[float]]:
    env = {**os.environ, "ZVH_DATABASE_URL": url, "ZVH_INSTANCE_PATH": str(work), "ZVH_SECRET_KEY": "bench"}
    env.pop("ZVH_REDIS_URL", None)
    round_trips: list[float] = []
    server_times: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with running(env, work, workers=1) as port:
        client = Client(port)

        def request(method: str, path: str, body: bytes) -> tuple[int, bytes]:
            status, data, elapsed, server_ms = client.request(method, path, body, headers)
            if "/complete" in path:
                round_trips.append(elapsed)
                server_times.append(server_ms)
            return status, data

        complete_all(request, rounds)
    return round_trips, server_times


def in_process(url: str, token: str, rounds: int) -> tuple[list[float], dict[str, list[float]], int]:
    app = create_app({"ZVH_DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    split = Split()
    totals: list[float] = []
    parts: dict[str, list[float]] = {part: [] for part in PARTS}
    statements = 0

    def request(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        nonlocal statements
        split.spent.clear()
        split.statements = 0
        began = time.perf_counter()
        response = client.open(path, method=method, data=body, headers=headers)
        elapsed = time.perf_counter() - began
        if "/complete" in path:
            totals.append(elapsed * 1000)
            for part in PARTS:
                parts[part].append(split.spent[part] * 1000)
            statements = split.statements
        return response.status_code, response.get_data()

    with instrumented(split, app.extensions["zvh"].db.engine):
        complete_all(request, rounds)
    return totals, parts, statements


def measure(name: str, url: str, work: Path, rounds: int, raw: RawRoundTrip) -> None:
    token = prepare(url, work)
    round_trips, server_times = over_http(url, work, token, rounds)
    totals, parts, statements = in_process(url, token, rounds)
    for _ in range(rounds):
        raw.measure()
    median = statistics.median
    raw_ms = median(raw.samples) * 1000
    trip, served, whole = median(round_trips), median(server_times), median(totals)
    print(f"\n{name}: complete one task, medians of {len(totals)} completions")
    print(f"  over HTTP: round trip {trip:.2f} ms = {trip / raw_ms:.1f}× the raw round trip ({raw_ms:.2f} ms)")
    print(f"  {'HTTP + WSGI server':24} {trip - served:6.2f} ms   (round trip − Server-Timing {served:.2f} ms)")
    print(f"  in process (test client) {whole:6.2f} ms, {statements} statements, of which:")
    named = 0.0
    for part in PARTS:
        value = median(parts[part])
        named += value
        print(f"    {part:22} {value:6.2f} ms")
    print(f"    {'rest (Flask, forms, projection, audit, ORM)':22} {whole - named:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zvh-split-") as tmp:
        work = Path(tmp)
        measure("SQLite", f"sqlite:///{work / 'split.sqlite3'}", work, args.rounds, RawRoundTrip())
        if not args.no_postgres:
            from tests.services import Postgres

            server = Postgres.start(durable=True)
            try:
                measure("PostgreSQL (durable)", server.create_database("split"), work, args.rounds, RawRoundTrip())
            finally:
                server.stop()


if __name__ == "__main__":
    main()
