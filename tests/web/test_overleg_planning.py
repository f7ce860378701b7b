"""Overleggen (web/overleg/planning.py): planning a meeting, the besluitenlijst (page and PDF) with its need-to-know,
my action points and completing one, the inbox's "Actiepunten" block and the Bewaking's overdue action points."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.access import take_part
from engine.clock import FixedClock
from engine.models import AuditEvent, Instance, Meeting
from engine.overleg.meetings import add_case, invite, plan_meeting
from engine.overleg.outcomes import add_action_point, save_item
from engine.overleg.types import seed_types
from engine.registry import deploy_file
from engine.users import create_user, get_user
from tests.conftest import START
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, screen
from tests.web.conftest import PASSWORD, login
from tests.web.helpers import page_token, start_melding

TESS = "tess"  # chairs the triagetafel (role triagetafel, ZVH)


@dataclass
class Meeting14:
    meeting_id: int
    case_a: str
    case_b: str
    item_a: int
    point_id: int


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _case_number(app: Flask, instance_id: int) -> str:
    with app.extensions["zvh"].db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        return str(instance.case_number)


@pytest.fixture
def types(app: Flask) -> None:
    """The seeded overleg types and a chair of the triagetafel."""
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        seed_types(session, at=services.runtime.clock.now())
        create_user(
            session,
            username=TESS,
            display_name="Tess Tafel",
            roles=["triagetafel"],
            password=PASSWORD,
            organisation="zvh",
        )


@pytest.fixture
def meeting(app: Flask, types: None) -> Meeting14:
    """A triagetafel on Tuesday 3 March 2026 10:00 with two cases by hand: Sven (screener) is invited for case A
    only and owns an action point on it (deadline Friday 6 March)."""
    case_a, case_b = start_melding(app), start_melding(app)
    services = app.extensions["zvh"]
    now = services.runtime.clock.now()
    with services.db.transaction() as session:
        tess, sven = get_user(session, TESS), get_user(session, "sven")
        for instance_id in (case_a, case_b):
            take_part(session, instance_id=instance_id, user_id=tess.id, reason="added", at=now)
        planned = plan_meeting(session, type_key="triagetafel", actor=tess, at=None, now=now)
        item_a = add_case(session, meeting_id=planned.id, case=case_a, actor=tess, reason="Zorgen", at=now)
        add_case(session, meeting_id=planned.id, case=case_b, actor=tess, reason="Ook zorgen", at=now)
        invite(session, meeting_id=planned.id, case=case_a, user=sven, actor=tess, at=now)
        save_item(
            session,
            item_id=item_a.id,
            actor=tess,
            version=item_a.version,
            at=now,
            decision="Huisbezoek <b>plannen</b>.",
        )
        point = add_action_point(
            session,
            item_id=item_a.id,
            actor=tess,
            description="Bel de huisarts",
            owner_organisation="zvh",
            owner=sven,
            deadline=date(2026, 3, 6),
            at=now,
        )
        found = Meeting14(planned.id, "", "", item_a.id, point.id)
    found.case_a, found.case_b = _case_number(app, case_a), _case_number(app, case_b)
    return found


def test_plan__a_chair_plans_the_next_regular_triagetafel_and_lands_on_the_meeting(app: Flask, types: None) -> None:
    client = _client(app, TESS)
    page = client.get("/overleggen").get_data(as_text=True)
    assert "Overleg plannen" in page and 'value="triagetafel"' in page
    assert 'href="/overleggen"' in page, "the menu offers Overleggen to who may plan"

    token = page_token(client, "/overleggen")
    response = client.post("/overleggen/plannen", data={"csrf_token": token, "type_key": "triagetafel"})

    assert response.status_code == 302
    meeting_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.extensions["zvh"].db.reader() as session:
        planned = session.get(Meeting, meeting_id)
        assert planned is not None
        assert planned.starts_at == START.replace(day=3, hour=10) and not planned.by_hand  # Tuesday 10:00
    listing = client.get("/overleggen").get_data(as_text=True)
    assert "03-03-2026 10:00" in listing and f"/overleggen/{meeting_id}" in listing


def test_plan__someone_who_may_plan_no_type_is_refused_and_sees_no_form(app: Flask, types: None) -> None:
    client = _client(app, "sanne")
    page = client.get("/overleggen")
    assert page.status_code == 200 and "Overleg plannen" not in page.get_data(as_text=True)
    assert 'href="/overleggen"' not in page.get_data(as_text=True), "no menu entry for an outsider"
    token = page_token(client, "/overleggen")
    response = client.post("/overleggen/plannen", data={"csrf_token": token, "type_key": "triagetafel"})
    assert response.status_code == 403


def test_plan__a_chair_of_another_type_is_refused_by_the_engine(app: Flask, types: None) -> None:
    client = _client(app, "pim")  # chairs the casusoverleg procesregie, not the triagetafel
    token = page_token(client, "/overleggen")
    assert client.post("/overleggen/plannen", data={"csrf_token": token, "type_key": "triagetafel"}).status_code == 403
    with app.extensions["zvh"].db.reader() as session:
        assert session.scalars(select(Meeting)).all() == []


def test_plan__a_wrong_moment_shows_the_form_again_with_what_was_typed(app: Flask, types: None) -> None:
    client = _client(app, TESS)
    token = page_token(client, "/overleggen")
    half = client.post(
        "/overleggen/plannen", data={"csrf_token": token, "type_key": "triagetafel", "datum": "2026-03-12", "tijd": ""}
    )
    assert half.status_code == 422
    html = half.get_data(as_text=True)
    assert 'value="2026-03-12"' in html and 'aria-invalid="true"' in html
    assert re.search(r'<option value="triagetafel"\s+selected', html)

    past = client.post(
        "/overleggen/plannen",
        data={"csrf_token": token, "type_key": "triagetafel", "datum": "2026-02-01", "tijd": "14:30"},
    )
    assert past.status_code == 422
    html = past.get_data(as_text=True)
    assert "verleden" in html and 'value="14:30"' in html and 'value="2026-02-01"' in html
    with app.extensions["zvh"].db.reader() as session:
        assert session.scalars(select(Meeting)).all() == []


def test_index__lists_the_meeting_with_the_items_each_member_may_see(app: Flask, meeting: Meeting14) -> None:
    sven = _client(app, "sven")
    html = sven.get("/overleggen").get_data(as_text=True)
    row = re.search(rf'data-overleg="{meeting.meeting_id}">(.*?)</tr>', html, re.S)
    assert row, html
    cells = re.findall(r'<td class="utrecht-table__cell">(.*?)</td>', row.group(1), re.S)
    assert "Triagetafel" in cells[0] and "03-03-2026 10:00" in cells[1] and "Gepland" in cells[2]
    assert cells[3].strip() == "1", "Sven is invited for one of the two cases"
    tess_html = _client(app, TESS).get("/overleggen").get_data(as_text=True)
    tess_row = re.search(rf'data-overleg="{meeting.meeting_id}">(.*?)</tr>', tess_html, re.S)
    assert tess_row and re.findall(r'<td class="utrecht-table__cell">(.*?)</td>', tess_row.group(1), re.S)[3] == "2"


def test_decision_list__a_member_sees_only_the_cases_they_are_invited_for_and_reads_are_logged(
    app: Flask, meeting: Meeting14
) -> None:
    html = _client(app, "sven").get(f"/overleggen/{meeting.meeting_id}/besluitenlijst").get_data(as_text=True)

    assert meeting.case_a in html and "Bel de huisarts" in html and "– Sven Screener" in html
    assert meeting.case_b not in html, "not invited for case B: not even its number"
    assert "Huisbezoek &lt;b&gt;plannen&lt;/b&gt;." in html, "decisions are escaped"
    assert "Tess Tafel" in html  # the chair
    with app.extensions["zvh"].db.reader() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "besluitenlijst", AuditEvent.actor == "sven")
        ).all()
    assert len(reads) == 1 and reads[0].object_id == str(meeting.meeting_id)

    chair = _client(app, TESS).get(f"/overleggen/{meeting.meeting_id}/besluitenlijst").get_data(as_text=True)
    assert meeting.case_a in chair and meeting.case_b in chair


def test_decision_list__a_non_member_gets_404_for_the_page_and_the_pdf(app: Flask, meeting: Meeting14) -> None:
    sanne = _client(app, "sanne")
    assert sanne.get(f"/overleggen/{meeting.meeting_id}/besluitenlijst").status_code == 404
    assert sanne.get(f"/overleggen/{meeting.meeting_id}/besluitenlijst.pdf").status_code == 404


def test_decision_list_pdf__a_member_downloads_a_pdf(app: Flask, meeting: Meeting14) -> None:
    response = _client(app, "sven").get(f"/overleggen/{meeting.meeting_id}/besluitenlijst.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]


def test_action_points__the_owner_sees_and_completes_one_an_empty_or_bad_note_keeps_the_text(
    app: Flask, meeting: Meeting14
) -> None:
    sven = _client(app, "sven")
    page = sven.get("/overleggen/actiepunten").get_data(as_text=True)
    assert "Bel de huisarts" in page and meeting.case_a in page and "06-03-2026" in page
    assert "zvh-badge--overdue" not in page, "not overdue on 2 March"
    token = page_token(sven, "/overleggen/actiepunten")
    url = f"/overleggen/actiepunten/{meeting.point_id}/afronden"

    refused = sven.post(url, data={"csrf_token": token, "toelichting": "Gebeld met\x07 de huisarts"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Gebeld met" in html and 'aria-invalid="true"' in html

    done = sven.post(url, data={"csrf_token": token, "toelichting": "Gebeld met de huisarts."})
    assert done.status_code == 302
    after = sven.get("/overleggen/actiepunten").get_data(as_text=True)
    assert "Bel de huisarts" not in after and "geen open actiepunten" in after


def test_action_points__someone_else_cannot_complete_it(app: Flask, meeting: Meeting14) -> None:
    sanne = _client(app, "sanne")
    token = page_token(sanne, "/overleggen/actiepunten")
    response = sanne.post(
        f"/overleggen/actiepunten/{meeting.point_id}/afronden", data={"csrf_token": token, "toelichting": "Klaar"}
    )
    assert response.status_code == 404


def test_inbox__shows_the_action_points_block_overdue_after_the_deadline(
    app: Flask, meeting: Meeting14, clock: FixedClock
) -> None:
    sven = _client(app, "sven")
    html = sven.get("/taken").get_data(as_text=True)
    block = re.search(r'<section class="zvh-card zvh-inbox-actiepunten".*?</section>', html, re.S)
    assert block, "the inbox shows the block"
    assert "Open actiepunten: 1" in block.group(0) and "06-03-2026" in block.group(0)
    assert "Verlopen" not in block.group(0)
    assert 'href="/overleggen/actiepunten"' in block.group(0)

    clock.advance(timedelta(days=7))  # Monday 9 March: three days late (and signed in again)
    late = _client(app, "sven").get("/taken").get_data(as_text=True)
    assert re.search(r"zvh-badge--overdue\">Verlopen: 1", late)
    assert "zvh-inbox-actiepunten" not in _client(app, "sanne").get("/taken").get_data(as_text=True)


def test_monitor__lists_an_overdue_action_point_without_its_description(
    app: Flask, meeting: Meeting14, clock: FixedClock
) -> None:
    manager = _client(app, "mariska")
    before = manager.get("/bewaking").get_data(as_text=True)
    assert "Verlopen actiepunten" in before and meeting.case_a not in before.split("bewaking-actiepunten", 1)[1]

    clock.advance(timedelta(days=7))  # Monday 9 March 2026 (and signed in again)
    html = _client(app, "mariska").get("/bewaking").get_data(as_text=True)
    section = html.split('id="bewaking-actiepunten"', 1)[1]
    row = re.search(rf'<tr class="utrecht-table__row" data-zaak="{meeting.case_a}">(.*?)</tr>', section, re.S)
    assert row, section[:2000]
    cells = re.findall(r'<td class="utrecht-table__cell">(.*?)</td>', row.group(1), re.S)
    assert cells[0] == meeting.case_a and "Triagetafel" in cells[1] and "06-03-2026" in cells[3]
    assert ">3<" in cells[4], "three days late"
    assert "Bel de huisarts" not in html, "the Bewaking shows no case content"


def test_decision_list__a_referral_waiting_at_the_triage_step_comes_on_the_agenda_and_is_marked_undecided(
    app: Flask, types: None, clock: FixedClock
) -> None:
    """The triagetafel is fed by aanmelding_triage's Task_triage: a referral screened on Monday waits there from
    Tuesday 10:00, so the next triagetafel (10 March) has it on its agenda, undecided."""
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])
    driver = ProcessDriver(services.db, services.runtime, clock)
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, instance)
    driver.advance(timedelta(hours=25))
    assert driver.open(instance) == {"Task_triage"}
    number = _case_number(app, instance)

    client = _client(app, TESS)
    token = page_token(client, "/overleggen")
    planned = client.post("/overleggen/plannen", data={"csrf_token": token, "type_key": "triagetafel"})
    assert planned.status_code == 302
    meeting_id = int(planned.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    html = client.get(f"/overleggen/{meeting_id}/besluitenlijst").get_data(as_text=True)
    assert "10-03-2026 10:00" in html
    section = re.search(
        rf'<section class="zvh-besluitenlijst__zaak"[^>]*data-case="{number}">(.*?)</section>', html, re.S
    )
    assert section, html
    assert driver.task(instance, "Task_triage").name in section.group(1)
    assert "de stap wacht nog op een besluit" in section.group(1)
