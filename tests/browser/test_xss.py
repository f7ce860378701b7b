"""Injection and escaping in a real browser: script, attribute-breakout, `javascript:`, template and `</textarea>`
payloads in every kind of form field, in notes and reasons, in display names and in the names of a process and its
steps — on every page that shows them, no script runs and the payload reads as plain text.

The browser context bypasses the Content Security Policy on purpose: the CSP would stop inline scripts anyway, and
this test is about the first line of defence, escaping. Data is built through the engine in the in-process server
(`clocked_server`), except what a user can only do through a page (a select value outside its choices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from engine.access import add_participant, emergency_access, take_part
from engine.db import Database
from engine.inbox import list_tasks
from engine.models import DestructionList, User
from engine.monitor.actions import add_note, escalate
from engine.notifications.scan import scan_notifications
from engine.registry import deploy_file
from engine.runtime import Runtime
from engine.twofactor import enrol_now, next_unused_code, second_factor_required
from engine.users import create_user, get_user
from tests.browser.conftest import ROOT, ClockedServer
from tests.engine.bpmn import flow, process, write
from tests.engine.inzage_world import REQUEST, complete_step

#: What each payload tries: run a script, break out of an attribute, a textarea or a template, follow a link.
SCRIPT = "<script>window.__xss=1</script>"
ATTRIBUTE = '"><img src=x onerror=window.__xss=1>'
TEXTAREA = "</textarea><svg onload=window.__xss=1>"
TEMPLATE = "{{7*7}}"
LINK = "javascript:window.__xss=1"
PASSWORD = "xss-test-wachtwoord-731"
#: The person the case is about, and who asks to see their data (an inzageverzoek).
BSN = "999990019"


def payload(tag: str) -> str:
    """Every payload in one value, led by a tag that says where it was put (so a failure names the field)."""
    return f"{tag} {SCRIPT}{ATTRIBUTE}{TEXTAREA}{TEMPLATE} [klik]({LINK})"


FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "XSS-formulier",
    "type": "object",
    "properties": {
        "titel": {"type": "string", "title": "Titel", "maxLength": 190},
        "toelichting": {"type": "string", "title": "Toelichting", "maxLength": 2000},
        "keuze": {"type": "string", "title": "Keuze", "enum": ["rood", payload("KEUZE")]},
        "betrokkenen": {
            "type": "array",
            "title": "Betrokkenen",
            "items": {
                "type": "object",
                "properties": {
                    "bsn": {"type": "string", "title": "BSN"},
                    "naam": {"type": "string", "title": "Naam"},
                    "rol": {"type": "string", "title": "Rol"},
                },
            },
        },
        "personen": {
            "type": "array",
            "title": "Personen",
            "items": {"type": "object", "properties": {"naam": {"type": "string", "title": "Naam", "maxLength": 190}}},
        },
    },
}
UI = {"toelichting": {"ui:widget": "textarea"}}
PROPERTIES = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="formJsonSchemaFilename" value="xss.json"/>'
    '<spiffworkflow:property name="formUiSchemaFilename" value="xss.ui.json"/>{norm}'
    "</spiffworkflow:properties>{instructions}</bpmn:extensionElements>"
)
INSTRUCTIONS = "<spiffworkflow:instructionsForEndUser>{}</spiffworkflow:instructionsForEndUser>".format(
    escape("Titel: {{ titel }}. Toelichting: {{ toelichting }}. " + f"[Open]({LINK}) " + SCRIPT)
)
#: The first step's norm: the world lets it pass, so the monitor lists the case.
NORM = '<spiffworkflow:property name="norm" value="P1D"/>'
PROCESS_NAME = payload("PROCES")
TASK_NAME = payload("TAAK")
NEXT_NAME = payload("VOLGENDE")


def xss_process() -> str:
    body = (
        f'<bpmn:startEvent id="S">{PROPERTIES.format(norm="", instructions="")}</bpmn:startEvent>'
        + f'<bpmn:userTask id="T1" name={quoteattr(TASK_NAME)}>'
        + PROPERTIES.format(norm=NORM, instructions=INSTRUCTIONS)
        + "</bpmn:userTask>"
        + f'<bpmn:userTask id="T2" name={quoteattr(NEXT_NAME)}/>'
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E")
    )
    lanes = {"Melder": ["S"], "Screener": ["T1", "T2", "E"]}
    xml = process(body, process_id="xss_proces", name=escape(PROCESS_NAME, {'"': "&quot;"}), lanes=lanes)
    return xml.replace("</bpmn:definitions>", DIAGRAM + "</bpmn:definitions>").replace(
        "<bpmn:definitions ",
        '<bpmn:definitions xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" ',
    )


def _shape(element: str, x: int, width: int, height: int) -> str:
    return (
        f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
        f'<dc:Bounds x="{x}" y="{100 - height // 2}" width="{width}" height="{height}"/></bpmndi:BPMNShape>'
    )


def _edge(flow_id: str, start: int, end: int) -> str:
    return (
        f'<bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">'
        f'<di:waypoint x="{start}" y="100"/><di:waypoint x="{end}" y="100"/></bpmndi:BPMNEdge>'
    )


#: Where bpmn-js draws the steps (the labels of T1 and T2 carry the payloads).
DIAGRAM = (
    '<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="xss_proces">'
    + _shape("S", 100, 36, 36)
    + _shape("T1", 200, 160, 80)
    + _shape("T2", 420, 160, 80)
    + _shape("E", 640, 36, 36)
    + _edge("F1", 136, 200)
    + _edge("F2", 360, 420)
    + _edge("F3", 580, 640)
    + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
)


CASE_DATA = {
    "titel": payload("TITEL"),
    "toelichting": payload("TOELICHTING"),
    "keuze": payload("KEUZE"),
    "personen": [{"naam": payload("RIJ1")}, {"naam": payload("RIJ2")}],
    "betrokkenen": [{"bsn": BSN, "naam": payload("BETROKKENE"), "rol": "hoofdbetrokkene"}],
}
PEOPLE = {
    "xss.melder": ("melder", payload("MELDER")),
    "xss.screener": ("screener", payload("SCREENER")),
    "xss.coordinator": ("coordinator", payload("COORDINATOR")),
    "xss.manager2": ("manager", payload("NOODTOEGANG-DOOR")),  # opens the case by noodtoegang
    "xss.procesbeheer": ("procesbeheerder", payload("PROCESBEHEER")),
    "xss.fg": ("privacyfunctionaris", payload("FG")),
    "xss.regisseur": ("procesregisseur", payload("REGISSEUR")),
    "xss.beheerder": ("beheerder", payload("BEHEERDER")),
    "xss.manager": ("manager", payload("MANAGER")),
}
REASONS = {
    "participant": payload("DEELNAME-REDEN"),
    "reassign": payload("TOEWIJS-REDEN"),
    "note": payload("NOTITIE"),
    "noodtoegang": payload("NOOD-REDEN"),
    "escalation": payload("ESCALATIE-REDEN"),
    "destruction": payload("LIJST-TOELICHTING"),
    "review": payload("BEOORDELING"),
}


@dataclass
class XssWorld:
    server: ClockedServer
    instance_id: int
    case_number: str
    task_id: str
    escalation_task_id: str
    inzage_id: int
    destruction_list_id: int


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url, "bypass_csp": True}


@pytest.fixture(scope="module")
def world(clocked_server: ClockedServer, tmp_path_factory: pytest.TempPathFactory) -> XssWorld:
    """A process named with payloads, users named with payloads, a case full of them, reasons and a note."""
    folder = tmp_path_factory.mktemp("xss")
    write(folder, "xss.json", FORM)
    write(folder, "xss.ui.json", UI)
    services = clocked_server.app.extensions["zvh"]
    runtime, now = services.runtime, clocked_server.clock.now()
    with services.db.transaction() as session:
        deploy_file(session, write(folder, "xss.bpmn", xss_process()), actor="tests", search_paths=[ROOT / "forms"])
        for username, (role, name) in PEOPLE.items():
            user = create_user(session, username=username, display_name=name, roles=[role], password=PASSWORD)
            if second_factor_required(user):
                enrol_now(session, user=user, at=now)
    with services.db.transaction() as session:
        users = {username: get_user(session, username) for username in PEOPLE}
        started = runtime.start_instance(
            session, process_key="xss_proces", actor=users["xss.melder"], data=CASE_DATA
        ).instance
        instance_id, case_number = started.id, started.case_number
        task_id = list_tasks(session, instance_id=instance_id).tasks[0].id
        coordinator = users["xss.coordinator"]
        take_part(session, instance_id=instance_id, user_id=coordinator.id, reason="added", at=now)
        add_participant(
            session,
            instance_id=instance_id,
            actor=coordinator,
            user=users["xss.procesbeheer"],
            reason=REASONS["participant"],
            at=now,
        )
        runtime.reassign_task(
            session, task_id=task_id, actor=coordinator, assignee=users["xss.screener"], reason=REASONS["reassign"]
        )
        add_note(session, instance_id=instance_id, actor=coordinator, text=REASONS["note"], at=now)
        emergency_access(
            session, instance_id=instance_id, actor=users["xss.manager2"], reason=REASONS["noodtoegang"], at=now
        )
        escalation = escalate(
            session, runtime, instance_id=instance_id, actor=coordinator, reason=REASONS["escalation"], step="T1"
        )
        escalation_task_id = list_tasks(session, instance_id=escalation.id).tasks[0].id
        scan_notifications(session, now=now)
        listing = DestructionList(
            status="rejected",
            note=REASONS["destruction"],
            proposed_by_id=users["xss.manager"].id,
            proposed_at=now,
            reviewed_by_id=users["xss.fg"].id,
            reviewed_at=now,
            review_note=REASONS["review"],
        )
        session.add(listing)
        session.flush()
        destruction_list_id = listing.id
    inzage_id = inzage_request(services.db, runtime, users["xss.fg"])
    clocked_server.clock.advance(timedelta(days=3))
    return XssWorld(
        clocked_server, instance_id, case_number, task_id, escalation_task_id, inzage_id, destruction_list_id
    )


def inzage_request(db: Database, runtime: Runtime, fg: User) -> int:
    """An inzageverzoek of the case's person, with payloads in the requester's and the person's names."""
    with db.transaction() as session:
        deploy_file(session, ROOT / "processes" / "inzageverzoek.bpmn", actor="tests", search_paths=[ROOT / "forms"])
        data = {**REQUEST, "naam_betrokkene": payload("VERZOEK")}
        data["verzoeker"] = {**REQUEST["verzoeker"], "naam": payload("VERZOEKER")}
        request_id = runtime.start_instance(session, process_key="inzageverzoek", actor=fg, data=data).instance.id
    identity = {"id_geverifieerd": True, "wijze_verificatie": "id_bewijs_getoond_aan_balie"}
    complete_step(db, runtime, request_id, "Task_identiteit", fg, identity)
    complete_step(
        db, runtime, request_id, "Task_persoon", fg, {"naam_betrokkene": payload("VERZOEK"), "bsn_betrokkene": BSN}
    )
    return request_id


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Every dialog a page opens (alert, confirm, prompt): there must be none."""
    opened: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def sign_in(page: Page, world: XssWorld, username: str, *, next_url: str = "") -> None:
    """Sign in with the password, and with a code from the authenticator app where the role needs one."""
    page.goto(f"/inloggen?next={next_url}" if next_url else "/inloggen")
    page.fill("#gebruikersnaam", username)
    page.fill("#wachtwoord", PASSWORD)
    page.click("main button[type=submit]")
    if urlsplit(page.url).path == "/inloggen/code":
        services = world.server.app.extensions["zvh"]
        with services.db.transaction() as session:
            code = next_unused_code(session, user=get_user(session, username), at=world.server.clock.now())
        page.fill("#code", code)
        page.click("main button[type=submit]")
    expect(page).to_have_url("/taken")


def assert_inert(page: Page, *shown: str) -> None:
    """No payload ran or became markup on this page, and each of `shown` reads as plain text."""
    page.wait_for_load_state("networkidle")
    where = page.url
    assert page.evaluate("() => window.__xss") is None, f"a payload ran on {where}"
    assert page.locator("img[src=x], svg[onload], [onerror], [onload]").count() == 0, f"payload markup on {where}"
    scripts = page.evaluate("() => [...document.scripts].filter(s => s.textContent.includes('__xss')).length")
    assert scripts == 0, f"an injected <script> element on {where}"
    assert page.locator(f"a[href^='{LINK.split(':')[0]}:']").count() == 0, f"a javascript: link on {where}"
    text = page.locator("body").inner_text()
    for value in shown:
        assert value in text, f"{value[:40]!r}… is not shown as text on {where}"


def test_xss__the_assignee_sees_inbox_task_form_notifications_and_case_as_text(
    page: Page, world: XssWorld, dialogs: list[str]
) -> None:
    sign_in(page, world, "xss.screener")
    page.goto("/taken?tab=mine")
    assert_inert(page, TASK_NAME, PROCESS_NAME, world.case_number)

    page.goto(f"/taken/{world.task_id}")
    assert_inert(page, TASK_NAME, PROCESS_NAME)
    expect(page.locator("input[name=titel]")).to_have_value(CASE_DATA["titel"])
    expect(page.locator("textarea[name=toelichting]")).to_have_value(CASE_DATA["toelichting"])
    expect(page.locator("select[name=keuze]")).to_have_value(CASE_DATA["keuze"])
    expect(page.locator("input[name='personen.0.naam']")).to_have_value(CASE_DATA["personen"][0]["naam"])
    expect(page.locator("input[name='personen.1.naam']")).to_have_value(CASE_DATA["personen"][1]["naam"])
    instructions = page.locator("section[aria-label=Instructie]")
    # A placeholder's value stays text in the Markdown: no HTML, no link, not even emphasis.
    expect(instructions).to_contain_text(f"Titel: {CASE_DATA['titel']}. Toelichting: {CASE_DATA['toelichting']}.")
    expect(instructions).to_contain_text(f"[Open]({LINK}) {SCRIPT}")
    expect(instructions.locator("a, em, strong")).to_have_count(0)

    page.goto("/meldingen")
    assert_inert(page, TASK_NAME[:60])
    page.goto("/vervanging")
    assert_inert(page)
    page.goto("/account/sessies")
    assert_inert(page)

    page.goto(f"/zaken/{world.instance_id}")
    expect(page.locator("#diagram[data-geladen=ja]")).to_be_visible()
    assert_inert(page, PROCESS_NAME, TASK_NAME, CASE_DATA["titel"], PEOPLE["xss.screener"][1])
    labels = page.eval_on_selector_all("#diagram svg text", "texts => texts.map(text => text.textContent)")
    assert any("TAAK <script>" in label for label in labels), f"the diagram labels the step as text: {labels}"
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__typed_payloads_a_free_select_value_and_array_rows_are_kept_as_text(
    page: Page, world: XssWorld, dialogs: list[str]
) -> None:
    sign_in(page, world, "xss.screener")
    page.goto(f"/taken/{world.task_id}")
    typed = payload("GETYPT")
    page.fill("input[name=titel]", typed)
    page.fill("textarea[name=toelichting]", payload("GETYPT-LANG"))
    page.fill("input[name='personen.1.naam']", payload("GETYPTE-RIJ"))
    page.click("main button[value='toevoegen:personen']")
    assert_inert(page, TASK_NAME)
    expect(page.locator("input[name=titel]")).to_have_value(typed)
    expect(page.locator("textarea[name=toelichting]")).to_have_value(payload("GETYPT-LANG"))
    expect(page.locator("input[name='personen.1.naam']")).to_have_value(payload("GETYPTE-RIJ"))
    expect(page.locator("input[name='personen.2.naam']")).to_have_value("")

    # A value no option offers (made in the page, as a crafted request would send it) is refused by the server.
    free = payload("VRIJE-KEUZE")
    page.evaluate(
        """(value) => {
            const select = document.querySelector("select[name=keuze]");
            select.add(new Option(value, value));
            select.value = value;
        }""",
        free,
    )
    page.click("main button[value=afronden]:visible")
    expect(page.locator("#foutoverzicht")).to_be_visible()
    assert_inert(page, TASK_NAME)
    expect(page.locator("select[name=keuze] option[value='rood']")).to_have_count(1)
    assert page.url.endswith(f"/taken/{world.task_id}"), "refused: the form is shown again, nothing completed"

    page.click("main button[value=concept]:visible")
    expect(page.get_by_role("status").first).to_contain_text("Concept opgeslagen")
    assert_inert(page, TASK_NAME)
    expect(page.locator("input[name=titel]")).to_have_value(typed)
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__reasons_notes_and_display_names_on_the_case_page_and_the_monitor(
    page: Page, world: XssWorld, dialogs: list[str], screenshots: Path
) -> None:
    sign_in(page, world, "xss.coordinator")
    page.goto(f"/zaken/{world.instance_id}")
    expect(page.locator("#diagram[data-geladen=ja]")).to_be_visible()
    assert_inert(
        page,
        PROCESS_NAME,
        TASK_NAME,
        REASONS["participant"],
        REASONS["reassign"],
        REASONS["escalation"],
        PEOPLE["xss.procesbeheer"][1],
        PEOPLE["xss.coordinator"][1],
    )
    page.screenshot(path=str(screenshots / "xss-case.png"), full_page=True)

    page.goto("/bewaking")
    assert_inert(page, TASK_NAME, world.case_number)
    page.goto("/bewaking/processen/xss_proces/heatmap")
    expect(page.locator("#heatmap[data-geladen=ja]")).to_be_visible()
    assert_inert(page)
    page.goto("/bewaking/processen/xss_proces/stap/T1")
    assert_inert(page, world.case_number)
    page.goto("/bewaking/processen/xss_proces/doorstroom")
    assert_inert(page)
    page.goto("/taken?tab=team")
    assert_inert(page, TASK_NAME, PEOPLE["xss.screener"][1])
    page.goto("/vervanging")
    assert_inert(page)
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__the_starter_and_the_process_owner_see_process_and_step_names_as_text(
    page: Page, world: XssWorld, dialogs: list[str]
) -> None:
    sign_in(page, world, "xss.melder", next_url=LINK)
    assert_inert(page)
    page.goto("/starten")
    assert_inert(page, PROCESS_NAME)
    page.goto("/starten/xss_proces")
    assert_inert(page, PROCESS_NAME)
    page.goto("/zaken")
    assert_inert(page, world.case_number)
    page.click("header button:has-text('Uitloggen')")

    sign_in(page, world, "xss.procesbeheer")
    page.goto("/beheer/processen")
    assert_inert(page, PROCESS_NAME)
    page.goto("/beheer/processen/xss_proces")
    assert_inert(page)
    page.goto("/beheer/processen/xss_proces/modeller")
    expect(page.locator("[data-geladen=ja]").first).to_be_visible()
    assert_inert(page)
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__the_privacy_officer_reads_reasons_and_notes_in_the_log_as_text(
    page: Page, world: XssWorld, dialogs: list[str]
) -> None:
    sign_in(page, world, "xss.fg")
    page.goto("/privacy/noodtoegang")
    assert_inert(page, REASONS["noodtoegang"], PEOPLE["xss.manager2"][1])
    page.goto("/bewaartermijnen")
    assert_inert(page)
    page.goto("/vernietiging")
    assert_inert(page, PEOPLE["xss.manager"][1])
    page.goto(f"/vernietiging/{world.destruction_list_id}")
    assert_inert(page, REASONS["destruction"], REASONS["review"], PEOPLE["xss.fg"][1])
    page.goto(f"/inzage/verzoek/{world.inzage_id}")
    assert_inert(page, payload("VERZOEK"), payload("BETROKKENE"), CASE_DATA["titel"], PROCESS_NAME)
    for action, reason in (("note", "note"), ("participant", "participant"), ("reassign", "reassign")):
        page.goto(f"/privacy/logboek?gebeurtenis={action}")
        assert_inert(page, REASONS[reason])
    page.goto("/privacy/geweigerd")
    assert_inert(page)
    page.goto("/privacy/kwartalen")
    assert_inert(page)
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__the_procesregisseur_reads_an_escalation_reason_as_text(
    page: Page, world: XssWorld, dialogs: list[str]
) -> None:
    sign_in(page, world, "xss.regisseur")
    assert_inert(page, "Vastgelopen zaak vlottrekken")
    page.goto(f"/taken/{world.escalation_task_id}")
    instructions = page.locator("section[aria-label=Instructie]")
    expect(instructions).to_contain_text(REASONS["escalation"])
    assert_inert(page)
    page.goto("/meldingen")
    assert_inert(page)
    assert not dialogs, f"dialogs opened: {dialogs}"


def test_xss__query_parameters_a_failed_sign_in_and_the_user_agent_are_echoed_as_text(
    page: Page, world: XssWorld, dialogs: list[str], browser: Browser, clocked_server: ClockedServer
) -> None:
    reflected = quote(payload("URL"))
    page.goto("/inloggen")
    page.fill("#gebruikersnaam", ATTRIBUTE)
    page.fill("#wachtwoord", "niet-het-wachtwoord")
    page.click("main button[type=submit]")
    expect(page.locator("#gebruikersnaam")).to_have_value(ATTRIBUTE.lower())
    assert_inert(page)
    page.goto(f"/inloggen?next={reflected}")
    assert_inert(page)

    sign_in(page, world, "xss.coordinator")
    for path in (
        f"/taken?tab=team&process={reflected}&gemeente={reflected}&case_number={reflected}",
        f"/bewaking?proces={reflected}&stap={reflected}&gemeente={reflected}&rol={reflected}",
        f"/bewaking/processen/{reflected}/heatmap",
        f"/bewaking/processen/xss_proces/stap/{reflected}",
        f"/zaken/{world.instance_id}?{reflected}={reflected}",
        f"/starten/{reflected}",
    ):
        page.goto(path)
        assert_inert(page)

    context = browser.new_context(base_url=clocked_server.url, bypass_csp=True, user_agent=payload("BROWSER"))
    agent = context.new_page()
    sign_in(agent, world, "xss.coordinator")
    agent.goto("/account/sessies")
    assert_inert(agent, payload("BROWSER"))
    context.close()

    sign_in(page, world, "xss.beheerder")
    page.goto("/beheer/sessies")
    assert_inert(page, payload("BROWSER"), PEOPLE["xss.coordinator"][1])
    page.goto("/beheer/accounts")
    assert_inert(page, *(name for _role, name in PEOPLE.values()))
    page.goto("/account/tweestapsverificatie")
    assert_inert(page)
    assert not dialogs, f"dialogs opened: {dialogs}"
