"""A decision with its context in a real browser: the screener sees the referral being checked, and a second
completeness check starts empty with the first decision shown as the previous round."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_referral import fill_referral, sign_in, sign_out

MISSING = "Welke partners zijn al betrokken? Graag contactpersonen."


def open_task(page: Page, case_number: str, name: str) -> None:
    page.locator("tr", has_text=case_number).locator(f"a:has-text('{name}')").first.click()
    expect(page.locator("h1")).to_have_text(name)


def test_task_context__the_referral_beside_the_check_and_an_empty_second_round(page: Page, screenshots: Path) -> None:
    sign_in(page, "demo.melder")
    page.click("nav >> text=Nieuwe aanmelding")
    fill_referral(page, bsn="111222333")
    page.click("main button[value=afronden]:visible")
    expect(page.get_by_role("status").first).to_contain_text("gestart als zaak")
    case_number = page.locator("h1").inner_text().split()[1]
    sign_out(page)

    sign_in(page, "demo.screener")
    open_task(page, case_number, "Volledigheid controleren")
    context = page.locator("section.zvh-context")
    expect(context).to_contain_text("Aanmelding ingediend")
    expect(context.locator("dl.zvh-facts").first).to_contain_text("Ernstige overlast, schulden en dreiging in de wijk.")
    page.screenshot(path=str(screenshots / "task-with-context.png"), full_page=True)
    assert_accessible(page)
    page.check("input[name=aanmelding_volledig][value=false]")
    page.fill("textarea[name=ontbrekend]", MISSING)
    page.click("main button[value=afronden]:visible")
    expect(page.get_by_role("status").first).to_contain_text("afgerond")
    sign_out(page)

    sign_in(page, "demo.melder")
    open_task(page, case_number, "Aanmelding aanvullen")
    expect(page.locator("textarea[name=aanleiding]")).to_have_value(
        "Ernstige overlast, schulden en dreiging in de wijk."
    )
    page.click("main button[value=afronden]:visible")
    sign_out(page)

    sign_in(page, "demo.screener")
    open_task(page, case_number, "Volledigheid controleren")
    expect(page.locator("section.zvh-context")).to_contain_text("Vorige ronde: Volledigheid controleren")
    expect(page.locator("section.zvh-context")).to_contain_text(MISSING)
    expect(page.locator("input[name=aanmelding_volledig][value=false]")).not_to_be_checked()
    expect(page.locator("textarea[name=ontbrekend]")).to_have_value("")

    page.click(f"a:has-text('Zaak {case_number}')")
    expect(page.locator(".zvh-current-step")).to_contain_text("Volledigheid controleren")
    expect(page.locator(".zvh-timeline")).to_contain_text(MISSING)
    page.screenshot(path=str(screenshots / "case-with-rounds.png"), full_page=True)
