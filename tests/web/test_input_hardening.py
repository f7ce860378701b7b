"""Input that must never break a case: unstorable text, dates at the edge of the calendar, thousands of rows,
read-only fields, and the database restarting — each answered with a field error or a "try again", never a 500."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.db import Database
from engine.forms import MAX_ROWS
from engine.migrate import upgrade_to_head
from engine.models import Instance
from engine.registry import deploy_file
from engine.users import create_api_token, create_user, get_user
from tests.engine.bpmn import flow, process, user_task, write
from tests.services import Postgres, _as_postgres
from tests.web.conftest import PASSWORD, login
from tests.web.helpers import open_task_id, page_token
from web import create_app

INVOER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Invoer",
    "type": "object",
    "properties": {
        "naam": {"type": "string", "title": "Naam", "maxLength": 200},
        "datum": {"type": "string", "title": "Datum", "format": "date"},
        "moment": {"type": "string", "title": "Moment", "format": "date-time"},
        "bron": {"type": "string", "title": "Bron"},
        "regels": {"type": "array", "title": "Regels", "maxItems": 3, "items": {"type": "string"}},
        "rijen": {
            "type": "array",
            "title": "Rijen",
            "items": {"type": "object", "properties": {"tekst": {"type": "string", "title": "Tekst"}}},
        },
    },
}
CONTROLE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Controle",
    "type": "object",
    "properties": {"bron": {"type": "string", "title": "Bron"}, "besluit": {"type": "string", "title": "Besluit"}},
}
CONTROLE_UI = {"bron": {"ui:readonly": True}}
UNSTORABLE = "De tekst bevat ongeldige (onzichtbare) tekens."


def invoer_process() -> str:
    start_form = (
        '<bpmn:startEvent id="S"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="invoer.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>"
    )
    controle = user_task("Controleren", "Controleer de invoer", "controle").replace(
        "</spiffworkflow:properties>",
        '<spiffworkflow:property name="formUiSchemaFilename" value="controle-ui.json"/></spiffworkflow:properties>',
    )
    body = (
        start_form
        + controle
        + user_task("Afronden", "Rond af")
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "Controleren")
        + flow("F2", "Controleren", "Afronden")
        + flow("F3", "Afronden", "E")
    )
    return process(
        body,
        process_id="invoer",
        name="Invoer",
        lanes={"Melder": ["S"], "Screener": ["Controleren", "Afronden", "E"]},
    )


@pytest.fixture
def invoer(app: Flask, tmp_path: Path) -> None:
    """The process `invoer` deployed beside the melding: a start form with dates and rows, a read-only field."""
    folder = tmp_path / "invoer"
    folder.mkdir()
    write(folder, "invoer.json", INVOER)
    write(folder, "controle.json", CONTROLE)
    write(folder, "controle-ui.json", CONTROLE_UI)
    with app.extensions["zvh"].db.transaction() as session:
        deploy_file(session, write(folder, "invoer.bpmn", invoer_process()), actor="tests")


def start_invoer(app: Flask, data: dict[str, Any]) -> int:
    with app.extensions["zvh"].db.transaction() as session:
        outcome = app.extensions["zvh"].runtime.start_instance(
            session, process_key="invoer", actor=get_user(session, "mila"), data=data
        )
        return outcome.instance.id


def task_data(app: Flask, instance_id: int) -> dict[str, Any]:
    """The data of the open task of an instance: what the process holds now."""
    task_id = open_task_id(app, instance_id)
    with app.extensions["zvh"].db.reader() as session:
        loaded = app.extensions["zvh"].runtime.load(session, instance_id)
        return dict(loaded.find_task(task_id).data)


def token(app: Flask, username: str) -> dict[str, str]:
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        secret = create_api_token(
            session, user=get_user(session, username), name="tests", at=services.runtime.clock.now()
        )
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


def instance_count(app: Flask) -> int:
    with app.extensions["zvh"].db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(Instance)) or 0)


def post_start(client: FlaskClient, fields: dict[str, Any]) -> Any:
    data = {"csrf_token": page_token(client, "/starten/invoer"), "_actie": "afronden", **fields}
    return client.post("/starten/invoer", data=data)


# --- text that cannot be stored or shown ------------------------------------------------------------------------


def test_start_form__a_c1_control_character_is_a_field_error(app: Flask, as_user, invoer: None) -> None:
    client = as_user("mila")
    before = instance_count(app)

    response = post_start(client, {"naam": "Fenna\x85Fictief"})

    assert response.status_code == 422
    assert UNSTORABLE in response.get_data(as_text=True)
    assert instance_count(app) == before


def test_api__a_lone_surrogate_is_a_field_error_and_no_case_is_started(app: Flask, client: FlaskClient) -> None:
    before = instance_count(app)
    body = '{"data": {"gemeente": "Breda", "aanleiding": "Zorgen \\ud800 over de wijk", "betrokkenen": []}}'

    response = client.post("/api/v1/processes/melding/instances", data=body, headers=token(app, "mila"))

    assert response.status_code == 422
    assert response.get_json()["fields"]["aanleiding"] == [UNSTORABLE]
    assert instance_count(app) == before


def test_api__a_lone_surrogate_cannot_be_stored_by_completing_a_task(
    app: Flask, client: FlaskClient, invoer: None
) -> None:
    instance_id = start_invoer(app, {"bron": "Veilig Thuis"})
    task_id = open_task_id(app, instance_id)

    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        data='{"data": {"besluit": "\\udc00"}}',
        headers=token(app, "sven"),
    )

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"besluit": [UNSTORABLE]}
    assert open_task_id(app, instance_id) == task_id


# --- dates --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("datum", "0001-01-01", "Vul een geldige datum in (jjjj-mm-dd) tussen 1900 en 2200."),
        ("moment", "9999-12-31T23:59", "Vul een geldige datum en tijd in tussen 1900 en 2200."),
    ],
)
def test_start_form__a_date_outside_1900_to_2200_is_a_dutch_field_error(
    app: Flask, as_user, invoer: None, field: str, value: str, message: str
) -> None:
    before = instance_count(app)

    response = post_start(as_user("mila"), {field: value})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert instance_count(app) == before


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_api__a_date_time_at_the_edge_of_the_calendar_is_a_field_error(
    app: Flask, client: FlaskClient, invoer: None, moment: str
) -> None:
    body = json.dumps({"data": {"moment": moment}})

    response = client.post("/api/v1/processes/invoer/instances", data=body, headers=token(app, "mila"))

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"moment": ["Vul een geldige datum en tijd in tussen 1900 en 2200."]}


def test_start_form__a_draft_with_year_one_still_opens(app: Flask, as_user, invoer: None) -> None:
    client = as_user("mila")
    data = {"csrf_token": page_token(client, "/starten/invoer"), "_actie": "concept", "moment": "0001-01-01T00:00"}
    assert client.post("/starten/invoer", data=data).status_code == 302

    response = client.get("/starten/invoer")

    assert response.status_code == 200
    assert 'value="0001-01-01T00:00:00+00:19:32"' in response.get_data(as_text=True)


# --- repeatable rows ----------------------------------------------------------------------------------------------


def test_start_form__sixty_thousand_rows_are_refused_with_a_short_page(app: Flask, as_user, invoer: None) -> None:
    client = as_user("mila")
    before = instance_count(app)
    rows = {f"rijen.{index}.tekst": "x" for index in range(60_000)}

    response = post_start(client, rows)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Vul maximaal {MAX_ROWS} in." in page
    assert page.count('name="rijen.') <= MAX_ROWS + 1, "only one row more than allowed is read and shown again"
    assert instance_count(app) == before


def test_start_form__rows_beyond_max_items_are_a_field_error(app: Flask, as_user, invoer: None) -> None:
    response = post_start(as_user("mila"), {f"regels.{index}": f"regel {index}" for index in range(6)})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul maximaal 3 in." in page
    assert 'name="regels.3"' in page and 'name="regels.4"' not in page


# --- read-only fields ---------------------------------------------------------------------------------------------


def test_task_page__a_field_read_only_in_the_ui_schema_keeps_what_the_process_had(
    app: Flask, as_user, invoer: None
) -> None:
    instance_id = start_invoer(app, {"bron": "Veilig Thuis"})
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    data = {"csrf_token": page_token(client, f"/taken/{task_id}"), "_actie": "afronden", "besluit": "akkoord"}

    response = client.post(f"/taken/{task_id}", data={**data, "bron": "vervalst"})

    assert response.status_code == 302
    assert task_data(app, instance_id)["bron"] == "Veilig Thuis"
    assert task_data(app, instance_id)["besluit"] == "akkoord"


def test_api__a_field_read_only_in_the_ui_schema_keeps_what_the_process_had(
    app: Flask, client: FlaskClient, invoer: None
) -> None:
    instance_id = start_invoer(app, {"bron": "Veilig Thuis"})
    task_id = open_task_id(app, instance_id)
    body = json.dumps({"data": {"besluit": "akkoord", "bron": "vervalst"}})

    response = client.post(f"/api/v1/tasks/{task_id}/complete", data=body, headers=token(app, "sven"))

    assert response.status_code == 200
    assert task_data(app, instance_id)["bron"] == "Veilig Thuis"


# --- the database restarting --------------------------------------------------------------------------------------


def _pg_ctl(server: Postgres, *args: str) -> None:
    command = [str(server.bindir / "pg_ctl"), "-D", str(server.root / "data"), "-w", "-t", "60", *args]
    subprocess.run(_as_postgres(command), check=True, capture_output=True)


@pytest.fixture
def restartable_postgres() -> Iterator[Postgres]:
    """A cluster of this test's own, so stopping it disturbs no other test."""
    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_app(restartable_postgres: Postgres, clock: FixedClock) -> Iterator[Flask]:
    url = restartable_postgres.create_database("zvh")
    upgrade_to_head(url)
    database = Database(url)
    with database.transaction() as session:
        create_user(session, username="mila", display_name="Mila Melder", roles=["melder"], password=PASSWORD)
    database.dispose()
    application = create_app({"ZVH_DATABASE_URL": url, "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "test"})
    yield application
    application.extensions["zvh"].db.dispose()


@pytest.mark.postgres
def test_database_restart__answers_503_with_retry_after_and_then_works_again(
    postgres_app: Flask, restartable_postgres: Postgres
) -> None:
    client = postgres_app.test_client()
    login(client, "mila")
    api_headers = token(postgres_app, "mila")
    assert client.get("/taken").status_code == 200

    _pg_ctl(restartable_postgres, "-m", "fast", "stop")
    page = client.get("/taken")
    api = client.get("/api/v1/processes", headers=api_headers)
    options = f"-p {restartable_postgres.port} -k {restartable_postgres.root} -c listen_addresses=127.0.0.1"
    _pg_ctl(restartable_postgres, "-l", str(restartable_postgres.root / "pg.log"), "-o", options, "start")

    assert page.status_code == 503
    assert page.headers["Retry-After"] == "10"
    assert "De database is even niet bereikbaar" in page.get_data(as_text=True)
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "10"
    assert api.get_json()["error"] == "unavailable"
    assert client.get("/taken").status_code == 200, "the pool reconnects after the restart"
    assert client.get("/api/v1/processes", headers=api_headers).status_code == 200
