"""Structured logs: JSON lines for every library's records, no values in them, and a request id that follows a
request into the jobs it queues (in-process, and once through a real worker)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from engine import jobs
from engine.audit import AccessContext, access, current_access, events_for_instance
from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.jobs import QUEUE_AHEAD, fire_timers_of_instance, make_celery, queue_due_timers
from engine.models import Instance
from engine.ops.logs import configure_logging
from engine.runtime import Runtime
from engine.users import create_user
from tests.conftest import _truncate_all
from tests.engine.bpmn import write
from tests.engine.test_runtime import deploy, open_tasks, start
from tests.engine.test_timers import deadline_process
from tests.services import Redis, _wait_until

ZVH = str(Path(sys.executable).with_name("zvh"))
#: An invented person: none of this may ever reach a log line.
NAME, BSN, EMAIL = "Fenna Fictief", "111222333", "fenna.fictief@example.org"


@contextmanager
def captured_logs(level: str = "DEBUG", fmt: str = "json") -> Iterator[io.StringIO]:
    """What the configured logging writes, for the length of the block; the root logger as it was afterwards."""
    root = logging.getLogger()
    previous_level, previous_handlers = root.level, root.handlers[:]
    stream = io.StringIO()
    configure_logging(fmt, level, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = previous_handlers
        root.setLevel(previous_level)


def json_lines(stream: io.StringIO | str) -> list[dict[str, Any]]:
    """Every line as a JSON object (fails on a line that is not one)."""
    output = stream if isinstance(stream, str) else stream.getvalue()
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_configure_logging__twice_still_writes_each_record_once_as_json_with_only_whitelisted_fields() -> None:
    with captured_logs("INFO") as stream, access(AccessContext(request_id="req-0123456789")):
        configure_logging(level="INFO", stream=stream)
        logging.getLogger("celery.worker.strategy").info(
            "Task %s received", "zvh.fire_timers_of_instance", extra={"instance_id": 7, "naam": NAME}
        )
        logging.getLogger("kombu").debug("below the level")
        logging.getLogger("werkzeug").info("127.0.0.1 - GET /zaken?naam=Fenna HTTP/1.1 200")

    [line] = json_lines(stream)
    assert line["event"] == "Task zvh.fire_timers_of_instance received"
    assert line["level"] == "info" and line["logger"] == "celery.worker.strategy"
    assert line["request_id"] == "req-0123456789" and line["instance_id"] == 7
    assert "naam" not in line, "only whitelisted extra fields are written"
    assert datetime.fromisoformat(line["ts"]).utcoffset() == timedelta(0)


def test_text_format__the_same_content_as_a_readable_line_and_an_unknown_format_is_refused() -> None:
    with captured_logs("INFO", "text") as stream, access(AccessContext(request_id="req-text-000001")):
        logging.getLogger("engine.jobs").info("job ended", extra={"job": "zvh.plan_overleggen", "outcome": "success"})

    output = stream.getvalue()
    assert output.count("\n") == 1 and not output.startswith("{")
    assert "job ended" in output and "job=zvh.plan_overleggen" in output and "request_id=req-text-000001" in output
    with pytest.raises(ValueError, match="ZVH_LOG_FORMAT"):
        configure_logging("xml")


def test_exception__logged_as_type_and_stack_without_the_values_its_message_repeats() -> None:
    schema = {"type": "object", "properties": {"bsn": {"type": "string", "maxLength": 3}}}

    def validate_form() -> None:
        try:
            jsonschema.validate({"bsn": BSN, "email": EMAIL}, schema)
        except jsonschema.ValidationError as error:
            raise RuntimeError(f"form of {NAME} refused") from error

    with captured_logs() as stream:
        try:
            validate_form()
        except RuntimeError as error:
            logging.getLogger("engine.test").exception("validation failed: %s", error)

    [line] = json_lines(stream)
    assert line["event"] == "validation failed: RuntimeError"
    assert line["exc_type"] == "RuntimeError"
    assert "in validate_form" in line["stack"] and "jsonschema.exceptions.ValidationError" in line["stack"]
    assert not any(value in stream.getvalue() for value in (NAME, BSN, EMAIL))


def test_database_error__never_quotes_the_values_of_the_statement(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'values.sqlite3'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE person (bsn TEXT UNIQUE)"))
        session.execute(text("INSERT INTO person VALUES (:bsn)"), {"bsn": BSN})
    with pytest.raises(IntegrityError) as raised, database.transaction() as session:
        session.execute(text("INSERT INTO person VALUES (:bsn)"), {"bsn": BSN})
    database.dispose()

    assert "UNIQUE" in str(raised.value) and BSN not in str(raised.value)


@pytest.fixture
def job_database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A database the in-process jobs use (they build their services from the environment)."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    (tmp_path / "jobs.sqlite3").write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ZVH_DATABASE_URL", url)
    jobs._services.cache_clear()
    database = Database(url)
    yield database
    database.dispose()
    jobs._services().db.dispose()
    jobs._services.cache_clear()


def due_deadline(db: Database, folder: Path) -> int:
    """An instance whose deadline timer came due a day ago; returns its id."""
    write(folder, "deadline.json", {"type": "object", "properties": {}})
    deploy(db, write(folder, "d.bpmn", deadline_process('"P5D"')))
    with db.transaction() as session:
        sven = create_user(session, username="sven", display_name="Sven", roles=["screener"])
    return start(db, Runtime(clock=FixedClock(datetime.now(UTC) - timedelta(days=6))), "deadline", sven).instance.id


def test_job__runs_under_the_request_id_it_was_queued_with_and_logs_one_line(
    job_database: Database, tmp_path: Path
) -> None:
    instance_id = due_deadline(job_database, tmp_path)
    client = make_celery(Settings(database_url="sqlite://", redis_url=None, instance_path=tmp_path))
    with access(AccessContext(request_id="req-queued-by-web-01")):
        client.send_task(fire_timers_of_instance.name, args=[instance_id], queue="zvh-test-logs")
    with client.connection_for_read() as connection:
        message = connection.SimpleQueue("zvh-test-logs").get(timeout=5)
        message.ack()

    with captured_logs("INFO") as stream, access(AccessContext(request_id="req-in-process-01")):
        result = fire_timers_of_instance.apply(
            message.payload[0], headers=message.headers, task_id=message.headers["id"]
        )
        after = current_access().request_id

    assert result.get() == ["Late"]
    assert after == "req-in-process-01", "after the job, its caller's context is back"
    [ended] = [line for line in json_lines(stream) if line["event"] == "job ended"]
    assert ended["job"] == "zvh.fire_timers_of_instance" and ended["job_id"] == message.headers["id"]
    assert ended["request_id"] == "req-queued-by-web-01" and ended["outcome"] == "success"
    assert isinstance(ended["duration_ms"], int) and isinstance(ended["queued_ms"], int)
    with job_database.reader() as session:
        [fired] = [event for event in events_for_instance(session, instance_id) if event.action == "timer"]
    assert fired.request_id == "req-queued-by-web-01" and fired.client == "job"


@pytest.mark.postgres
@pytest.mark.celery
def test_worker__a_timer_queued_by_a_request_fires_when_due_under_that_request_id(
    postgres_database: str, redis_server: Redis, tmp_path: Path
) -> None:
    _truncate_all(postgres_database)
    pg = Database(postgres_database)
    write(tmp_path, "deadline.json", {"type": "object", "properties": {}})
    deploy(pg, write(tmp_path, "d.bpmn", deadline_process('"PT3S"')))
    with pg.transaction() as session:
        sven = create_user(session, username="sven", display_name="Sven", roles=["screener"])
    outcome = start(pg, Runtime(), "deadline", sven)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "ZVH_DATABASE_URL": postgres_database,
        "ZVH_REDIS_URL": redis_server.url,
        "ZVH_INSTANCE_PATH": str(tmp_path),
    }
    options = ["--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen([ZVH, "worker", *options, f"--logfile={log}"], env=env)
    try:
        _wait_until(lambda: log.exists() and "ready." in log.read_text(), "zvh worker", timeout=60)
        client = make_celery(
            Settings(database_url=postgres_database, redis_url=redis_server.url, instance_path=tmp_path)
        )
        now = datetime.now(UTC)
        later = Instance(id=outcome.instance.id + 1, next_timer_due_at=now + QUEUE_AHEAD + timedelta(seconds=1))
        with access(AccessContext(request_id="req-completion-0001")):
            queued = queue_due_timers([outcome.instance, later], now=now, app=client)
        embedded = make_celery(Settings(database_url=postgres_database, redis_url=None, instance_path=tmp_path))
        assert queue_due_timers([outcome.instance], now=now, app=embedded) == [], "no broker: the job thread fires it"

        def job_line() -> dict[str, Any] | None:
            ended = [line for line in json_lines(log.read_text()) if line["event"] == "job ended"]
            return ended[0] if ended else None

        _wait_until(lambda: job_line() is not None, "the queued timer job", timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert queued == [outcome.instance.id], "only the timer due within QUEUE_AHEAD is queued"
    [ready] = [line for line in json_lines(log.read_text()) if line["event"].endswith(" ready.")]
    assert "request_id" not in ready, "the worker's own lines belong to no request"
    ended = job_line()
    assert ended is not None and ended["job"] == "zvh.fire_timers_of_instance"
    assert ended["request_id"] == "req-completion-0001" and ended["outcome"] == "success"
    assert {task.role for task in open_tasks(pg, outcome.instance.id)} == {"screener", "manager"}, "the timer fired"
    with pg.reader() as session:
        [fired] = [event for event in events_for_instance(session, outcome.instance.id) if event.action == "timer"]
    assert fired.request_id == "req-completion-0001"
    assert fired.at >= outcome.instance.next_timer_due_at, "the job waited for the due moment"
    pg.dispose()
