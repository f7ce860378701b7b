"""The task page: the rendered form, server-side validation that keeps input, drafts, completion, conflicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FixedClock
from engine.errors import InvalidInput
from engine.models import Draft
from engine.runtime import Runtime
from tests.statements import sent_statements
from tests.web.conftest import login
from tests.web.helpers import MELDING_DATA, lock_version, open_task_id, page_token, start_melding
from web.security import LAST_SEEN
from web.services import Services
from web.tasks import routes as tasks_routes


def test_task_page__renders_the_form_with_labels_instructions_and_case(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    client = as_user("sven")

    response = client.get(f"/taken/{open_task_id(app, instance_id)}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Beoordeel de melding" in page
    assert 'for="veld-besluit"' in page and 'id="veld-besluit"' in page
    assert "<strong>ZVH-2026-00001</strong>" in page, "instructions are Markdown with process data"
    assert "<script>alert(1)</script>" not in page, "HTML in instructions is never rendered"


def test_task_page__invalid_data_shows_errors_and_keeps_what_was_typed(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(
        f"/taken/{task_id}",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "besluit": "afwijzen",
            "toelichting": "",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="foutoverzicht"' in page and 'href="#veld-toelichting"' in page
    assert "Dit veld is verplicht" in page
    assert 'value="afwijzen" selected' in page or 'value="afwijzen" checked' in page
    assert open_task_id(app, instance_id) == task_id, "nothing was stored"


def test_task_page__completing_opens_the_next_task_for_the_same_user(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/taken/{open_task_id(app, instance_id, 'Uitvoeren')}"


def test_task_page__double_submit_gives_a_clear_message_not_an_error_page(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")
    data = {"csrf_token": token, "_actie": "afronden", "besluit": "afwijzen", "toelichting": "Geen ZVH-casus."}

    first = client.post(f"/taken/{task_id}", data=data)
    second = client.post(f"/taken/{task_id}", data=data)

    other = as_user("sanne")
    elsewhere = other.post(f"/taken/{task_id}", data={**data, "csrf_token": page_token(other, "/taken")})

    assert first.status_code == 302
    assert second.status_code == 409
    assert "U heeft deze taak al afgerond; er is niets opnieuw opgeslagen." in second.get_data(as_text=True)
    assert elsewhere.status_code == 404, "only who completed it learns that it was completed"


def test_task_page__a_stale_lock_version_keeps_the_input_and_explains(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    page = client.get(f"/taken/{task_id}").get_data(as_text=True)
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(
        f"/taken/{task_id}",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "besluit": "afwijzen",
            "toelichting": "Mijn toelichting",
            "_lock_version": str(int(lock_version(page)) - 1),
        },
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Mijn toelichting" in body
    assert open_task_id(app, instance_id) == task_id


def test_draft__survives_logout_and_is_shown_again(app: Flask, client: FlaskClient) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    login(client, "sven")
    token = page_token(client, f"/taken/{task_id}")
    saved = client.post(
        f"/taken/{task_id}",
        data={
            "csrf_token": token,
            "_actie": "concept",
            "besluit": "afwijzen",
            "toelichting": "Half af",
        },
    )
    client.post("/uitloggen", data={"csrf_token": page_token(client, "/taken")})

    login(client, "sven")
    page = client.get(f"/taken/{task_id}").get_data(as_text=True)

    assert saved.status_code == 302
    assert "Half af" in page and "concept" in page


def test_draft__a_form_posted_after_the_idle_timeout_is_kept_as_draft(app: Flask, client: FlaskClient) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    login(client, "sven")
    token = page_token(client, f"/taken/{task_id}")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 20 * 60

    response = client.post(
        f"/taken/{task_id}",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "besluit": "afwijzen",
            "toelichting": "Getypt voor de time-out",
        },
    )

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]
    with app.extensions["zvh"].db.reader() as db_session:
        draft = db_session.query(Draft).filter_by(task_id=task_id).one()
    assert draft.data["toelichting"] == "Getypt voor de time-out"
    assert open_task_id(app, instance_id) == task_id, "nothing was completed"
    login(client, "sven")
    assert "Getypt voor de time-out" in client.get(f"/taken/{task_id}").get_data(as_text=True)


def test_task_page__a_missing_csrf_token_saves_nothing_but_keeps_the_input(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")

    response = client.post(
        f"/taken/{task_id}", data={"_actie": "afronden", "besluit": "afwijzen", "toelichting": "Zonder token"}
    )

    assert response.status_code == 400
    assert "Zonder token" in response.get_data(as_text=True)
    assert open_task_id(app, instance_id) == task_id


def test_task_page__a_colleague_without_the_role_gets_not_found(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("otto")

    assert client.get(f"/taken/{task_id}").status_code == 404
    token = page_token(client, "/taken")
    assert client.post(f"/taken/{task_id}", data={"csrf_token": token, "besluit": "oppakken"}).status_code == 404
    assert client.get("/taken/bestaat-niet").status_code == 404


def test_start__a_referral_with_an_invalid_bsn_is_refused_and_kept(app: Flask, as_user) -> None:
    client = as_user("mila")
    token = page_token(client, "/starten/melding")

    response = client.post(
        "/starten/melding",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "gemeente": "Breda",
            "aanleiding": "Zorgen over de buurt",
            "betrokkenen.0.naam": "Fenna Fictief",
            "betrokkenen.0.bsn": "111222334",
            "betrokkenen.0.rol": "hoofdbetrokkene",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "elfproef" in page and 'value="111222334"' in page and "Zorgen over de buurt" in page

    fixed = client.post(
        "/starten/melding",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "gemeente": "Breda",
            "aanleiding": "Zorgen over de buurt",
            "betrokkenen.0.naam": "Fenna Fictief",
            "betrokkenen.0.bsn": "111222333",
            "betrokkenen.0.rol": "hoofdbetrokkene",
        },
    )
    assert fixed.status_code == 302 and fixed.headers["Location"].startswith("/zaken/")


def test_start__roles_outside_the_start_lane_get_not_found(app: Flask, as_user) -> None:
    client = as_user("sven")

    assert client.get("/starten/melding").status_code == 404
    assert "melding" not in client.get("/starten").get_data(as_text=True).lower().split("<main")[1]


def test_start__add_row_without_javascript_keeps_the_values(app: Flask, as_user) -> None:
    client = as_user("mila")
    token = page_token(client, "/starten/melding")

    response = client.post(
        "/starten/melding",
        data={
            "csrf_token": token,
            "_actie": "toevoegen:betrokkenen",
            "aanleiding": MELDING_DATA["aanleiding"],
            "betrokkenen.0.naam": "Fenna Fictief",
            "betrokkenen.0.rol": "hoofdbetrokkene",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fenna Fictief" in page and 'name="betrokkenen.1.naam"' in page


def test_start__a_referral_posted_after_the_idle_timeout_is_kept_as_draft(app: Flask, client: FlaskClient) -> None:
    login(client, "mila")
    token = page_token(client, "/starten/melding")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 20 * 60

    response = client.post(
        "/starten/melding",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "gemeente": "Breda",
            "aanleiding": "Getypt voor de time-out",
        },
    )

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]
    with app.extensions["zvh"].db.reader() as db_session:
        draft = db_session.query(Draft).filter_by(process_key="melding").one()
    assert draft.data["aanleiding"] == "Getypt voor de time-out"
    login(client, "mila")
    assert "Getypt voor de time-out" in client.get("/starten/melding").get_data(as_text=True)


def test_draft__a_user_who_may_not_do_the_task_keeps_nothing_after_the_timeout(app: Flask, client: FlaskClient) -> None:
    task_id = open_task_id(app, start_melding(app))
    login(client, "otto")
    token = page_token(client, "/taken")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 20 * 60

    client.post(f"/taken/{task_id}", data={"csrf_token": token, "besluit": "afwijzen"})

    with app.extensions["zvh"].db.reader() as db_session:
        assert db_session.query(Draft).count() == 0


def test_task_page__a_step_that_makes_the_case_too_large_is_refused_with_the_reason(
    app: Flask, as_user, clock: FixedClock
) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    services = app.extensions["zvh"]
    app.extensions["zvh"] = Services(services.db, Runtime(clock=clock, max_instance_data_mb=0.001))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"})

    assert response.status_code == 422
    assert "De gegevens van deze zaak worden te groot" in response.get_data(as_text=True)
    assert open_task_id(app, instance_id) == task_id, "nothing was stored"


def _statements_of(app: Flask, request: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What `request` answers, and the statements it sent (their first 200 characters, one line each)."""
    with sent_statements(app.extensions["zvh"].db.engine) as sent:
        answer = request()
    return answer, [" ".join(statement.split())[:200] for statement, _ in sent]


