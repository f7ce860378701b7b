"""Mijn taken: tabs with counts, filters, paging, claiming, reassigning (also in bulk) and saved filters."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

from engine.clock import FixedClock
from engine.models import AuditEvent
from tests.web.helpers import MELDING_DATA, open_task_id, page_token, start_melding


def tab_count(page: str, tab: str) -> int:
    match = re.search(rf'tab={tab}"[^>]*>\s*[^<]+<span class="utrecht-badge-counter">(\d+)</span>', page)
    assert match, f"no count for tab {tab}"
    return int(match.group(1))


def test_inbox__open_tab_lists_the_tasks_of_my_roles_with_counts(app: Flask, as_user) -> None:
    first = start_melding(app)
    start_melding(app, data={**MELDING_DATA, "gemeente": "Zundert"})
    client = as_user("sven")

    page = client.get("/taken").get_data(as_text=True)

    assert tab_count(page, "open") == 2 and tab_count(page, "mine") == 0
    assert "tab=team" not in page, "the team tab is for coordinators"
    assert "ZVH-2026-00001" in page and "Zundert" in page
    assert f"/zaken/{first}" in page


def test_inbox__filters_by_gemeente_and_case_number(app: Flask, as_user) -> None:
    start_melding(app)
    start_melding(app, data={**MELDING_DATA, "gemeente": "Zundert"})
    client = as_user("sven")

    zundert = client.get("/taken?gemeente=Zundert").get_data(as_text=True)
    by_number = client.get("/taken?case_number=00001").get_data(as_text=True)

    assert "ZVH-2026-00002" in zundert and "ZVH-2026-00001" not in zundert
    assert "ZVH-2026-00001" in by_number and "ZVH-2026-00002" not in by_number


def test_inbox__htmx_gets_only_the_table(app: Flask, as_user) -> None:
    start_melding(app)
    client = as_user("sven")

    fragment = client.get("/taken?gemeente=Breda", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "<html" not in fragment and "ZVH-2026-00001" in fragment


def test_inbox__claim_moves_the_task_to_my_tab_and_hides_it_from_colleagues(app: Flask, as_user, client) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    sven = as_user("sven")
    token = page_token(sven, "/taken")

    sven.post(f"/taken/{task_id}/oppakken", data={"csrf_token": token})

    page = sven.get("/taken?tab=mine").get_data(as_text=True)
    assert tab_count(page, "mine") == 1 and "Teruggeven" in page
    colleague = app.test_client()
    from tests.web.conftest import login

    login(colleague, "sanne")
    assert tab_count(colleague.get("/taken").get_data(as_text=True), "open") == 0
    assert colleague.get(f"/taken/{task_id}").status_code == 404


def test_inbox__coordinator_reassigns_many_tasks_with_a_reason(app: Flask, as_user) -> None:
    tasks = [open_task_id(app, start_melding(app)) for _ in range(3)]
    client = as_user("coen")
    page = client.get("/taken?tab=team").get_data(as_text=True)
    token = page_token(client, "/taken?tab=team")

    response = client.post(
        "/taken/toewijzen",
        data={
            "csrf_token": token,
            "taak": tasks[:2],
            "collega": "sanne",
            "reden": "Sven is met vakantie",
        },
    )

    assert tab_count(page, "team") == 3
    assert response.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        events = session.query(AuditEvent).filter_by(action="reassign").all()
    assert len(events) == 2 and all("Sven is met vakantie" in e.summary for e in events)


def test_inbox__reassign_without_reason_changes_nothing(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    client = as_user("coen")
    token = page_token(client, "/taken?tab=team")

    response = client.post(
        "/taken/toewijzen",
        data={"csrf_token": token, "taak": [task_id], "collega": "sanne", "reden": " "},
        follow_redirects=True,
    )

    assert "Niets is toegewezen" in response.get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="reassign").count() == 0


def test_inbox__reassign_is_for_coordinators_only(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    client = as_user("sven")
    token = page_token(client, "/taken")

    response = client.post(
        "/taken/toewijzen",
        data={"csrf_token": token, "taak": [task_id], "collega": "sanne", "reden": "test"},
    )

    assert response.status_code == 403, "a refusal, answered and logged as one (not only a flash message)"
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="reassign").count() == 0
    assert client.get("/taken?tab=team").status_code == 200, "falls back to the open tab"


def test_inbox__overdue_tasks_are_marked_and_filterable(app: Flask, as_user, clock: FixedClock) -> None:
    start_melding(app)
    client = as_user("sven")

    assert client.get("/taken?due=none").get_data(as_text=True).count("ZVH-2026-00001") == 1
    clock.advance(timedelta(days=1))
    assert "ZVH-2026-00001" not in client.get("/taken?due=overdue").get_data(as_text=True)


def test_saved_filter__is_stored_per_user_and_applied(app: Flask, as_user) -> None:
    start_melding(app, data={**MELDING_DATA, "gemeente": "Zundert"})
    client = as_user("sven")
    token = page_token(client, "/taken")

    client.post("/taken/filters", data={"csrf_token": token, "naam": "Zundert", "gemeente": "Zundert", "tab": "open"})

    page = client.get("/taken").get_data(as_text=True)
    assert "gemeente=Zundert" in page and ">Zundert</a>" in page
