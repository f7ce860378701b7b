"""Bewaking: who sees it, what it lists, and the actions from a row (note, open, escalate, retry, reassign)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FixedClock
from engine.inbox import list_tasks
from engine.models import AuditEvent
from engine.registry import deploy_file
from tests.engine.bpmn import linear, user_task, write
from tests.web.conftest import csrf_token
from tests.web.helpers import user

ROOT = Path(__file__).resolve().parents[2]
NORM = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="norm" value="PT4H"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)


@pytest.fixture
def stalled_case(app: Flask, tmp_path: Path, clock: FixedClock) -> int:
    """A case whose screening step waited past its 4-hour norm."""
    xml = linear(
        user_task("T1", "Melding screenen", extra=NORM),
        process_id="screening",
        lanes={"Screener": ["T1"], "Melder": ["S", "E"]},
    )
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        deploy_file(session, write(tmp_path, "screening.bpmn", xml), actor="tests")
        deploy_file(
            session, ROOT / "processes" / "bewaking_escalatie.bpmn", actor="tests", search_paths=[ROOT / "forms"]
        )
        outcome = services.runtime.start_instance(session, process_key="screening", actor=user(app, "mila"))
        instance_id = outcome.instance.id
    clock.advance(timedelta(hours=6))
    return instance_id


def post(client: FlaskClient, path: str, data: dict[str, str]) -> object:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/bewaking")})


def test_bewaking__managers_see_the_stalled_step_with_its_norm(as_user, stalled_case: int) -> None:
    page = as_user("mariska").get("/bewaking?categorie=stalled").get_data(as_text=True)

    assert "Melding screenen" in page
    assert "Wacht langer dan de norm" in page
    assert "4 uur" in page and "PT4H" not in page, "the norm in words, not as an ISO duration"
    assert 'href="/bewaking"' in page  # the menu shows the monitor to a manager


def test_bewaking__is_refused_to_other_roles(as_user, stalled_case: int) -> None:
    client = as_user("sven")
    assert client.get("/bewaking").status_code == 403
    assert 'href="/bewaking"' not in client.get("/taken").get_data(as_text=True)


def test_note__too_long_keeps_the_text_and_stores_nothing(app: Flask, as_user, stalled_case: int) -> None:
    client = as_user("mariska")
    text = "Nagebeld. " * 250

    response = post(client, f"/bewaking/zaken/{stalled_case}/notitie", {"notitie": text})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Gebruik hoogstens 2000 tekens." in page
    assert text.strip() in page
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="note").count() == 0


def test_open_case__is_logged_and_then_the_case_page_opens(app: Flask, as_user, stalled_case: int) -> None:
    client = as_user("mariska")
    # (a manager also sees a case with an open task through the team view; the monitor's way in is logged with a reason)
    response = post(client, f"/bewaking/zaken/{stalled_case}/openen", {"reden": "Stagnatie onderzoeken"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/zaken/{stalled_case}")
    assert client.get(f"/zaken/{stalled_case}").status_code == 200


def test_note__shows_on_the_case_timeline(as_user, stalled_case: int) -> None:
    client = as_user("mariska")
    post(client, f"/bewaking/zaken/{stalled_case}/notitie", {"notitie": "Screener gebeld, bezet tot vrijdag."})
    post(client, f"/bewaking/zaken/{stalled_case}/openen", {"reden": "Stagnatie onderzoeken"})

    assert "Screener gebeld, bezet tot vrijdag." in client.get(f"/zaken/{stalled_case}").get_data(as_text=True)


def test_escalate__gives_the_procesregisseur_a_task_in_the_same_case(app: Flask, as_user, stalled_case: int) -> None:
    client = as_user("mariska")

    response = post(
        client,
        f"/bewaking/zaken/{stalled_case}/escaleren",
        {"reden": "Screening ligt stil", "stap": "Melding screenen"},
    )

    assert response.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        tasks = list_tasks(session, user=user(app, "pim")).tasks
    assert [(t.element_id, t.name) for t in tasks] == [("Task_vlottrekken", "Vastgelopen zaak vlottrekken")]


def test_reassign_from_the_monitor__lands_in_the_colleagues_inbox(app: Flask, as_user, stalled_case: int) -> None:
    client = as_user("mariska")
    page = client.get("/bewaking").get_data(as_text=True)
    [task_id] = re.findall(r'name="taak" value="([^"]+)"', page)

    response = client.post(
        "/taken/toewijzen",
        data={
            "taak": task_id,
            "collega": "sanne",
            "reden": "Sven is met vakantie",
            "terug": "/bewaking?categorie=stalled",
            "csrf_token": csrf_token(client, "/bewaking"),
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/bewaking?categorie=stalled")
    with app.extensions["zvh"].db.reader() as session:
        [task] = list_tasks(session, user=user(app, "sanne")).tasks
    assert (task.id, task.assignee) == (task_id, "sanne")


def test_actions__need_the_csrf_token(as_user, stalled_case: int) -> None:
    response = as_user("mariska").post(f"/bewaking/zaken/{stalled_case}/notitie", data={"notitie": "x"})
    assert response.status_code == 400


@pytest.fixture
def failed_case(app: Flask, tmp_path: Path) -> int:
    """A case whose script step fails after the first task."""
    script = '<bpmn:scriptTask id="T2" name="Rekenen"><bpmn:script>uitkomst = 1 / 0</bpmn:script></bpmn:scriptTask>'
    xml = linear(user_task("T1", "Invoeren"), script, process_id="rekenfout")
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        deploy_file(session, write(tmp_path, "rekenfout.bpmn", xml), actor="tests")
        instance_id = services.runtime.start_instance(
            session, process_key="rekenfout", actor=user(app, "mila")
        ).instance.id
    with services.db.transaction() as session:
        [task] = list_tasks(session, instance_id=instance_id).tasks
        services.runtime.complete_task(session, task_id=task.id, actor=user(app, "mila"))
    return instance_id


def test_incident__is_listed_with_its_error_and_a_manager_can_retry_it(app: Flask, as_user, failed_case: int) -> None:
    client = as_user("mariska")
    page = client.get("/bewaking?categorie=incident").get_data(as_text=True)
    assert "division by zero" in page
    assert f"/bewaking/zaken/{failed_case}/opnieuw" in page

    response = post(client, f"/bewaking/zaken/{failed_case}/opnieuw", {"terug": "/bewaking?categorie=incident"})

    assert response.status_code == 302
    assert "faalt nog steeds" in client.get("/bewaking").get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="retry", actor="mariska").count() == 1


def test_incident__retry_is_refused_to_a_professional(as_user, failed_case: int) -> None:
    client = as_user("sven")
    assert post(client, f"/bewaking/zaken/{failed_case}/opnieuw", {}).status_code == 403


def test_incident__names_the_step_where_the_case_stopped_never_its_id(app: Flask, as_user, failed_case: int) -> None:
    page = as_user("mariska").get("/bewaking?categorie=incident").get_data(as_text=True)

    row = re.search(r'<tr class="utrecht-table__row zvh-signaal zvh-signaal--incident".*?</tr>', page, re.S)
    assert row is not None
    assert "Rekenen" in row[0]
    assert ">T2<" not in row[0]
    with app.extensions["zvh"].db.reader() as session:
        error = session.query(AuditEvent).filter_by(action="error").one()
    assert error.summary.startswith("Error at Rekenen:"), "the audit summary names the step too"


def test_bewaking__an_unassigned_task_shows_its_role_by_name(as_user, stalled_case: int) -> None:
    page = as_user("mariska").get("/bewaking?categorie=stalled").get_data(as_text=True)

    row = re.search(r'<tr class="utrecht-table__row zvh-signaal zvh-signaal--stalled".*?</tr>', page, re.S)
    assert row is not None
    assert ">Screener<" in row[0] and ">screener<" not in row[0]
