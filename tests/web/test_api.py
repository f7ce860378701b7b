"""The JSON API (/api/v1): personal API tokens, the web app's authorization rules, and JSON errors everywhere."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from engine.clock import FixedClock
from engine.models import ApiToken, User
from engine.users import create_api_token, get_user
from tests.web.conftest import login
from tests.web.helpers import user
from web.api.openapi import OPENAPI

MELDING = {
    "gemeente": "Breda",
    "betrokkenen": [{"naam": "Jan Jansen", "rol": "hoofdbetrokkene"}],
    "aanleiding": "Zorgen over de thuissituatie.",
}
OPPAKKEN = {"data": {"besluit": "oppakken"}}
UNKNOWN_TASK = "00000000-0000-4000-8000-000000000000"


def issue_token(app: Flask, username: str) -> str:
    """A new personal API token for a user, created in the app's database."""
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        return create_api_token(
            session, user=get_user(session, username), name="tests", at=services.runtime.clock.now()
        )


@dataclass
class Api:
    """Requests to /api/v1 as a user, with one token per user."""

    app: Flask
    client: FlaskClient
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            self.tokens[username] = issue_token(self.app, username)
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, path: str, *, as_: str) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers(as_))

    def post(self, path: str, *, as_: str, **kwargs: Any) -> TestResponse:
        headers = {**self.headers(as_), **kwargs.pop("headers", {})}
        return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(app, client)


@dataclass(frozen=True)
class Started:
    instance_id: int
    task_id: str


@pytest.fixture
def started(api: Api) -> Started:
    """A melding started by mila through the API; its assessment task waits in the screeners' queue."""
    response = api.post("/processes/melding/instances", as_="mila", json={"data": MELDING})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["instance"]["id"]
    tasks = api.get("/tasks", as_="sven").get_json()["tasks"]
    return Started(instance_id, next(t["id"] for t in tasks if t["instance_id"] == instance_id))


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a JSON error with this status: `{"error": code, "message": text, …}`."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error"] == code
    return dict(body)


# --- the document --------------------------------------------------------------------------------------------


def test_openapi__is_served_without_a_token_as_openapi_3_1(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.get_json() == OPENAPI
    assert OPENAPI["openapi"].startswith("3.1")
    assert set(OPENAPI["paths"]) == {
        "/processes",
        "/processes/{key}/instances",
        "/tasks",
        "/tasks/{task_id}",
        "/tasks/{task_id}/claim",
        "/tasks/{task_id}/complete",
        "/instances/{instance_id}",
        "/overleggen",  # overleg (H3)
        "/overleggen/{meeting_id}",  # overleg (H3)
    }


# --- processes and starting ------------------------------------------------------------------------------------


def test_processes__lists_melding_as_startable_for_mila_but_not_for_otto(api: Api) -> None:
    for_mila = api.get("/processes", as_="mila").get_json()
    for_otto = api.get("/processes", as_="otto").get_json()

    assert for_mila == [{"key": "melding", "name": "Melding", "version": 1, "startable": True}]
    assert for_otto == [{"key": "melding", "name": "Melding", "version": 1, "startable": False}]


def test_start__as_mila_is_201_with_the_instance_and_no_next_tasks_for_her(api: Api) -> None:
    response = api.post("/processes/melding/instances", as_="mila", json={"data": MELDING})

    assert response.status_code == 201
    body = response.get_json()
    assert body["instance"]["process"] == "melding" and body["instance"]["status"] == "running"
    assert body["instance"]["case_number"] == "ZVH-2026-00001"
    assert body["instance"]["started_by"] == "mila" and body["instance"]["gemeente"] == "Breda"
    assert body["next_tasks"] == [], "the next task is the screener's, not the melder's"


def test_start__invalid_data_is_422_with_field_paths_and_nothing_is_started(api: Api) -> None:
    data = {"gemeente": "Parijs", "betrokkenen": [{"rol": "hoofdbetrokkene"}], "onbekend": 1}

    response = api.post("/processes/melding/instances", as_="mila", json={"data": data})

    body = assert_error(response, 422, "validation")
    assert set(body["fields"]) == {"gemeente", "betrokkenen.0.naam", "aanleiding", "onbekend"}
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)
    assert api.get("/tasks", as_="sven").get_json()["total"] == 0


