"""Field classes and vertrouwelijkheid on the pages and in the API: "afgeschermd", never the value."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.registry import deploy_file
from tests.engine.bpmn import flow, process, user_task, write
from tests.web.conftest import login
from tests.web.helpers import lock_version, open_task_id, page_token, user
from tests.web.test_api import Api

DELICT = "Woninginbraak met geweld (2024)"
START_FORM = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="formJsonSchemaFilename" value="aanmelding.json"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)
AANMELDING = {
    "type": "object",
    "properties": {
        "gemeente": {"type": "string", "title": "Gemeente"},
        "vertrouwelijkheid": {"type": "string", "title": "Vertrouwelijkheid"},
        "delict": {"type": "string", "title": "Delict", "x-zvh-visibility": "justitieel"},
    },
    "required": ["gemeente", "delict"],
}
WOONPLEK = {
    "type": "object",
    "properties": {
        "delict": {"type": "string", "title": "Delict", "readOnly": True, "x-zvh-visibility": "justitieel"},
        "woonplek": {"type": "string", "title": "Woonplek"},
    },
    "required": ["woonplek"],
}


@pytest.fixture
def released(app: Flask, tmp_path: Path) -> str:
    """The melder registers a release (with the offence) → the case's gemeente arranges housing → the melder hears."""
    write(tmp_path, "aanmelding.json", AANMELDING)
    write(tmp_path, "woonplek.json", WOONPLEK)
    body = (
        f'<bpmn:startEvent id="S">{START_FORM}</bpmn:startEvent>'
        + user_task("Woonplek", "Woonplek regelen", "woonplek")
        + user_task("Terugkoppeling", "Terugkoppeling lezen", "woonplek")
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "Woonplek")
        + flow("F2", "Woonplek", "Terugkoppeling")
        + flow("F3", "Terugkoppeling", "E")
    )
    lanes = {"Melder": ["S", "Terugkoppeling", "E"], "Gemeente": ["Woonplek"]}
    xml = process(body, process_id="vrijlating", name="Vrijlating", lanes=lanes)
    with app.extensions["zvh"].db.transaction() as session:
        deploy_file(session, write(tmp_path, "vrijlating.bpmn", xml), actor="tests", search_paths=[])
    return "vrijlating"


def _start(app: Flask, vertrouwelijkheid: str = "vertrouwelijk") -> int:
    services = app.extensions["zvh"]
    data = {"gemeente": "Zundert", "vertrouwelijkheid": vertrouwelijkheid, "delict": DELICT}
    with services.db.transaction() as session:
        outcome = services.runtime.start_instance(session, process_key="vrijlating", actor=user(app, "mila"), data=data)
        return int(outcome.instance.id)


def _complete_as_otto(client: FlaskClient, task_id: str, extra: dict[str, str]) -> None:
    path = f"/taken/{task_id}"
    page = client.get(path).get_data(as_text=True)
    form = {"csrf_token": page_token(client, path), "_lock_version": lock_version(page), "_actie": "afronden"}
    response = client.post(path, data={**form, "woonplek": "Pension De Haven", **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_task_page__shows_a_justice_field_as_afgeschermd_to_the_gemeente(
    app: Flask, client: FlaskClient, released: str
) -> None:
    instance_id = _start(app)
    login(client, "otto")

    response = client.get(f"/taken/{open_task_id(app, instance_id, 'Woonplek')}")

    assert response.status_code == 200
    assert DELICT.encode() not in response.data
    html = response.get_data(as_text=True)
    assert 'class="zvh-afgeschermd"' in html and "afgeschermd" in html
    assert 'name="delict"' not in html  # shown read-only: nothing to post back


def test_case_page__gemeente_sees_afgeschermd_and_politie_the_value(
    app: Flask, client: FlaskClient, released: str
) -> None:
    instance_id = _start(app)
    login(client, "otto")
    _complete_as_otto(client, open_task_id(app, instance_id, "Woonplek"), {})

    gemeente_page = client.get(f"/zaken/{instance_id}")
    assert gemeente_page.status_code == 200
    assert DELICT.encode() not in gemeente_page.data
    assert b"zvh-afgeschermd" in gemeente_page.data
    assert b"Pension De Haven" in gemeente_page.data  # what is not classified shows as before

    politie = app.test_client()
    login(politie, "mila")
    politie_page = politie.get(f"/zaken/{instance_id}")
    assert politie_page.status_code == 200
    assert DELICT.encode() in politie_page.data
    assert b"zvh-afgeschermd" not in politie_page.data


def test_api__task_data_redacted_for_the_gemeente_and_plain_for_politie(
    app: Flask, client: FlaskClient, released: str
) -> None:
    api = Api(app, client)
    instance_id = _start(app)
    woonplek = open_task_id(app, instance_id, "Woonplek")

    response = api.get(f"/tasks/{woonplek}", as_="otto")
    assert response.status_code == 200
    assert response.get_json()["data"] == {"delict": "afgeschermd"}
    assert DELICT.encode() not in response.data

    sent_back = {"data": {**response.get_json()["data"], "woonplek": "Pension De Haven"}}
    assert api.post(f"/tasks/{woonplek}/complete", as_="otto", json=sent_back).status_code == 200

    terugkoppeling = api.get(f"/tasks/{open_task_id(app, instance_id, 'Terugkoppeling')}", as_="mila")
    assert terugkoppeling.get_json()["data"] == {"delict": DELICT, "woonplek": "Pension De Haven"}


def test_submit__keeps_the_value_behind_afgeschermd(app: Flask, client: FlaskClient, released: str) -> None:
    instance_id = _start(app)
    login(client, "otto")

    _complete_as_otto(client, open_task_id(app, instance_id, "Woonplek"), {"delict": "afgeschermd"})

    services = app.extensions["zvh"]
    with services.db.reader() as session:
        loaded = services.runtime.load(session, instance_id)
        task = loaded.find_task(open_task_id(app, instance_id, "Terugkoppeling"))
        assert task is not None
        assert task.data["delict"] == DELICT
        assert task.data["woonplek"] == "Pension De Haven"


def test_geheim__the_gemeente_queue_does_not_see_the_case_or_its_task(
    app: Flask, client: FlaskClient, released: str
) -> None:
    api = Api(app, client)
    instance_id = _start(app, "geheim")
    task_id = open_task_id(app, instance_id, "Woonplek")

    assert api.get(f"/tasks/{task_id}", as_="otto").status_code == 404
    assert api.get(f"/instances/{instance_id}", as_="otto").status_code == 404
    assert api.get(f"/instances/{instance_id}", as_="mila").status_code == 200
    login(client, "otto")
    assert client.get(f"/taken/{task_id}").status_code == 404
    assert client.get(f"/zaken/{instance_id}").status_code == 404
