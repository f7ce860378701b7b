"""The look on every screen (issue 12): axe-core finds nothing serious on any page type, one sans-serif font, the
keyboard lands where the work is (error summary, a newly added row), no red before typing, the idle warning's
plurals, the diagram's zoom buttons, a phone-sized header and case page; and screenshots in Dutch and English of the
inbox, a task with its context, the case page and a phone view (tests/browser/screenshots, look at them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_referral import fill_referral, sign_in

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def case_number(browser: Browser, live_server: str) -> str:
    """A referral started by the melder, waiting for the screener's completeness check."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    sign_in(page, "demo.melder")
    page.goto("/starten/aanmelding_triage")
    fill_referral(page, bsn="111222333")
    page.click("main button[value=afronden]:visible")
    expect(page).to_have_url(re.compile(r"/zaken/\d+$"))
    number = page.locator("h1").inner_text().split()[1]
    context.close()
    return number


def _font(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate("e => getComputedStyle(e).fontFamily"))


def _box(page: Page, selector: str) -> dict[str, str]:
    return dict(
        page.locator(selector).first.evaluate(
            """e => { const s = getComputedStyle(e);
                return { color: s.borderTopColor, width: s.borderTopWidth, background: s.backgroundColor }; }"""
        )
    )


def test_look__every_form_state_accessible_keyboard_first_and_one_font(page: Page) -> None:
    page.goto("/inloggen")
    assert _font(page, "body").startswith('"Noto Sans Variable"')
    for selector in ("h1", "label", "input#gebruikersnaam", "main button", "header button"):
        assert _font(page, selector) == _font(page, "body"), selector
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Variable\"')")
    assert_accessible(page)

    sign_in(page, "demo.melder")
    assert_accessible(page)
    page.goto("/starten/aanmelding_triage")
    assert_accessible(page)

    # No red before the user typed: an empty required text area and radio look like the others.
    page.fill("textarea[name=doel_casusoverleg]", "Iets")
    page.locator("textarea[name=doel_casusoverleg]").blur()
    assert _box(page, "textarea[name=aanleiding]") == _box(page, "textarea[name=doel_casusoverleg]")
    assert _box(page, "input[name=betrokkene_geinformeerd]") == _box(page, "input[name=spoed][value=true]")
    # Short values get short fields, text areas the full width.
    width = page.locator("main").bounding_box()
    assert width
    postcode = page.locator("input[name='betrokkenen.0.adres.postcode']").bounding_box()
    aanleiding = page.locator("textarea[name=aanleiding]").bounding_box()
    assert postcode and aanleiding and postcode["width"] < 160 < 0.8 * width["width"] < aanleiding["width"]

    # A new row of a repeating group: focus on its first field.
    page.click("button:has-text('Betrokkene toevoegen')")
    expect(page.locator("input[name='betrokkenen.1.naam']")).to_be_focused()
    page.click("button:has-text('Betrokkene 2 verwijderen')")

    # A failed submit: focus on the error summary, whose links follow the form's order and lead into the field.
    page.click("main button[value=afronden]:visible")
    summary = page.locator("#foutoverzicht")
    expect(summary).to_be_focused()
    positions = summary.locator("a").evaluate_all(
        """links => { const all = [...document.querySelectorAll('[data-schema-form] [id]')];
            return links.map(a => all.indexOf(document.getElementById(a.hash.slice(1)))); }"""
    )
    assert -1 not in positions and positions == sorted(positions), positions
    expect(page.locator("input[name='betrokkenen.0.naam']")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    summary.locator("a", has_text="Melder").click()
    expect(page.locator("select[name='melder.organisatie']")).to_be_focused()
    # The form with its errors fits a phone.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.set_viewport_size(DESKTOP)

    page.goto("/bestaat-niet")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)