def test_start__field_messages_follow_accept_language(api: Api) -> None:
    response = api.post(
        "/processes/melding/instances", as_="mila", json={"data": {}}, headers={"Accept-Language": "en"}
    )

    assert assert_error(response, 422)["fields"]["aanleiding"] == ["This field is required."]


def test_start__without_a_body_validates_empty_start_data(api: Api) -> None:
    response = api.post("/processes/melding/instances", as_="mila")

    assert "aanleiding" in assert_error(response, 422, "validation")["fields"]


def test_start__by_otto_outside_the_start_lane_is_403(api: Api) -> None:
    response = api.post("/processes/melding/instances", as_="otto", json={"data": MELDING})

    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("key", ["onbekend", "melding%00", "1melding", "x" * 200])
def test_start__an_unknown_process_is_404(api: Api, key: str) -> None:
    response = api.post(f"/processes/{key}/instances", as_="mila", json={"data": MELDING})

    assert_error(response, 404, "not_found")


# --- the inbox -------------------------------------------------------------------------------------------------


def test_tasks__sven_sees_the_new_task_and_mila_does_not(api: Api, started: Started) -> None:
    for_sven = api.get("/tasks", as_="sven").get_json()
    for_mila = api.get("/tasks", as_="mila").get_json()

    assert for_sven["total"] == 1 and for_sven["page"] == 1 and for_sven["per_page"] == 50
    task = for_sven["tasks"][0]
    assert task["id"] == started.task_id and task["instance_id"] == started.instance_id
    assert task["role"] == "screener" and task["assignee"] is None and task["form"] == "beoordeling.json"
    assert task["case_number"] == "ZVH-2026-00001" and task["gemeente"] == "Breda" and task["process"] == "melding"
    empty = {"tasks": [], "total": 0, "total_capped": False, "page": 1, "per_page": 50, "next": None, "previous": None}
    assert for_mila == empty


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("process=melding", 1),
        ("process=ander", 0),
        ("gemeente=Breda", 1),
        ("gemeente=Zundert", 0),
        ("case_number=2026-000", 1),
        ("case_number=%25", 0),
        ("due=none", 1),
        ("due=overdue", 0),
        ("sort=case&descending=true", 1),
        ("tab=mine", 0),
        ("page=2", 0),
    ],
)
def test_tasks__filters_like_the_web_inbox(api: Api, started: Started, query: str, found: int) -> None:
    response = api.get(f"/tasks?{query}", as_="sven")

    assert response.status_code == 200
    assert len(response.get_json()["tasks"]) == found


@pytest.mark.parametrize(
    "query",
    [
        "tab=alles",
        "page=-3",
        "page=abc",
        "page=99999999999999999999",
        "sort=naam",
        "due=gisteren",
        "descending=misschien",
        "process=",
        "gemeente=%00",
        "case_number=" + "9" * 500,
        "tab=mine&tab=team",
        "onbekend=1",
    ],
)
def test_tasks__invalid_query_values_fall_back_to_defaults(api: Api, started: Started, query: str) -> None:
    response = api.get(f"/tasks?{query}", as_="sven")

    assert response.status_code == 200
    body = response.get_json()
    assert 1 <= body["page"] <= 10_000 and isinstance(body["tasks"], list)


def test_tasks__the_team_tab_shows_coen_every_open_task(api: Api, started: Started) -> None:
    team = api.get("/tasks?tab=team", as_="coen").get_json()
    own = api.get("/tasks", as_="coen").get_json()

    assert [t["id"] for t in team["tasks"]] == [started.task_id]
    assert own["tasks"] == []
    assert api.get("/tasks?tab=team", as_="mariska").status_code == 200


@pytest.mark.parametrize("username", ["sven", "mila", "otto"])
def test_tasks__the_team_tab_is_403_for_non_coordinators(api: Api, username: str) -> None:
    assert_error(api.get("/tasks?tab=team", as_=username), 403, "forbidden")


# --- one task: detail, claim, complete -------------------------------------------------------------------------


