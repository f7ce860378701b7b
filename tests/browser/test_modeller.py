"""A process owner changes aanmelding_triage in the browser: a user task added in a lane, lint and validation,
a draft saved, compared, its impact shown, published with four eyes, and a running case migrated after a dry run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.models import Instance
from engine.users import get_user
from tests.browser.conftest import ClockedServer
from tests.browser.test_referral import sign_in, sign_out
from tests.processes.test_aanmelding_triage import AANMELDING


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url, "viewport": {"width": 1400, "height": 900}}


def start_referral(server: ClockedServer) -> tuple[int, int]:
    """A referral started the way the melder would; returns (instance id, its process version number)."""
    services = server.app.extensions["zvh"]
    with services.db.transaction() as session:
        outcome = services.runtime.start_instance(
            session, process_key="aanmelding_triage", actor=get_user(session, "demo.melder"), data=AANMELDING
        )
        return outcome.instance.id, outcome.instance.process_version.version


def version_of(server: ClockedServer, instance_id: int) -> int:
    with server.app.extensions["zvh"].db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        return instance.process_version.version


#: Where on the screen the middle of a sequence flow is drawn (to drop a new shape on it with the mouse).
FLOW_MIDPOINT = """(flowId) => {
  const modeler = document.getElementById("modeller").zvhModeller;
  const canvas = modeler.get("canvas");
  const [a, b] = modeler.get("elementRegistry").get(flowId).waypoints;
  const box = canvas.getContainer().getBoundingClientRect();
  const view = canvas.viewbox();
  return [box.left + ((a.x + b.x) / 2 - view.x) * view.scale, box.top + ((a.y + b.y) / 2 - view.y) * view.scale];
}"""


def replace_selected_with(page: Page, entry: str) -> None:
    """Change the selected element's kind with the wrench of its context pad."""
    # Playwright's synthetic drag start on this draggable pad entry swallows a plain click: send the click itself.
    page.locator(".djs-context-pad [data-action='replace']").dispatch_event("click")
    page.click(f".djs-popup [data-id='{entry}']")


def test_process_owner__changes_publishes_with_four_eyes_and_migrates(
    page: Page, clocked_server: ClockedServer, screenshots: Path
) -> None:
    older_case, older_version = start_referral(clocked_server)
    sign_in(page, "demo.procesbeheerder")

    # Four eyes for every change of this process, not only for code.
    page.click("nav >> text=Processen beheren")
    page.click("a:has-text('Aanmelding en triage')")
    page.select_option("#vier-ogen", value="always")
    page.click("form:has(#vier-ogen) button[type=submit]")
    expect(page.locator("#vier-ogen")).to_have_value("always")

    # Drop a task on the flow into the bekendheidscheck (the Screener lane) and make it, by mistake, a service task.
    page.click("a:has-text('Live versie openen in de modeller')")
    expect(page.locator("#modeller .djs-container")).to_be_visible()
    page.click(".djs-palette [data-action='create.task']")
    x, y = page.evaluate(FLOW_MIDPOINT, "Flow_volledig")
    page.mouse.move(x - 20, y)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    lint = page.locator(".bjsl-button")
    expect(lint).to_have_class(re.compile("bjsl-button-error"))  # an activity without a name
    expect(lint).to_contain_text("1 fout")
    replace_selected_with(page, "replace-with-service-task")

    # The server's deploy checks name the unsupported element and the alternative; fix it as told.
    page.click("#knop-valideren")
    expect(page.locator("#modeller-status")).to_contain_text("1 probleem gevonden")
    expect(page.locator("#modeller-problemen")).to_contain_text("use a user task")
    replace_selected_with(page, "replace-with-user-task")
    panel = page.locator("#modeller-eigenschappen")
    panel.locator(".bio-properties-panel-group-header", has_text="Algemeen").click()
    page.fill("#bio-properties-panel-name", "Extra veiligheidscheck")
    panel.locator(".bio-properties-panel-group-header", has_text="Formulier en instructies").click()
    page.locator("#bio-properties-panel-zvh-formulier").select_option("triage_bekendheid.json")
    page.click("#knop-valideren")
    expect(page.locator("#modeller-status")).to_contain_text("Geen problemen gevonden")
    page.screenshot(path=str(screenshots / "modeller.png"))

    page.click("#knop-opslaan")
    expect(page.locator("#modeller-status")).to_contain_text("Opgeslagen als concept")
    expect(page).to_have_url(re.compile(r"concept=\d+"))
    page.reload()
    expect(page.locator("#link-vergelijken")).to_be_visible()

    page.click("#link-vergelijken")
    expect(page.locator("main")).to_contain_text("Extra veiligheidscheck")
    expect(page.locator("#vergelijking[data-geladen=ja]")).to_have_attribute("data-verschillen", "3")
    page.screenshot(path=str(screenshots / "modeller-vergelijking.png"), full_page=True)
    page.go_back()
    page.click("#link-impact")
    expect(page.locator("main")).to_contain_text("Flow_volledig")  # now leads to the new task
    page.screenshot(path=str(screenshots / "modeller-impact.png"), full_page=True)
    page.go_back()

    # Publishing asks for a change note, then waits for a second process owner; the author cannot approve.
    page.click("#link-publiceren")
    page.fill("#toelichting", "Extra veiligheidscheck na de bekendheidscheck.")
    page.click("form:has(#toelichting) button[type=submit]")
    expect(page.locator("main")).to_contain_text("wacht op goedkeuring")
    expect(page.locator("#eigen-wijziging")).to_be_visible()
    publish_page = page.url
    sign_out(page)

    sign_in(page, "demo.procesbeheerder2")
    page.goto(publish_page)
    page.click("form:has(#opmerking) button[type=submit]")
    expect(page.get_by_role("status").first).to_contain_text("gepubliceerd als versie 2")

    # New cases start on version 2; the older one keeps version 1 until it is migrated.
    newer_case, newer_version = start_referral(clocked_server)
    assert (older_version, newer_version) == (1, 2)
    assert version_of(clocked_server, older_case) == 1

    page.goto("/beheer/processen/aanmelding_triage/migreren")
    page.check(f"#zaak-{older_case}")
    page.click("button[value=proefdraaien]")
    dry_run = page.locator(f"#migratie-uitkomst tr[data-zaak='{older_case}']")
    expect(dry_run).to_have_attribute("data-ok", "ja")
    expect(dry_run).to_contain_text("Task_volledigheid")
    assert version_of(clocked_server, older_case) == 1
    page.check(f"#zaak-{older_case}")
    page.click("button[value=migreren]")
    expect(page.locator(f"#migratie-uitkomst tr[data-zaak='{older_case}']")).to_have_attribute("data-ok", "ja")
    page.screenshot(path=str(screenshots / "modeller-migratie.png"), full_page=True)
    assert version_of(clocked_server, older_case) == 2
    assert version_of(clocked_server, newer_case) == 2
