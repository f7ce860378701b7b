"""Issue 16's table in one run: every figure at scale on SQLite and PostgreSQL, beside the raw SpiffWorkflow round trip.

For each database (SQLite in WAL mode; PostgreSQL a throw-away durable cluster from tests/services.py) the bench
deploys the reference workload (tests/fixtures/three-user-tasks) and a gateway loop (bench/fixtures/loop), starts
`zvh serve` on loopback and measures, over HTTP with keep-alive connections:

* complete  — complete one task (`POST /api/v1/tasks/<id>/complete`): round trip and server time (Server-Timing),
              median and p95, each completion preceded by one raw SpiffWorkflow round trip
              (bench/engine_bench.RawRoundTrip: deserialize, complete, serialize) measured in this process;
* throughput — completed tasks/s with 1 / 2 / 4 clients (bench/topology_bench.drive): SQLite against the one
              embedded `zvh serve` process, PostgreSQL against `zvh serve --workers 2` with Redis and a `zvh worker`,
              `--open-tasks` open tasks in the database;
* inbox     — `GET /api/v1/tasks` (first page, 50 rows) and the HTML inbox `GET /taken` of a user whose role sees all
              N open tasks, N grown in place; the rows are bulk-inserted into `human_tasks` with SQL (never through
              the engine) and the tables analysed after each fill; server time median;
* audit     — the 404 of an unknown task id and the 409 of a double submit as the audit log grows
              (bench/audit_bench.fill); round trip and server time median;

and in this process (`Runtime.complete_task` in `db.transaction()`):

* loop      — one completion of a 300-round gateway loop at rounds 10 / 100 / 300 (median of the rounds around each)
              and the stored workflow (`len(instances.state)`) at those rounds.

    .venv/bin/python bench/scale_bench.py [--only complete,throughput,inbox,audit,loop] [--no-postgres]
        [--rounds 100] [--inbox-sizes 1000,10000,100000,1000000] [--requests 30] [--seconds 10]
        [--open-tasks 3000] [--audit-events 0,300000,1000000] [--loop-rounds 10,100,300]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bench.audit_bench import fill as fill_audit  # noqa: E402
from bench.engine_bench import RawRoundTrip  # noqa: E402
from bench.topology_bench import Processes, drive, percentile  # noqa: E402
from bench.web_bench import PASSWORD, PROCESS, Client, deploy_workload  # noqa: E402
from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import Instance  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_api_token, create_user, get_user  # noqa: E402
from tests.services import Postgres, Redis  # noqa: E402

LOOP = ROOT / "bench" / "fixtures" / "loop"
LOOP_PROCESS = "Process_bench_loop"
PARTS = ("complete", "throughput", "inbox", "audit", "loop")
CLIENT_COUNTS = (1, 2, 4)
INBOX_ROLE = "behandelaar"
#: instances the bulk task rows point at (a real instance has one open task; the inbox never reads the instance)
SEED_INSTANCES = 300
SEED_CHUNK = 100_000
#: bulk task ids: a fixed prefix and the row number, so a fill can be grown or cut back by id range
SEED_ID = "00000000-0000-4000-8000-"
_COLUMNS = (
    "id, instance_id, element_id, name, role, scope, secret, owner_id, assignee_id, audience, form, ui_form, "
    "created_at, due_at, norm, norm_due_at, due_sort, case_number, gemeente, process_key, process_name"
)
# One row per n: created during the year before now; every third task without a deadline (due_sort = NO_DEADLINE),
# the others due from 60 days ago to 180 days ahead; the datetimes in the text form SQLAlchemy stores on SQLite.
_SQLITE_DUE = (
    "CASE WHEN n % 3 = 0 THEN NULL ELSE "
    "strftime('%Y-%m-%d %H:%M:%S', :now, printf('%+d seconds', (n * 7919) % 20736000 - 5184000)) || '.000000' END"
)
_SEED_SQLITE = f"""
WITH RECURSIVE seq(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :stop)
INSERT INTO human_tasks ({_COLUMNS})
SELECT '{SEED_ID}' || printf('%012d', n), :first_instance + n % :instances, 'Task_1', 'Form 1', '{INBOX_ROLE}', NULL,
       0, NULL, NULL, 'role:{INBOX_ROLE}', 'form1-schema.json', 'form1-uischema.json',
       strftime('%Y-%m-%d %H:%M:%S', :now, printf('-%d seconds', (n * 37) % 31536000)) || '.000000',
       {_SQLITE_DUE}, NULL, NULL, coalesce({_SQLITE_DUE}, '9999-12-31 00:00:00.000000'),
       'B-' || printf('%09d', n), NULL, '{PROCESS}', 'Three user tasks'
