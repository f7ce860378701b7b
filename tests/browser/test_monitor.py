"""The manager's Bewaking in a real browser: a referral past its norm is listed, the heat map marks its step, and
reassigning it from the list puts it in the new owner's inbox.

The server runs in this process with an injected clock (the app's `ZVH_CLOCK`), so the test moves time instead of
waiting eight days; everything else is the app as `make run` serves it (`zvh init --demo`, SQLite, `zvh serve`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.users import get_user
from tests.browser.conftest import ClockedServer, assert_accessible
from tests.browser.test_referral import sign_in, sign_out
from tests.processes.test_aanmelding_triage import AANMELDING


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url}


def referral_left_waiting(server: ClockedServer) -> str:
    """A referral whose completeness check nobody picks up for eight days (the triage norm is a week)."""
    services = server.app.extensions["zvh"]
    with services.db.transaction() as session:
        melder = get_user(session, "demo.melder")
        outcome = services.runtime.start_instance(
            session, process_key="aanmelding_triage", actor=melder, data=AANMELDING
        )
        case_number = outcome.instance.case_number
    server.clock.advance(timedelta(days=8))
    return case_number


def test_bewaking__stalled_referral_heat_map_and_reassignment(
    page: Page, clocked_server: ClockedServer, screenshots: Path
) -> None:
    case_number = referral_left_waiting(clocked_server)

    sign_in(page, "demo.manager")
    page.click("nav >> text=Bewaking")
    row = page.locator("#bewaking tr", has_text=case_number)
    expect(row).to_contain_text("Volledigheid controleren")
    expect(row).to_contain_text("Wacht langer dan de norm")
    expect(row).to_contain_text("7 dagen")
    page.screenshot(path=str(screenshots / "bewaking.png"), full_page=True)
    assert_accessible(page)

    page.goto("/bewaking/processen/aanmelding_triage/heatmap")
    expect(page.locator("#heatmap[data-geladen=ja]")).to_be_visible()
    overlay = page.locator("#heatmap .djs-overlays[data-container-id=Task_volledigheid] .zvh-heat")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("1")
    expect(overlay).to_have_class(re.compile("zvh-heat--over"))
    page.screenshot(path=str(screenshots / "heatmap.png"), full_page=True)

    page.click("a:has-text('Doorstroom')")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    expect(page.locator("#tabel-maanden")).to_contain_text("1")
    page.screenshot(path=str(screenshots / "doorstroom.png"), full_page=True)

    page.goto("/bewaking?categorie=stalled")
    row = page.locator("#bewaking tr", has_text=case_number)
    row.locator("input[name=taak]").check()
    page.fill("#toewijzen-collega", "demo.screener")
    page.fill("#toewijzen-reden", "Ligt al een week stil; Sven pakt het vandaag op.")
    page.click("button[form=bewaking-toewijzen]")
    expect(page.get_by_role("status").first).to_contain_text("toegewezen aan")
    expect(page).to_have_url("/bewaking?categorie=stalled")
    expect(page.locator("#bewaking tr", has_text=case_number)).to_contain_text("Sven Screener")
    sign_out(page)

    sign_in(page, "demo.screener")
    page.click("a:has-text('Op mijn naam')")
    mine = page.locator("tr", has_text=case_number)
    expect(mine).to_contain_text("Volledigheid controleren")
    expect(mine).to_contain_text("Sven Screener")
    page.screenshot(path=str(screenshots / "bewaking-reassigned-inbox.png"), full_page=True)
