"""The Bekendheidscheck page and a check task's panel: known or not and whom to contact, for the ZVH roles only;
each check logged with the asker and the reason; on completion the engine stores the answer itself."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import AuditEvent
from engine.privacy.bekendheid import ZVH
from engine.registry import deploy_file
from engine.users import get_user
from tests.engine.bpmn import flow, process, user_task, write
from tests.web.helpers import MELDING_DATA, open_task_id, page_token, start_melding

BSN = MELDING_DATA["betrokkenen"][0]["bsn"]
FORMS = Path(__file__).resolve().parents[2] / "forms"
CHECK_TASK = (
    '<bpmn:userTask id="Check" name="Bekendheid checken"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="formJsonSchemaFilename" value="bekend_check.json"/>'
    '<spiffworkflow:property name="bekendheidscheck" value="betrokkenen"/>'
    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
)
START_FORM = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="formJsonSchemaFilename" value="bekend_start.json"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)


def checks(app: Flask) -> list[AuditEvent]:
    with app.extensions["zvh"].db.reader() as session:
        query = select(AuditEvent).where(AuditEvent.object_type == "persoon").order_by(AuditEvent.id)
        return list(session.scalars(query))


def check_case(app: Flask, folder: Path) -> tuple[int, str]:
    """A case of a small process whose screener task checks the persons of the melding: its id and number."""
    write(
        folder,
        "bekend_start.json",
        {"type": "object", "properties": {"betrokkenen": {"$ref": "definities.json#/$defs/betrokkenen"}}},
    )
    write(folder, "bekend_check.json", {"type": "object", "properties": {"bekend_bij_partners": {"type": "string"}}})
    body = (
        f'<bpmn:startEvent id="S">{START_FORM}</bpmn:startEvent>'
        + CHECK_TASK
        + user_task("Afronden", "Afronden")
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "Check")
        + flow("F2", "Check", "Afronden")
        + flow("F3", "Afronden", "E")
    )
    xml = process(body, process_id="bekendcheck", lanes={"Melder": ["S"], "Screener": ["Check", "Afronden", "E"]})
    zvh = app.extensions["zvh"]
    with zvh.db.transaction() as session:
        deploy_file(session, write(folder, "bekendcheck.bpmn", xml), actor="tests", search_paths=[FORMS, folder])
        started = zvh.runtime.start_instance(
            session,
            process_key="bekendcheck",
            actor=get_user(session, "mila"),
            data={"betrokkenen": MELDING_DATA["betrokkenen"]},
        )
        return started.instance.id, started.instance.case_number


def test_bekendheid_page__answers_the_zvh_roles_and_logs_the_check(app: Flask, as_user) -> None:
    start_melding(app)  # Fenna is known: a melding waits in the screeners' queue
    client: FlaskClient = as_user("pim")
    page = client.get("/bekendheid")
    assert page.status_code == 200 and 'href="/bekendheid"' in page.get_data(as_text=True)
    token = page_token(client, "/bekendheid")

    known = client.post("/bekendheid", data={"csrf_token": token, "bsn": BSN, "reden": "Casus voorbereiden"})
    html = known.get_data(as_text=True)
    assert known.status_code == 200 and "Bekend bij het Zorg- en Veiligheidshuis." in html
    assert f"Screener ({ZVH})" in html and BSN not in html and "Fenna" not in html
    assert "Niet bekend" in client.post(
        "/bekendheid", data={"csrf_token": token, "bsn": "123456782", "reden": "Casus voorbereiden"}
    ).get_data(as_text=True)

    wrong = client.post("/bekendheid", data={"csrf_token": token, "bsn": "123456789", "naam": "Typ Fout", "reden": "X"})
    assert wrong.status_code == 422
    assert "voldoen aan de elfproef" in wrong.get_data(as_text=True)
    assert 'value="123456789"' in wrong.get_data(as_text=True) and 'value="Typ Fout"' in wrong.get_data(as_text=True)
    no_reason = client.post("/bekendheid", data={"csrf_token": token, "bsn": BSN})
    assert no_reason.status_code == 422
    assert client.post("/bekendheid", data={"bsn": BSN, "reden": "Zonder token"}).status_code == 400

    logged = checks(app)
    assert [(e.actor, e.action, e.details["known"]) for e in logged] == [
        ("pim", "bekendheidscheck", True),
        ("pim", "bekendheidscheck", False),
    ]
    assert logged[0].details["reason"] == "Casus voorbereiden" and logged[0].person_key not in (None, BSN)


def test_bekendheid_page__is_refused_to_partners_without_a_menu_link(app: Flask, as_user) -> None:
    client: FlaskClient = as_user("mila")
    assert 'href="/bekendheid"' not in client.get("/").get_data(as_text=True)
    assert client.get("/bekendheid").status_code == 403
    with app.extensions["zvh"].db.reader() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert [(e.actor, e.object_id) for e in refused] == [("mila", "bekendheid.index")]


def test_check_task__shows_the_answer_and_stores_it_on_completion_ignoring_posted_values(
    app: Flask, as_user, tmp_path: Path
) -> None:
    start_melding(app)
    instance_id, case_number = check_case(app, tmp_path)
    task_id = open_task_id(app, instance_id, "Check")
    client: FlaskClient = as_user("sven")

    page = client.get(f"/taken/{task_id}").get_data(as_text=True)
    panel = page[page.index('id="kop-bekendheid"') : page.index("</section>", page.index('id="kop-bekendheid"'))]
    assert "Fenna Fictief" in panel and "Bekend bij het Zorg- en Veiligheidshuis." in panel
    assert f"Screener ({ZVH})" in panel
    assert [(e.actor, e.details["reason"]) for e in checks(app)] == [
        ("sven", f"Bekendheidscheck Bekendheid checken {case_number}")
    ]

    token = page_token(client, f"/taken/{task_id}")
    posted = {"csrf_token": token, "_actie": "afronden", "bekend_bij_partners": "Nee", "bekend_bij_zvh": "false"}
    assert client.post(f"/taken/{task_id}", data=posted).status_code == 302
    zvh = app.extensions["zvh"]
    with zvh.db.reader() as session:
        data = zvh.runtime.load(session, instance_id).find_task(open_task_id(app, instance_id, "Afronden")).data
    assert data["bekend_bij_zvh"] is True
    assert data["bekendheid_contacten"] == [{"naam": "Screener", "organisatie": ZVH}]
    assert data["bekend_bij_partners"] == "Nee"
