"""The retention pages: due and uncomputable cases, an extension with a reason, and a destruction list that a
manager proposes, the privacyfunctionaris reviews and executes — each form with CSRF and a server-side role check."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import DestructionList, Instance
from engine.twofactor import enrol_now
from engine.users import create_user, get_user
from tests.conftest import START
from tests.engine.test_destruction import NAME, retention_process, run_case
from tests.web.conftest import PASSWORD, csrf_token, login


def _world(app: Flask, tmp_path: Path) -> tuple[int, str]:
    """A closed case about Xandra whose retention (P0D) has passed, and a privacyfunctionaris."""
    services = app.extensions["zvh"]
    retention_process(services.db, tmp_path, at_end="P0D")
    with services.db.transaction() as session:
        fenna = create_user(
            session, username="fenna", display_name="Fenna FG", roles=["privacyfunctionaris"], password=PASSWORD
        )
        enrol_now(session, user=fenna, at=START)
        mila = get_user(session, "mila")
    instance_id = run_case(services.db, services.runtime, mila)
    with services.db.reader() as session:
        return instance_id, session.get_one(Instance, instance_id).case_number


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> int:
    token = csrf_token(client, "/bewaartermijnen")
    return client.post(path, data={**data, "csrf_token": token}).status_code


def test_pages__only_managers_and_the_fg_see_them(app: Flask, tmp_path: Path) -> None:
    _world(app, tmp_path)
    for username in ("mila", "otto", "pim"):
        client = _signed_in(app, username)
        assert client.get("/bewaartermijnen").status_code == 403
        assert client.get("/vernietiging").status_code == 403
    page = _signed_in(app, "mariska").get("/bewaartermijnen").get_data(as_text=True)
    assert "Bewaartermijnen" in page and NAME not in page


def test_list__proposed_reviewed_by_another_and_executed(app: Flask, tmp_path: Path) -> None:
    instance_id, case_number = _world(app, tmp_path)
    mariska, fenna = _signed_in(app, "mariska"), _signed_in(app, "fenna")
    assert case_number in mariska.get("/bewaartermijnen").get_data(as_text=True)

    no_csrf = mariska.post("/vernietiging", data={"instance_id": instance_id, "note": "x"})
    assert no_csrf.status_code == 400
    assert _post(mariska, "/vernietiging", {"instance_id": instance_id, "note": "Maart"}) == 302
    with app.extensions["zvh"].db.reader() as session:
        list_id = session.scalars(select(DestructionList.id)).one()
    assert _post(mariska, f"/vernietiging/{list_id}/beoordelen", {"besluit": "goedkeuren"}) == 403
    assert _post(mariska, f"/vernietiging/{list_id}/uitvoeren", {}) == 409
    assert _post(fenna, f"/vernietiging/{list_id}/beoordelen", {"besluit": "goedkeuren", "note": "Akkoord"}) == 302
    assert _post(fenna, f"/vernietiging/{list_id}/uitvoeren", {}) == 302

    report = fenna.get(f"/vernietiging/{list_id}").get_data(as_text=True)
    assert "Vernietigingsverslag" in report and case_number in report and NAME not in report
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(Instance, instance_id).destroyed_at is not None
    assert fenna.get(f"/zaken/{instance_id}").status_code == 404


def test_extend__needs_a_reason_and_happens_once(app: Flask, tmp_path: Path) -> None:
    services = app.extensions["zvh"]
    retention_process(services.db, tmp_path, at_end="P1Y")
    with services.db.transaction() as session:
        mila = get_user(session, "mila")
    instance_id = run_case(services.db, services.runtime, mila)
    mariska = _signed_in(app, "mariska")
    path = f"/bewaartermijnen/{instance_id}/verlengen"

    assert _post(mariska, path, {"until": "2027-04-01", "reason": ""}) == 422
    assert _post(mariska, path, {"until": "2027-04-01", "reason": "Lopend bezwaar"}) == 302
    assert _post(mariska, path, {"until": "2027-05-01", "reason": "Nog eens"}) == 409
    with services.db.reader() as session:
        assert session.get_one(Instance, instance_id).retention_extensions == 1
