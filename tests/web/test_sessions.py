"""Server-side sessions: a copied cookie stops working once its session ended, whoever ended it."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FixedClock
from engine.models import UserSession
from engine.users import create_user, disable_user
from tests.web.conftest import PASSWORD, csrf_token, login
from web.security import LAST_SEEN
from web.services import services

COOKIE = "zvh_sessie"


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replayed(client: FlaskClient, cookie: str) -> int:
    """The status of the inbox when a saved session cookie is sent again."""
    client.set_cookie(COOKIE, cookie)
    return client.get("/taken").status_code


def live_rows(app: Flask) -> list[UserSession]:
    with app.app_context(), services().db.reader() as session:
        return list(session.query(UserSession).filter(UserSession.ended_at.is_(None)))


def test_logout__a_saved_cookie_replayed_afterwards_is_refused(client: FlaskClient) -> None:
    login(client, "sven")
    cookie = saved_cookie(client)
    assert replayed(client, cookie) == 200

    client.post("/uitloggen", data={"csrf_token": csrf_token(client, "/taken")})

    assert replayed(client, cookie) == 302


def test_password_change__ends_the_other_sessions_and_keeps_this_one(app: Flask) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "sven")
    login(elsewhere, "sven")
    old_cookie = saved_cookie(elsewhere)

    response = here.post(
        "/account/wachtwoord",
        data={
            "huidig_wachtwoord": PASSWORD,
            "nieuw_wachtwoord": "een-ander-lang-wachtwoord",
            "csrf_token": csrf_token(here, "/account/wachtwoord"),
        },
    )

    assert response.status_code == 302
    assert here.get("/taken").status_code == 200
    assert replayed(elsewhere, old_cookie) == 302
    login(elsewhere, "sven", "een-ander-lang-wachtwoord")


def test_password_change__a_weak_password_gets_a_field_error(as_user) -> None:
    client = as_user("sven")

    response = client.post(
        "/account/wachtwoord",
        data={
            "huidig_wachtwoord": PASSWORD,
            "nieuw_wachtwoord": "sven-is-de-beste",
            "csrf_token": csrf_token(client, "/account/wachtwoord"),
        },
    )

    assert response.status_code == 422
    assert "mag uw gebruikersnaam niet bevatten" in response.get_data(as_text=True)
    login(client, "sven")


def test_disable__a_signed_in_user_is_out_at_the_next_request(app: Flask, as_user) -> None:
    client = as_user("sven")
    cookie = saved_cookie(client)

    with app.app_context(), services().db.transaction() as session:
        disable_user(session, username="sven", at=services().runtime.clock.now())

    assert client.get("/taken").status_code == 302
    assert replayed(client, cookie) == 302


def test_my_sessions__lists_them_and_ends_another_one(app: Flask) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "sven")
    login(elsewhere, "sven")

    page = here.get("/account/sessies").get_data(as_text=True)
    assert page.count("data-sessie=") == 2 and "Deze sessie" in page
    ends = re.findall(r'action="(/account/sessies/[0-9a-f]{64}/beeindigen)"', page)
    assert len(ends) == 1, "only the other session has a button: this one ends with Uitloggen"
    response = here.post(ends[0], data={"csrf_token": csrf_token(here, "/account/sessies")})

    assert response.status_code == 302
    assert elsewhere.get("/taken").status_code == 302
    assert here.get("/taken").status_code == 200


def test_my_sessions__sign_out_everywhere_else(app: Flask) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "sven")
    login(elsewhere, "sven")

    here.post("/account/sessies/andere-beeindigen", data={"csrf_token": csrf_token(here, "/account/sessies")})

    assert elsewhere.get("/taken").status_code == 302
    assert here.get("/taken").status_code == 200


def test_sessions__a_colleague_cannot_see_or_end_them_a_beheerder_can(app: Flask) -> None:
    with app.app_context(), services().db.transaction() as session:
        create_user(session, username="bea", display_name="Bea Beheer", roles=["beheerder"], password=PASSWORD)
    sven, sanne, bea = app.test_client(), app.test_client(), app.test_client()
    login(sven, "sven")
    login(sanne, "sanne")
    login(bea, "bea")
    svens = next(row.id for row in live_rows(app) if row.user.username == "sven")

    assert sanne.get("/beheer/sessies").status_code == 403
    refused = sanne.post(f"/account/sessies/{svens}/beeindigen", data={"csrf_token": csrf_token(sanne, "/taken")})
    assert refused.status_code == 404
    assert sven.get("/taken").status_code == 200

    page = bea.get("/beheer/sessies?gebruiker=sven").get_data(as_text=True)
    assert svens in page and "Sven Screener" in page and "Sanne Screener" not in page
    bea.post(f"/account/sessies/{svens}/beeindigen", data={"csrf_token": csrf_token(bea, "/beheer/sessies")})

    assert sven.get("/taken").status_code == 302


def test_last_seen__is_written_at_most_once_a_minute(app: Flask, as_user, clock: FixedClock) -> None:
    client = as_user("sven")
    started = live_rows(app)[0].last_seen_at

    clock.advance(timedelta(seconds=30))
    client.get("/taken")
    assert live_rows(app)[0].last_seen_at == started

    clock.advance(timedelta(seconds=31))
    client.get("/taken")
    assert live_rows(app)[0].last_seen_at == started + timedelta(seconds=61)


def test_idle_timeout__ends_the_server_session_too(app: Flask, as_user) -> None:
    client = as_user("sven")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 16 * 60

    assert client.get("/taken").status_code == 302

    assert live_rows(app) == [], "a copy of the cookie with a fresh idle timer would sign in no one"