def test_task__has_the_form_schema_data_lock_version_and_safe_instructions(api: Api, started: Started) -> None:
    response = api.get(f"/tasks/{started.task_id}", as_="sven")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == started.task_id and body["name"] == "Beoordeel de melding"
    assert set(body["form_schema"]["properties"]) == {"besluit", "toelichting", "casusnummer"}
    assert body["data"] == {"casusnummer": "ZVH-2026-00001"}
    assert isinstance(body["lock_version"], int) and isinstance(body["ui_schema"], dict)
    assert "ZVH-2026-00001" in body["instructions"] and "{{" not in body["instructions"]
    assert "<script>" not in body["instructions"]


def test_task__an_uppercase_task_id_is_the_same_task(api: Api, started: Started) -> None:
    response = api.get(f"/tasks/{started.task_id.upper()}", as_="sven")

    assert response.status_code == 200 and response.get_json()["id"] == started.task_id


def test_claim__puts_the_task_on_sven_and_out_of_his_colleagues_sight(api: Api, started: Started) -> None:
    claimed = api.post(f"/tasks/{started.task_id}/claim", as_="sven")

    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "sven"
    assert api.post(f"/tasks/{started.task_id}/claim", as_="sven").status_code == 200, "claiming again is harmless"
    assert [t["id"] for t in api.get("/tasks?tab=mine", as_="sven").get_json()["tasks"]] == [started.task_id]
    assert_error(api.post(f"/tasks/{started.task_id}/claim", as_="sanne"), 404, "not_found")
    assert_error(api.get(f"/tasks/{started.task_id}", as_="sanne"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="sanne", json=OPPAKKEN), 404, "not_found")


def test_claim__by_a_coordinator_without_the_role_is_403(api: Api, started: Started) -> None:
    assert_error(api.post(f"/tasks/{started.task_id}/claim", as_="coen"), 403, "forbidden")
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="coen", json=OPPAKKEN), 403, "forbidden")
    # The team tab shows that a task exists, never the case data in it.
    assert_error(api.get(f"/tasks/{started.task_id}", as_="coen"), 404, "not_found")


def test_complete__invalid_data_is_422_with_field_paths_and_nothing_is_stored(api: Api, started: Started) -> None:
    response = api.post(
        f"/tasks/{started.task_id}/complete", as_="sven", json={"data": {"besluit": "afwijzen", "extra": True}}
    )

    body = assert_error(response, 422, "validation")
    assert set(body["fields"]) == {"toelichting", "extra"}
    assert api.get(f"/tasks/{started.task_id}", as_="sven").status_code == 200


def test_complete__valid_data_is_200_with_the_next_tasks_and_again_is_409(api: Api, started: Started) -> None:
    lock_version = api.get(f"/tasks/{started.task_id}", as_="sven").get_json()["lock_version"]

    response = api.post(
        f"/tasks/{started.task_id}/complete", as_="sven", json={**OPPAKKEN, "lock_version": lock_version}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["instance"]["id"] == started.instance_id and body["instance"]["lock_version"] > lock_version
    assert [t["name"] for t in body["next_tasks"]] == ["Voer de aanpak uit"]
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="sven", json=OPPAKKEN), 409, "conflict")
    assert_error(api.get(f"/tasks/{started.task_id}", as_="sven"), 409, "conflict")
    # sanne may see the case (its next task is in her queue), so she learns that the task is done.
    assert_error(api.post(f"/tasks/{started.task_id}/claim", as_="sanne"), 409, "conflict")


def test_complete__a_stale_lock_version_is_409_and_nothing_is_stored(api: Api, started: Started) -> None:
    lock_version = api.get(f"/tasks/{started.task_id}", as_="sven").get_json()["lock_version"]

    response = api.post(
        f"/tasks/{started.task_id}/complete", as_="sven", json={**OPPAKKEN, "lock_version": lock_version - 1}
    )

    assert_error(response, 409, "conflict")
    assert api.get(f"/tasks/{started.task_id}", as_="sven").status_code == 200


