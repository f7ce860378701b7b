"""Vervanging in the web app: arranging cover, validation that keeps what was typed, 403s, CSRF, moving tasks."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.clock import FixedClock
from engine.models import AuditEvent, HumanTask, Substitution
from tests.conftest import START
from tests.web.helpers import open_task_id, page_token, start_melding, user

#: Monday 2 March 09:00 to Monday 9 March 09:00, as typed in Breda.
WEEK_FORM = {
    "begin_datum": "2026-03-02",
    "begin_tijd": "09:00",
    "eind_datum": "2026-03-09",
    "eind_tijd": "09:00",
    "reden": "Vakantie",
}


def arrange(client: FlaskClient, **fields: Any) -> Any:
    token = page_token(client, "/vervanging")
    return client.post("/vervanging", data={"csrf_token": token, **WEEK_FORM, **fields})


def stored(app: Flask) -> list[Substitution]:
    with app.extensions["zvh"].db.reader() as session:
        return list(session.scalars(select(Substitution).order_by(Substitution.id)))


def test_nav__links_to_vervanging_when_signed_in(client: FlaskClient, as_user) -> None:
    assert 'href="/vervanging"' not in client.get("/inloggen").get_data(as_text=True)

    assert 'href="/vervanging"' in as_user("sven").get("/taken").get_data(as_text=True)


def test_set__a_user_arranges_cover_for_themselves(app: Flask, as_user) -> None:
    client = as_user("sven")
    form = client.get("/vervanging").get_data(as_text=True)

    response = arrange(client, vervanger="sanne")

    assert 'name="afwezige"' not in form, "only coordinators choose who is away"
    assert response.status_code == 302
    [substitution] = stored(app)
    assert (substitution.absent.username, substitution.substitute.username) == ("sven", "sanne")
    assert (substitution.starts_at, substitution.ends_at) == (START, START.replace(day=9))
    page = client.get("/vervanging").get_data(as_text=True)
    assert "Sanne Screener" in page and "09-03-2026 09:00" in page and "Vervanging geregeld" in page


def test_set__for_a_colleague_is_403_for_a_non_coordinator(app: Flask, as_user) -> None:
    response = arrange(as_user("sanne"), afwezige="sven", vervanger="sanne")

    assert response.status_code == 403
    assert stored(app) == []


def test_set__errors_per_field_keep_what_was_typed(app: Flask, as_user) -> None:
    client = as_user("sven")

    response = arrange(client, vervanger="sanne", eind_datum="2026-03-01", reden=" ")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Het einde moet na het begin liggen." in page and "Geef de reden van de afwezigheid." in page
    assert 'value="2026-03-01"' in page and 'value="09:00"' in page
    assert '<option value="sanne" selected>' in page
    assert 'aria-invalid="true"' in page
    assert stored(app) == []


def test_set__without_csrf_token_is_refused(app: Flask, as_user) -> None:
    response = as_user("sven").post("/vervanging", data={**WEEK_FORM, "vervanger": "sanne"})

    assert response.status_code == 400
    assert stored(app) == []


def test_coordinator__arranges_cover_and_moves_the_assigned_tasks_with_a_reason(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    sven = as_user("sven")
    sven.post(f"/taken/{task_id}/oppakken", data={"csrf_token": page_token(sven, "/taken")})
    sven.post("/uitloggen", data={"csrf_token": page_token(sven, "/taken")})
    coen = as_user("coen")
    assert arrange(coen, afwezige="sven", vervanger="sanne").status_code == 302
    [substitution] = stored(app)
    page = coen.get("/vervanging").get_data(as_text=True)

    response = coen.post(
        f"/vervanging/{substitution.id}/taken-verplaatsen",
        data={"csrf_token": page_token(coen, "/vervanging"), "reden": "Sven is ziek"},
        follow_redirects=True,
    )

    assert "Sven Screener" in page and f"/vervanging/{substitution.id}/intrekken" in page
    assert "1 taak verplaatst." in response.get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        moved = session.get(HumanTask, task_id)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "substitute")).one()
    assert moved is not None and moved.assignee_id == user(app, "sanne").id
    assert event.actor == "coen" and "Sven is ziek" in event.summary


def test_withdraw__by_the_absent_person_and_403_for_others(app: Flask, as_user) -> None:
    client = as_user("sven")
    arrange(client, vervanger="sanne")
    [substitution] = stored(app)
    path = f"/vervanging/{substitution.id}/intrekken"
    client.post("/uitloggen", data={"csrf_token": page_token(client, "/vervanging")})
    mila = as_user("mila")

    assert mila.post(path, data={"csrf_token": page_token(mila, "/vervanging")}).status_code == 403
    assert "Sanne Screener" not in mila.get("/vervanging").get_data(as_text=True), "not mila's business"
    mila.post("/uitloggen", data={"csrf_token": page_token(mila, "/vervanging")})
    sven = as_user("sven")
    response = sven.post(path, data={"csrf_token": page_token(sven, "/vervanging")}, follow_redirects=True)

    assert "De vervanging is ingetrokken." in response.get_data(as_text=True)
    assert stored(app)[0].withdrawn_at is not None


def test_need_to_know__the_substitute_loses_the_case_when_the_period_ends(
    app: Flask, as_user, clock: FixedClock
) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        services.runtime.claim_task(session, task_id=task_id, actor=user(app, "sven"))
    sven = as_user("sven")
    arrange(sven, vervanger="sanne")
    [substitution] = stored(app)
    sven.post(
        f"/vervanging/{substitution.id}/taken-verplaatsen",
        data={"csrf_token": page_token(sven, "/vervanging"), "reden": "Vakantie"},
    )
    with services.db.transaction() as session:
        decision = {"besluit": "afwijzen", "toelichting": "Geen zorgen"}
        services.runtime.complete_task(session, task_id=task_id, actor=user(app, "sanne"), data=decision)
    sven.post("/uitloggen", data={"csrf_token": page_token(sven, "/vervanging")})
    sanne = as_user("sanne")

    assert sanne.get(f"/zaken/{instance_id}").status_code == 200
    clock.advance(substitution.ends_at - clock.now())
    sanne = as_user("sanne")  # days later: the idle session has ended on the server, so she signs in again
    assert sanne.get(f"/zaken/{instance_id}").status_code == 404
