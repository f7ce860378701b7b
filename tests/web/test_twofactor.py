"""Two-factor sign-in over HTTP: enrolment enforced for the roles that need it, the code step (throttled), recovery
codes, the beheerder's reset and the account review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.clock import FixedClock
from engine.demo import mark_demo_database
from engine.models import AuditEvent, User
from engine.twofactor import code_at, stored_secret
from engine.users import create_user, get_user
from tests.web.conftest import PASSWORD, csrf_token, current_code, enrol, login

ENROL = "/account/tweestapsverificatie/instellen"


def add_user(app: Flask, username: str, role: str) -> None:
    with app.extensions["zvh"].db.transaction() as session:
        create_user(session, username=username, display_name=username.title(), roles=[role], password=PASSWORD)


def password_step(client: FlaskClient, username: str) -> TestResponse:
    data = {"gebruikersnaam": username, "wachtwoord": PASSWORD, "csrf_token": csrf_token(client)}
    return client.post("/inloggen", data=data)


def code_step(client: FlaskClient, code: str) -> TestResponse:
    return client.post("/inloggen/code", data={"code": code, "csrf_token": csrf_token(client, "/inloggen/code")})


def sign_out(client: FlaskClient) -> None:
    client.post("/uitloggen", data={"csrf_token": csrf_token(client, "/account/sessies")})


def stored(app: Flask, username: str) -> User:
    with app.extensions["zvh"].db.reader() as session:
        return get_user(session, username)


def test_enrolment__a_new_manager_can_do_nothing_else_until_the_app_is_set_up(app: Flask, client: FlaskClient) -> None:
    add_user(app, "mira", "manager")

    signed = password_step(client, "mira")

    assert signed.status_code == 302 and signed.headers["Location"] == ENROL
    for path in ("/taken", "/zaken", "/account/sessies", "/account/tweestapsverificatie", "/bewaking"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == ENROL, path
    token = csrf_token(client, ENROL)
    posted = client.post("/account/sessies/andere-beeindigen", data={"csrf_token": token})
    assert posted.status_code == 302 and posted.headers["Location"] == ENROL
    page = client.get(ENROL).get_data(as_text=True)
    assert "<svg" in page and 'id="totp-geheim"' in page and "BIO 5.17.01" in page
    assert 'aria-label="Hoofdmenu"' not in page, "no menu of pages that cannot be opened yet"
    assert stored(app, "mira").last_login_at is None, "not signed in completely yet"

    codes = enrol(client)

    assert len(codes) == 10
    inbox = client.get("/taken")
    assert inbox.status_code == 200 and 'aria-label="Hoofdmenu"' in inbox.get_data(as_text=True)
    assert stored(app, "mira").last_login_at is not None


def test_code_step__a_wrong_code_keeps_the_user_out_and_is_throttled(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    app.config["ZVH_SIGNIN_DELAY_SECONDS"] = 1
    signed = password_step(client, "mariska")
    assert signed.headers["Location"] == "/inloggen/code"
    assert client.get("/taken").status_code == 302, "the password alone signs in no one"

    for _ in range(5):
        wrong = code_step(client, "000000")
        assert wrong.status_code == 401 and "Deze code klopt niet" in wrong.get_data(as_text=True)
    waiting = code_step(client, current_code(client, "mariska"))

    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert client.get("/taken").status_code == 302
    clock.advance(timedelta(seconds=2))
    assert password_step(client, "mariska").status_code == 302, "a new password step is allowed"
    assert code_step(client, current_code(client, "mariska")).status_code == 302
    assert client.get("/taken").status_code == 200


def test_code_step__the_password_does_not_forgive_wrong_codes(app: Flask, client: FlaskClient) -> None:
    for _ in range(5):
        password_step(client, "mariska")
        code_step(client, "000000")

    password_step(client, "mariska")

    assert code_step(client, current_code(client, "mariska")).status_code == 429


def test_code_step__expires_and_needs_a_password_first(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    assert client.get("/inloggen/code").headers["Location"] == "/inloggen"
    password_step(client, "pim")
    clock.advance(timedelta(minutes=6))

    response = client.get("/inloggen/code")

    assert response.status_code == 302 and response.headers["Location"] == "/inloggen"


def test_code_step__a_replayed_code_is_refused(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    password_step(client, "pim")
    code = current_code(client, "pim")
    assert code_step(client, code).status_code == 302
    sign_out(client)

    password_step(client, "pim")

    assert code_step(client, code).status_code == 401


def test_recovery_code__signs_in_once(app: Flask, client: FlaskClient) -> None:
    add_user(app, "mira", "procesregisseur")
    password_step(client, "mira")
    codes = enrol(client)
    sign_out(client)

    password_step(client, "mira")
    first = code_step(client, codes[3])
    follow = client.get(first.headers["Location"]).get_data(as_text=True)
    sign_out(client)
    password_step(client, "mira")
    again = code_step(client, codes[3])

    assert first.status_code == 302 and "nog 9" in follow
    assert again.status_code == 401
    with app.extensions["zvh"].db.reader() as session:
        summaries = " ".join(e.summary for e in session.query(AuditEvent).filter(AuditEvent.action.like("totp%")))
    assert codes[3] not in summaries


def test_voluntary__a_screener_may_set_up_the_app_and_then_needs_a_code(app: Flask, client: FlaskClient) -> None:
    login(client, "sven")
    assert "staat uit" in client.get("/account/tweestapsverificatie").get_data(as_text=True)
    enrol(client)
    sign_out(client)

    assert password_step(client, "sven").headers["Location"] == "/inloggen/code"


def test_recovery_codes__new_ones_need_a_code_from_the_app(app: Flask, client: FlaskClient) -> None:
    login(client, "mariska")
    token = csrf_token(client, "/account/tweestapsverificatie")

    refused = client.post("/account/tweestapsverificatie/herstelcodes", data={"code": "000000", "csrf_token": token})
    made = client.post(
        "/account/tweestapsverificatie/herstelcodes",
        data={"code": current_code(client, "mariska"), "csrf_token": token},
    )

    assert refused.status_code == 302
    assert made.status_code == 200 and made.get_data(as_text=True).count("<code>") == 10


def test_reset__by_a_beheerder_sends_the_user_back_to_enrolment(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bea", "beheerder")
    mariska = app.test_client()
    login(mariska, "mariska")
    login(client, "bea")
    token = csrf_token(client, "/beheer/accounts")

    response = client.post("/beheer/accounts/mariska/tweestapsverificatie-herstellen", data={"csrf_token": token})

    assert response.status_code == 302
    assert mariska.get("/taken").status_code == 302, "her sessions ended"
    assert password_step(mariska, "mariska").headers["Location"] == ENROL
    with app.extensions["zvh"].db.reader() as session:
        event = session.query(AuditEvent).filter_by(action="totp_reset").one()
    assert event.actor == "bea"


def test_account_review__lists_everyone_for_the_beheerder_only(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    add_user(app, "bea", "beheerder")
    other = app.test_client()
    login(other, "mariska")
    login(client, "bea")

    page = client.get("/beheer/accounts").get_data(as_text=True)

    assert 'data-gebruiker="otto"' in page and "Zundert" in page and "Gemeente" in page
    assert 'data-gebruiker="sven" data-inactief="ja"' in page, "never signed in"
    assert 'data-gebruiker="bea" data-inactief' not in page
    assert other.get("/beheer/accounts").status_code == 403
    token = csrf_token(other, "/account/sessies")
    assert other.post("/beheer/accounts/sven/uitschakelen", data={"csrf_token": token}).status_code == 403
    assert client.post("/beheer/accounts/sven/uitschakelen").status_code == 400, "no CSRF token"
    token = csrf_token(client, "/beheer/accounts")
    assert client.post("/beheer/accounts/sven/uitschakelen", data={"csrf_token": token}).status_code == 302
    assert not stored(app, "sven").active


@pytest.mark.parametrize("demo", [False, True])
def test_sign_in_page__says_how_demo_users_get_codes_in_a_demo_database_only(
    app: Flask, client: FlaskClient, clock: FixedClock, demo: bool
) -> None:
    if demo:
        with app.extensions["zvh"].db.transaction() as session:
            mark_demo_database(session, at=clock.now())

    page = client.get("/inloggen").get_data(as_text=True)

    assert ("zvh users totp-code" in page) is demo


def test_code__from_the_secret_computed_like_an_app_does(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    with app.extensions["zvh"].db.reader() as session:
        secret = stored_secret(session, get_user(session, "pim"))
    password_step(client, "pim")
    clock.advance(timedelta(seconds=30))

    assert code_step(client, code_at(secret, clock.now())).status_code == 302