@pytest.mark.parametrize("lock_version", ["1", 1.5, True, [1]])
def test_complete__a_lock_version_that_is_no_integer_is_422(api: Api, started: Started, lock_version: object) -> None:
    response = api.post(
        f"/tasks/{started.task_id}/complete", as_="sven", json={**OPPAKKEN, "lock_version": lock_version}
    )

    assert "lock_version" in assert_error(response, 422, "validation")["fields"]


def test_complete__a_null_lock_version_is_not_checked(api: Api, started: Started) -> None:
    response = api.post(f"/tasks/{started.task_id}/complete", as_="sven", json={**OPPAKKEN, "lock_version": None})

    assert response.status_code == 200


# --- who may see what ------------------------------------------------------------------------------------------


def test_otto__gets_404_for_the_task_and_the_instance(api: Api, started: Started) -> None:
    assert_error(api.get(f"/tasks/{started.task_id}", as_="otto"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/claim", as_="otto"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="otto", json=OPPAKKEN), 404, "not_found")
    assert_error(api.get(f"/instances/{started.instance_id}", as_="otto"), 404, "not_found")


def test_otto__gets_404_for_a_task_completed_by_sven(api: Api, started: Started) -> None:
    assert api.post(f"/tasks/{started.task_id}/complete", as_="sven", json=OPPAKKEN).status_code == 200

    assert_error(api.get(f"/tasks/{started.task_id}", as_="otto"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="otto", json=OPPAKKEN), 404, "not_found")


def test_mila__sees_her_case_but_not_the_screeners_task(api: Api, started: Started) -> None:
    instance = api.get(f"/instances/{started.instance_id}", as_="mila")

    assert instance.status_code == 200
    assert instance.get_json()["started_by"] == "mila"
    assert [t["id"] for t in instance.get_json()["tasks"]] == [started.task_id]
    assert_error(api.get(f"/tasks/{started.task_id}", as_="mila"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/claim", as_="mila"), 404, "not_found")
    assert_error(api.post(f"/tasks/{started.task_id}/complete", as_="mila", json=OPPAKKEN), 404, "not_found")


def test_instance__sven_sees_it_through_his_inbox(api: Api, started: Started) -> None:
    body = api.get(f"/instances/{started.instance_id}", as_="sven").get_json()

    assert body["id"] == started.instance_id and body["case_number"] == "ZVH-2026-00001"
    assert body["status"] == "running" and body["error"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/instances/999",
        "/instances/0",
        "/instances/99999999999999999999",
        "/instances/-1",
        "/instances/abc",
        f"/tasks/{UNKNOWN_TASK}",
        "/tasks/geen-taak",
        "/tasks/%00",
        "/onbekend",
        "/processes/",
    ],
)
def test_unknown_objects_and_paths__are_404_json(api: Api, path: str) -> None:
    assert_error(api.get(path, as_="sven"), 404, "not_found")


@pytest.mark.parametrize("action", ["claim", "complete"])
def test_unknown_task__claim_and_complete_are_404(api: Api, action: str) -> None:
    assert_error(api.post(f"/tasks/{UNKNOWN_TASK}/{action}", as_="sven"), 404, "not_found")


# --- authentication --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer    ",
        "Basic c3Zlbjp0ZXN0",
        "Token {token}",
        "Bearer {token}x",
        "Bearer zvh_onbekend",
        "Bearer \x00",
    ],
)
def test_auth__without_a_valid_token_is_401_json_with_www_authenticate(
    app: Flask, client: FlaskClient, header: str | None
) -> None:
    token = issue_token(app, "sven")
    headers = {} if header is None else {"Authorization": header.format(token=token)}

    response = client.get("/api/v1/tasks", headers=headers)

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_auth__the_scheme_is_case_insensitive(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/tasks", headers={"Authorization": f"bearer {issue_token(app, 'sven')}"})

    assert response.status_code == 200


@pytest.mark.parametrize("withdrawn", [ApiToken.revoked_at, User.active])
def test_auth__a_revoked_token_or_an_inactive_user_is_401(app: Flask, client: FlaskClient, withdrawn: Any) -> None:
    headers = {"Authorization": f"Bearer {issue_token(app, 'sven')}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        if withdrawn is User.active:
            session.execute(update(User).where(User.username == "sven").values(active=False))
        else:
            session.execute(update(ApiToken).values(revoked_at=services.runtime.clock.now()))

    response = client.get("/api/v1/tasks", headers=headers)

    assert_error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_auth__a_signed_in_browser_session_is_not_enough(client: FlaskClient) -> None:
    login(client, "sven")

    assert_error(client.get("/api/v1/tasks"), 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/processes"),
        ("POST", "/processes/melding/instances"),
        ("GET", "/tasks"),
        ("GET", f"/tasks/{UNKNOWN_TASK}"),
        ("POST", f"/tasks/{UNKNOWN_TASK}/claim"),
        ("POST", f"/tasks/{UNKNOWN_TASK}/complete"),
        ("GET", "/instances/1"),
    ],
)
def test_auth__every_operation_needs_a_token(client: FlaskClient, method: str, path: str) -> None:
    assert_error(client.open(f"/api/v1{path}", method=method), 401, "unauthorized")


# --- malformed requests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"data": ', "_body"),
        ("[1, 2]", "_body"),
        ('"tekst"', "_body"),
        ('{"data": []}', "data"),
        ('{"data": null}', "data"),
        ('{"data": {"aanleiding": NaN}}', "_body"),
        ('{"data": {"x": -Infinity}}', "_body"),
        ("[" * 100_000, "_body"),
        ('{"data": ' * 50_000, "_body"),
        (b"\xff\xfe{", "_body"),
    ],
)
def test_malformed_json__is_422_json(api: Api, body: str | bytes, field: str) -> None:
    response = api.post("/processes/melding/instances", as_="mila", data=body, content_type="application/json")

    assert list(assert_error(response, 422, "validation")["fields"]) == [field]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"data": {}}'),
        ("application/x-www-form-urlencoded", "data=x"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="data"\r\n\r\nx\r\n--x--\r\n'),
    ],
)
def test_wrong_content_type__is_415_json(api: Api, started: Started, content_type: str, body: str) -> None:
    for path in ("/processes/melding/instances", f"/tasks/{started.task_id}/complete"):
        assert_error(api.post(path, as_="sven", data=body, content_type=content_type), 415)


