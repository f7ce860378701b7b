"""Soorten overleg (beheer): the list with frequency, cut-off and feeding steps in words, who may see it, and the
form that creates or changes a type (validation keeps what was typed; feeding steps must be deployed user tasks)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import AuditEvent, OverlegType, OverlegTypeMember, User
from engine.overleg.types import seed_types
from engine.users import create_user
from tests.conftest import START
from tests.web.conftest import PASSWORD
from tests.web.helpers import page_token
from web.overleg.types import Step, unknown_feeds

VALID = {
    "key": "buurtoverleg",
    "name": "Buurtoverleg Breda-Noord",
    "description": "Overleg over zorgen in de wijk.",
    "organisation": "gemeente",
    "chair_role": "coordinator",
    "weekday": "3",
    "start_time": "14:00",
    "duration_minutes": "60",
    "interval_weeks": "1",
    "anchor": "",
    "cutoff_working_days": "2",
    "cutoff_time": "16:00",
    "feeds": ["melding:Beoordelen"],
    "secretariaat_hours": "4,5",
    "active": "1",
    "members": ["sven", "pim"],
}


@pytest.fixture
def beheer(app: Flask) -> Flask:
    """The seeded overleg types (the Weegploeg pinned: every 3 weeks on Thursday 13:30, cut-off 2 working days before
    at 17:00, counted from 8 January 2026) and a beheerder, Bea."""
    with app.extensions["zvh"].db.transaction() as session:
        seed_types(session, at=START)
        weegploeg = session.scalars(select(OverlegType).where(OverlegType.key == "weegploeg")).one()
        weegploeg.weekday, weegploeg.start_time, weegploeg.interval_weeks = 4, "13:30", 3
        weegploeg.anchor, weegploeg.cutoff_working_days, weegploeg.cutoff_time = date(2026, 1, 8), 2, "17:00"
        create_user(session, username="bea", display_name="Bea Beheer", roles=["beheerder"], password=PASSWORD)
    return app


def post(client: FlaskClient, path: str, values: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": page_token(client, path), **values})


def stored(app: Flask, key: str) -> tuple[OverlegType, list[str]]:
    with app.extensions["zvh"].db.reader() as session:
        kind = session.scalar(select(OverlegType).where(OverlegType.key == key))
        assert kind is not None
        members = session.scalars(
            select(User.username)
            .join(OverlegTypeMember, OverlegTypeMember.user_id == User.id)
            .where(OverlegTypeMember.type_id == kind.id)
            .order_by(User.username)
        )
        return kind, list(members)


def row_of(page: str, key: str) -> str:
    match = re.search(rf'<tr class="utrecht-table__row" data-type="{key}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {key}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_list__shows_every_type_in_words(beheer: Flask, as_user) -> None:
    page = as_user("bea").get("/beheer/overleggen").get_data(as_text=True)

    triage = row_of(page, "triagetafel")
    assert "Triagetafel complexe casuïstiek" in triage
    assert "Zorg- en Veiligheidshuis De Baronie" in triage
    assert "elke dinsdag 10:00" in triage
    assert "1 werkdag ervoor, 12:00" in triage
    # the feeding step's process is not deployed in the web tests: shown by its raw key
    assert "aanmelding_triage:Task_triage" in triage
    assert "elke 3 weken op donderdag 13:30" in row_of(page, "weegploeg")
    assert "2 werkdagen ervoor, 17:00" in row_of(page, "weegploeg")
    vt = row_of(page, "huiselijk_geweld")
    assert "elke maandag 13:00" in vt and " 32 " in vt
    assert "op afspraak" in row_of(page, "seksueel_geweld")
    assert 'href="/beheer/overleggen/triagetafel"' in page


def test_list__names_a_deployed_step_by_its_process_and_step_name(beheer: Flask, as_user) -> None:
    client = as_user("bea")
    response = post(client, "/beheer/overleggen/mass", {**VALID, "key": "", "feeds": ["melding:Beoordelen"]})
    assert response.status_code == 302

    page = client.get("/beheer/overleggen").get_data(as_text=True)

    assert "Melding: Beoordeel de melding" in row_of(page, "mass")
    assert "melding:Beoordelen" not in row_of(page, "mass")


def test_menu__links_the_types_for_a_beheerder_only(beheer: Flask, client: FlaskClient, as_user) -> None:
    assert 'href="/beheer/overleggen"' in as_user("bea").get("/taken").get_data(as_text=True)
    client.post("/uitloggen", data={"csrf_token": page_token(client, "/taken")})

    assert 'href="/beheer/overleggen"' not in as_user("coen").get("/taken").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/beheer/overleggen", "/beheer/overleggen/nieuw", "/beheer/overleggen/triagetafel"])
def test_pages__are_403_for_anyone_but_a_beheerder(beheer: Flask, as_user, path: str) -> None:
    assert as_user("coen").get(path).status_code == 403


def test_save__refused_for_a_non_beheerder_changes_nothing(beheer: Flask, as_user) -> None:
    client = as_user("mariska")
    token = page_token(client, "/taken")

    response = client.post("/beheer/overleggen/nieuw", data={"csrf_token": token, **VALID})

    assert response.status_code == 403
    with beheer.extensions["zvh"].db.reader() as session:
        assert session.scalar(select(OverlegType).where(OverlegType.key == "buurtoverleg")) is None


def test_new__a_valid_type_is_saved_with_its_members(beheer: Flask, as_user) -> None:
    client = as_user("bea")

    response = post(client, "/beheer/overleggen/nieuw", VALID)

    assert response.status_code == 302 and response.headers["Location"] == "/beheer/overleggen"
    kind, members = stored(beheer, "buurtoverleg")
    assert (kind.name, kind.organisation, kind.chair_role, kind.weekday) == (
        "Buurtoverleg Breda-Noord",
        "gemeente",
        "coordinator",
        3,
    )
    assert (kind.start_time, kind.duration_minutes, kind.cutoff_working_days, kind.cutoff_time) == (
        "14:00",
        60,
        2,
        "16:00",
    )
    assert kind.feeds == ["melding:Beoordelen"] and kind.secretariaat_hours == 4.5 and kind.active
    assert members == ["pim", "sven"]
    page = client.get("/beheer/overleggen").get_data(as_text=True)
    assert "Buurtoverleg Breda-Noord opgeslagen" in page
    assert "elke woensdag 14:00" in row_of(page, "buurtoverleg")


def test_new__invalid_input_keeps_what_was_typed_and_says_what_is_wrong(beheer: Flask, as_user) -> None:
    client = as_user("bea")
    typed = {**VALID, "start_time": "25:00", "interval_weeks": "3", "anchor": "", "name": "Mijn <b>overleg</b>"}

    response = post(client, "/beheer/overleggen/nieuw", typed)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul een tijd in als UU:MM" in page
    assert "Geef de datum van een overleg op" in page
    assert 'value="Mijn &lt;b&gt;overleg&lt;/b&gt;"' in page, "what was typed stays, escaped"
    assert 'value="25:00"' in page and 'value="buurtoverleg"' in page
    assert re.search(r'value="sven" checked', page) and re.search(r'value="pim" checked', page)
    assert re.search(r'value="melding:Beoordelen" selected', page)
    assert 'id="type-start_time"' in page and 'aria-invalid="true" aria-describedby="type-start_time-fout"' in page
    with beheer.extensions["zvh"].db.reader() as session:
        assert session.scalar(select(OverlegType).where(OverlegType.key == "buurtoverleg")) is None


def test_new__a_feeding_step_that_is_not_deployed_is_refused(beheer: Flask, as_user) -> None:
    client = as_user("bea")

    response = post(client, "/beheer/overleggen/nieuw", {**VALID, "feeds": ["melding:Bestaatniet"]})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Deze stappen bestaan niet in een uitgerold proces: melding:Bestaatniet" in page
    assert re.search(r'value="melding:Bestaatniet" selected', page), "the unknown step stays visible to remove"


def test_edit__shows_the_stored_values_and_saves_changes(beheer: Flask, as_user) -> None:
    client = as_user("bea")
    form = client.get("/beheer/overleggen/weegploeg").get_data(as_text=True)
    assert 'value="Weegploeg radicalisering en extremisme"' in form
    assert 'value="2026-01-08"' in form
    assert re.search(r'<option value="4" selected>donderdag</option>', form)
    assert 'name="key"' not in form, "a key does not change"
    assert 'name="name" value="Weegploeg radicalisering en extremisme" required maxlength="120"' in form

    changed = {**VALID, "key": "anders", "name": "Weegploeg", "weekday": "", "feeds": [], "members": ["coen"]}
    response = post(client, "/beheer/overleggen/weegploeg", changed)

    assert response.status_code == 302
    kind, members = stored(beheer, "weegploeg")
    assert (kind.name, kind.weekday, kind.feeds, members) == ("Weegploeg", None, [], ["coen"])
    with beheer.extensions["zvh"].db.reader() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "overleg_type"))
        assert event is not None and event.actor == "bea"
    assert "op afspraak" in row_of(client.get("/beheer/overleggen").get_data(as_text=True), "weegploeg")


def test_edit__an_unknown_type_is_404(beheer: Flask, as_user) -> None:
    assert as_user("bea").get("/beheer/overleggen/bestaatniet").status_code == 404


def test_unknown_feeds__names_what_is_not_a_deployed_user_task() -> None:
    steps = {"melding:Beoordelen": Step("melding", "Melding", "Beoordelen", "Beoordeel de melding")}

    assert unknown_feeds(["melding:Beoordelen", "melding:S", "x:y"], steps) == ["melding:S", "x:y"]
    assert unknown_feeds([], steps) == []


def test_report__the_activity_report_lists_the_secretariaat_hours(beheer: Flask, as_user) -> None:
    page = as_user("mariska").get("/rapportages/activiteiten?van=2026&tot=2026&jaar=2026").get_data(as_text=True)

    assert "Faciliteiten: administratieve ondersteuning, 2026" in page
    table = page[page.index('id="faciliteiten-tabel"') :]
    table = table[: table.index("</table>")]
    rows = {
        key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells))
        for key, cells in re.findall(r'data-rij="([^"]+)">(.*?)</tr>', table, re.S)
    }
    assert list(rows) == ["huiselijk_geweld", "mass", "kr8", "totaal"]
    assert "Casusoverleg huiselijk geweld" in rows["huiselijk_geweld"] and " 32 " in rows["huiselijk_geweld"]
    assert " 51 " in rows["totaal"]
