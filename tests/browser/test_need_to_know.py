"""Need-to-know in a real browser: a case is closed to those who do not take part in it; a ZVH professional opens it
only by stating a reason (noodtoegang), a partner of another gemeente not at all."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_referral import fill_referral, sign_in, sign_out


def test_noodtoegang__reason_first_then_the_case_and_partners_never(page: Page, screenshots: Path) -> None:
    sign_in(page, "demo.melder")
    page.click("nav >> text=Nieuwe aanmelding")
    fill_referral(page, bsn="123456782")
    page.click("main button[value=afronden]:visible")
    expect(page.get_by_role("status").first).to_contain_text("gestart als zaak")
    expect(page).to_have_url(re.compile(r"/zaken/\d+$"))
    case_path = "zaken/" + page.url.rsplit("/", 1)[1]
    sign_out(page)

    sign_in(page, "demo.gemeente.zundert")
    page.goto(f"/{case_path}")
    expect(page.locator("h1")).to_contain_text("bestaat niet")
    expect(page.locator("main")).not_to_contain_text("Noodtoegang")
    sign_out(page)

    sign_in(page, "demo.procesregisseur")
    page.goto(f"/{case_path}")
    expect(page.locator("main")).not_to_contain_text("Fenna Fictief")
    page.click("a:has-text('Noodtoegang vragen')")
    page.click("main button[type=submit]")
    expect(page.locator("#noodtoegang-reden-fout")).to_contain_text("verplicht")
    page.fill("#noodtoegang-reden", "Acute dreiging gemeld door de wijkagent; overleg vanmiddag.")
    page.screenshot(path=str(screenshots / "noodtoegang.png"), full_page=True)
    assert_accessible(page)
    page.click("main button[type=submit]")

    expect(page.get_by_role("status").first).to_contain_text("Noodtoegang is vastgelegd")
    expect(page.locator("main")).to_contain_text("Fenna Fictief")
    expect(page.locator("#kop-deelnemers + ul")).to_contain_text("noodtoegang")
    page.screenshot(path=str(screenshots / "case-after-noodtoegang.png"), full_page=True)
