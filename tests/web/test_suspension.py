"""Opschorten (web/deadlines): who may pauses a case's legal deadline from the case page with a reason and resumes
it; the case page and the inbox show the paused state; others are refused; a refused form keeps what was typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.access import take_part
from engine.registry import deploy_file
from engine.users import get_user
from tests.engine.bpmn import write
from tests.engine.test_suspension import legal_process
from tests.web.helpers import page_token


@pytest.fixture
def case(app: Flask, tmp_path: Path) -> int:
    """A case started by Mila whose privacyfunctionaris task has the legal deadline 06-03-2026 17:00; Pim
    (procesregisseur) takes part."""
    services = app.extensions["zvh"]
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    with services.db.transaction() as session:
        deploy_file(session, write(tmp_path, "legal.bpmn", legal_process(starter="Melder")), actor="tests")
        outcome = services.runtime.start_instance(
            session, process_key="legal", actor=get_user(session, "mila"), data=None
        )
        pim = get_user(session, "pim")
        take_part(
            session, instance_id=outcome.instance.id, user_id=pim.id, reason="regie", at=services.runtime.clock.now()
        )
        return outcome.instance.id


def test_suspension__pause_and_resume_from_the_case_page(as_user, case: int) -> None:
    client: FlaskClient = as_user("pim")
    page = client.get(f"/zaken/{case}").get_data(as_text=True)
    assert "Termijn opschorten" in page
    token = page_token(client, f"/zaken/{case}")

    paused = client.post(f"/zaken/{case}/opschorten", data={"csrf_token": token, "reden": "Wacht op ID-bewijs"})

    assert paused.status_code == 302
    assert paused.headers["Location"].endswith(f"/zaken/{case}")
    page = client.get(f"/zaken/{case}").get_data(as_text=True)
    assert "Opgeschort sinds 02-03-2026 09:00</span> — Wacht op ID-bewijs" in page
    assert "Termijn hervatten" in page
    assert "Huidige termijn: 06-03-2026 17:00" in page

    resumed = client.post(f"/zaken/{case}/hervatten", data={"csrf_token": token, "reden": "ID-bewijs ontvangen"})

    assert resumed.status_code == 302
    page = client.get(f"/zaken/{case}").get_data(as_text=True)
    assert "Wettelijke termijn hervat" in page
    assert "Opgeschort sinds" not in page


def test_suspension__the_inbox_shows_the_paused_state(as_user, case: int) -> None:
    client: FlaskClient = as_user("coen")
    token = page_token(client, f"/zaken/{case}")
    assert (
        client.post(f"/zaken/{case}/opschorten", data={"csrf_token": token, "reden": "Wacht op ID"}).status_code == 302
    )

    inbox = client.get("/taken?tab=team").get_data(as_text=True)

    assert "Opgeschort sinds 02-03-2026 09:00 — Wacht op ID" in inbox


@pytest.mark.parametrize(("username", "status"), [("mila", 403), ("sven", 404), ("otto", 404)])
def test_suspension__others_are_refused_and_get_no_form(as_user, case: int, username: str, status: int) -> None:
    client: FlaskClient = as_user(username)
    token = page_token(client, "/inbox")

    assert client.post(f"/zaken/{case}/opschorten", data={"csrf_token": token, "reden": "x"}).status_code == status
    assert client.get(f"/zaken/{case}/opschorting").status_code == status
    if status == 403:
        assert "Termijn opschorten" not in client.get(f"/zaken/{case}").get_data(as_text=True)


def test_suspension__bad_input_keeps_the_reason_and_changes_nothing(as_user, case: int) -> None:
    client: FlaskClient = as_user("pim")
    token = page_token(client, f"/zaken/{case}")

    empty = client.post(f"/zaken/{case}/opschorten", data={"csrf_token": token, "reden": "  "})
    assert empty.status_code == 422
    assert 'href="#opschorting-reden"' in empty.get_data(as_text=True)
    long_reason = "Wacht op ID " * 200
    too_long = client.post(f"/zaken/{case}/opschorten", data={"csrf_token": token, "reden": long_reason})
    assert too_long.status_code == 422
    assert f">{long_reason}</textarea>" in too_long.get_data(as_text=True)
    assert client.post(f"/zaken/{case}/opschorten", data={"reden": "Wacht op ID"}).status_code == 400, "no CSRF"
    assert client.post(f"/zaken/{case}/hervatten", data={"csrf_token": token, "reden": "ID"}).status_code == 409
    assert "Opgeschort sinds" not in client.get(f"/zaken/{case}").get_data(as_text=True)
