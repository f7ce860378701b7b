"""Issue 14 as people see it in Chromium: the secretariaat plans the weekly triage table, whose agenda fills with
the two referrals waiting at the triage step; the chair invites a politie member for the first case only and Veilig
Thuis for both, records attendance and decisions (autosaved), the triage decision of the first case (which completes
its triage task) and an action point. The politie member sees only the first case: not on the agenda, not as a case
page (404), not in the besluitenlijst (nor its PDF). The besluitenlijst prints without the navigation. A second
secretary's stale edit is refused and shown, not saved over the chair's. The next triage table carries the open
action point forward (to the same invitees) and the case still waiting for its triage decision.

Screenshots (tests/browser/screenshots): overleg-planning.png, overleg-meeting-chair.png (top of the page),
overleg-agendapunt-besloten.png and overleg-agendapunt-open.png (the chair's two items), overleg-stale-edit.png,
overleg-besluitenlijst-print.png, overleg-meeting-member.png, overleg-besluitenlijst-member.png,
overleg-actiepunten.png."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, expect

from tests.browser.conftest import ClockedServer, assert_accessible
from tests.browser.test_referral import sign_in, sign_out
from tests.processes.harness import ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, screen

CHAIR = "demo.triagetafel"
SECRETARIAAT = "demo.secretariaat"
MEMBER_A = "demo.politie"  # Piet Politie: invited for the first case only
NAME_A, NAME_B = "Piet Politie", "Vera Veilig"  # demo.politie, demo.coordinator.veiligthuis (B: both cases)
#: How the invitation and owner choices name them: the person and their organisation.
CHOICE = {NAME_A: f"{NAME_A} (Politie)", NAME_B: f"{NAME_B} (Veilig Thuis)"}
OVERLEG = "Triagetafel complexe casuïstiek"
DECISION = "Procesregie door het ZVH.\nWijkagent sluit aan bij het eerste casusoverleg."
STALE_TEXT = "Secretariaat: besluit nog niet genomen."
ACTION = "Politie deelt de meldingen van het afgelopen jaar"


@dataclass
class Referrals:
    driver: ProcessDriver
    first: int
    second: int
    case1: str
    case2: str


@pytest.fixture(scope="module")
def referrals(clocked_server: ClockedServer) -> Referrals:
    """Two referrals screened on Monday morning 2 March: on Tuesday 3 March 10:00 (the weekly triage moment) both
    wait at the triage step, long before the agenda of the next triage table (Tuesday 10 March, cut-off Monday
    9 March 12:00) closes."""
    services = clocked_server.app.extensions["zvh"]
    driver = ProcessDriver(services.db, services.runtime, clocked_server.clock)
    first = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, first)
    second = driver.start(
        "aanmelding_triage",
        {**AANMELDING, "betrokkenen": [{"naam": "Karel Klaassen", "bsn": "123456782", "rol": "hoofdbetrokkene"}]},
        as_role="melder",
    )
    screen(driver, second)
    driver.advance(timedelta(hours=25))
    assert driver.open(first) == driver.open(second) == {"Task_triage"}
    return Referrals(driver, first, second, driver.instance(first).case_number, driver.instance(second).case_number)


def new_page(browser: Browser, server: ClockedServer) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, locale="nl-NL", timezone_id="Europe/Amsterdam"
    )
    return context, context.new_page()


def autosave(response: Response) -> bool:
    """The meeting view's autosave call (decisions, attendance)."""
    return response.request.method == "POST" and response.url.endswith("/opslaan")


def item(page: Page, case_number: str | int) -> Locator:
    return page.locator(f"section.zvh-agenda-item[data-case='{case_number}']")


def present(page: Page, case_number: str) -> Locator:
    """Who was present for a case, as the besluitenlijst lists it."""
    case = page.locator("section", has=page.get_by_role("heading", name=case_number))
    return case.locator("div", has=page.locator("dt", has_text=re.compile(r"^Aanwezig$"))).locator("dd")