def test_completing__reads_the_session_in_one_statement_and_the_page_around_the_form_not_at_all(
    app: Flask, as_user
) -> None:
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    response, sent = _statements_of(
        app,
        lambda: client.post(
            f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"}
        ),
    )

    assert response.status_code == 302
    assert [s for s in sent if "FROM user_roles" in s or "FROM user_gemeenten" in s] == [], "joined into the session's"
    before_write = sent[: next(n for n, s in enumerate(sent) if s.startswith("BEGIN IMMEDIATE"))]
    assert not [s for s in before_write if "FROM audit_events" in s], "the case history is for the page, not a submit"


def test_refused_submit__shows_the_whole_page_again(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "afwijzen"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Dit veld is verplicht" in page
    assert "ZVH-2026-00001" in page and 'name="_lock_version"' in page, (
        "the page around the form, read after the refusal"
    )


def test_task_page__is_read_before_the_write_lock_that_logs_the_read(app: Flask, as_user) -> None:
    """On SQLite the write lock is the whole database's: the page is built in a read, the lock only logs it."""
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")

    response, sent = _statements_of(app, lambda: client.get(f"/taken/{task_id}"))

    assert response.status_code == 200
    locked = sent.index("BEGIN IMMEDIATE")
    unlocked = next(n for n in range(locked + 1, len(sent)) if sent[n].startswith("BEGIN"))  # the navigation's reads
    assert any("instances.id" in s for s in sent[:locked]), "the case was read before"
    # in the lock: the case's person key (one column, not the stored workflow) and the access log's append
    in_lock = sent[locked + 1 : unlocked]
    assert in_lock[0] == "SELECT instances.person_key FROM instances WHERE instances.id = ?", in_lock
    assert len(in_lock) == 3 and all("audit_events" in s for s in in_lock[1:]), in_lock


def test_refused_submit__of_a_task_completed_meanwhile_says_so_instead_of_not_found(
    app: Flask, as_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page shown again after a refusal is read after the step: if the task went in between, the answer is the
    conflict page with its message (409), not a 404 for a form the user just sent."""
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, f"/taken/{task_id}")
    services = app.extensions["zvh"]
    complete, page_context = services.runtime.complete_task, tasks_routes._task_context

    def refused(session: Any, **kwargs: Any) -> Any:
        raise InvalidInput("Controleer de gemarkeerde velden.", {"besluit": ["Kies een besluit."]})

    def after_a_colleague_completed_it(session: Any, user: Any, task_id: str, **kwargs: Any) -> Any:
        with services.db.transaction() as other:  # between the refused step and the page shown again
            complete(other, task_id=task_id, actor=user, data={"besluit": "oppakken"})
        return page_context(session, user, task_id, **kwargs)

    monkeypatch.setattr(services.runtime, "complete_task", refused)
    monkeypatch.setattr(tasks_routes, "_task_context", after_a_colleague_completed_it)
    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "x"})

    assert response.status_code == 409
    assert "Deze taak is intussen door iemand anders afgerond" in response.get_data(as_text=True)