def test_look__the_idle_warning_counts_minutes_and_says_when_it_expired(page: Page) -> None:
    sign_in(page, "demo.melder")
    answer = {"ingelogd": True, "resterend": 60}

    def session_state(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    page.clock.install()
    page.route("**/sessie", session_state)
    page.goto("/taken")
    warning = page.locator("#sessie-waarschuwing")
    page.clock.run_for(30_000)
    expect(warning).to_contain_text("over 1 minuut.")
    answer["resterend"] = 100
    page.clock.run_for(30_000)
    expect(warning).to_contain_text("over 2 minuten.")
    answer.update(ingelogd=False, resterend=0)
    page.clock.run_for(30_000)
    expect(warning).to_contain_text("verlopen")
    expect(warning.get_by_role("button", name="Blijf ingelogd")).to_be_hidden()


@pytest.fixture
def screener(page: Page) -> Iterator[Page]:
    """The screener's browser; the language choice is stored per user, so it is put back to Dutch afterwards."""
    sign_in(page, "demo.screener")
    yield page
    page.set_viewport_size(DESKTOP)
    page.goto("/taken")
    back = page.locator("header button[value=nl]")
    if back.count():
        back.click()
        expect(page.locator("html")).to_have_attribute("lang", "nl")


def test_look__inbox_task_and_case_in_dutch_and_english_on_desktop_and_phone(
    screener: Page, case_number: str, screenshots: Path
) -> None:
    page = screener
    page.set_viewport_size(DESKTOP)
    row = page.locator("tr", has_text=case_number)
    row.locator("button:has-text('Oppakken')").click()
    expect(page.get_by_role("status").first).to_contain_text("op uw naam")
    page.goto("/taken?tab=mine")
    page.locator("tr", has_text=case_number).locator(f"a:has-text('{case_number}')").click()
    page.wait_for_selector("#diagram[data-geladen=ja]")
    case_url = page.url

    # The diagram: a figure named by its caption; the drawing takes no focus; the zoom buttons zoom.
    figure = page.locator("figure.zvh-diagram")
    expect(figure).to_have_accessible_name(re.compile("huidige stap"))
    expect(page.locator("#diagram svg").first).to_have_attribute("tabindex", "-1")
    scale = "() => document.querySelector('#diagram .viewport').transform.baseVal.consolidate()?.matrix.a ?? 1"
    before = page.evaluate(scale)
    page.get_by_role("button", name="Inzoomen").click()
    page.wait_for_function(f"({scale})() > {before}")
    page.get_by_role("button", name="Passend maken").click()
    page.wait_for_function(f"({scale})() < {before}")

    outside: list[str] = []
    for language in ("nl", "en"):
        page.set_viewport_size(DESKTOP)
        page.goto("/taken?tab=mine")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_accessible(page)
        page.screenshot(path=str(screenshots / f"look-inbox-{language}.png"), full_page=True)

        page.locator("tr", has_text=case_number).locator("a").first.click()
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
        page.screenshot(path=str(screenshots / f"look-task-{language}.png"), full_page=True)

        page.goto(case_url)
        page.wait_for_selector("#diagram[data-geladen=ja]")
        assert_accessible(page)
        page.screenshot(path=str(screenshots / f"look-case-{language}.png"), full_page=True)

        # A phone: the header is one line until "Menu" opens it; nothing is wider than the screen.
        page.set_viewport_size(PHONE)
        page.reload()  # as a phone loads it: the diagram chooses its first view for this width
        page.wait_for_selector("#diagram[data-geladen=ja]")
        header = page.locator("header.zvh-header")
        menu = page.locator("header [data-menu-knop]")
        expect(menu).to_be_visible()
        expect(page.locator("header nav")).to_be_hidden()
        box = header.bounding_box()
        assert box and box["height"] <= 64
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
        page.screenshot(path=str(screenshots / f"look-phone-case-{language}.png"), full_page=True)
        menu.click()
        expect(page.locator("header nav")).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")

        page.goto("/taken?tab=mine")
        expect(page.locator("header nav")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The inbox as cards: the task, its case and its actions all within the screen's width.
        card = page.locator("tr", has_text=case_number)
        for control in card.locator("a, button").all():
            box = control.bounding_box()
            if not (box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]):
                outside.append(f"{language}: {control.inner_text()} at {box}")
        assert_accessible(page)
        page.screenshot(path=str(screenshots / f"look-phone-inbox-{language}.png"), full_page=True)

        if language == "nl":
            page.set_viewport_size(DESKTOP)
            page.click("header button[value=en]")
            expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not outside, f"inbox cards wider than a phone: {outside}"