def test_issue14__triage_table_from_planning_to_besluitenlijst(
    browser: Browser, clocked_server: ClockedServer, referrals: Referrals, screenshots: Path
) -> None:
    case1, case2 = referrals.case1, referrals.case2

    # The secretariaat plans the next triage table from the overleg page; its agenda holds both referrals.
    context, page = new_page(browser, clocked_server)
    sign_in(page, SECRETARIAAT)
    page.goto("/overleggen")
    page.get_by_label("Soort overleg").select_option(label=OVERLEG)
    page.get_by_role("button", name="Overleg plannen").click()
    expect(page).to_have_url(re.compile(r"/overleggen/\d+$"))
    meeting = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text(OVERLEG)
    expect(page.locator("h1")).to_contain_text("10-03-2026 10:00")
    expect(page.locator("main")).to_contain_text("Gepland")
    expect(page.locator("section.zvh-agenda-item")).to_have_count(2)
    expect(item(page, case1).locator("h2")).to_contain_text(f"{case1} · Aanmelding en triage")
    expect(item(page, case1)).to_contain_text("Triage en besluit")
    expect(item(page, case2)).to_contain_text("Karel Klaassen")  # the shared picture of the case
    page.goto("/overleggen")
    expect(page.locator(f"main a[href$='/overleggen/{meeting}']").first).to_be_visible()
    page.screenshot(path=str(screenshots / "overleg-planning.png"), full_page=True)
    sign_out(page)
    context.close()
    referrals.driver.advance(timedelta(days=7))  # Tuesday 10 March, 10:00: the meeting starts

    # The chair runs the meeting: per-case invitations, attendance, decisions, the triage decision, an action point.
    context, page = new_page(browser, clocked_server)
    sign_in(page, CHAIR)
    page.goto(f"/overleggen/{meeting}")
    first, second = item(page, case1), item(page, case2)  # locators: found again after every reload
    for section, invitees in ((first, (NAME_A, NAME_B)), (second, (NAME_B,))):
        for name in invitees:
            section.get_by_label("Uitnodigen voor deze zaak").select_option(label=CHOICE[name])
            section.get_by_role("button", name="Uitnodigen", exact=True).click()
            expect(section.get_by_role("checkbox", name=name)).to_be_visible()
    expect(first.get_by_role("checkbox", name=NAME_A)).to_be_visible()
    expect(second.get_by_role("checkbox", name=NAME_A)).to_have_count(0)
    page.get_by_role("button", name="Uitnodigingen versturen").click()
    expect(page.locator("main")).to_contain_text("Uitnodigingen verstuurd")

    with page.expect_response(autosave) as saved:
        first.get_by_role("checkbox", name=NAME_A).check()
    assert saved.value.ok
    expect(first.get_by_role("status")).to_contain_text("Opgeslagen")

    # The secretariaat has the meeting open too; the chair saves the decisions first.
    other_context, other = new_page(browser, clocked_server)
    sign_in(other, SECRETARIAAT)
    other.goto(f"/overleggen/{meeting}")
    expect(item(other, case1).get_by_role("checkbox", name=NAME_A)).to_be_checked()

    with page.expect_response(autosave) as saved:
        first.get_by_label("Besluiten").fill(DECISION)
        first.get_by_label("Besluiten").press("Tab")
    assert saved.value.ok
    expect(first.get_by_role("status")).to_contain_text("Opgeslagen")

    # The secretariaat's edit is stale: refused, the chair's text shown, their own kept beside it to copy from.
    stale = item(other, case1)
    with other.expect_response(autosave) as saved:
        stale.get_by_label("Besluiten").fill(STALE_TEXT)
        stale.get_by_label("Besluiten").press("Tab")
    assert saved.value.status == 409
    expect(stale.get_by_role("status")).to_contain_text("Tara Triage heeft dit intussen gewijzigd")
    expect(stale.get_by_label("Besluiten")).to_have_value(DECISION)
    expect(stale.get_by_label("Uw tekst (niet opgeslagen)")).to_have_value(STALE_TEXT)
    stale.locator("form", has=other.get_by_label("Besluiten")).screenshot(
        path=str(screenshots / "overleg-stale-edit.png")
    )
    sign_out(other)
    other_context.close()

    page.reload()
    expect(first.get_by_label("Besluiten")).to_have_value(DECISION)
    expect(first.get_by_role("checkbox", name=NAME_A)).to_be_checked()
    expect(first.get_by_role("checkbox", name=NAME_B)).not_to_be_checked()

    first.get_by_label("Omschrijving").fill(ACTION)
    first.get_by_label("Organisatie").select_option(label="Politie")
    first.get_by_label("Medewerker").select_option(label=CHOICE[NAME_A])
    first.get_by_label("Deadline").fill("2026-03-17")
    first.get_by_role("button", name="Actiepunt toevoegen").click()
    expect(item(page, case1)).to_contain_text(ACTION)
    expect(item(page, case1)).to_contain_text("17-03-2026")

    outcome = item(page, case1).locator("form.zvh-outcome")
    outcome.get_by_label("Procesregie door het ZVH").check()
    outcome.get_by_label("Motivering triagebesluit").fill("Meerdere leefgebieden; partners lopen vast.")
    outcome.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.locator("main")).to_contain_text(f"Besluit voor zaak {case1} vastgelegd")
    expect(item(page, case1).locator("form.zvh-outcome")).to_have_count(0)
    expect(item(page, case1)).to_contain_text("Besluit vastgelegd")
    expect(item(page, case2).locator("form.zvh-outcome")).to_have_count(1)
    assert_accessible(page)
    item(page, case1).screenshot(path=str(screenshots / "overleg-agendapunt-besloten.png"))
    item(page, case2).screenshot(path=str(screenshots / "overleg-agendapunt-open.png"))
    page.goto(f"/overleggen/{meeting}")
    expect(page.get_by_role("link", name="Besluitenlijst")).to_be_visible()
    page.screenshot(path=str(screenshots / "overleg-meeting-chair.png"))

    page.goto(f"/zaken/{referrals.first}")
    expect(page.locator(".zvh-current-step")).to_contain_text("Terugkoppelen aan melder")
    expect(page.locator(".zvh-current-step")).not_to_contain_text("Triage en besluit")
    page.goto(f"/zaken/{referrals.second}")
    expect(page.locator(".zvh-current-step")).to_contain_text("Triage en besluit")

    # The besluitenlijst as printed: both cases for the chair, no navigation.
    page.goto(f"/overleggen/{meeting}/besluitenlijst")
    expect(page.locator("main")).to_contain_text(case1)
    expect(page.locator("main")).to_contain_text(case2)
    expect(page.locator("main")).to_contain_text("Wijkagent sluit aan bij het eerste casusoverleg.")
    expect(present(page, case1)).to_have_text(NAME_A)  # the attendance recorded for that case
    expect(present(page, case2)).to_have_text("–")
    expect(page.locator("main")).to_contain_text(ACTION)
    # the structured outcome recorded in the meeting, in words, under case 1 only
    decided = page.locator(f'[data-case="{case1}"]')
    expect(decided).to_contain_text("Vastgelegd besluit")
    expect(decided).to_contain_text("Procesregie door het ZVH")
    expect(page.locator(f'[data-case="{case2}"]')).not_to_contain_text("Vastgelegd besluit")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    expect(page.get_by_text("Afdrukken / PDF")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    expect(page.get_by_text("Afdrukken / PDF")).to_be_hidden()
    expect(page.locator("main")).to_contain_text(case1)
    expect(page.locator("main")).to_contain_text(case2)
    expect(page.locator("main")).to_contain_text(ACTION)
    page.screenshot(path=str(screenshots / "overleg-besluitenlijst-print.png"), full_page=True)
    page.emulate_media(media="screen")
    assert_accessible(page)

    # Closed, the meeting is final; the next triage table carries the open action point and the undecided case.
    page.goto(f"/overleggen/{meeting}")
    page.get_by_role("button", name="Overleg sluiten").click()
    expect(page.locator("h1")).to_contain_text("Gesloten")
    expect(page.get_by_label("Besluiten")).to_have_count(0)
    page.goto("/overleggen")
    page.get_by_label("Soort overleg").select_option(label=OVERLEG)
    page.get_by_role("button", name="Overleg plannen").click()
    expect(page.locator("h1")).to_contain_text("17-03-2026 10:00")
    next_meeting = page.url.rsplit("/", 1)[1]
    expect(page.locator("section.zvh-agenda-item")).to_have_count(2)
    expect(item(page, case1)).to_contain_text("open actiepunten")
    expect(item(page, case1)).to_contain_text(ACTION)
    expect(item(page, case2)).to_contain_text("Wacht op besluit")
    sign_out(page)
    context.close()

    # Member A, invited for the first case only, follows the invitation in the bell (no case data in it).
    context, page = new_page(browser, clocked_server)
    sign_in(page, MEMBER_A)
    page.goto("/meldingen")
    invitation = page.get_by_role("link", name=re.compile(f"Uitnodiging: {OVERLEG}, 10-03-2026 10:00"))
    expect(page.locator("main")).not_to_contain_text("ZVH-2026-")
    invitation.click()
    expect(page).to_have_url(re.compile(rf"/overleggen/{meeting}$"))
    expect(page.locator("section.zvh-agenda-item")).to_have_count(1)
    expect(item(page, case1)).to_contain_text(DECISION.splitlines()[0])
    expect(page.locator("main")).not_to_contain_text(case2)
    expect(page.locator("main")).not_to_contain_text("Karel Klaassen")
    expect(item(page, case1).get_by_label("Besluiten")).to_have_count(0)  # read-only for members
    expect(page.get_by_role("button", name="Uitnodigen")).to_have_count(0)
    expect(page.get_by_role("button", name="Besluit vastleggen")).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "overleg-meeting-member.png"), full_page=True)

    response = page.goto(f"/zaken/{referrals.second}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text("Karel Klaassen")
    response = page.goto(f"/zaken/{referrals.first}")
    assert response is not None and response.status == 200

    page.goto(f"/overleggen/{meeting}/besluitenlijst")
    expect(page.locator("main")).to_contain_text(case1)
    expect(page.locator("main")).not_to_contain_text(case2)
    expect(page.locator("main")).to_contain_text(ACTION)
    expect(present(page, case1)).to_have_text(NAME_A)
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "overleg-besluitenlijst-member.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Besluitenlijst als PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.goto("/overleggen/actiepunten")
    expect(page.locator("main")).to_contain_text(ACTION)
    expect(page.locator("main")).to_contain_text("17-03-2026")
    page.screenshot(path=str(screenshots / "overleg-actiepunten.png"), full_page=True)

    # The next meeting carried the first case forward with the same invitees: for Piet, only that case again.
    page.goto(f"/overleggen/{next_meeting}")
    expect(page.locator("section.zvh-agenda-item")).to_have_count(1)
    expect(item(page, case1)).to_contain_text(ACTION)
    expect(page.locator("main")).not_to_contain_text(case2)
    sign_out(page)
    context.close()
