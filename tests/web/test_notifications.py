"""The bell in the header, the list of notifications, marking them read, and the per-kind preferences."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from engine.clock import FixedClock
from engine.models import Notification, User
from engine.notifications import preferences, scan_notifications
from tests.web.conftest import csrf_token, login
from tests.web.helpers import open_task_id, page_token, start_melding, user

BELL = 'aria-label="Meldingen: {count} ongelezen"'


def scan(app: Flask, clock: FixedClock) -> None:
    with app.extensions["zvh"].db.transaction() as session:
        scan_notifications(session, now=clock.now())


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def notification_ids(app: Flask, username: str) -> list[int]:
    with app.extensions["zvh"].db.reader() as session:
        query = select(Notification.id).where(Notification.user_id == user(app, username).id).order_by(Notification.id)
        return list(session.scalars(query))


def unread(app: Flask, username: str) -> int:
    with app.extensions["zvh"].db.reader() as session:
        query = select(Notification.id).where(
            Notification.user_id == user(app, username).id, Notification.read_at.is_(None)
        )
        return len(session.scalars(query).all())


def test_bell__shows_the_unread_count_on_every_page_for_a_signed_in_user(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    assert "zvh-bell" not in client.get("/inloggen").get_data(as_text=True)
    start_melding(app)
    start_melding(app)
    scan(app, clock)
    sven = signed_in(app, "sven")

    assert BELL.format(count=2) in sven.get("/taken").get_data(as_text=True)
    assert BELL.format(count=2) in sven.get("/zaken").get_data(as_text=True)
    assert BELL.format(count=0) in signed_in(app, "mila").get("/taken").get_data(as_text=True)


def test_bell__speaks_english_when_the_user_chose_english(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    scan(app, clock)
    sven = signed_in(app, "sven")

    sven.post("/taal", data={"taal": "en", "terug": "/meldingen", "csrf_token": csrf_token(sven, "/meldingen")})
    page = sven.get("/meldingen").get_data(as_text=True)

    assert 'aria-label="Notifications: 1 unread"' in page
    assert "New task" in page and "Mark all as read" in page


def test_notifications__list_the_step_and_case_number_and_opening_one_marks_it_read(
    app: Flask, clock: FixedClock
) -> None:
    task_id = open_task_id(app, start_melding(app))
    scan(app, clock)
    sven = signed_in(app, "sven")
    [notification_id] = notification_ids(app, "sven")

    page = sven.get("/meldingen").get_data(as_text=True)
    opened = sven.get(f"/meldingen/{notification_id}")

    assert "Nieuwe taak – Beoordeel de melding · ZVH-2026-00001" in page and "Ongelezen" in page
    assert "Fenna" not in page and "111222333" not in page
    assert opened.status_code == 302 and opened.headers["Location"] == f"/taken/{task_id}"
    assert unread(app, "sven") == 0
    assert "Ongelezen" not in sven.get("/meldingen").get_data(as_text=True)


def test_notifications__mark_all_read(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    start_melding(app)
    scan(app, clock)
    sven = signed_in(app, "sven")

    response = sven.post("/meldingen/gelezen", data={"csrf_token": page_token(sven, "/meldingen")})

    assert response.status_code == 302
    assert unread(app, "sven") == 0
    assert unread(app, "sanne") == 2, "only one's own"
    assert BELL.format(count=0) in sven.get("/meldingen").get_data(as_text=True)


def test_notifications__another_users_notification_is_not_found(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    scan(app, clock)
    [svens] = notification_ids(app, "sven")
    sanne = signed_in(app, "sanne")

    assert sanne.get(f"/meldingen/{svens}").status_code == 404
    assert sanne.get("/meldingen/999999").status_code == 404
    assert unread(app, "sven") == 1


def test_notifications__without_csrf_token_nothing_is_marked(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    scan(app, clock)
    sven = signed_in(app, "sven")

    assert sven.post("/meldingen/gelezen").status_code == 400
    assert sven.post("/meldingen/instellingen", data={"new_task-email": "1"}).status_code == 400
    assert unread(app, "sven") == 1


def test_notifications__a_link_to_another_site_is_never_followed(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    scan(app, clock)
    [notification_id] = notification_ids(app, "sven")
    with app.extensions["zvh"].db.transaction() as session:
        session.execute(update(Notification).where(Notification.id == notification_id).values(link="//evil.example/"))

    opened = signed_in(app, "sven").get(f"/meldingen/{notification_id}")

    assert opened.headers["Location"] == "/meldingen"


def test_notifications__need_a_signed_in_user(client: FlaskClient) -> None:
    for path in ("/meldingen", "/meldingen/instellingen", "/meldingen/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/inloggen" in response.headers["Location"], path


def test_settings__switching_a_kind_off_in_the_app_stops_it(app: Flask, clock: FixedClock) -> None:
    sven = signed_in(app, "sven")
    form = sven.get("/meldingen/instellingen").get_data(as_text=True)
    assert 'name="new_task-app" value="1" checked' in form
    choices = {f"{kind}-app": "1" for kind in ("assigned", "deadline", "stalled", "incident")}

    saved = sven.post("/meldingen/instellingen", data={**choices, "csrf_token": page_token(sven, "/meldingen")})

    assert saved.status_code == 302
    assert 'name="new_task-app" value="1">' in sven.get("/meldingen/instellingen").get_data(as_text=True)
    start_melding(app)
    scan(app, clock)
    assert notification_ids(app, "sven") == []
    assert len(notification_ids(app, "sanne")) == 1


def test_settings__e_mail_needs_an_address_and_the_app(app: Flask) -> None:
    sven = signed_in(app, "sven")
    token = page_token(sven, "/meldingen")

    no_address = sven.post(
        "/meldingen/instellingen", data={"new_task-app": "1", "new_task-email": "1", "csrf_token": token}
    )
    with app.extensions["zvh"].db.transaction() as session:
        session.execute(update(User).where(User.username == "sven").values(email="sven@example.org"))
    no_app = sven.post("/meldingen/instellingen", data={"deadline-email": "1", "csrf_token": token})
    accepted = sven.post(
        "/meldingen/instellingen", data={"deadline-app": "1", "deadline-email": "1", "csrf_token": token}
    )

    assert no_address.status_code == 422
    assert "Er is geen e-mailadres van u bekend" in no_address.get_data(as_text=True)
    assert no_app.status_code == 422 and "zet ook" in no_app.get_data(as_text=True)
    assert accepted.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        chosen = preferences(session, user=user(app, "sven"))
    assert chosen["deadline"] == (True, True) and chosen["new_task"] == (False, False)


def test_settings__a_value_no_checkbox_sends_is_refused(app: Flask) -> None:
    sven = signed_in(app, "sven")

    refused = sven.post(
        "/meldingen/instellingen",
        data={"new_task-app": "ja'><script>", "csrf_token": page_token(sven, "/meldingen")},
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Ongeldige keuze." in page and "<script>" not in page
    with app.extensions["zvh"].db.reader() as session:
        assert preferences(session, user=user(app, "sven"))["new_task"] == (True, False)
