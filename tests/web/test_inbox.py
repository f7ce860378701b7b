"""Mijn taken: tabs with counts, filters, paging, claiming, reassigning (also in bulk) and saved filters."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import insert, select

from engine.clock import FixedClock
from engine.inbox import COUNT_CAP
from engine.models import AuditEvent, HumanTask
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


def _datalist(page: str) -> list[str]:
    match = re.search(r'<datalist id="toewijzen-collegas">(.*?)</datalist>', page, re.S)
    assert match, "the reassign field offers a list"
    return re.findall(r'<option value="([^"]+)"', match.group(1))


def test_team_view__links_open_for_the_coordinator_and_the_case_read_is_logged(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    coen = as_user("coen")

    page = coen.get("/taken?tab=team").get_data(as_text=True)

    assert f'href="/taken/{task_id}"' in page and f'href="/zaken/{instance_id}"' in page
    assert coen.get(f"/zaken/{instance_id}").status_code == 200
    with app.extensions["zvh"].db.reader() as session:
        reads = session.query(AuditEvent).filter_by(action="view", instance_id=instance_id, actor="coen").count()
    assert reads == 1, "a coordinator's read is logged like anyone's"


def test_team_view__claim_is_offered_only_for_my_roles_and_a_refusal_answers_in_dutch(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    coen = as_user("coen")
    page = coen.get("/taken?tab=team").get_data(as_text=True)
    assert "Oppakken" not in page, "the coordinator holds no screener role"

    response = coen.post(
        f"/taken/{task_id}/oppakken", data={"csrf_token": page_token(coen, "/taken"), "terug": "/taken?tab=team"}
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 403, "a refusal stays a refusal (and is logged)"
    assert "U heeft niet de rol die deze taak vraagt." in body and "Taken van het team" in body
    assert 'name="terug" value="/taken?tab=team&amp;' in body, "the page shown again sends its forms back to itself"
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="claim").count() == 0
        refused = session.query(AuditEvent).filter_by(actor="coen", task_id=task_id, outcome="refused").count()
    assert refused == 1, "logged for the FG like every refusal"


def test_inbox__counts_plurals_and_shows_people_and_roles_by_name(app: Flask, as_user) -> None:
    first = open_task_id(app, start_melding(app))
    sven = as_user("sven")
    assert "1 taak<" in sven.get("/taken").get_data(as_text=True)
    start_melding(app)
    sven.post(f"/taken/{first}/oppakken", data={"csrf_token": page_token(sven, "/taken")})

    page = sven.get("/taken?tab=open").get_data(as_text=True)
    team = as_user("coen").get("/taken?tab=team").get_data(as_text=True)

    assert "1 taak<" in page
    assert "2 taken<" in team and "Sven Screener" in team and ">sven<" not in team
    assert 'data-label="Rol">Screener<' in team


def test_reassign__offers_only_colleagues_with_the_role_nothing_chosen(app: Flask, as_user) -> None:
    start_melding(app)
    page = as_user("coen").get("/taken?tab=team").get_data(as_text=True)

    assert sorted(_datalist(page)) == ["sanne", "sven"]
    assert 'name="collega" list="toewijzen-collegas"' in page and "selected" not in _reassign_part(page)


def _reassign_part(page: str) -> str:
    return page[page.index("toewijzen-collega") :]


def test_reassign__a_colleague_without_the_role_is_refused_in_dutch_and_the_form_is_kept(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    coen = as_user("coen")
    token = page_token(coen, "/taken?tab=team")

    response = coen.post(
        "/taken/toewijzen",
        data={
            "csrf_token": token,
            "taak": [task_id],
            "collega": "mila",
            "reden": "Sven is ziek",
            "terug": "/taken?tab=team",
        },
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Niets is toegewezen: Mila Melder heeft niet de rol Screener die de taak" in page
    assert 'value="mila"' in page and 'value="Sven is ziek"' in page, "what was typed is kept"
    assert f'value="{task_id}" checked' in page and 'aria-invalid="true"' in page
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(AuditEvent).filter_by(action="reassign").count() == 0
    again = coen.get("/taken?tab=team").get_data(as_text=True)
    assert 'value="Sven is ziek"' not in again, "kept once, for the page that shows the refusal"


def test_reassign__a_colleague_may_be_typed_by_name(app: Flask, as_user) -> None:
    task_id = open_task_id(app, start_melding(app))
    coen = as_user("coen")
    token = page_token(coen, "/taken?tab=team")

    response = coen.post(
        "/taken/toewijzen",
        data={"csrf_token": token, "taak": [task_id], "collega": "sanne screener", "reden": "Vakantie"},
        follow_redirects=True,
    )

    assert "1 taak toegewezen aan Sanne Screener." in response.get_data(as_text=True)


def test_navigation__start_links_only_for_roles_that_may_start(app: Flask, client) -> None:
    from tests.web.conftest import login

    login(client, "mila")
    melder = client.get("/taken").get_data(as_text=True)
    screener = app.test_client()
    login(screener, "sven")
    page = screener.get("/taken").get_data(as_text=True)

    assert 'href="/starten"' in melder, "the melder starts a melding"
    assert 'href="/starten"' not in page, "a screener starts nothing"
    assert "Nieuwe aanmelding" not in melder + page, "no aanmelding process in this world"


def test_team_view__a_manager_sees_the_rows_but_opens_cases_from_the_bewaking(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    mariska = as_user("mariska")

    page = mariska.get("/taken?tab=team").get_data(as_text=True)

    assert f'name="taak" value="{task_id}"' in page, "the row is there, to reassign"
    assert f'href="/zaken/{instance_id}"' not in page and f'href="/taken/{task_id}"' not in page
    assert mariska.get(f"/zaken/{instance_id}").status_code == 404


def _copies(app: Flask, instance_id: int, count: int) -> None:
    """`count` more open tasks in the same queue: copies of the case's inbox row (the inbox reads only those)."""
    db = app.extensions["zvh"].db
    with db.reader() as session:
        model = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        row = {column.key: getattr(model, column.key) for column in HumanTask.__table__.columns}
    copies = [{**row, "id": str(uuid.UUID(int=n + 1)), "case_number": f"ZVH-2025-{n:05d}"} for n in range(count)]
    with db.engine.begin() as connection:
        connection.execute(insert(HumanTask), copies)


