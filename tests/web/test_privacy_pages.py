"""The access log as the FG sees it, and the reads, searches and refusals every page writes to it (NEN 7513)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.audit import record
from engine.clock import FixedClock
from engine.db import session_keys
from engine.models import AuditEvent, InstancePerson
from engine.privacy.persons import person_key
from engine.users import create_api_token, create_user
from tests.web.conftest import PASSWORD, login
from tests.web.helpers import open_task_id, start_melding

BSN = "111222333"
FG_PAGES = ("/privacy/logboek", "/privacy/persoon", "/privacy/noodtoegang", "/privacy/geweigerd", "/privacy/kwartalen")


@pytest.fixture
def fien(app: Flask) -> str:
    """The privacy officer (FG)."""
    with app.extensions["zvh"].db.transaction() as session:
        create_user(
            session,
            username="fien",
            display_name="Fien Functionaris",
            roles=["privacyfunctionaris"],
            organisation="zvh",
            password=PASSWORD,
        )
    return "fien"


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A client of its own for each user (one browser each)."""
    client = app.test_client()
    login(client, username)
    return client


def events(app: Flask, **where: Any) -> list[AuditEvent]:
    with app.extensions["zvh"].db.reader() as session:
        query = select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
        return list(session.scalars(query))


def index_person(app: Flask, instance_id: int) -> str:
    """The person index row of the test person (the save normally writes it)."""
    with app.extensions["zvh"].db.transaction() as session:
        key = person_key(session_keys(session).pseudonym, bsn=BSN)
        assert key is not None
        if session.get(InstancePerson, (instance_id, key)) is None:
            session.add(InstancePerson(instance_id=instance_id, person_key=key))
    return key


def csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


@pytest.mark.parametrize("path", FG_PAGES)
def test_fg_pages__are_refused_to_other_roles_and_the_refusal_is_logged(app: Flask, path: str) -> None:
    coen = signed_in(app, "coen")
    assert coen.get(path).status_code == 403
    refused = events(app, actor="coen", outcome="refused")
    assert [(e.object_type, e.action) for e in refused] == [("accesslog", "view")]


@pytest.mark.parametrize("path", FG_PAGES)
def test_fg_pages__open_for_the_fg_and_each_look_is_logged(app: Flask, fien: str, path: str) -> None:
    client = signed_in(app, fien)
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if path != "/privacy/persoon":  # without a person there is nothing to look at yet
        looked = events(app, actor="fien", object_type="accesslog")
        assert [e.outcome for e in looked] == ["allowed"]
        assert looked[0].role == "privacyfunctionaris" and looked[0].organisation == "zvh"
    assert 'href="/privacy/logboek"' in response.get_data(as_text=True)  # the FG's menu item


def test_nav__no_access_log_link_for_others(app: Flask) -> None:
    assert 'href="/privacy/logboek"' not in signed_in(app, "sven").get("/taken").get_data(as_text=True)


def test_case_page_and_diagram__log_a_read_with_role_request_and_person(app: Flask) -> None:
    instance_id = start_melding(app)
    key = index_person(app, instance_id)
    sven = signed_in(app, "sven")
    response = sven.get(f"/zaken/{instance_id}", headers={"X-Request-Id": "trace-0001-abcdef"})
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "trace-0001-abcdef"
    assert sven.get(f"/zaken/{instance_id}/diagram").status_code == 200
    reads = events(app, actor="sven", action="view")
    assert [e.object_type for e in reads] == ["case", "diagram"]
    case_read = reads[0]
    assert (case_read.role, case_read.request_id, case_read.instance_id) == (
        "screener",
        "trace-0001-abcdef",
        instance_id,
    )
    assert case_read.client == "127.0.0.1" and case_read.outcome == "allowed"
    assert reads[1].request_id not in (None, "trace-0001-abcdef")  # a request id of its own
    with app.extensions["zvh"].db.reader() as session:
        assert session.scalar(select(AuditEvent.person_key).where(AuditEvent.id == case_read.id)) in (key, None)


def test_task_page__logs_a_read_without_form_content(app: Flask) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    assert signed_in(app, "sven").get(f"/taken/{task_id}").status_code == 200
    (read,) = events(app, actor="sven", action="view")
    assert (read.object_type, read.task_id, read.instance_id) == ("task", task_id, instance_id)
    assert BSN not in read.summary and "Fenna" not in read.summary and read.details is None


