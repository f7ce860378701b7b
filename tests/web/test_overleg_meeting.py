"""The meeting view: the chair walks the agenda of a triage meeting — the shared picture per case, attendance and
decisions saved as typed (a stale edit refused with the stored version), the triage decision recorded from the
meeting (completing the waiting step), action points, invitations per case (need-to-know), and a closed meeting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.clock import FixedClock
from engine.db import Database
from engine.models import ActionPoint, AgendaItem, AuditEvent, Meeting
from engine.overleg.meetings import add_member, plan_meeting
from engine.overleg.types import seed_types
from engine.registry import deploy_file
from engine.twofactor import enrol_now, second_factor_required
from engine.users import create_user, get_user
from tests.conftest import START
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, screen
from tests.web.conftest import PASSWORD, login, seed_web_database
from tests.web.helpers import lock_version
from web import create_app

#: The page's own logic is the same on both databases (the engine's overleg tests run on both); the stale edit and the
#: completed step also run on PostgreSQL here.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

#: The triage table's chair, the ZVH's secretariaat, and a police officer who is not invited for every case.
PEOPLE = {
    "tafel": ("Tessa Tafel", ["triagetafel"], "zvh", ()),
    "secr": ("Sem Secretariaat", ["secretariaat"], "zvh", ()),
    "pol": ("Pieter Politie", ["politie"], "politie", ("breda",)),
}


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The web tests' app and users plus the triage process, the seeded overleg types and the people above."""
    seed_web_database(database_url, tmp_path)
    database = Database(database_url)
    with database.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])
        seed_types(session, at=clock.now())
        for username, (name, roles, organisation, gemeenten) in PEOPLE.items():
            user = create_user(
                session,
                username=username,
                display_name=name,
                roles=roles,
                password=PASSWORD,
                organisation=organisation,
                gemeenten=gemeenten,
            )
            if second_factor_required(user):
                enrol_now(session, user=user, at=START)
    database.dispose()
    application = create_app(
        {"ZVH_DATABASE_URL": database_url, "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "test-secret"}
    )
    yield application
    application.extensions["zvh"].db.dispose()


@pytest.fixture
def world(app: Flask, clock: FixedClock) -> dict[str, int]:
    """Two referrals (A and B) waiting at the triage decision, and next Tuesday's triage meeting planned by its
    chair, with the secretariaat and the police officer as members (the officer not invited for either case).
    `item` and `instance` are case A's."""
    zvh = app.extensions["zvh"]
    driver = ProcessDriver(zvh.db, zvh.runtime, clock)
    cases = []
    for _ in range(2):
        instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
        screen(driver, instance)
        cases.append(instance)
    driver.advance(timedelta(hours=25))
    assert all(driver.open(instance) == {"Task_triage"} for instance in cases)
    with zvh.db.transaction() as session:
        chair = get_user(session, "tafel")
        meeting = plan_meeting(session, type_key="triagetafel", actor=chair, at=None, now=clock.now())
        add_member(session, meeting_id=meeting.id, user=get_user(session, "secr"), actor=chair, at=clock.now())
        add_member(session, meeting_id=meeting.id, user=get_user(session, "pol"), actor=chair, at=clock.now())
        items = {
            item.instance_id: item.id
            for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
        }
        assert set(items) == set(cases)
        return {
            "meeting": meeting.id,
            "item": items[cases[0]],
            "instance": cases[0],
            "item_b": items[cases[1]],
            "instance_b": cases[1],
        }


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def token_of(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def open_page(client: FlaskClient, meeting: int) -> tuple[str, str]:
    response = client.get(f"/overleggen/{meeting}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    return page, token_of(page)


def item_part(page: str, item: int) -> str:
    start = page.index(f'id="item-{item}"')
    return page[start : page.index("</section>\n", page.index('class="zvh-actiepunt', start))]


def open_elements(app: Flask, instance: int) -> set[str]:
    zvh = app.extensions["zvh"]
    return ProcessDriver(zvh.db, zvh.runtime, zvh.runtime.clock).open(instance)


def save(client: FlaskClient, world: dict[str, int], token: str, **body: object):
    return client.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/opslaan",
        json=body,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


@SQLITE_ONLY
def test_meeting__the_chair_sees_the_case_with_its_referral_and_the_editing_controls(
    app: Flask, world: dict[str, int]
) -> None:
    page, _token = open_page(signed_in(app, "tafel"), world["meeting"])

    assert "Triagetafel complexe casuïstiek" in page and "10-03-2026 10:00" in page and "Gepland" in page
    item = item_part(page, world["item"])
    assert re.search(rf'<section class="zvh-agenda-item" id="item-{world["item"]}" data-case="ZVH-', page)
    assert "Triage en besluit" in item
    assert AANMELDING["aanleiding"] in item, "the shared picture: the referral the step decides on"
    assert 'name="decision"' in item and ">Besluiten</label>" in item
    assert '<form class="zvh-outcome' in item and "Besluit vastleggen" in item
    assert "Uitnodigen voor deze zaak" in item and "Pieter Politie" in item
    assert "Op de agenda zetten" in page and "Overleg sluiten" in page
    assert page.count('<form class="zvh-outcome') == 2, "each case has its own triage form"
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every id on the page is unique, also with the same form twice"
    with app.extensions["zvh"].db.reader() as session:
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "view",
                AuditEvent.object_type == "overleg",
                AuditEvent.instance_id.in_([world["instance"], world["instance_b"]]),
            )
        ).all()
    assert sorted((event.actor, event.instance_id) for event in reads) == sorted(
        [("tafel", world["instance"]), ("tafel", world["instance_b"])]
    ), "one read of each case shown"


@SQLITE_ONLY
def test_meeting__a_member_sees_only_the_cases_they_are_invited_for(app: Flask, world: dict[str, int]) -> None:
    police = signed_in(app, "pol")
    page, _token = open_page(police, world["meeting"])
    assert "zvh-agenda-item" not in page and AANMELDING["aanleiding"] not in page
    assert police.get(f"/zaken/{world['instance']}").status_code == 404

    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])
    pol_id = str(_user_id(app, "pol"))
    invited = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/uitnodigen", data={"csrf_token": token, "user": pol_id}
    )
    assert invited.status_code == 302 and invited.headers["Location"].endswith(f"#item-{world['item']}")

    page, _token = open_page(police, world["meeting"])
    item = page[page.index(f'id="item-{world["item"]}"') :]
    assert AANMELDING["aanleiding"] in item
    assert 'name="decision"' not in item and "Besluit vastleggen" not in item, "a member reads, the chair edits"
    assert f'id="item-{world["item_b"]}"' not in page, "case B: not invited, not on their agenda"
    assert police.get(f"/zaken/{world['instance']}").status_code == 200
    assert police.get(f"/zaken/{world['instance_b']}").status_code == 404

    withdrawn = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/intrekken", data={"csrf_token": token, "user": pol_id}
    )
    assert withdrawn.status_code == 302
    assert police.get(f"/zaken/{world['instance']}").status_code == 404
    assert "zvh-agenda-item" not in open_page(police, world["meeting"])[0]


