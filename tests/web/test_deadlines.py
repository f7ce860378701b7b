"""Termijn verlengen (web/deadlines): a coordinator moves an open task's deadline from the case page; others are
refused as the authorization matrix says; a refused form keeps what was typed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.registry import deploy_file
from engine.timers import fire_due_timers
from engine.users import get_user
from tests.conftest import START
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_timers import boundary
from tests.web.helpers import open_task_id, page_token


def deadline_process() -> str:
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Koppel terug aan melder")
        + boundary("Late", "T1", '"P5D"', interrupting=False)
        + user_task("Esc", "Escaleer te late terugkoppeling")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    lanes = {"Melder": ["S"], "Screener": ["T1", "E1"], "Coordinator": ["Esc", "E2"]}
    return process(body, process_id="terugkoppeling", name="Terugkoppeling", lanes=lanes)


@pytest.fixture
def case(app: Flask, tmp_path: Path) -> tuple[int, str]:
    """A case started by Mila whose screener task must be done by 07-03-2026 09:00 (five days after START)."""
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        deploy_file(session, write(tmp_path, "terugkoppeling.bpmn", deadline_process()), actor="tests")
        outcome = services.runtime.start_instance(
            session, process_key="terugkoppeling", actor=get_user(session, "mila"), data=None
        )
        instance_id = outcome.instance.id
    return instance_id, open_task_id(app, instance_id, "T1")


def test_extend__a_coordinator_extends_from_the_case_page_and_sees_the_new_deadline(
    as_user, case: tuple[int, str]
) -> None:
    instance_id, task_id = case
    client: FlaskClient = as_user("coen")
    case_page = client.get(f"/zaken/{instance_id}").get_data(as_text=True)
    assert f"/taken/{task_id}/verlengen" in case_page, "the case page offers Termijn verlengen"

    form = client.get(f"/taken/{task_id}/verlengen")
    assert form.status_code == 200
    assert "07-03-2026 09:00" in form.get_data(as_text=True)

    token = page_token(client, f"/taken/{task_id}/verlengen")
    done = client.post(
        f"/taken/{task_id}/verlengen",
        data={"csrf_token": token, "datum": "2026-03-14", "tijd": "12:00", "reden": "Melder is op vakantie"},
    )

    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/zaken/{instance_id}")
    page = client.get(f"/zaken/{instance_id}").get_data(as_text=True)
    assert "Termijn verlengd tot 14-03-2026 12:00" in page
    assert "termijn 14-03-2026 12:00" in page
    assert "07-03-2026 09:00" not in page
    assert "Termijn verlengd" in page and "Melder is op vakantie" in page, "the timeline shows the extension"


@pytest.mark.parametrize(("username", "status"), [("sven", 403), ("otto", 404), ("mariska", 404)])
def test_extend__others_are_refused_and_are_not_offered_the_link(
    as_user, case: tuple[int, str], username: str, status: int
) -> None:
    instance_id, task_id = case
    client: FlaskClient = as_user(username)

    assert client.get(f"/taken/{task_id}/verlengen").status_code == status
    token = page_token(client, "/inbox")
    refused = client.post(
        f"/taken/{task_id}/verlengen",
        data={"csrf_token": token, "datum": "2026-03-14", "tijd": "12:00", "reden": "Ziek"},
    )
    assert refused.status_code == status
    if status == 403:  # the screener sees the case, without the link
        assert f"/taken/{task_id}/verlengen" not in client.get(f"/zaken/{instance_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("datum", "tijd", "message"),
    [
        ("31-02-2026", "12:00", "Vul een geldige datum en tijd in."),
        ("2026-03-05", "12:00", "Kies een moment na de huidige termijn (07-03-2026 09:00)."),
        ("2026-03-01", "12:00", "Kies een moment in de toekomst."),
    ],
)
def test_extend__a_refused_moment_keeps_what_was_typed(
    as_user, case: tuple[int, str], datum: str, tijd: str, message: str
) -> None:
    _, task_id = case
    client: FlaskClient = as_user("coen")
    token = page_token(client, f"/taken/{task_id}/verlengen")

    refused = client.post(
        f"/taken/{task_id}/verlengen",
        data={"csrf_token": token, "datum": datum, "tijd": tijd, "reden": "Melder is op vakantie"},
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="foutoverzicht"' in page
    assert message in page
    assert ">Melder is op vakantie</textarea>" in page
    assert f'value="{datum}"' in page


def test_extend__an_empty_reason_is_refused(as_user, case: tuple[int, str]) -> None:
    _, task_id = case
    client: FlaskClient = as_user("coen")
    token = page_token(client, f"/taken/{task_id}/verlengen")

    refused = client.post(
        f"/taken/{task_id}/verlengen", data={"csrf_token": token, "datum": "2026-03-14", "tijd": "12:00", "reden": ""}
    )

    assert refused.status_code == 422
    assert 'href="#verlengen-reden"' in refused.get_data(as_text=True)
    assert 'value="2026-03-14"' in refused.get_data(as_text=True)


def test_extend__without_a_csrf_token_nothing_changes(as_user, case: tuple[int, str]) -> None:
    instance_id, task_id = case
    client: FlaskClient = as_user("coen")

    refused = client.post(f"/taken/{task_id}/verlengen", data={"datum": "2026-03-14", "tijd": "12:00", "reden": "x"})

    assert refused.status_code == 400
    assert "07-03-2026 09:00" in client.get(f"/zaken/{instance_id}").get_data(as_text=True)


def test_extend__the_escalation_task_offers_to_extend_the_late_task(app: Flask, as_user, case: tuple[int, str]) -> None:
    instance_id, task_id = case
    services = app.extensions["zvh"]
    fire_due_timers(services.db, services.runtime, now=START + timedelta(days=5))
    escalation = open_task_id(app, instance_id, "Esc")
    client: FlaskClient = as_user("coen")

    page = client.get(f"/taken/{escalation}").get_data(as_text=True)

    assert "Wat is te laat" in page
    assert f"/taken/{task_id}/verlengen" in page
    form = client.get(f"/taken/{task_id}/verlengen").get_data(as_text=True)
    assert "De termijn is al verstreken en de escalatie loopt." in form
