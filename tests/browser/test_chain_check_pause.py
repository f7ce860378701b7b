"""Issue 13 as people see it in Chromium: the bekendheidscheck on the screener's task, a triage case that handed
over to re-integratie shown as one case history (the follow-up the screener may not open keeps only its place), and
a coordinator pausing and resuming an inzageverzoek's legal deadline. Screenshots: bekendheidscheck-taak.png,
casushistorie-triage.png, termijn-opgeschort.png (tests/browser/screenshots)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import ClockedServer, assert_accessible
from tests.browser.test_referral import sign_in
from tests.processes.harness import ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, to_triage, triage
from tests.processes.test_inzageverzoek import VERZOEK


@pytest.fixture(scope="module")
def cases(clocked_server: ClockedServer) -> dict[str, int | str]:
    """A triage handed over to re-integratie, a second referral about the same person waiting for the
    bekendheidscheck, and an inzageverzoek with its legal deadline."""
    services = clocked_server.app.extensions["zvh"]
    driver = ProcessDriver(services.db, services.runtime, clocked_server.clock)
    handed_over = to_triage(driver)
    driver.complete(handed_over, "Task_triage", triage("doorverwijzen", doorverwijzing_toelichting="Detentie."))
    driver.complete(
        handed_over, "Task_doorverwijzen", {"doorverwezen_naar": "re_integratie", "verwezen_op": "2026-03-03"}
    )
    second = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    driver.complete(second, "Task_volledigheid", {"aanmelding_volledig": True})
    inzage = driver.start("inzageverzoek", VERZOEK, as_role="privacyfunctionaris")
    return {
        "handed_over": handed_over,
        "check_task": driver.task(second, "Task_bekendheid").id,
        "inzage": inzage,
    }


def test_issue13__check_on_the_task_case_history_and_a_paused_deadline(
    browser: Browser, clocked_server: ClockedServer, cases: dict[str, int | str], screenshots: Path
) -> None:
    context = browser.new_context(base_url=clocked_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, "demo.screener")

    page.goto(f"/taken/{cases['check_task']}")
    check = page.locator("section[aria-labelledby=kop-bekendheid]")
    expect(check).to_contain_text("Jan Testman")
    expect(check).to_contain_text("Bekend bij het Zorg- en Veiligheidshuis.")
    expect(check).not_to_contain_text("ZVH-2026")  # whom to ask, never which case
    expect(page.locator("input[name=bekend_bij_zvh]")).to_have_count(0)  # no manual yes/no any more
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "bekendheidscheck-taak.png"), full_page=True)

    page.goto(f"/zaken/{cases['handed_over']}")
    history = page.locator("section[aria-labelledby=kop-keten]")
    expect(history).to_contain_text("Aanmelding en triage")
    expect(history).to_contain_text("een vervolg waar u geen toegang toe hebt")
    expect(history.locator("a")).to_have_count(0)
    expect(page.locator(".zvh-case-diagram svg, figure svg").first).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "casushistorie-triage.png"), full_page=True)
    context.close()

    context = browser.new_context(base_url=clocked_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, "demo.coordinator")
    page.goto(f"/zaken/{cases['inzage']}")
    deadline = page.locator("section[aria-labelledby=kop-opschorting]")
    deadline.locator("button[type=submit]").click()  # no reason: refused, nothing paused
    expect(page.locator("main")).to_contain_text("Reden: Dit veld is verplicht.")
    expect(page.locator("[data-opgeschort]")).to_have_count(0)
    page.goto(f"/zaken/{cases['inzage']}")
    page.fill("#opschorting-reden", "Wacht op een kopie van het identiteitsbewijs")
    page.locator("section[aria-labelledby=kop-opschorting] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/zaken/{cases['inzage']}$"))
    expect(page.locator("section[aria-labelledby=kop-opschorting] [data-opgeschort]")).to_contain_text(
        "Opgeschort sinds"
    )
    expect(page.locator("section[aria-labelledby=kop-opschorting]")).to_contain_text("Huidige termijn: 02-04-2026")
    expect(page.locator("ul.zvh-timers")).to_contain_text("opgeschort")
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "termijn-opgeschort.png"), full_page=True)

    page.fill("#opschorting-reden", "Kopie ontvangen")
    page.locator("section[aria-labelledby=kop-opschorting] button[type=submit]").click()
    expect(page.locator("[data-opgeschort]")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Termijn hervat")
    context.close()