FROM seq
"""  # noqa: S608 - built from this module's constants, no input
_PG_DUE = (
    "CASE WHEN n % 3 = 0 THEN NULL ELSE "
    "CAST(CAST(:now AS text) || '+00' AS timestamptz) + make_interval(secs => (n::bigint * 7919) % 20736000 - 5184000)"
    " END"
)
_SEED_POSTGRES = f"""
INSERT INTO human_tasks ({_COLUMNS})
SELECT '{SEED_ID}' || lpad(n::text, 12, '0'), :first_instance + n % :instances, 'Task_1', 'Form 1', '{INBOX_ROLE}',
       NULL, false, NULL, NULL, 'role:{INBOX_ROLE}', 'form1-schema.json', 'form1-uischema.json',
       CAST(CAST(:now AS text) || '+00' AS timestamptz) - make_interval(secs => (n::bigint * 37) % 31536000),
       {_PG_DUE}, NULL, NULL, coalesce({_PG_DUE}, timestamptz '9999-12-31 00:00:00+00'),
       'B-' || lpad(n::text, 9, '0'), NULL, '{PROCESS}', 'Three user tasks'
FROM generate_series(:start, :stop - 1) AS n
"""  # noqa: S608 - built from this module's constants, no input
_CUT = text("DELETE FROM human_tasks WHERE id >= :first AND id <= :last")


def progress(message: str) -> None:
    """A progress line with the time and the machine's load (other work on the machine shows in the figures)."""
    print(f"{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:4.1f}  {message}", flush=True)


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def p95(samples: list[float]) -> float:
    return percentile(samples, 0.95)


@dataclass
class Setup:
    """What the bench created in one database: API tokens, the inbox user's token, the instances rows point at."""

    url: str
    api_token: str
    inbox_token: str
    client_tokens: list[str]
    first_instance: int
    seeded: int = 0


@dataclass
class Figures:
    """The measured figures of one database, by name (ms unless the name says otherwise)."""

    values: dict[str, str] = field(default_factory=dict)


def prepare(url: str, work: Path) -> Setup:
    """Migrate, deploy both processes, create the users and the instances the bulk task rows point at."""
    db = deploy_workload(url, work, extra=(LOOP,))
    runtime = Runtime()
    now = SYSTEM_CLOCK.now()
    with db.transaction() as session:
        api = create_user(session, username="bench", display_name="Bench", roles=["melder"])
        inbox = create_user(
            session, username="bench.inbox", display_name="Bench Inbox", roles=[INBOX_ROLE], password=PASSWORD
        )
        seeder = create_user(session, username="bench.seed", display_name="Bench Seed", roles=["melder"])
        clients = [
            create_user(session, username=f"bench.{n}", display_name=f"Bench {n}", roles=["melder"])
            for n in range(1, max(CLIENT_COUNTS) + 1)
        ]
        api_token = create_api_token(session, user=api, name="bench", at=now)
        inbox_token = create_api_token(session, user=inbox, name="bench", at=now)
        client_tokens = [create_api_token(session, user=user, name="bench", at=now) for user in clients]
    with db.transaction() as session:
        ids = [
            runtime.start_instance(session, process_key=PROCESS, actor=seeder).instance.id
            for _ in range(SEED_INSTANCES)
        ]
    db.dispose()
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise RuntimeError("the seed instances' ids are not consecutive")
    return Setup(url, api_token, inbox_token, client_tokens, first_instance=ids[0])


