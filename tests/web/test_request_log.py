"""One log line per request, with the request id the response carries, and never what the request carried."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from engine import jobs
from engine.config import Settings
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.engine.bpmn import write
from tests.engine.test_logs import BSN, EMAIL, NAME, captured_logs, json_lines
from tests.engine.test_timers import deadline_process
from tests.services import Redis
from tests.web.helpers import open_task_id, page_token, start_melding, user
from tests.web.test_api import issue_token

PERSON = f"{NAME}, BSN {BSN}, {EMAIL}"


def request_lines(output: Any) -> list[dict[str, Any]]:
    return [line for line in json_lines(output) if line["logger"] == "zvh.request"]


def test_request_line__one_json_object_with_the_route_user_and_the_request_id_of_the_response(
    app: Flask, as_user
) -> None:
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")

    with captured_logs("INFO") as stream:
        response = client.get(
            f"/taken/{task_id}", query_string={"naam": NAME}, headers={"X-Request-Id": "proxy-request-0001"}
        )
        client.get("/static/niet-bestaand.css")

    [line] = request_lines(stream)
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "proxy-request-0001"
    assert line["request_id"] == "proxy-request-0001"
    assert {key: line[key] for key in ("event", "method", "route", "endpoint", "status", "user_id")} == {
        "event": "request",
        "method": "GET",
        "route": "/taken/<task_id>",
        "endpoint": "tasks.task",
        "status": 200,
        "user_id": user(app, "sven").id,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert response.headers["Server-Timing"].startswith("app;dur="), "one request clock, read by every hook"
    assert NAME not in stream.getvalue() and task_id not in stream.getvalue(), "the route, not the path"


def test_task_completion__no_name_bsn_or_email_of_the_form_or_the_case_in_any_log_line(app: Flask, as_user) -> None:
    # The case itself is about an invented person with this name and BSN (tests.web.helpers.MELDING_DATA).
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")
    form = {"csrf_token": token, "_actie": "afronden", "besluit": "afwijzen", "toelichting": PERSON}

    with captured_logs("DEBUG") as stream:
        invalid = client.post(f"/taken/{task_id}", data={**form, "besluit": PERSON})
        completed = client.post(f"/taken/{task_id}", query_string={"email": EMAIL}, data=form)

    assert (invalid.status_code, completed.status_code) == (422, 302)
    assert [(line["route"], line["status"]) for line in request_lines(stream)] == [
        ("/taken/<task_id>", 422),
        ("/taken/<task_id>", 302),
    ]
    assert not any(value in stream.getvalue() for value in (NAME, BSN, EMAIL))


def test_failing_request__logs_the_type_and_stack_but_not_the_form(
    app: Flask, as_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    def complete_task(self: Runtime, session: object, *, data: dict[str, Any], **_: Any) -> None:
        raise ValueError(f"cannot complete with {data}")

    monkeypatch.setattr(Runtime, "complete_task", complete_task)
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    with captured_logs("INFO") as stream:
        response = client.post(
            f"/taken/{task_id}",
            data={"csrf_token": token, "_actie": "afronden", "besluit": "afwijzen", "toelichting": PERSON},
        )

    assert response.status_code == 500
    [error] = [line for line in json_lines(stream) if line["level"] == "error"]
    assert error["exc_type"] == "ValueError" and error["request_id"] == response.headers["X-Request-Id"]
    assert "in complete_task" in error["stack"] and "in submit" in error["stack"]
    assert [line["status"] for line in request_lines(stream)] == [500]
    assert not any(value in stream.getvalue() for value in (NAME, BSN, EMAIL))


@pytest.mark.celery
def test_a_request_queues_the_timer_job_it_makes_due_with_its_own_request_id(
    app: Flask, redis_server: Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A start whose deadline comes due within minutes queues the timer job for that moment (not beat's next scan)."""
    services = app.extensions["zvh"]
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    with services.db.transaction() as session:
        deploy_file(session, write(tmp_path, "d.bpmn", deadline_process('"PT60S"')), actor="tests", search_paths=[])
    broker = redis_server.url.rsplit("/", 1)[0] + "/7"  # a database of its own on the shared test Redis
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
    settings = Settings(database_url=services.db.url, redis_url=broker, instance_path=tmp_path)
    monkeypatch.setattr(jobs, "celery_app", jobs.make_celery(settings))
    token = issue_token(app, "sven")

    response = app.test_client().post(
        "/api/v1/processes/deadline/instances",
        json={"data": {}},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "start-request-0001"},
    )

    assert response.status_code == 201, response.get_json()
    [message] = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    headers = message["headers"]
    assert headers["task"] == "zvh.fire_timers_of_instance"
    assert json.loads(base64.b64decode(message["body"]))[0] == [response.get_json()["instance"]["id"]]
    assert headers["zvh_request_id"] == "start-request-0001" == response.headers["X-Request-Id"]
    assert datetime.fromisoformat(headers["eta"]) == services.runtime.clock.now() + timedelta(seconds=60)
    queue.close()
