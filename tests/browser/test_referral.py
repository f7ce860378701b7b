"""A referral from start to triage in a real browser: validation keeps input, the task moves through the inbox,
and the case view draws the diagram with the current step marked."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from engine.demo import DEMO_PASSWORD
from tests.browser.conftest import pass_second_factor


def sign_in(page: Page, username: str) -> None:
    page.goto("/inloggen")
    page.fill("#gebruikersnaam", username)
    page.fill("#wachtwoord", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    pass_second_factor(page, username)
    expect(page).to_have_url("/taken")


def sign_out(page: Page) -> None:
    page.click("header button:has-text('Uitloggen')")
    expect(page).to_have_url("/inloggen")


def fill_referral(page: Page, bsn: str) -> None:
    page.fill("input[name=aanmelddatum]", "2026-11-27")
    page.select_option("select[name='melder.organisatie']", label="Politie")
    page.fill("input[name='melder.naam']", "Wijkagent Demo")
    page.fill("input[name='melder.email']", "wijkagent@example.org")
    page.select_option("select[name=gemeente]", label="Breda")
    page.fill("input[name='betrokkenen.0.naam']", "Fenna Fictief")
    page.fill("input[name='betrokkenen.0.bsn']", bsn)
    page.check("input[name='betrokkenen.0.rol'][value=hoofdbetrokkene]")
    page.fill("textarea[name=aanleiding]", "Ernstige overlast, schulden en dreiging in de wijk.")
    page.fill("textarea[name=doel_casusoverleg]", "Gezamenlijk plan van aanpak met zorg en veiligheid.")
    page.check("input[name=leefgebieden][value=Wonen]")
    page.check("input[name=leefgebieden][value='Financiën en schulden']")
    page.check("input[name=betrokkene_geinformeerd][value=true]")


def test_referral__from_invalid_bsn_to_triage_and_the_marked_diagram(page: Page, screenshots: Path) -> None:
    sign_in(page, "demo.melder")
    page.click("nav >> text=Nieuwe aanmelding")
    fill_referral(page, bsn="111222334")
    page.click("main button[value=afronden]:visible")

    summary = page.locator("#foutoverzicht")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("elfproef")
    expect(page.locator("input[name='betrokkenen.0.bsn']")).to_have_value("111222334")
    expect(page.locator("textarea[name=aanleiding]")).to_have_value(
        "Ernstige overlast, schulden en dreiging in de wijk."
    )
    expect(page.locator("input[name='betrokkenen.0.bsn']")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(screenshots / "task-form-with-errors.png"), full_page=True)

    page.fill("input[name='betrokkenen.0.bsn']", "111222333")
    page.click("main button[value=afronden]:visible")
    expect(page.get_by_role("status").first).to_contain_text("gestart als zaak")
    case_number = page.locator("h1").inner_text().split()[1]
    sign_out(page)

    sign_in(page, "demo.screener")
    row = page.locator("tr", has_text=case_number)
    expect(row).to_contain_text("Volledigheid controleren")
    page.screenshot(path=str(screenshots / "inbox.png"), full_page=True)
    row.locator("button:has-text('Oppakken')").click()
    expect(page.get_by_role("status").first).to_contain_text("op uw naam")
    page.click("a:has-text('Op mijn naam')")
    mine = page.locator("tr", has_text=case_number)
    expect(mine).to_contain_text("Sven Screener")
    mine.locator("a:has-text('Volledigheid controleren')").click()
    page.check("input[name=aanmelding_volledig][value=true]")
    page.click("main button[value=afronden]:visible")
    expect(page.locator("h1")).to_have_text("Bekendheidscheck uitvoeren")

    page.click(f"a:has-text('Zaak {case_number}')")
    diagram = page.locator("#diagram[data-geladen=ja]")
    expect(diagram).to_be_visible()
    expect(page.locator("#diagram .djs-element.zvh-huidig")).to_have_count(1)
    expect(page.locator("#diagram .djs-element.zvh-huidig")).to_have_attribute("data-element-id", "Task_bekendheid")
    assert page.locator("#diagram .djs-element.zvh-afgerond").count() >= 3
    page.screenshot(path=str(screenshots / "case-view.png"), full_page=True)