def test_inbox__pages_by_cursor_keep_the_filters_and_lead_back(app: Flask, as_user) -> None:
    _copies(app, start_melding(app), 59)
    sven = as_user("sven")

    first = sven.get("/taken?sort=case").get_data(as_text=True)
    following = re.search(r'rel="next" href="([^"]+)"', first)
    assert "60 taken" in first and following and 'rel="prev"' not in first
    second = sven.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    back = re.search(r'rel="prev" href="([^"]+)"', second)

    assert "sort=case" in following.group(1), "the next page keeps the order"
    assert second.count("ZVH-20") == 10, "the last ten of 60"
    assert "ZVH-2026-00001" in second, "sorted by case number, the real case comes last"
    assert 'rel="next"' not in second and "Eerste pagina" in second and back
    again = sven.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert again.count("ZVH-2025-") == 50 and "ZVH-2025-00000" in again and 'rel="next"' in again


def test_inbox__more_than_a_thousand_tasks_show_as_1000_plus(app: Flask, as_user) -> None:
    _copies(app, start_melding(app), COUNT_CAP)
    page = as_user("sven").get("/taken").get_data(as_text=True)

    assert "Meer dan 1.000 taken" in page
    assert re.search(r'tab=open"[^>]*>\s*[^<]+<span class="utrecht-badge-counter">1\.000\+</span>', page)
    assert 'rel="next"' in page