@SQLITE_ONLY
def test_meeting__someone_who_is_no_member_gets_a_404(app: Flask, world: dict[str, int]) -> None:
    outsider = signed_in(app, "mila")
    assert outsider.get(f"/overleggen/{world['meeting']}").status_code == 404
    token = token_of(outsider.get("/taken").get_data(as_text=True))
    assert save(outsider, world, token, version=1, decision="Nee").status_code == 404


def _user_id(app: Flask, username: str) -> int:
    with app.extensions["zvh"].db.reader() as session:
        return get_user(session, username).id


def test_autosave__saves_the_decisions_and_refuses_a_stale_version_with_the_stored_text(
    app: Flask, world: dict[str, int]
) -> None:
    chair, secretary = signed_in(app, "tafel"), signed_in(app, "secr")
    _page, chair_token = open_page(chair, world["meeting"])
    _page, secretary_token = open_page(secretary, world["meeting"])
    tafel = str(_user_id(app, "tafel"))

    saved = save(chair, world, chair_token, version=1, decision="Procesregie starten", attendance={tafel: True})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["version"] == 2 and saved.get_json()["saved_at"]

    stale = save(secretary, world, secretary_token, version=1, decision="Mijn eigen tekst")
    assert stale.status_code == 409
    answer = stale.get_json()
    assert answer["error"] == "stale" and answer["version"] == 2
    assert answer["decision"] == "Procesregie starten" and answer["attendance"] == {tafel: True}
    assert answer["updated_by"] == "Tessa Tafel" and "Tessa Tafel" in answer["message"]
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(AgendaItem, world["item"]).decision == "Procesregie starten"

    page, _token = open_page(chair, world["meeting"])
    assert "Procesregie starten</textarea>" in page and 'data-version="2"' in page
    assert re.search(rf'id="punt{world["item"]}-aanwezig-{tafel}"[^>]*checked', page)


