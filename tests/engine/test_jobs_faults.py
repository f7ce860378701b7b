"""Background work under faults: real `zvh worker` and `zvh beat` processes, a real Redis and PostgreSQL on loopback.

Every wait polls a condition (a row in the database, a line in a log, a result in Redis) with a deadline; where a
job must be caught in the middle, the test holds a lock on the audit log so the job stops just before it records.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from engine import notifications
from engine.cli import main
from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.inbox import InboxRow, list_tasks
from engine.jobs import EmbeddedJobLoop, JobTiming, make_celery
from engine.models import AuditEvent
from engine.runtime import Runtime
from engine.timers import due_instances
from engine.users import create_user, get_user
from tests.conftest import UserFactory, _truncate_all
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import deploy, start
from tests.engine.test_timers import boundary, deadline_process
from tests.services import Redis, _wait_until
from tests.web.conftest import login
from tests.web.helpers import open_task_id, page_token
from web import create_app

ZVH = str(Path(sys.executable).with_name("zvh"))
PASSWORD = "test-wachtwoord-123"
ESCALATION = "Escaleer te late terugkoppeling"
#: How long Redis stays down: long enough for the worker to notice and for the deadlines below to pass meanwhile.
OUTAGE_SECONDS = 8
DEADLINE_SECONDS = 3


@dataclass
class Started:
    """One `zvh worker` or `zvh beat` process and the log it writes."""

    popen: subprocess.Popen[bytes]
    log: Path
    ready_line: str

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def ready(self) -> bool:
        return self.ready_line in self.log_text()


@dataclass
class Background:
    """The background processes of one test; whatever still runs when the test ends gets a warm shutdown."""

    env: dict[str, str]
    folder: Path
    redis_url: str
    started: list[Started] = field(default_factory=list)

    def worker(self, name: str) -> Started:
        """A worker running one job at a time (the solo pool, so SIGKILL takes the job down with it)."""
        options = ["--concurrency", "1", "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        return self._start(name, "ready.", ["worker", *options, f"--hostname={name}@%h"])

    def beat(self) -> Started:
        """Beat with one schedule file per test, so a restarted beat knows when it last queued each job."""
        return self._start("beat", "beat: Starting...", ["beat", "--schedule", str(self.folder / "beat-schedule")])

    def _start(self, name: str, ready_line: str, command: list[str]) -> Started:
        log = self.folder / f"{name}-{len(self.started)}.log"
        with (self.folder / f"{name}.out").open("ab") as out:
            popen = subprocess.Popen([ZVH, *command, f"--logfile={log}"], env=self.env, stdout=out, stderr=out)
        self.started.append(Started(popen, log, ready_line))
        return self.started[-1]

    def client(self) -> Celery:
        """A Celery client in the test process, to send jobs and read their results."""
        settings = Settings(
            database_url=self.env["ZVH_DATABASE_URL"], redis_url=self.redis_url, instance_path=self.folder
        )
        return make_celery(settings)

    def stop(self, *processes: Started) -> None:
        """A warm shutdown (SIGTERM), all at once; a kill for whatever has not stopped after 30 s."""
        for started in processes:
            started.popen.terminate()
        for started in processes:
            try:
                started.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.popen.kill()
                started.popen.wait()


def wait_ready(*processes: Started) -> None:
    _wait_until(lambda: all(p.ready() for p in processes), "zvh worker/beat", timeout=60)


@pytest.fixture
def pg(postgres_database: str) -> Iterator[Database]:
    _truncate_all(postgres_database)
    database = Database(postgres_database)
    yield database
    database.dispose()


@pytest.fixture
def broker() -> Iterator[Redis]:
    """A Redis server of this test alone, which the test may stop and start again."""
    server = Redis.start()
    yield server
    server.stop()


@pytest.fixture
def background(postgres_database: str, broker: Redis, tmp_path: Path) -> Iterator[Background]:
    env = {
        **os.environ,
        "ZVH_DATABASE_URL": postgres_database,
        "ZVH_REDIS_URL": broker.url,
        "ZVH_INSTANCE_PATH": str(tmp_path),
        "ZVH_TIMER_INTERVAL": "1",
    }
    jobs = Background(env=env, folder=tmp_path, redis_url=broker.url)
    yield jobs
    jobs.stop(*jobs.started)


@pytest.fixture
def people(pg: Database) -> None:
    with pg.transaction() as session:
        create_user(session, username="sven", display_name="Sven", roles=["screener"], password=PASSWORD)
        create_user(session, username="mariska", display_name="Mariska", roles=["manager"], password=PASSWORD)


@pytest.fixture
def forms(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    folder.mkdir()
    write(folder, "deadline.json", {"type": "object", "properties": {}})
    return folder


def manager_inbox(db: Database) -> list[InboxRow]:
    with db.reader() as session:
        return list(list_tasks(session, user=get_user(session, "mariska")).tasks)


def timer_events(db: Database) -> int:
    with db.reader() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer")) or 0


def overdue_instance(db: Database) -> int:
    """An instance whose five-day deadline passed a day ago."""
    six_days_ago = Runtime(clock=FixedClock(datetime.now(UTC) - timedelta(days=6)))
    with db.reader() as session:
        sven = get_user(session, "sven")
    return int(start(db, six_days_ago, "deadline", sven).instance.id)


@contextmanager
def audit_log_locked(db: Database) -> Iterator[None]:
    """Make every append to the audit log wait: a job firing a timer stops there, inside its transaction."""
    with db.engine.connect() as connection, connection.begin():
        connection.execute(text("LOCK TABLE audit_events IN SHARE MODE"))
        yield


def waiting_to_record(db: Database) -> list[int]:
    """PostgreSQL server processes whose transaction waits to append to the audit log."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit_events%'"
    )
    with db.engine.connect() as connection:
        return list(connection.scalars(query))


