"""Storingen: the beheerder's list of cases in error, who may see it, and a retry with corrected data."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.inbox import list_tasks
from engine.models import AuditEvent, Instance
from engine.registry import deploy_file
from engine.users import create_user
from tests.engine.bpmn import linear, user_task, write
from tests.web.conftest import PASSWORD, csrf_token
from tests.web.helpers import user


@pytest.fixture
def failed_case(app: Flask, tmp_path: Path) -> int:
    """A case whose script step divides by a number nobody entered; a beheerder, Bea, to repair it."""
    script = (
        '<bpmn:scriptTask id="T2" name="Rekenen"><bpmn:script>uitkomst = 10 / deler</bpmn:script></bpmn:scriptTask>'
    )
    xml = linear(user_task("T1", "Invoeren"), script, user_task("T3", "Bekijk uitkomst"), process_id="rekenfout")
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        create_user(session, username="bea", display_name="Bea Beheerder", roles=["beheerder"], password=PASSWORD)
        deploy_file(session, write(tmp_path, "rekenfout.bpmn", xml), actor="tests")
        instance_id = services.runtime.start_instance(
            session, process_key="rekenfout", actor=user(app, "mila")
        ).instance.id
    with services.db.transaction() as session:
        [task] = list_tasks(session, instance_id=instance_id).tasks
        services.runtime.complete_task(session, task_id=task.id, actor=user(app, "mila"))
    return instance_id


def retry(client: FlaskClient, instance_id: int, typed: str = "", *, with_token: bool = True) -> TestResponse:
    data = {"gegevens": typed} | ({"csrf_token": csrf_token(client, "/taken")} if with_token else {})
    return client.post(f"/storingen/{instance_id}/opnieuw", data=data)


def instance(app: Flask, instance_id: int) -> Instance:
    with app.extensions["zvh"].db.reader() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return row


def test_storingen__a_beheerder_sees_the_case_with_its_step_and_message(as_user, failed_case: int, app: Flask) -> None:
    page = as_user("bea").get("/storingen").get_data(as_text=True)

    assert instance(app, failed_case).case_number in page
    assert "T2" in page and "deler" in page
    assert f'action="/storingen/{failed_case}/opnieuw"' in page
    assert 'href="/storingen"' in page, "the menu shows the page to a beheerder"


@pytest.mark.parametrize("username", ["sven", "mila", "coen"])
def test_storingen__does_not_exist_for_other_roles(as_user, failed_case: int, username: str) -> None:
    client = as_user(username)

    assert client.get("/storingen").status_code == 404
    assert retry(client, failed_case).status_code == 404
    assert 'href="/storingen"' not in client.get("/taken").get_data(as_text=True)


def test_storingen__a_manager_sees_it_too_and_anonymous_visitors_sign_in_first(
    client: FlaskClient, as_user, failed_case: int
) -> None:
    assert client.get("/storingen").status_code == 302
    assert as_user("mariska").get("/storingen").status_code == 200


def test_retry__with_corrected_data_the_case_runs_again(as_user, failed_case: int, app: Flask) -> None:
    client = as_user("bea")

    response = retry(client, failed_case, '{"deler": 2}')

    assert response.status_code == 302
    page = client.get("/storingen").get_data(as_text=True)
    assert "De zaak loopt weer." in page and f"/storingen/{failed_case}/opnieuw" not in page
    assert instance(app, failed_case).status == "running"
    with app.extensions["zvh"].db.reader() as session:
        [event] = session.query(AuditEvent).filter_by(action="retry").all()
        assert (event.actor, event.details) == ("bea", {"corrected_fields": ["deler"]})


def test_retry__without_corrections_that_still_fails_says_so(as_user, failed_case: int, app: Flask) -> None:
    client = as_user("bea")

    assert retry(client, failed_case).status_code == 302

    assert "faalt nog steeds" in client.get("/storingen").get_data(as_text=True)
    assert instance(app, failed_case).status == "error"


@pytest.mark.parametrize(
    ("typed", "message"), [("{deler: 2", "geen geldige JSON"), ("[2]", "Geef de gegevens als JSON-object")]
)
def test_retry__data_that_is_not_a_json_object_keeps_the_text_and_changes_nothing(
    as_user, failed_case: int, app: Flask, typed: str, message: str
) -> None:
    response = retry(as_user("bea"), failed_case, typed)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f">{typed}</textarea>" in page
    assert instance(app, failed_case).status == "error"
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="retry").count() == 0


def test_retry__needs_the_csrf_token(as_user, failed_case: int) -> None:
    assert retry(as_user("bea"), failed_case, '{"deler": 2}', with_token=False).status_code == 400


def test_retry__a_case_no_longer_in_error_is_reported_not_retried(as_user, failed_case: int) -> None:
    client = as_user("bea")
    retry(client, failed_case, '{"deler": 2}')

    response = retry(client, failed_case, '{"deler": 2}')

    assert response.status_code == 302
    assert "niet vastgelopen" in client.get("/storingen").get_data(as_text=True)
