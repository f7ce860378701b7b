"""The overleg API (/api/v1/overleggen): a member's meetings, and an agenda with only the cases the caller is invited
for (need-to-know); a meeting the caller may not see is a 404, and without a token the answer is 401."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import Meeting, MeetingMember, OverlegType, OverlegTypeMember
from engine.overleg.meetings import invite, plan_meeting
from engine.users import get_user
from tests.conftest import START
from tests.web.helpers import start_melding
from tests.web.test_api import Api


@dataclass(frozen=True)
class Overleg:
    meeting_id: int
    case_a: int
    case_b: int


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(app, client)


@pytest.fixture
def overleg(app: Flask) -> Overleg:
    """A meeting chaired by Coen (coordinator) whose agenda holds two waiting referrals; Sven, a default member, is
    invited for case A only; Pim is a member invited for nothing; Otto is no member."""
    case_a, case_b = start_melding(app), start_melding(app)
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        kind = OverlegType(
            key="toetsoverleg",
            name="Toetsoverleg",
            organisation="zvh",
            chair_role="coordinator",
            weekday=None,
            start_time="10:00",
            duration_minutes=60,
            interval_weeks=1,
            cutoff_working_days=0,
            cutoff_time="09:30",
            feeds=["melding:Beoordelen"],
            active=True,
            updated_at=START,
            updated_by="tests",
        )
        session.add(kind)
        session.flush()
        for username in ("sven", "pim"):
            session.add(OverlegTypeMember(type_id=kind.id, user_id=get_user(session, username).id))
        coen = get_user(session, "coen")
        meeting = plan_meeting(
            session, type_key="toetsoverleg", actor=coen, at=START + timedelta(hours=1), now=START, by_hand=True
        )
        invite(session, meeting_id=meeting.id, case=case_a, user=get_user(session, "sven"), actor=coen, at=START)
        return Overleg(meeting.id, case_a, case_b)


def test_list__the_meetings_of_a_member(api: Api, overleg: Overleg) -> None:
    response = api.get("/overleggen", as_="sven")

    assert response.status_code == 200
    [meeting] = response.get_json()
    assert meeting["id"] == overleg.meeting_id
    assert (meeting["type"], meeting["name"], meeting["status"], meeting["by_hand"]) == (
        "toetsoverleg",
        "Toetsoverleg",
        "gepland",
        True,
    )
    assert meeting["starts_at"].startswith("2026-03-02T09:00:00")  # 10:00 in Breda


def test_list__is_empty_for_who_takes_no_part(api: Api, overleg: Overleg) -> None:
    assert api.get("/overleggen", as_="otto").get_json() == []


def test_agenda__the_chair_sees_every_case(api: Api, overleg: Overleg) -> None:
    agenda = api.get(f"/overleggen/{overleg.meeting_id}", as_="coen").get_json()

    # both referrals started waiting at the same moment: their order on the agenda is the engine's to choose
    assert sorted(item["instance_id"] for item in agenda["items"]) == [overleg.case_a, overleg.case_b]
    assert [item["position"] for item in agenda["items"]] == [1, 2]
    assert all(item["step"] == "Beoordeel de melding" and item["waiting"] for item in agenda["items"])


def test_agenda__a_member_sees_only_the_cases_they_are_invited_for(api: Api, overleg: Overleg) -> None:
    sven = api.get(f"/overleggen/{overleg.meeting_id}", as_="sven").get_json()
    pim = api.get(f"/overleggen/{overleg.meeting_id}", as_="pim").get_json()

    assert [item["instance_id"] for item in sven["items"]] == [overleg.case_a]
    assert "sven" in sven["items"][0]["invited"]
    assert pim["id"] == overleg.meeting_id and pim["items"] == []


@pytest.mark.parametrize("username", ["otto", "mila"])
def test_agenda__is_404_for_who_is_no_member(api: Api, overleg: Overleg, username: str) -> None:
    response = api.get(f"/overleggen/{overleg.meeting_id}", as_=username)

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert api.get(f"/overleggen/{overleg.meeting_id + 1000}", as_="coen").status_code == 404


def test_overleg_api__needs_a_token(client: FlaskClient, overleg: Overleg) -> None:
    for path in ("/api/v1/overleggen", f"/api/v1/overleggen/{overleg.meeting_id}"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_list__leaves_out_meetings_older_than_90_days(app: Flask, api: Api, overleg: Overleg) -> None:
    with app.extensions["zvh"].db.transaction() as session:
        kind = session.scalars(select(OverlegType).where(OverlegType.key == "toetsoverleg")).one()
        for days in (100, 80):
            old = Meeting(
                type_id=kind.id,
                starts_at=START - timedelta(days=days),
                status="gesloten",
                planned_by="coen",
                planned_at=START - timedelta(days=days + 7),
            )
            session.add(old)
            session.flush()
            session.add(MeetingMember(meeting_id=old.id, user_id=get_user(session, "sven").id, role="lid"))

    listed = api.get("/overleggen", as_="sven").get_json()

    assert [meeting["starts_at"][:10] for meeting in listed] == ["2025-12-12", "2026-03-02"]