def test_case_refused__is_logged_as_refused_for_an_existing_case_only(app: Flask) -> None:
    instance_id = start_melding(app)
    otto = signed_in(app, "otto")
    assert otto.get(f"/zaken/{instance_id}").status_code == 404
    assert otto.get("/zaken/999999").status_code == 404
    (refused,) = events(app, actor="otto", outcome="refused")
    assert (refused.object_type, refused.instance_id, refused.action) == ("case", instance_id, "view")


def test_task_refused__is_logged(app: Flask) -> None:
    task_id = open_task_id(app, start_melding(app))
    assert signed_in(app, "otto").get(f"/taken/{task_id}").status_code == 404
    (refused,) = events(app, actor="otto", outcome="refused")
    assert (refused.object_type, refused.task_id) == ("task", task_id)


def test_inbox_search__logs_that_a_case_number_was_searched_not_the_number(app: Flask) -> None:
    start_melding(app)
    sven = signed_in(app, "sven")
    assert sven.get("/taken").status_code == 200
    assert events(app, actor="sven", action="search") == []
    assert sven.get("/taken?case_number=ZVH-2026-00001").status_code == 200
    (search,) = events(app, actor="sven", action="search")
    assert search.object_type == "tasks" and "case_number" in (search.details or {})["filters"]
    assert "ZVH-2026" not in search.summary + str(search.details)


def test_api__reads_and_refusals_are_logged(app: Flask) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    with app.extensions["zvh"].db.transaction() as session:
        sven_token = create_api_token(session, user=_user(session, "sven"), name="t", at=_now(app))
        otto_token = create_api_token(session, user=_user(session, "otto"), name="t", at=_now(app))
    client = app.test_client()
    sven, otto = {"Authorization": f"Bearer {sven_token}"}, {"Authorization": f"Bearer {otto_token}"}
    assert client.get(f"/api/v1/tasks/{task_id}", headers=sven).status_code == 200
    assert client.get(f"/api/v1/instances/{instance_id}", headers=sven).status_code == 200
    assert client.get("/api/v1/tasks", headers=sven).status_code == 200  # the inbox itself: as on the web, no search
    assert client.get("/api/v1/tasks?case_number=2026-0", headers=sven).status_code == 200
    assert client.get(f"/api/v1/instances/{instance_id}", headers=otto).status_code == 404
    reads = events(app, actor="sven")
    assert [(e.action, e.object_type) for e in reads if e.action in ("view", "search")] == [
        ("view", "task"),
        ("view", "case"),
        ("search", "tasks"),
    ]
    (search,) = (e for e in reads if e.action == "search")
    assert search.details == {"filters": ["case_number", "sort", "tab"], "found": 1} and "2026-0" not in search.summary
    (refused,) = events(app, actor="otto", outcome="refused")
    assert (refused.object_type, refused.instance_id) == ("case", instance_id)


def _user(session: Any, username: str) -> Any:
    from engine.users import get_user

    return get_user(session, username)


def _now(app: Flask) -> Any:
    return app.extensions["zvh"].runtime.clock.now()


def test_person_page__lists_who_saw_the_persons_data_oldest_first(app: Flask, fien: str, clock: FixedClock) -> None:
    instance_id = start_melding(app)
    key = index_person(app, instance_id)
    other = start_melding(app, data={**_melding(), "betrokkenen": [{"naam": "Piet Anders", "rol": "hoofdbetrokkene"}]})
    clock.advance(timedelta(minutes=5))
    assert signed_in(app, "sven").get(f"/zaken/{instance_id}").status_code == 200
    clock.advance(timedelta(minutes=5))
    assert signed_in(app, "sanne").get(f"/zaken/{other}").status_code == 200

    client = signed_in(app, fien)
    token = csrf(client, "/privacy/persoon")
    found = client.post("/privacy/persoon", data={"csrf_token": token, "bsn": BSN})
    assert found.status_code == 302 and BSN not in found.headers["Location"]
    assert key in found.headers["Location"]
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert "Sven Screener" in page and "Sanne Screener" not in page
    assert page.index("Mila Melder") < page.index("Sven Screener")  # the start, then the read
    with app.extensions["zvh"].db.reader() as session:
        everything = " ".join(f"{e.summary} {e.details}" for e in session.scalars(select(AuditEvent)))
    assert BSN not in everything  # what the FG typed is nowhere in the log
    (look,) = events(app, actor="fien", object_type="accesslog")
    assert (look.object_id, look.person_key) == ("persoon", key)


