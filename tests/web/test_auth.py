"""Sign-in, sign-out, rate limits, the idle timeout, CSRF and the security headers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine.clock import FixedClock
from engine.models import User
from engine.users import get_user
from tests.services import Redis
from tests.web.conftest import PASSWORD, csrf_token, login
from web import create_app
from web.security import EXPIRED_USER, LAST_SEEN


def test_login__with_the_right_password_opens_the_inbox(client: FlaskClient) -> None:
    token = csrf_token(client)

    response = client.post("/inloggen", data={"gebruikersnaam": "sven", "wachtwoord": PASSWORD, "csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == "/taken"
    assert "Mijn taken" in client.get("/taken").get_data(as_text=True)


def test_login__a_wrong_password_is_refused_and_the_username_kept(client: FlaskClient) -> None:
    token = csrf_token(client)

    response = client.post("/inloggen", data={"gebruikersnaam": "sven", "wachtwoord": "fout", "csrf_token": token})

    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Gebruikersnaam of wachtwoord klopt niet" in page
    assert 'value="sven"' in page
    assert client.get("/taken").status_code == 302


def _attempt(client: FlaskClient, username: str, password: str, address: str | None = None) -> TestResponse:
    headers = {"X-Forwarded-For": address} if address else {}
    data = {"gebruikersnaam": username, "wachtwoord": password, "csrf_token": csrf_token(client)}
    return client.post("/inloggen", data=data, headers=headers)


@pytest.fixture
def proxied_app(app: Flask) -> Iterator[Flask]:
    """The app as deployed behind one TLS proxy (ZVH_PROXY_COUNT=1)."""
    keep = ("ZVH_DATABASE_URL", "ZVH_CLOCK", "SECRET_KEY", "TESTING")
    proxied = create_app({**{key: app.config[key] for key in keep}, "ZVH_PROXY_COUNT": 1})
    yield proxied
    proxied.extensions["zvh"].db.dispose()


def test_login__five_failures_make_the_account_wait_then_the_right_password_works(
    app: Flask, clock: FixedClock
) -> None:
    app.config["ZVH_SIGNIN_DELAY_SECONDS"] = 1
    client = app.test_client()
    for _ in range(5):
        assert _attempt(client, "sven", "fout").status_code == 401

    waiting = _attempt(client, "sven", PASSWORD)

    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert "Te veel mislukte inlogpogingen" in waiting.get_data(as_text=True)
    assert _attempt(client, "sanne", PASSWORD).status_code == 302, "another account is not slowed down"
    clock.advance(timedelta(seconds=1.1))
    assert _attempt(client, "sven", PASSWORD).status_code == 302, "after the wait the right password works"


def test_login__every_further_failure_doubles_the_wait(app: Flask, clock: FixedClock) -> None:
    app.config["ZVH_SIGNIN_DELAY_SECONDS"] = 1
    client = app.test_client()
    for _ in range(5):
        _attempt(client, "sven", "fout")
    clock.advance(timedelta(seconds=1.1))

    assert _attempt(client, "sven", "fout").status_code == 401, "after the wait an attempt is evaluated again"

    assert _attempt(client, "sven", PASSWORD).headers["Retry-After"] == "2"


def test_login__twenty_failures_from_one_address_do_not_slow_other_users_behind_the_proxy(proxied_app: Flask) -> None:
    client = proxied_app.test_client()
    for number in range(20):
        assert _attempt(client, f"gok{number}", "fout", address="198.51.100.7").status_code == 401

    assert _attempt(client, "sanne", PASSWORD, address="198.51.100.7").status_code == 429
    assert _attempt(client, "sanne", PASSWORD, address="198.51.100.8").status_code == 302


def test_login__x_forwarded_for_is_ignored_without_a_configured_proxy(client: FlaskClient) -> None:
    for number in range(20):
        _attempt(client, f"gok{number}", "fout", address=f"198.51.100.{number}")

    assert _attempt(client, "sanne", PASSWORD, address="198.51.100.99").status_code == 429


def test_https_behind_the_proxy__secure_cookie_and_hsts(proxied_app: Flask, client: FlaskClient) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}

    behind_proxy = proxied_app.test_client().get("/inloggen", headers=forwarded)
    spoofed = client.get("/inloggen", headers=forwarded)

    assert "max-age" in behind_proxy.headers["Strict-Transport-Security"]
    assert "Secure" in behind_proxy.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in spoofed.headers
    assert "Secure" not in spoofed.headers["Set-Cookie"]


def test_login__a_next_url_elsewhere_is_ignored(client: FlaskClient) -> None:
    token = csrf_token(client)

    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": "sven", "wachtwoord": PASSWORD, "csrf_token": token, "next": "//evil.example/phish"},
    )

    assert response.headers["Location"] == "/taken"


def test_login__without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/inloggen", data={"gebruikersnaam": "sven", "wachtwoord": PASSWORD})

    assert response.status_code == 400
    assert client.get("/taken").status_code == 302


def test_logout__ends_the_session(client: FlaskClient) -> None:
    login(client, "sven")
    token = csrf_token(client, "/taken")

    client.post("/uitloggen", data={"csrf_token": token})

    assert client.get("/taken").status_code == 302


def test_idle_timeout__ends_the_session_after_15_minutes(client: FlaskClient) -> None:
    login(client, "sven")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 16 * 60

    response = client.get("/taken")

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]
    with client.session_transaction() as session:
        assert session[EXPIRED_USER] is not None


def test_idle_timeout__activity_within_15_minutes_keeps_the_session(client: FlaskClient) -> None:
    login(client, "sven")
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - 14 * 60

    assert client.get("/taken").status_code == 200
    status = client.get("/sessie").get_json()
    assert status["ingelogd"] and status["resterend"] > 14 * 60


def test_security_headers__on_every_page(client: FlaskClient) -> None:
    response = client.get("/inloggen")

    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.get_data(as_text=True), "no inline scripts"


def test_session_cookie__httponly_and_samesite_lax_and_secure_over_https(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": "sven", "wachtwoord": PASSWORD, "csrf_token": token},
        base_url="https://zvh.example",
    )

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_language__dutch_by_default_and_english_on_request(client: FlaskClient) -> None:
    login(client, "sven")
    assert "Mijn taken" in client.get("/taken", headers={"Accept-Language": "en"}).get_data(as_text=True)

    client.post("/taal", data={"taal": "en", "terug": "/taken", "csrf_token": csrf_token(client, "/taken")})

    page = client.get("/taken").get_data(as_text=True)
    assert "My tasks" in page and '<html lang="en"' in page


def test_language__the_choice_is_the_users_and_survives_signing_out_and_in(app: Flask) -> None:
    sven = app.test_client()
    login(sven, "sven")
    sven.post("/taal", data={"taal": "en", "terug": "/taken", "csrf_token": csrf_token(sven, "/taken")})
    sven.post("/uitloggen", data={"csrf_token": csrf_token(sven, "/taken")})
    assert '<html lang="en"' in sven.get("/inloggen").get_data(as_text=True), "signing out keeps the language"

    elsewhere = app.test_client()  # another browser: nothing in its session
    assert '<html lang="nl"' in elsewhere.get("/inloggen").get_data(as_text=True)
    login(elsewhere, "sven")
    page = elsewhere.get("/taken").get_data(as_text=True)
    assert "My tasks" in page and '<html lang="en"' in page

    # Chosen on the sign-in page, before the password and the second step: the user's choice from then on.
    pim = app.test_client()
    pim.post("/taal", data={"taal": "en", "terug": "/inloggen", "csrf_token": csrf_token(pim)})
    login(pim, "pim")
    assert '<html lang="en"' in pim.get("/taken").get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        chosen = dict(session.execute(select(User.username, User.language).where(User.language.is_not(None))).all())
    assert chosen == {"sven": "en", "pim": "en"}


@pytest.mark.celery
def test_login__failures_are_counted_in_redis_across_web_processes(
    app: Flask, redis_server: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZVH_REDIS_URL", redis_server.url)
    keep = ("ZVH_DATABASE_URL", "ZVH_CLOCK", "SECRET_KEY", "TESTING")
    first, second = (create_app({key: app.config[key] for key in keep}) for _ in range(2))
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_server.url
    for _ in range(5):
        assert _attempt(first.test_client(), "coen", "fout").status_code == 401

    assert _attempt(second.test_client(), "coen", PASSWORD).status_code == 429
    for each in (first, second):
        each.extensions["zvh"].db.dispose()


def test_login__rehashes_a_password_hashed_with_older_parameters_once(app: Flask, client: FlaskClient) -> None:
    database = app.extensions["zvh"].db
    with database.transaction() as session:
        get_user(session, "mila").password_hash = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults: 64 MiB

    login(client, "mila")

    with database.reader() as session:
        stored = get_user(session, "mila").password_hash
    assert "$m=19456,t=2,p=1$" in stored
    assert PasswordHasher().verify(stored, PASSWORD)
