"""The case page and need-to-know: every route refuses what the user may not see, without revealing it exists."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from engine.models import AuditEvent
from engine.registry import deploy_file
from tests.engine.bpmn import flow, linear, user_task, write
from tests.web.conftest import login
from tests.web.helpers import open_task_id, page_token, start_melding, user


def complete_beoordeling(app: Flask, instance_id: int, username: str = "sven") -> None:
    client = app.test_client()
    login(client, username)
    task_id = open_task_id(app, instance_id)
    token = page_token(client, f"/taken/{task_id}")
    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"})
    assert response.status_code == 302


def test_case__shows_header_timeline_with_decisions_and_open_tasks(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    complete_beoordeling(app, instance_id)
    client = as_user("sven")

    page = client.get(f"/zaken/{instance_id}").get_data(as_text=True)

    assert "ZVH-2026-00001" in page and "Melding" in page and "Breda" in page
    assert "Sven Screener" in page and "Besluit" in page and "oppakken" in page, "who decided what"
    assert "Fenna Fictief" in page, "the referral's data is on the timeline"
    assert "Voer de aanpak uit" in page, "open tasks"
    assert 'data-bron="/zaken/' in page


def test_case__diagram_endpoint_marks_completed_and_current_elements(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    complete_beoordeling(app, instance_id)
    client = as_user("sven")

    state = client.get(f"/zaken/{instance_id}/diagram").get_json()

    assert state["xml"].lstrip().startswith("<?xml")
    assert "Beoordelen" in state["completed"] and state["current"] == ["Uitvoeren"]


def test_case__viewing_is_logged(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    client = as_user("mila")

    client.get(f"/zaken/{instance_id}")

    with app.extensions["zvh"].db.reader() as session:
        views = session.query(AuditEvent).filter_by(action="view", instance_id=instance_id, actor="mila").count()
    assert views == 1


def test_case__the_starter_sees_it_in_my_cases(app: Flask, as_user) -> None:
    instance_id = start_melding(app)

    page = as_user("mila").get("/zaken").get_data(as_text=True)

    assert f"/zaken/{instance_id}" in page


def test_case__a_procesregisseur_can_add_a_participant_with_a_reason(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    complete_beoordeling(app, instance_id)
    pim = app.test_client()
    login(pim, "pim")
    assert pim.get(f"/zaken/{instance_id}").status_code == 404, "not yet taking part"

    with app.extensions["zvh"].db.transaction() as session:
        from engine.access import take_part
        from engine.users import get_user

        take_part(
            session,
            instance_id=instance_id,
            user_id=get_user(session, "pim").id,
            reason="added",
            at=app.extensions["zvh"].runtime.clock.now(),
        )
    token = page_token(pim, f"/zaken/{instance_id}")
    pim.post(
        f"/zaken/{instance_id}/deelnemers",
        data={"csrf_token": token, "collega": "otto", "reden": "Gemeente levert woonbegeleiding"},
    )

    otto = as_user("otto")
    assert otto.get(f"/zaken/{instance_id}").status_code == 200
    with app.extensions["zvh"].db.reader() as session:
        event = session.query(AuditEvent).filter_by(action="participant").one()
    assert "woonbegeleiding" in event.summary and event.actor == "pim"


def test_case__outsiders_get_not_found_for_every_case_route(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("otto")
    token = page_token(client, "/taken")

    gets = [f"/zaken/{instance_id}", f"/zaken/{instance_id}/diagram", f"/taken/{task_id}", "/zaken/999999"]
    posts = [f"/zaken/{instance_id}/deelnemers", f"/taken/{task_id}", f"/taken/{task_id}/oppakken"]

    assert [client.get(path).status_code for path in gets] == [404] * len(gets)
    statuses = [
        client.post(path, data={"csrf_token": token, "collega": "otto", "reden": "x"}).status_code for path in posts
    ]
    assert statuses == [404, 404, 404]
    assert open_task_id(app, instance_id) == task_id


def test_routes__anonymous_users_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)

    for path in [
        "/",
        "/taken",
        f"/taken/{task_id}",
        "/zaken",
        f"/zaken/{instance_id}",
        "/starten",
        "/starten/melding",
        f"/zaken/{instance_id}/diagram",
    ]:
        response = client.get(path)
        assert response.status_code == 302 and "/inloggen" in response.headers["Location"], path


def test_routes__every_state_changing_route_needs_a_csrf_token(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("coen")

    for path in [
        f"/taken/{task_id}/oppakken",
        f"/taken/{task_id}/teruggeven",
        "/taken/toewijzen",
        "/taken/filters",
        f"/zaken/{instance_id}/deelnemers",
        "/uitloggen",
        "/sessie/verlengen",
        "/starten/melding",
    ]:
        assert client.post(path, data={"collega": "sanne", "reden": "x", "naam": "x"}).status_code == 400, path
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter(AuditEvent.action.in_(["claim", "reassign"])).count() == 0


def test_noodtoegang__a_zvh_colleague_states_a_reason_then_sees_the_case(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    pim = as_user("pim")

    refused = pim.get(f"/zaken/{instance_id}")
    assert refused.status_code == 404
    assert "Noodtoegang vragen" in refused.get_data(as_text=True)
    assert pim.get("/zaken/999999").get_data(as_text=True).count("Noodtoegang vragen") == 1, "same answer"
    token = page_token(pim, f"/zaken/{instance_id}/noodtoegang")
    typed = "<b>Acute</b> dreiging"
    empty = pim.post(f"/zaken/{instance_id}/noodtoegang", data={"csrf_token": token, "reden": "   "})
    assert empty.status_code == 422 and "Dit veld is verplicht." in empty.get_data(as_text=True)
    assert pim.get(f"/zaken/{instance_id}").status_code == 404, "nothing granted without a reason"

    granted = pim.post(f"/zaken/{instance_id}/noodtoegang", data={"csrf_token": token, "reden": typed})

    assert granted.status_code == 302
    page = pim.get(f"/zaken/{instance_id}").get_data(as_text=True)
    assert "Fenna Fictief" in page and "noodtoegang" in page
    with app.extensions["zvh"].db.reader() as session:
        event = session.query(AuditEvent).filter_by(action="noodtoegang").one()
    assert (event.actor, event.details["reason"]) == ("pim", typed)


def test_noodtoegang__is_not_offered_to_partners(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    otto = as_user("otto")

    page = otto.get(f"/zaken/{instance_id}")
    token = page_token(otto, "/taken")
    asked = otto.post(f"/zaken/{instance_id}/noodtoegang", data={"csrf_token": token, "reden": "Nieuwsgierig"})

    assert page.status_code == 404 and "Noodtoegang" not in page.get_data(as_text=True)
    assert asked.status_code == 404
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="noodtoegang").count() == 0


def test_participant__removed_with_a_reason_loses_access(app: Flask) -> None:
    instance_id = start_melding(app)
    pim, otto = app.test_client(), app.test_client()
    login(pim, "pim")
    login(otto, "otto")
    token = page_token(pim, f"/zaken/{instance_id}/noodtoegang")
    pim.post(f"/zaken/{instance_id}/noodtoegang", data={"csrf_token": token, "reden": "Overdracht procesregie"})
    pim.post(
        f"/zaken/{instance_id}/deelnemers",
        data={"csrf_token": token, "collega": "otto", "reden": "Gemeente levert woonbegeleiding"},
    )
    assert otto.get(f"/zaken/{instance_id}").status_code == 200
    otto_id = user(app, "otto").id
    token = page_token(pim, f"/zaken/{instance_id}")

    without_reason = pim.post(
        f"/zaken/{instance_id}/deelnemers/{otto_id}/verwijderen", data={"csrf_token": token, "reden": ""}
    )
    assert without_reason.status_code == 302
    assert otto.get(f"/zaken/{instance_id}").status_code == 200
    pim.post(
        f"/zaken/{instance_id}/deelnemers/{otto_id}/verwijderen",
        data={"csrf_token": token, "reden": "Woonbegeleiding afgerond"},
    )

    assert otto.get(f"/zaken/{instance_id}").status_code == 404
    with app.extensions["zvh"].db.reader() as session:
        event = session.query(AuditEvent).filter_by(action="participant_removed").one()
    assert event.details["reason"] == "Woonbegeleiding afgerond"


def test_participant__a_refused_addition_keeps_what_was_typed(app: Flask) -> None:
    instance_id = start_melding(app)
    pim = app.test_client()
    login(pim, "pim")
    token = page_token(pim, f"/zaken/{instance_id}/noodtoegang")
    pim.post(f"/zaken/{instance_id}/noodtoegang", data={"csrf_token": token, "reden": "Overdracht procesregie"})
    token = page_token(pim, f"/zaken/{instance_id}")

    unknown = pim.post(
        f"/zaken/{instance_id}/deelnemers", data={"csrf_token": token, "collega": "niemand", "reden": "Woonbegeleiding"}
    )
    no_reason = pim.post(
        f"/zaken/{instance_id}/deelnemers", data={"csrf_token": token, "collega": "otto", "reden": " "}
    )

    assert unknown.status_code == 422 and no_reason.status_code == 422
    assert "Die collega bestaat niet." in unknown.get_data(as_text=True)
    assert 'value="niemand"' in unknown.get_data(as_text=True)
    assert 'value="Woonbegeleiding"' in unknown.get_data(as_text=True)
    assert "Dit veld is verplicht." in no_reason.get_data(as_text=True)
    assert 'value="otto"' in no_reason.get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="participant").count() == 0


def test_case__header_current_step_with_display_names_and_the_diagram_names_the_step(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    complete_beoordeling(app, instance_id)
    task_id = open_task_id(app, instance_id)
    with app.extensions["zvh"].db.transaction() as session:
        app.extensions["zvh"].runtime.claim_task(session, task_id=task_id, actor=user(app, "sanne"))

    page = as_user("sven").get(f"/zaken/{instance_id}").get_data(as_text=True)

    start = page.index('class="zvh-case-header')
    header = page[start : page.index("</header>", start)]
    assert "ZVH-2026-00001" in header and "zvh-badge" in header and "Breda" in header and "Procesregisseur" in header
    current = page[page.index('class="zvh-current-step') :]
    assert "Voer de aanpak uit" in current and "Sanne Screener" in current, "the assignee by display name"
    assert page.index("zvh-case-header") < page.index("zvh-current-step") < page.index('id="kop-verloop"')
    assert "Processchema met de huidige stap: Voer de aanpak uit" in page, "the step's name, not its element id"


def test_case__a_waiting_timer_says_until_when_and_which_step_it_guards(app: Flask, tmp_path: Path, as_user) -> None:
    boundary = (
        '<bpmn:boundaryEvent id="Termijn" name="Antwoordtermijn" attachedToRef="T1" cancelActivity="false">'
        "<bpmn:documentation>Na twee dagen krijgt de screener een herinnering.</bpmn:documentation>"
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT48H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent><bpmn:endEvent id="E2"/>' + flow("F_T", "Termijn", "E2")
    )
    xml = linear(
        user_task("T1", "Antwoord afwachten"),
        process_id="wachten",
        name="Wachten",
        extra=boundary,
        lanes={"Screener": ["S", "T1", "E", "Termijn", "E2"]},
    )
    zvh = app.extensions["zvh"]
    with zvh.db.transaction() as session:
        deploy_file(session, write(tmp_path, "wachten.bpmn", xml), actor="tests")
        session.flush()
        instance_id = zvh.runtime.start_instance(session, process_key="wachten", actor=user(app, "sven")).instance.id

    page = as_user("sven").get(f"/zaken/{instance_id}").get_data(as_text=True)

    current = page[page.index('class="zvh-current-step') :]
    assert "Wacht op termijn" in current and "Antwoordtermijn" in current
    assert "tot 04-03-2026 09:00" in current, "two days after the start (09:00 Amsterdam), in Dutch format"
    assert "Bewaakt de stap: Antwoord afwachten" in current
    assert "Na twee dagen krijgt de screener een herinnering." in current