def seed_open_tasks(setup: Setup, count: int) -> float:
    """Make the bulk open tasks of the inbox role exactly `count` (insert or cut back), then settle; seconds taken."""
    began = time.perf_counter()
    now = SYSTEM_CLOCK.now().strftime("%Y-%m-%d %H:%M:%S")  # UTC
    db = Database(setup.url)
    statement = text(_SEED_POSTGRES if db.engine.dialect.name == "postgresql" else _SEED_SQLITE)
    if count < setup.seeded:
        with db.engine.begin() as connection:
            connection.execute(_CUT, {"first": f"{SEED_ID}{count:012d}", "last": f"{SEED_ID}{'9' * 12}"})
    for start in range(setup.seeded, count, SEED_CHUNK):
        with db.engine.begin() as connection:
            connection.execute(
                statement,
                {
                    "start": start,
                    "stop": min(start + SEED_CHUNK, count),
                    "first_instance": setup.first_instance,
                    "now": now,
                    "instances": SEED_INSTANCES,
                },
            )
        if count > SEED_CHUNK:
            progress(f"    {min(start + SEED_CHUNK, count):>9,} rows ({time.perf_counter() - began:.0f} s)")
    settle(db)
    db.dispose()
    setup.seeded = count
    return time.perf_counter() - began


