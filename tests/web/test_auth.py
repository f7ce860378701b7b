"""Sign-in, sign-out, rate limits, the idle timeout, CSRF and the security headers."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, csrf_token, login
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


def test_login__locks_an_account_after_five_failures_with_a_clear_message(client: FlaskClient) -> None:
    token = csrf_token(client)
    for _ in range(5):
        client.post("/inloggen", data={"gebruikersnaam": "sven", "wachtwoord": "fout", "csrf_token": token})

    locked = client.post("/inloggen", data={"gebruikersnaam": "sven", "wachtwoord": PASSWORD, "csrf_token": token})

    assert locked.status_code == 429
    assert "Te veel mislukte inlogpogingen" in locked.get_data(as_text=True)
    other = client.post("/inloggen", data={"gebruikersnaam": "sanne", "wachtwoord": PASSWORD, "csrf_token": token})
    assert other.status_code == 302, "another account from the same address is not locked after five failures"


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