@SQLITE_ONLY
def test_autosave__without_a_version_is_refused_as_input(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])
    refused = save(chair, world, token, decision="Zonder versie")
    assert refused.status_code == 422
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(AgendaItem, world["item"]).decision is None


@SQLITE_ONLY
def test_outcome__invalid_input_keeps_what_was_typed_and_completes_nothing(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    page, token = open_page(chair, world["meeting"])

    response = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/besluit",
        data={
            "csrf_token": token,
            "_lock_version": lock_version(page),
            "triagedatum": "2026-03-10",
            "triagetafel": "Zorg- en Veiligheidshuis",
            "motivering": "Getypte motivering <b>blijft</b> staan.",
        },
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    item = item_part(page, world["item"])
    assert "Getypte motivering &lt;b&gt;blijft&lt;/b&gt; staan." in item, "kept, and escaped"
    assert f'href="#punt{world["item"]}-veld-triagebesluit"' in item, "the error summary links into this item's form"
    assert open_elements(app, world["instance"]) == {"Task_triage"}


def test_outcome__a_valid_decision_completes_the_triage_step(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    page, token = open_page(chair, world["meeting"])

    response = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/besluit",
        data={
            "csrf_token": token,
            "_lock_version": lock_version(page),
            "triagedatum": "2026-03-10",
            "triagetafel": ["Zorg- en Veiligheidshuis", "Veilig Thuis"],
            "triagebesluit": "afwijzen_advies",
            "advies": "Meld de zorgen bij het lokale wijkteam.",
            "motivering": "Geen multiproblematiek die regie van het ZVH vraagt.",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"#item-{world['item']}")
    assert open_elements(app, world["instance"]) == {"Task_terugkoppeling"}
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(AgendaItem, world["item"]).outcome_by == "tafel"
    page, _token = open_page(chair, world["meeting"])
    item = item_part(page, world["item"])
    assert "Besluit vastgelegd" in item and '<form class="zvh-outcome' not in item
    assert "Afwijzen, met advies" in item and "Meld de zorgen bij het lokale wijkteam." in item, "what was decided"


@SQLITE_ONLY
def test_action_point__is_added_and_refused_input_is_kept(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])
    url = f"/overleggen/{world['meeting']}/punten/{world['item']}/actiepunten"

    refused = chair.post(
        url, data={"csrf_token": token, "description": "Huisbezoek plannen", "owner_organisation": "politie"}
    )
    assert refused.status_code == 422
    item = item_part(refused.get_data(as_text=True), world["item"])
    assert "Huisbezoek plannen</textarea>" in item and 'value="politie" selected' in item
    assert 'aria-invalid="true" aria-describedby="punt' in item

    pol = _user_id(app, "pol")
    added = chair.post(
        url,
        data={
            "csrf_token": token,
            "description": "Huisbezoek plannen",
            "owner_organisation": "politie",
            "owner": str(pol),
            "deadline": "2026-03-20",
        },
    )
    assert added.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        points = session.scalars(select(ActionPoint).where(ActionPoint.item_id == world["item"])).all()
    assert [(p.description, p.owner_user_id, p.deadline.isoformat()) for p in points] == [
        ("Huisbezoek plannen", pol, "2026-03-20")
    ]
    page, _token = open_page(chair, world["meeting"])
    assert "Huisbezoek plannen — Politie (Pieter Politie)" in item_part(page, world["item"])


@SQLITE_ONLY
def test_add_case__an_unknown_case_is_a_message_on_the_page_with_what_was_typed(
    app: Flask, world: dict[str, int]
) -> None:
    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])

    response = chair.post(
        f"/overleggen/{world['meeting']}/agenda",
        data={"csrf_token": token, "case": "ZVH-2026-99999", "reason": "Escalatie uit de wijk"},
    )

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'value="ZVH-2026-99999"' in page and "Escalatie uit de wijk</textarea>" in page
    assert "Deze zaak bestaat niet of u heeft er geen toegang toe." in page

    empty = chair.post(
        f"/overleggen/{world['meeting']}/agenda", data={"csrf_token": token, "case": " ", "reason": "Escalatie"}
    )

    assert empty.status_code == 422
    assert "Vul een zaaknummer in." in empty.get_data(as_text=True) and "Escalatie</textarea>" in empty.get_data(
        as_text=True
    )