def settle(db: Database) -> None:
    """The state autovacuum and a checkpoint leave after a bulk load, reached now so that background work on it does
    not land in the next figures: statistics (ANALYZE) and, on PostgreSQL, the visibility map (VACUUM) and a
    checkpoint; on SQLite the WAL folded back into the database file."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            connection.execute(text("CHECKPOINT"))
    else:
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def api_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def sign_in(client: Client, username: str) -> None:
    """Sign in through the form, as a browser does (the client keeps the session cookie)."""
    _, body, _, _ = client.request("GET", "/inloggen")
    csrf = re.search(rb'name="csrf-token" content="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    form = urlencode({"gebruikersnaam": username, "wachtwoord": PASSWORD, "csrf_token": csrf}).encode()
    status, body, _, _ = client.request(
        "POST", "/inloggen", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 302:
        raise RuntimeError(f"sign-in answered {status}: {body[:200]!r}")


def sample(
    count: int, client: Client, status: int, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[list[float], list[float]]:
    """`count` requests after one warm-up; their round trips and server times (ms)."""
    client.request(method, path, body, headers)
    round_trips, server_times = [], []
    for _ in range(count):
        got, answer, elapsed, server = client.request(method, path, body, headers)
        if got != status:
            raise RuntimeError(f"{method} {path}: expected {status}, got {got}: {answer[:200]!r}")
        round_trips.append(elapsed)
        server_times.append(server)
    return round_trips, server_times


def measure_complete(client: Client, setup: Setup, raw: RawRoundTrip, rounds: int) -> tuple[dict[str, Any], str]:
    """Start instances and complete their three tasks over the API; each completion after one raw round trip."""
    api = api_headers(setup.api_token)
    round_trips: list[float] = []
    server_times: list[float] = []
    done = ""
    for number in range(rounds + 5):  # the first five instances warm the server up
        status, body, _, _ = client.request("POST", f"/api/v1/processes/{PROCESS}/instances", b'{"data": {}}', api)
        if status != 201:
            raise RuntimeError(f"start answered {status}: {body[:200]!r}")
        task_id = json.loads(body)["next_tasks"][0]["id"]
        for name in ("field1", "field2", "field3"):
            raw.measure()  # interleaved, so both see the same machine conditions
            payload = json.dumps({"data": {name: "waarde"}}).encode()
            status, body, elapsed, server = client.request("POST", f"/api/v1/tasks/{task_id}/complete", payload, api)
            if status != 200:
                raise RuntimeError(f"complete answered {status}: {body[:200]!r}")
            if number >= 5:
                round_trips.append(elapsed)
                server_times.append(server)
            done = task_id
            following = json.loads(body)["next_tasks"]
            task_id = following[0]["id"] if following else ""
    raw_ms = [seconds * 1000 for seconds in raw.samples]
    ratio = median(round_trips) / median(raw_ms)
    figures = {
        "round trip": f"{median(round_trips):.2f} / {p95(round_trips):.2f} ms = {ratio:.1f}× raw",
        "server time": f"{median(server_times):.2f} / {p95(server_times):.2f} ms",
        "raw": f"{median(raw_ms):.3f} / {p95(raw_ms):.3f} ms",
    }
    progress(f"  complete one task: {figures}")
    return figures, done


def measure_throughput(ports: list[int], tokens: list[str], seconds: float) -> dict[str, str]:
    """Completed tasks/s and the completion round trip with 1, 2 and 4 clients."""
    rates, p50s, p95s, errors = [], [], [], 0
    for clients in CLIENT_COUNTS:
        tally, elapsed = drive(ports, tokens[:clients], seconds=seconds)
        rates.append(tally.completions / elapsed)
        p50s.append(percentile(tally.latencies, 0.5))
        p95s.append(percentile(tally.latencies, 0.95))
        errors += tally.errors
        progress(
            f"  {clients} client(s): {rates[-1]:.1f} tasks/s, p50 {p50s[-1]:.1f} ms, p95 {p95s[-1]:.1f} ms,"
            f" {tally.errors} errors"
        )
    return {
        "tasks/s": " / ".join(f"{rate:.0f}" for rate in rates) + (f" ({errors} errors)" if errors else ""),
        "p50/p95": " / ".join(f"{a:.1f}|{b:.1f}" for a, b in zip(p50s, p95s, strict=True)),
    }


def measure_inbox(port: int, setup: Setup, sizes: list[int], requests: int) -> dict[str, str]:
    """API and HTML inbox server time of the user who sees all N open tasks, for each N (grown in place)."""
    api = api_headers(setup.inbox_token)
    signed_in = Client(port)
    sign_in(signed_in, "bench.inbox")
    figures = {}
    for size in sizes:
        progress(f"  inbox: {size:,} open tasks ...")
        took = seed_open_tasks(setup, size)
        client, html = Client(port), Client(port)  # the server closes connections left idle during the fill
        html.cookies = signed_in.cookies
        status, body, _, _ = client.request("GET", "/api/v1/tasks", headers=api)
        page = json.loads(body)
        if status != 200 or len(page["tasks"]) != min(50, size):
            raise RuntimeError(f"inbox answered {status} with {len(page.get('tasks', []))} rows")
        api_trips, api_server = sample(requests, client, 200, "GET", "/api/v1/tasks", **api)
        html_trips, html_server = sample(requests, html, 200, "GET", "/taken")
        label = f"{size:,}"
        figures[f"api {label}"] = f"{median(api_server):.1f}"
        figures[f"html {label}"] = f"{median(html_server):.1f}"
        progress(
            f"    seeded in {took:.0f} s; API total {page.get('total', '—')}: server {median(api_server):.2f} ms"
            f" (round trip {median(api_trips):.2f}); HTML server {median(html_server):.2f} ms"
            f" (round trip {median(html_trips):.2f})"
        )
    return figures


def measure_audit(port: int, setup: Setup, done: str, sizes: list[int], requests: int) -> dict[str, str]:
    """The 404 of an unknown task id and the 409 of a double submit at each audit log size."""
    api = api_headers(setup.api_token)
    unknown = str(uuid.uuid4())
    payload = json.dumps({"data": {"field3": "nogmaals"}}).encode()
    db = Database(setup.url)
    figures, have = {}, 0
    for size in sizes:
        progress(f"  audit: {size:,} audit events ...")
        began = time.perf_counter()
        fill_audit(db, size, have)
        settle(db)
        have = max(have, size)
        client = Client(port)  # the server closes connections left idle during the fill
        missing = sample(requests, client, 404, "GET", f"/api/v1/tasks/{unknown}", **api)
        twice = sample(requests, client, 409, "POST", f"/api/v1/tasks/{done}/complete", payload, **api)
        label = f"{size:,}"
        figures[f"404 {label}"] = f"{median(missing[0]):.1f} ({median(missing[1]):.1f})"
        figures[f"409 {label}"] = f"{median(twice[0]):.1f} ({median(twice[1]):.1f})"
        progress(
            f"    filled in {time.perf_counter() - began:.0f} s; 404 {figures[f'404 {label}']},"
            f" 409 {figures[f'409 {label}']} ms round trip (server)"
        )
    db.dispose()
    return figures


def measure_loop(url: str, targets: list[int], window: int) -> dict[str, str]:
    """In-process completions of the gateway loop; per target round the median time and the stored state size."""
    db = Database(url)
    runtime = Runtime()
    with db.transaction() as session:
        user = get_user(session, "bench")
        outcome = runtime.start_instance(session, process_key=LOOP_PROCESS, actor=user)
    instance_id, task_id = outcome.instance.id, outcome.next_tasks[0].id
    times: dict[int, float] = {}
    sizes: dict[int, int] = {}
    last = max(targets) + window // 2
    for round_number in range(1, last + 1):
        began = time.perf_counter()
        with db.transaction() as session:
            user = get_user(session, "bench")
            outcome = runtime.complete_task(
                session, task_id=task_id, actor=user, data={"verder": "again", "bevinding": f"ronde {round_number}"}
            )
        times[round_number] = (time.perf_counter() - began) * 1000
        task_id = outcome.next_tasks[0].id
        if round_number in targets:
            with db.reader() as session:
                sizes[round_number] = session.scalar(
                    select(func.length(Instance.state)).where(Instance.id == instance_id)
                )
    with db.transaction() as session:
        outcome = runtime.complete_task(
            session, task_id=task_id, actor=get_user(session, "bench"), data={"verder": "end", "bevinding": "klaar"}
        )
    if outcome.instance.status != "completed":
        raise RuntimeError(f"the loop ended {outcome.instance.status}")
    db.dispose()
    figures = {}
    for target in targets:
        around = [times[r] for r in range(max(1, target - window // 2), target + window // 2 + 1)]
        figures[f"time {target}"] = f"{median(around):.1f}"
        figures[f"size {target}"] = f"{sizes[target] / 1000:.0f}"
    progress(f"  loop: {figures}")
    return figures


@contextmanager
def running(env: dict[str, str], work: Path, *, workers: int, worker: bool = False) -> Iterator[int]:
    """`zvh serve` (and a `zvh worker`) for the duration; the web port."""
    processes = Processes(env, work)
    try:
        if worker:
            processes.worker()
        port, _ = processes.serve(f"serve-{workers}", workers)
        yield port
    finally:
        processes.stop()


def bench_database(label: str, url: str, args: argparse.Namespace, redis: Redis | None) -> dict[str, str]:
    """Every selected figure on one database, each part against a freshly started server."""
    figures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="zvh-scalebench-") as tmp:
        work = Path(tmp)
        progress(f"{label}: preparing ...")
        setup = prepare(url, work)
        env = {**os.environ, "ZVH_DATABASE_URL": url, "ZVH_INSTANCE_PATH": str(work), "ZVH_SECRET_KEY": "bench"}
        env.pop("ZVH_REDIS_URL", None)
        done = ""
        if "complete" in args.only or "audit" in args.only:
            with running(env, work, workers=1) as port:
                rounds = args.rounds if "complete" in args.only else 1
                got, done = measure_complete(Client(port), setup, RawRoundTrip(), rounds)
            if "complete" in args.only:
                figures.update({f"complete {k}": v for k, v in got.items()})
        if "throughput" in args.only:
            seed_open_tasks(setup, args.open_tasks)
            if redis is None:
                progress(f"  throughput: one `zvh serve` process, {args.open_tasks:,} open tasks")
                server = running(env, work, workers=1)
            else:
                progress(f"  throughput: `zvh serve --workers 2` with Redis, {args.open_tasks:,} open tasks")
                server = running({**env, "ZVH_REDIS_URL": redis.url}, work, workers=2, worker=True)
            with server as port:
                got = measure_throughput([port], setup.client_tokens, args.seconds)
            figures.update({f"throughput {k}": v for k, v in got.items()})
        if "inbox" in args.only or "audit" in args.only:
            with running(env, work, workers=1) as port:
                if "inbox" in args.only:
                    got = measure_inbox(port, setup, args.inbox_sizes, args.requests)
                    figures.update({f"inbox {k}": v for k, v in got.items()})
                if "audit" in args.only:
                    got = measure_audit(port, setup, done, args.audit_events, args.requests)
                    figures.update({f"audit {k}": v for k, v in got.items()})
        if "loop" in args.only:
            figures.update({f"loop {k}": v for k, v in measure_loop(url, args.loop_rounds, args.loop_window).items()})
    return figures


def table(results: dict[str, dict[str, str]], args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """The rows of the final table: figure, SQLite, PostgreSQL, goal."""

    def cell(database: str, *keys: str, joiner: str = " / ") -> str:
        values = [results.get(database, {}).get(key) for key in keys]
        return joiner.join(value for value in values if value is not None) if any(values) else "—"

    def row(figure: str, *keys: str, goal: str = "") -> tuple[str, str, str, str]:
        return figure, cell("sqlite", *keys), cell("postgresql", *keys), goal

    sizes = [f"{n:,}" for n in args.inbox_sizes]
    events = [f"{n:,}" for n in args.audit_events]
    rounds = [str(n) for n in args.loop_rounds]
    return [
        row(
            "complete one task over HTTP, median / p95",
            "complete round trip",
            goal="≤ 4× raw (SQLite), ≤ 5× raw (PostgreSQL)",
        ),
        row("  its server time (Server-Timing), median / p95", "complete server time"),
        row("  raw SpiffWorkflow round trip, same run, median / p95", "complete raw"),
        row(
            f"API inbox server time, N = {' / '.join(sizes)}, ms",
            *(f"inbox api {n}" for n in sizes),
            goal="≤ 5 ms at 100k and 1M; 1M within 1.3× of 1k",
        ),
        row(f"HTML inbox (/taken) server time, N = {' / '.join(sizes)}, ms", *(f"inbox html {n}" for n in sizes)),
        row(
            "completed tasks/s over HTTP, 1 / 2 / 4 clients",
            "throughput tasks/s",
            goal="≥ 300/s on PostgreSQL (several web processes)",
        ),
        row("  completion p50|p95 ms, 1 / 2 / 4 clients", "throughput p50/p95"),
        row(
            f"404 unknown task id, {' / '.join(events)} audit events, ms (server)",
            *(f"audit 404 {n}" for n in events),
            goal="flat",
        ),
        row(
            f"409 double submit, {' / '.join(events)} audit events, ms (server)",
            *(f"audit 409 {n}" for n in events),
            goal="flat",
        ),
        row(
            f"loop: one completion at round {' / '.join(rounds)}, ms",
            *(f"loop time {n}" for n in rounds),
            goal=f"round {rounds[-1]} within 2× of round {rounds[0]}",
        ),
        row(f"loop: stored state at round {' / '.join(rounds)}, KB", *(f"loop size {n}" for n in rounds)),
    ]


def numbers(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=100, help="instances (3 completions each) for `complete`")
    parser.add_argument("--inbox-sizes", type=numbers, default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=30, help="requests per inbox/audit figure")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    parser.add_argument("--open-tasks", type=int, default=3_000, help="open tasks during the throughput runs")
    parser.add_argument("--audit-events", type=numbers, default=[0, 300_000, 1_000_000])
    parser.add_argument("--loop-rounds", type=numbers, default=[10, 100, 300])
    parser.add_argument("--loop-window", type=int, default=5, help="rounds around each loop target in its median")
    args = parser.parse_args()
    args.only = [part for part in args.only.split(",") if part]
    if unknown := set(args.only) - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")

    gc.collect()
    gc.freeze()  # as `zvh serve` does after start-up: the raw round trip and the loop run in this process
    began = time.perf_counter()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="zvh-scalebench-") as tmp:
        results["sqlite"] = bench_database("SQLite (WAL)", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args, None)
    if not args.no_postgres:
        postgres = Postgres.start(durable=True)
        try:
            redis = Redis.start() if "throughput" in args.only else None
            try:
                results["postgresql"] = bench_database(
                    "PostgreSQL (durable)", postgres.create_database("zvh_scalebench"), args, redis
                )
            finally:
                if redis is not None:
                    redis.stop()
        finally:
            postgres.stop()
    rows = table(results, args)
    widths = [max(len(row[i]) for row in [("figure", "SQLite", "PostgreSQL", "goal"), *rows]) for i in range(4)]
    print(f"\nissue 16 figures ({time.perf_counter() - began:.0f} s; ms unless stated; audit: round trip (server))")
    for row in [("figure", "SQLite", "PostgreSQL", "goal"), tuple("-" * w for w in widths), *rows]:
        print(" | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
