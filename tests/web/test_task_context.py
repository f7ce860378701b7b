"""The task page shows the facts its decision needs; a repeated round starts empty; coordinators look read-only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from engine.monitor.actions import escalate
from engine.registry import deploy_file
from tests.engine.bpmn import flow, process, user_task, write
from tests.web.conftest import BEOORDELING, MELDING, START_FORM, login
from tests.web.helpers import MELDING_DATA, open_task_id, page_token, start_melding, user

FORMS = Path(__file__).resolve().parents[2] / "forms"


def rounds_process() -> str:
    """A referral checked by the screener; a refusal sends it round to the same check again."""
    check = user_task("Check", "Melding controleren", "beoordeling").replace(
        "</spiffworkflow:properties>",
        '<spiffworkflow:property name="context" value="S, veld:aanleiding"/></spiffworkflow:properties>',
    )
    body = (
        f'<bpmn:startEvent id="S" name="Melding gedaan">{START_FORM}</bpmn:startEvent>'
        + check
        + '<bpmn:exclusiveGateway id="G" default="Klaar"/>'
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "Check")
        + flow("F2", "Check", "G")
        + flow("Opnieuw", "G", "Check", 'besluit == "afwijzen"')
        + flow("Klaar", "G", "E")
    )
    return process(
        body, process_id="rondes", name="Melding in rondes", lanes={"Melder": ["S"], "Screener": ["Check", "G", "E"]}
    )


@pytest.fixture
def rounds(app: Flask, tmp_path: Path) -> int:
    """A started `rondes` case (by Mila) waiting at the screener's check; returns the instance id."""
    zvh = app.extensions["zvh"]
    write(tmp_path, "melding.json", MELDING)
    write(tmp_path, "beoordeling.json", BEOORDELING)
    with zvh.db.transaction() as session:
        path = write(tmp_path, "rondes.bpmn", rounds_process())
        deploy_file(session, path, actor="tests", search_paths=[tmp_path, FORMS])
    with zvh.db.transaction() as session:
        outcome = zvh.runtime.start_instance(session, process_key="rondes", actor=user(app, "mila"), data=MELDING_DATA)
        return outcome.instance.id


def form_part(page: str) -> str:
    return page[page.index('<form method="post" action="/taken/') :]


def context_part(page: str) -> str:
    start = page.index('<section class="zvh-context"')
    return page[start : page.index("</section>", start)]


def complete(app: Flask, task_id: str, data: dict[str, str], username: str = "sven") -> None:
    client = app.test_client()
    login(client, username)
    token = page_token(client, f"/taken/{task_id}")
    response = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", **data})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_task__shows_the_referral_it_checks_above_the_form(app: Flask, rounds: int, as_user) -> None:
    client = as_user("sven")

    page = client.get(f"/taken/{open_task_id(app, rounds)}").get_data(as_text=True)

    context = context_part(page)
    assert "Gegevens voor deze stap" in context and "Melding gedaan" in context
    assert "Mila Melder" in context, "who referred, by display name"
    assert MELDING_DATA["aanleiding"] in context and "Fenna Fictief" in context
    assert 'class="zvh-facts"' in context
    assert page.index('<section class="zvh-context"') < page.index('<form method="post" action="/taken/')


def test_task__a_second_round_starts_empty_with_the_previous_round_as_context(app: Flask, rounds: int, as_user) -> None:
    complete(app, open_task_id(app, rounds), {"besluit": "afwijzen", "toelichting": "Eerste ronde: BSN ontbreekt."})
    client = as_user("sanne")

    page = client.get(f"/taken/{open_task_id(app, rounds)}").get_data(as_text=True)

    assert "Vorige ronde: Melding controleren" in context_part(page)
    assert "Eerste ronde: BSN ontbreekt." in context_part(page) and "Sven Screener" in context_part(page)
    form = form_part(page)
    assert "Eerste ronde: BSN ontbreekt." not in form, "the old decision is not pre-filled"
    assert not re.search(r'value="afwijzen"[^>]*(checked|selected)', form)
    assert "Het formulier begint leeg" in page


def test_case__the_timeline_shows_every_round_also_when_it_repeats_a_value(app: Flask, rounds: int, as_user) -> None:
    for _ in range(2):
        complete(app, open_task_id(app, rounds), {"besluit": "afwijzen", "toelichting": "Nog steeds onvolledig."})

    page = as_user("sven").get(f"/zaken/{rounds}").get_data(as_text=True)

    timeline = page[page.index('id="kop-verloop"') :]
    assert timeline.count("Nog steeds onvolledig.") == 2


def test_team_task__a_coordinator_without_the_role_sees_it_read_only_and_cannot_submit(
    app: Flask, rounds: int, as_user
) -> None:
    task_id = open_task_id(app, rounds)
    client = as_user("coen")

    response = client.get(f"/taken/{task_id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "U bekijkt deze taak als coördinator; u heeft de rol Screener niet." in page
    assert MELDING_DATA["aanleiding"] in page, "the context is shown"
    assert 'name="_actie"' not in page and "Afronden" not in page
    token = page_token(client, "/taken")
    refused = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"})
    assert refused.status_code == 404
    assert open_task_id(app, rounds) == task_id, "nothing was completed"


def test_team_task__someone_without_the_team_view_still_gets_not_found(app: Flask, rounds: int, as_user) -> None:
    assert as_user("otto").get(f"/taken/{open_task_id(app, rounds)}").status_code == 404


def test_escalation_task__says_what_is_late_since_when_and_offers_the_actions(app: Flask, as_user) -> None:
    zvh = app.extensions["zvh"]
    processes = Path(__file__).resolve().parents[2] / "processes"
    stalled = start_melding(app)
    with zvh.db.transaction() as session:
        deploy_file(session, processes / "bewaking_escalatie.bpmn", actor="tests", search_paths=[FORMS])
        escalation = escalate(
            session,
            zvh.runtime,
            instance_id=stalled,
            actor=user(app, "mariska"),
            reason="Ligt al weken stil.",
            step="Beoordelen",
        )
        escalation_id = escalation.id
    task_id = open_task_id(app, escalation_id)

    page = as_user("pim").get(f"/taken/{task_id}").get_data(as_text=True)

    late = page[page.index('id="kop-escalatie"') :]
    assert "Wat is te laat" in page and "Beoordelen" in late and "Ligt al weken stil." in late
    assert ("Te laat sinds" in late and "02-03-2026" in late) or "Te laat sinds" in late
    assert "Beoordeel de melding" in late, "the stalled case's open task, with whom it lies"
    assert f'href="/zaken/{stalled}"' in late and "Zaak openen" in late
    assert "Deze stap vraagt alleen om een bevestiging" not in page
    stalled_page = as_user("coen").get(f"/zaken/{stalled}").get_data(as_text=True)
    assert f'href="/zaken/{escalation_id}">Escalatie vanuit de bewaking</a>' in stalled_page, "process names, not keys"