def server_process_alive(db: Database, pid: int) -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}))


def intake_process(timer: str) -> str:
    """Take in a referral, then report back within `timer`, or the manager is asked to step in."""
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T0", "Neem de melding op")
        + user_task("T1", "Koppel terug aan melder", "deadline")
        + boundary("Late", "T1", timer, interrupting=False)
        + user_task("Esc", ESCALATION)
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F0", "S", "T0")
        + flow("F1", "T0", "T1")
        + flow("F2", "T1", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    lanes = {"Screener": ["S", "T0", "T1", "E1"], "Manager": ["Esc", "E2"]}
    return process(body, process_id="intake", lanes=lanes)


def sign_in(client: FlaskClient, username: str) -> int:
    token = page_token(client, "/inloggen")
    response = client.post("/inloggen", data={"gebruikersnaam": username, "wachtwoord": PASSWORD, "csrf_token": token})
    return response.status_code


def complete_over_http(client: FlaskClient, task_id: str) -> list[int]:
    page = client.get(f"/taken/{task_id}")
    token = page_token(client, f"/taken/{task_id}")
    done = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden"})
    return [page.status_code, done.status_code]


@pytest.mark.postgres
@pytest.mark.celery
def test_worker__a_two_second_deadline_escalates_to_the_manager(
    pg: Database, background: Background, people: None, forms: Path
) -> None:
    deploy(pg, write(forms, "d.bpmn", deadline_process('"PT2S"')))
    wait_ready(background.worker("a"), background.beat())
    with pg.reader() as session:
        sven = get_user(session, "sven")
    instance_id = start(pg, Runtime(), "deadline", sven).instance.id

    _wait_until(lambda: manager_inbox(pg), "the escalation in the manager's inbox", timeout=30)

    assert [(t.instance_id, t.name) for t in manager_inbox(pg)] == [(instance_id, ESCALATION)]
    assert timer_events(pg) == 1


@pytest.mark.postgres
@pytest.mark.celery
def test_beat__a_timer_due_while_beat_was_down_fires_on_its_next_run(
    pg: Database, background: Background, people: None, forms: Path
) -> None:
    deploy(pg, write(forms, "d.bpmn", deadline_process('"PT1S"')))
    worker, beat = background.worker("a"), background.beat()
    wait_ready(worker, beat)
    _wait_until(lambda: "zvh.dispatch_due_timers" in worker.log_text(), "beat's first scan")
    background.stop(beat)
    with pg.reader() as session:
        sven = get_user(session, "sven")
    started = start(pg, Runtime(), "deadline", sven).instance
    due = started.next_timer_due_at
    assert due is not None

    _wait_until(lambda: datetime.now(UTC) > due, "the deadline to pass", timeout=10)
    with pg.reader() as session:
        assert due_instances(session, datetime.now(UTC)) == [started.id], "due, and nobody fired it"
    wait_ready(background.beat())
    _wait_until(lambda: manager_inbox(pg), "the escalation after beat's return", timeout=30)

    assert timer_events(pg) == 1


@pytest.mark.postgres
@pytest.mark.celery
def test_workers__two_workers_fire_one_due_timer_once(
    pg: Database, background: Background, people: None, forms: Path
) -> None:
    deploy(pg, write(forms, "d.bpmn", deadline_process('"P5D"')))
    instance_id = overdue_instance(pg)
    workers = background.worker("a"), background.worker("b")
    wait_ready(*workers)
    client = background.client()

    with audit_log_locked(pg):
        first = client.send_task("zvh.fire_timers_of_instance", args=[instance_id])
        _wait_until(lambda: waiting_to_record(pg), "one worker in the middle of firing the timer")
        second = client.send_task("zvh.fire_timers_of_instance", args=[instance_id])
        # The other worker finds the instance locked and skips it, rather than waiting to fire it again.
        assert second.get(timeout=30) == []
    assert first.get(timeout=30) == ["Late"]
    assert client.send_task("zvh.fire_timers_of_instance", args=[instance_id]).get(timeout=30) == []
    client.close()

    assert timer_events(pg) == 1
    assert len(manager_inbox(pg)) == 1
    ran_first = [w for w in workers if first.id in w.log_text()]
    ran_second = [w for w in workers if second.id in w.log_text()]
    assert len(ran_first) == len(ran_second) == 1 and ran_first != ran_second


@pytest.mark.postgres
@pytest.mark.celery
def test_worker__a_job_of_a_killed_worker_runs_again_elsewhere_with_one_effect(
    pg: Database, broker: Redis, background: Background, people: None, forms: Path
) -> None:
    background.env["ZVH_JOB_VISIBILITY_TIMEOUT"] = "2"
    deploy(pg, write(forms, "d.bpmn", deadline_process('"P5D"')))
    instance_id = overdue_instance(pg)
    first = background.worker("first")
    wait_ready(first)
    client = background.client()

    with audit_log_locked(pg):
        job = client.send_task("zvh.fire_timers_of_instance", args=[instance_id])
        _wait_until(lambda: waiting_to_record(pg), "the worker in the middle of firing the timer")
        [server_pid] = waiting_to_record(pg)
        first.popen.send_signal(signal.SIGKILL)
        first.popen.wait()
    # PostgreSQL rolls the killed worker's transaction back once it reads the closed connection.
    _wait_until(lambda: not server_process_alive(pg, server_pid), "the killed worker's transaction to end")
    assert timer_events(pg) == 0
    second = background.worker("second")
    wait_ready(second)

    assert job.get(timeout=60) == ["Late"]
    client.close()
    assert job.id in second.log_text()
    assert timer_events(pg) == 1
    assert len(manager_inbox(pg)) == 1
    with redis.Redis(host="127.0.0.1", port=broker.port) as queue:
        assert queue.hlen("unacked") == 0, "no copy of the job is left to run again"


@pytest.mark.postgres
@pytest.mark.celery
def test_redis_outage__users_keep_working_and_the_timers_due_meanwhile_fire_when_it_returns(
    pg: Database,
    broker: Redis,
    background: Background,
    people: None,
    forms: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deploy(pg, write(forms, "intake.bpmn", intake_process(f'"PT{DEADLINE_SECONDS}S"')))
    with pg.reader() as session:
        sven = get_user(session, "sven")
    instances = [start(pg, Runtime(), "intake", sven).instance.id for _ in range(3)]
    worker = background.worker("a")
    wait_ready(worker, background.beat())
    _wait_until(lambda: "zvh.dispatch_due_timers" in worker.log_text(), "beat and the worker at work")
    monkeypatch.setenv("ZVH_DATABASE_URL", background.env["ZVH_DATABASE_URL"])
    monkeypatch.setenv("ZVH_REDIS_URL", broker.url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret"})
    assert app.config["RATELIMIT_STORAGE_URI"] == broker.url

    broker.halt()
    back_at = time.monotonic() + OUTAGE_SECONDS
    _wait_until(lambda: "Connection to broker lost" in worker.log_text(), "the worker to notice the outage")
    client = app.test_client()
    statuses = [sign_in(client, "sven")]
    for instance_id in instances:
        statuses += complete_over_http(client, open_task_id(app, instance_id, "T0"))
    # Each completion opened a task with a three-second deadline, which passes while Redis is still down.
    back_at = max(back_at, time.monotonic() + DEADLINE_SECONDS + 0.5)
    _wait_until(lambda: time.monotonic() >= back_at, "the end of the outage", timeout=OUTAGE_SECONDS + 10)
    statuses += [client.get("/taken").status_code, client.get(f"/taken/{open_task_id(app, instances[0])}").status_code]
    assert all(200 <= status < 400 for status in statuses), statuses
    with pg.reader() as session:
        assert sorted(due_instances(session, datetime.now(UTC))) == sorted(instances)
    assert timer_events(pg) == 0
    broker.restart()

    _wait_until(lambda: len(manager_inbox(pg)) == 3, "the missed deadlines to fire", timeout=60)
    assert sorted(t.instance_id for t in manager_inbox(pg)) == sorted(instances)
    assert timer_events(pg) == 3
    manager = app.test_client()
    login(manager, "mariska")  # a manager sets up her authenticator app on the way in
    assert client.get("/taken").status_code == 200
    assert ESCALATION in manager.get("/taken").get_data(as_text=True)
    app.extensions["zvh"].db.dispose()


def test_zvh_worker_and_beat__refuse_to_start_without_redis(tmp_path: Path) -> None:
    env = {"ZVH_REDIS_URL": "", "ZVH_DATABASE_URL": f"sqlite:///{tmp_path / 'zvh.sqlite3'}"}
    for command in ("worker", "beat"):
        result = CliRunner().invoke(main, [command], env=env)
        assert result.exit_code == 1
        assert f"zvh {command} needs Redis: set ZVH_REDIS_URL" in result.output


def test_celery__jobs_are_acknowledged_after_they_ran_and_handed_out_again_when_their_worker_dies() -> None:
    settings = Settings(database_url="sqlite://", redis_url="redis://127.0.0.1:1/0", instance_path=Path("."))
    conf = make_celery(settings, JobTiming(timer_interval=1.0, visibility_timeout=7)).conf

    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.broker_transport_options["visibility_timeout"] == 7
    assert conf.beat_schedule["dispatch-due-timers"]["schedule"] == 1.0
    assert conf.beat_schedule["run-notification-jobs"]["task"] == "zvh.run_notification_jobs"


def test_embedded_loop__one_round_fires_due_timers_and_runs_the_notification_jobs(
    database_url: str, db: Database, make_user: UserFactory, forms: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(db, write(forms, "d.bpmn", deadline_process('"P5D"')))
    make_user("sven", "screener")
    instance_id = overdue_instance(db)
    settings = Settings(database_url=database_url, redis_url=None, instance_path=forms)
    runs: list[tuple[Database, Settings, datetime]] = []
    monkeypatch.setattr(notifications, "run_notification_jobs", lambda d, s, *, now: runs.append((d, s, now)))

    EmbeddedJobLoop(db, Runtime(), settings).run_once()

    with db.reader() as session:
        assert due_instances(session, datetime.now(UTC)) == []
    assert timer_events(db) == 1, f"instance {instance_id} fired its deadline"
    assert [(d, s) for d, s, _ in runs] == [(db, settings)]
