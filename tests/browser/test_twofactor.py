"""Two-factor sign-in in a real browser: a new procesregisseur is sent to set up an app from the QR page, confirms
with a code computed from the secret shown (as an app would), keeps the recovery codes and later signs in with a code;
a demo user signs in with the secret `zvh init --demo` printed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from engine.demo import DEMO_PASSWORD
from engine.users import create_user
from tests.browser.conftest import SECOND_FACTORS, ClockedServer

PASSWORD = "browser-2fa-wachtwoord-482"


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url}


def password_step(page: Page, username: str, password: str) -> None:
    page.goto("/inloggen")
    page.fill("#gebruikersnaam", username)
    page.fill("#wachtwoord", password)
    page.click("main button[type=submit]")


def test_two_factor__enrol_from_the_qr_page_then_sign_in_with_a_code(
    page: Page, clocked_server: ClockedServer, screenshots: Path
) -> None:
    with clocked_server.app.extensions["zvh"].db.transaction() as session:
        create_user(
            session, username="roos", display_name="Roos Regisseur", roles=["procesregisseur"], password=PASSWORD
        )

    password_step(page, "roos", PASSWORD)
    expect(page).to_have_url("/account/tweestapsverificatie/instellen")
    page.goto("/taken")
    expect(page).to_have_url("/account/tweestapsverificatie/instellen")
    expect(page.locator(".zvh-qr svg")).to_be_visible()
    page.screenshot(path=str(screenshots / "tweestapsverificatie-instellen.png"), full_page=True)
    shown = page.locator("#totp-geheim").inner_text()
    app = pyotp.TOTP(shown.replace(" ", ""))
    page.fill("#code", app.at(clocked_server.clock.now()))
    page.click("main button[type=submit]")

    expect(page.locator("#herstelcodes li")).to_have_count(10)
    recovery = page.locator("#herstelcodes li").first.inner_text()
    page.click("text=Ik heb ze bewaard, verder")
    expect(page).to_have_url("/taken")
    page.click("header button:has-text('Uitloggen')")

    clocked_server.clock.advance(timedelta(seconds=30))
    password_step(page, "roos", PASSWORD)
    expect(page).to_have_url("/inloggen/code")
    page.fill("#code", "000000")
    page.click("main button[type=submit]")
    expect(page.locator("#codefout")).to_contain_text("Deze code klopt niet")
    page.fill("#code", app.at(clocked_server.clock.now()))
    page.click("main button[type=submit]")
    expect(page).to_have_url("/taken")
    page.click("header button:has-text('Uitloggen')")

    password_step(page, "roos", PASSWORD)
    page.fill("#code", recovery)
    page.click("main button[type=submit]")
    expect(page).to_have_url("/taken")
    expect(page.locator("main")).to_contain_text("nog 9")


def test_two_factor__a_demo_user_signs_in_with_the_printed_secret(page: Page, clocked_server: ClockedServer) -> None:
    secret = SECOND_FACTORS[clocked_server.url].secrets["demo.manager"]

    password_step(page, "demo.manager", DEMO_PASSWORD)
    expect(page.locator("#demo-codes")).to_contain_text("zvh users totp-code")
    page.fill("#code", pyotp.TOTP(secret).at(clocked_server.clock.now()))
    page.click("main button[type=submit]")

    expect(page).to_have_url("/taken")