def test_person_page__without_bsn_or_name_and_birth_date_is_422(app: Flask, fien: str) -> None:
    client = signed_in(app, fien)
    token = csrf(client, "/privacy/persoon")
    response = client.post("/privacy/persoon", data={"csrf_token": token, "naam": "Fenna Fictief"})
    assert response.status_code == 422 and "geboortedatum" in response.get_data(as_text=True)


def _melding() -> dict[str, Any]:
    from tests.web.helpers import MELDING_DATA

    return dict(MELDING_DATA)


def test_logbook__filters_by_user_outcome_and_person_and_pages(app: Flask, fien: str) -> None:
    instance_id = start_melding(app)
    key = index_person(app, instance_id)
    sven = signed_in(app, "sven")
    for _ in range(3):
        sven.get(f"/zaken/{instance_id}")
    signed_in(app, "otto").get(f"/zaken/{instance_id}")
    client = signed_in(app, fien)

    by_sven = client.get("/privacy/logboek?gebruiker=sven&gebeurtenis=view").get_data(as_text=True)
    assert by_sven.count('data-regel="') == 3
    refused = client.get("/privacy/logboek?uitkomst=refused").get_data(as_text=True)
    assert refused.count('data-regel="') == 1 and "Otto Buitenstaander" in refused

    token = csrf(client, "/privacy/logboek")
    found = client.post("/privacy/logboek", data={"csrf_token": token, "bsn": BSN, "gebruiker": "sven"})
    assert found.status_code == 302 and f"persoon={key}" in found.headers["Location"]
    assert "gebruiker=sven" in found.headers["Location"]
    assert client.get(found.headers["Location"]).get_data(as_text=True).count('data-regel="') == 3

    with app.extensions["zvh"].db.transaction() as session:
        for number in range(60):
            record(session, actor="sven", action="view", at=_now(app), summary=f"Viewed {number}")
    first = client.get("/privacy/logboek?gebruiker=sven").get_data(as_text=True)
    assert first.count('data-regel="') == 50 and "page=2" in first
    assert client.get("/privacy/logboek?gebruiker=sven&page=2").get_data(as_text=True).count('data-regel="') == 13


def test_emergency_and_refusal_lists(app: Flask, fien: str) -> None:
    instance_id = start_melding(app)
    with app.extensions["zvh"].db.transaction() as session:
        record(
            session,
            actor="coen",
            action="noodtoegang",
            at=_now(app),
            instance_id=instance_id,
            summary="Noodtoegang",
            details={"reason": "Crisis in het weekend"},
            object_type="case",
        )
    signed_in(app, "otto").get(f"/zaken/{instance_id}")
    client = signed_in(app, fien)
    emergencies = client.get("/privacy/noodtoegang").get_data(as_text=True)
    assert "Crisis in het weekend" in emergencies and "ZVH-2026-00001" in emergencies
    assert emergencies.count('data-regel="') == 1
    refusals = client.get("/privacy/geweigerd").get_data(as_text=True)
    assert refusals.count('data-regel="') == 1 and "Otto Buitenstaander" in refusals


def test_quarters__counts_per_quarter_and_event_type(app: Flask, fien: str, clock: FixedClock) -> None:
    instance_id = start_melding(app)  # March 2026: the first quarter
    signed_in(app, "sven").get(f"/zaken/{instance_id}")
    clock.advance(timedelta(days=40))  # April: the second quarter
    signed_in(app, "sven").get(f"/zaken/{instance_id}")
    page = signed_in(app, fien).get("/privacy/kwartalen").get_data(as_text=True)
    assert 'data-kwartaal="2026-K1"' in page and 'data-kwartaal="2026-K2"' in page
    second = page.split('data-kwartaal="2026-K2"')[1].split("</tr>")[0]
    assert re.search(r'data-gebeurtenis="view">1<', second)