@SQLITE_ONLY
def test_closed_meeting__refuses_edits(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])
    closed = chair.post(f"/overleggen/{world['meeting']}/status", data={"csrf_token": token, "status": "gesloten"})
    assert closed.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(Meeting, world["meeting"]).status == "gesloten"

    assert save(chair, world, token, version=1, decision="Te laat").status_code == 409
    point = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/actiepunten",
        data={"csrf_token": token, "description": "Te laat", "owner_organisation": "zvh", "deadline": "2026-03-20"},
    )
    assert point.status_code == 409
    page, _token = open_page(chair, world["meeting"])
    assert "Gesloten" in page and 'name="decision"' not in page and "Besluit vastleggen" not in page


@SQLITE_ONLY
def test_autosave__the_plain_form_saves_without_javascript(app: Flask, world: dict[str, int]) -> None:
    secretary = signed_in(app, "secr")
    _page, token = open_page(secretary, world["meeting"])
    tafel, secr = _user_id(app, "tafel"), _user_id(app, "secr")

    response = secretary.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/opslaan",
        data={
            "csrf_token": token,
            "version": "1",
            "decision": "Zonder JavaScript",
            "genodigde": [str(tafel), str(secr)],
            "aanwezig": [str(secr)],
        },
    )

    assert response.status_code == 302 and response.headers["Location"].endswith(f"#item-{world['item']}")
    with app.extensions["zvh"].db.reader() as session:
        item = session.get_one(AgendaItem, world["item"])
        assert (item.decision, item.attendance, item.version) == (
            "Zonder JavaScript",
            {str(tafel): False, str(secr): True},
            2,
        )


@SQLITE_ONLY
def test_outcome__the_secretariaat_without_the_steps_role_gets_no_form(app: Flask, world: dict[str, int]) -> None:
    page, _token = open_page(signed_in(app, "secr"), world["meeting"])

    item = item_part(page, world["item"])
    assert 'name="decision"' in item, "the secretariaat keeps the minutes"
    assert '<form class="zvh-outcome' not in item
    assert "Alleen wie deze stap mag afronden, kan hier het besluit vastleggen." in item


@SQLITE_ONLY
def test_meeting__decisions_are_shown_escaped_to_an_invited_member(app: Flask, world: dict[str, int]) -> None:
    chair = signed_in(app, "tafel")
    _page, token = open_page(chair, world["meeting"])
    assert save(chair, world, token, version=1, decision="<script>alert(1)</script> Plan").status_code == 200
    invited = chair.post(
        f"/overleggen/{world['meeting']}/punten/{world['item']}/uitnodigen", data={"csrf_token": token, "user": "pol"}
    )
    assert invited.status_code == 302

    page, _token = open_page(signed_in(app, "pol"), world["meeting"])

    assert "&lt;script&gt;alert(1)&lt;/script&gt; Plan" in page and "<script>alert(1)" not in page


@SQLITE_ONLY
def test_update_agenda__a_referral_that_came_to_wait_since_is_put_on_by_the_chair(
    app: Flask, world: dict[str, int], clock: FixedClock
) -> None:
    zvh = app.extensions["zvh"]
    driver = ProcessDriver(zvh.db, zvh.runtime, clock)
    late = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, late)
    driver.advance(timedelta(days=7))  # the process opens its triage step at the meeting's moment
    assert driver.open(late) == {"Task_triage"}
    chair = signed_in(app, "tafel")
    page, token = open_page(chair, world["meeting"])
    assert page.count('<section class="zvh-agenda-item') == 2

    member = signed_in(app, "pol")
    refused = member.post(
        f"/overleggen/{world['meeting']}/agenda/bijwerken",
        data={"csrf_token": token_of(open_page(member, world["meeting"])[0])},
    )
    assert refused.status_code == 403
    response = chair.post(f"/overleggen/{world['meeting']}/agenda/bijwerken", data={"csrf_token": token})

    assert response.status_code == 302
    with zvh.db.reader() as session:
        on_agenda = set(
            session.scalars(select(AgendaItem.instance_id).where(AgendaItem.meeting_id == world["meeting"]))
        )
    assert on_agenda == {world["instance"], world["instance_b"], late}
    assert open_page(chair, world["meeting"])[0].count('<section class="zvh-agenda-item') == 3