def test_huge_body__is_413_json(api: Api) -> None:
    body = '{"data": {"aanleiding": "' + "x" * (3 * 1024 * 1024) + '"}}'

    response = api.post("/processes/melding/instances", as_="mila", data=body, content_type="application/json")

    assert_error(response, 413)


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/processes"), ("PUT", "/tasks"), ("GET", "/processes/melding/instances")]
)
def test_unsupported_method__is_405_json(api: Api, method: str, path: str) -> None:
    response = api.client.open(f"/api/v1{path}", method=method, headers=api.headers("sven"))

    assert_error(response, 405, "method_not_allowed")


def test_unsupported_method__names_the_allowed_methods(api: Api) -> None:
    response = api.client.delete("/api/v1/processes", headers=api.headers("sven"))

    assert "GET" in response.headers.get("Allow", "")


def test_token__a_read_never_waits_for_the_write_lock_and_the_last_use_is_noted_at_most_every_five_minutes(
    app: Flask, api: Api, clock: FixedClock
) -> None:
    services = app.extensions["zvh"]

    def last_used() -> datetime | None:
        with services.db.reader() as session:
            return session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user(app, "sven").id))

    assert api.get("/processes", as_="sven").status_code == 200
    noted = last_used()
    clock.advance(timedelta(minutes=4))
    # Another writer holds SQLite's write lock (as a long step would): a token check that wrote would wait 30 s.
    with services.db.transaction():  # BEGIN IMMEDIATE on SQLite: the write lock, held until the block ends
        started = time.monotonic()
        answered = api.get("/processes", as_="sven")
        listed = api.get("/tasks", as_="sven")  # the inbox writes nothing either (only a case search is logged)
        waited = time.monotonic() - started
    clock.advance(timedelta(minutes=2))
    assert api.get("/processes", as_="sven").status_code == 200

    assert answered.status_code == 200 and listed.status_code == 200
    assert waited < 5, f"the read waited {waited:.1f} s for the write lock"
    assert noted == clock.now() - timedelta(minutes=6), "the first use is noted"
    assert last_used() == clock.now(), "noted again once five minutes have passed, not within them"
