"""Processen beheren: who reaches it, the modeller's calls, drafts, comparison, publishing with four eyes, import,
the form editor and migrating running cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.modelling.drafts import start_draft
from engine.models import Instance, ProcessDraft, ProcessVersion
from engine.registry import deploy_file
from engine.users import create_user
from tests.engine.bpmn import write
from tests.web.conftest import BEOORDELING, MELDING, PASSWORD, csrf_token, melding_process
from tests.web.helpers import start_melding, user

ROOT = Path(__file__).resolve().parents[2]
DATALEK = (ROOT / "processes" / "datalek.bpmn").read_text(encoding="utf-8")
MIWG = sorted((ROOT / "tests" / "fixtures" / "miwg").glob("*.bpmn"))


@pytest.fixture
def owners(app: Flask) -> None:
    """Two process owners (four eyes needs a second one) and the datalek process, version 1."""
    with app.extensions["zvh"].db.transaction() as session:
        for username, name in (("paul", "Paul Procesbeheer"), ("petra", "Petra Procesbeheer")):
            create_user(session, username=username, display_name=name, roles=["procesbeheerder"], password=PASSWORD)
        deploy_file(session, ROOT / "processes" / "datalek.bpmn", actor="tests", search_paths=[ROOT / "forms"])


@pytest.fixture
def draft_id(app: Flask, owners: None, clock) -> int:
    """Paul's draft of datalek, a copy of version 1."""
    with app.extensions["zvh"].db.transaction() as session:
        return start_draft(session, process_key="datalek", actor=user(app, "paul"), at=clock.now()).id


def token(client: FlaskClient) -> str:
    return csrf_token(client, "/beheer/processen")


def post_json(client: FlaskClient, path: str, body: dict[str, object]):
    return client.post(path, json=body, headers={"X-CSRFToken": token(client)})


def post_form(client: FlaskClient, path: str, data: dict[str, object]):
    return client.post(path, data={**data, "csrf_token": token(client)})


def save(client: FlaskClient, xml: str, draft: int | None = None, revision: int | None = None):
    return post_json(
        client, "/beheer/processen/datalek/concepten", {"xml": xml, "draft_id": draft, "revision": revision}
    )


def draft_row(app: Flask, draft: int) -> ProcessDraft:
    with app.extensions["zvh"].db.reader() as session:
        row = session.get(ProcessDraft, draft)
        assert row is not None
        _ = row.files
        return row


# --- who reaches it -----------------------------------------------------------------------------------------------

ROUTES = [
    ("get", "/beheer/processen"),
    ("get", "/beheer/processen/datalek"),
    ("get", "/beheer/processen/datalek/modeller"),
    ("get", "/beheer/processen/datalek/versies/1.bpmn"),
    ("get", "/beheer/concepten/{draft}.bpmn"),
    ("get", "/beheer/modeller-gegevens"),
    ("post", "/beheer/processen/datalek/valideren"),
    ("post", "/beheer/processen/datalek/concepten"),
    ("get", "/beheer/concepten/{draft}/vergelijken"),
    ("get", "/beheer/concepten/{draft}/vergelijken.json"),
    ("get", "/beheer/processen/datalek/vergelijken?links=1&rechts=1"),
    ("get", "/beheer/concepten/{draft}/impact"),
    ("get", "/beheer/concepten/{draft}/publiceren"),
    ("post", "/beheer/concepten/{draft}/publiceren"),
    ("post", "/beheer/concepten/{draft}/goedkeuren"),
    ("post", "/beheer/concepten/{draft}/afwijzen"),
    ("post", "/beheer/concepten/{draft}/verwijderen"),
    ("post", "/beheer/processen/datalek/vier-ogen"),
    ("post", "/beheer/importeren"),
    ("get", "/beheer/concepten/{draft}/formulieren/datalek_inperking.json"),
    ("post", "/beheer/concepten/{draft}/formulieren/datalek_inperking.json"),
    ("post", "/beheer/concepten/{draft}/formulieren/datalek_inperking.json/voorbeeld"),
    ("get", "/beheer/processen/datalek/migreren"),
    ("post", "/beheer/processen/datalek/migreren"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route__is_not_found_for_anyone_but_a_process_owner(
    app: Flask, as_user, draft_id: int, method: str, path: str
) -> None:
    client = as_user("mariska")
    url = path.format(draft=draft_id)
    json_call = url.endswith(("valideren", "concepten", "vergelijken.json", "gegevens"))
    headers = {"Accept": "application/json"} if json_call else {}  # as the modeller's own calls ask
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        data = {"csrf_token": token(client), "xml": DATALEK, "toelichting": "x"}
        response = client.post(url, data=data, headers=headers)

    assert response.status_code == 404
    if json_call:
        assert response.get_json()["error"] == "not_found"
    assert draft_row(app, draft_id).status == "draft"


def test_every_route__asks_a_visitor_to_sign_in(client: FlaskClient, owners: None) -> None:
    response = client.get("/beheer/processen/datalek/modeller")
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]


def test_menu__shows_processen_beheren_to_process_owners_only(as_user, owners: None) -> None:
    assert 'href="/beheer/processen"' not in as_user("sven").get("/taken").get_data(as_text=True)
    client = as_user("paul")
    assert 'href="/beheer/processen">Processen beheren</a>' in client.get("/taken").get_data(as_text=True)


# --- list, process page, modeller page, XML ----------------------------------------------------------------------


def test_list__shows_every_process_with_its_live_version_and_an_import_form(as_user, draft_id: int) -> None:
    page = as_user("paul").get("/beheer/processen").get_data(as_text=True)

    assert 'data-proces="datalek"' in page
    assert "Datalek en beveiligingsincident" in page
    assert 'accept=".bpmn,.xml"' in page
    assert 'enctype="multipart/form-data"' in page


def test_process_page__lists_history_and_open_drafts(as_user, draft_id: int) -> None:
    page = as_user("paul").get("/beheer/processen/datalek").get_data(as_text=True)

    assert 'data-versie="1"' in page
    assert f'data-concept="{draft_id}"' in page
    assert "Paul Procesbeheer" in page


def test_modeller__renders_the_data_attributes_the_bundle_reads(as_user, draft_id: int) -> None:
    client = as_user("paul")
    live = client.get("/beheer/processen/datalek/modeller").get_data(as_text=True)
    draft = client.get(f"/beheer/processen/datalek/modeller?concept={draft_id}").get_data(as_text=True)

    assert 'data-xml-url="/beheer/processen/datalek/versies/1.bpmn"' in live
    assert 'data-draft-id=""' in live
    for attribute in (
        f'data-xml-url="/beheer/concepten/{draft_id}.bpmn"',
        'data-save-url="/beheer/processen/datalek/concepten"',
        'data-validate-url="/beheer/processen/datalek/valideren"',
        f'data-compare-url="/beheer/concepten/{draft_id}/vergelijken.json"',
        f'data-draft-id="{draft_id}"',
        'data-revision="1"',
        'data-meta-url="/beheer/modeller-gegevens"',
        'data-process-key="datalek"',
    ):
        assert attribute in draft
    for element in ('id="modeller-eigenschappen"', 'id="modeller-problemen"', 'id="modeller-status" role="status"'):
        assert element in draft
    for button in ("knop-valideren", "knop-opslaan", "knop-afspelen"):
        assert f'id="{button}"' in draft
    assert '<script type="module" src="/static/build/modeller.js">' in draft
    assert 'href="/static/build/modeller.css"' in draft
    assert "<script>" not in draft  # no inline script: the CSP forbids it


def test_modeller__a_draft_of_another_process_is_not_found(as_user, draft_id: int) -> None:
    assert as_user("paul").get(f"/beheer/processen/melding/modeller?concept={draft_id}").status_code == 404


def test_download__gives_the_version_xml_as_an_attachment(as_user, draft_id: int) -> None:
    client = as_user("paul")
    response = client.get("/beheer/processen/datalek/versies/1.bpmn?download=1")

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert 'id="Task_inperken"' in response.get_data(as_text=True)
    assert client.get(f"/beheer/concepten/{draft_id}.bpmn").get_data(as_text=True).count("Task_inperken") > 1
    assert client.get("/beheer/processen/datalek/versies/9.bpmn").status_code == 404


def test_metadata__lists_roles_lanes_and_forms(as_user, owners: None) -> None:
    answer = as_user("paul").get("/beheer/modeller-gegevens").get_json()

    assert {"privacyfunctionaris", "procesbeheerder"} <= set(answer["roles"])
    assert answer["lanes"]["Privacyfunctionaris"] == "privacyfunctionaris"
    assert "datalek_inperking.json" in answer["forms"]
    assert not [name for name in answer["forms"] if name.endswith(".ui.json")]


# --- validating and saving ----------------------------------------------------------------------------------------


def test_validate__broken_xml_is_a_problem_not_a_server_error(as_user, owners: None) -> None:
    response = post_json(as_user("paul"), "/beheer/processen/datalek/valideren", {"xml": DATALEK[:500]})

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] is False
    assert answer["problems"]
    assert set(answer["problems"][0]) == {"element", "message", "file"}


def test_validate__a_missing_form_is_named_on_its_element(as_user, owners: None) -> None:
    xml = DATALEK.replace('value="datalek_inperking.json"', 'value="bestaat_niet.json"')

    answer = post_json(as_user("paul"), "/beheer/processen/datalek/valideren", {"xml": xml}).get_json()

    assert answer["ok"] is False
    assert any(p["element"] == "Task_inperken" and "bestaat_niet.json" in p["message"] for p in answer["problems"])


def test_validate__the_live_diagram_is_fine_and_stores_nothing(app: Flask, as_user, owners: None) -> None:
    answer = post_json(as_user("paul"), "/beheer/processen/datalek/valideren", {"xml": DATALEK}).get_json()

    assert answer == {"ok": True, "problems": []}
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(ProcessDraft).count() == 0


def test_validate__without_xml_is_a_json_error(as_user, owners: None) -> None:
    response = post_json(as_user("paul"), "/beheer/processen/datalek/valideren", {"diagram": 1})

    assert response.status_code == 422
    assert response.get_json()["error"] == "validation"


def test_save__starts_a_draft_then_refuses_a_stale_revision(app: Flask, as_user, owners: None) -> None:
    client = as_user("paul")
    first = save(client, DATALEK.replace("Incident inperken", "Incident direct inperken"))
    assert first.status_code == 200, first.get_data(as_text=True)
    saved = first.get_json()
    assert saved["saved_by"] == "Paul Procesbeheer"

    again = save(client, DATALEK, saved["draft_id"], saved["revision"])
    assert again.status_code == 200
    stale = save(client, DATALEK.replace("Incident inperken", "Iets anders"), saved["draft_id"], saved["revision"])

    assert stale.status_code == 409
    assert stale.get_json()["error"] == "conflict"
    assert "Paul Procesbeheer" in stale.get_json()["message"]
    assert stale.get_json()["compare_url"] == f"/beheer/concepten/{saved['draft_id']}/vergelijken"
    assert "Iets anders" not in draft_row(app, saved["draft_id"]).files["bpmn"]["datalek.bpmn"]


def test_save__malformed_xml_is_refused_as_json(as_user, draft_id: int) -> None:
    response = save(as_user("paul"), "<bpmn:definitions", draft_id, 1)

    assert response.status_code == 422
    assert response.get_json()["message"]


def test_save__a_draft_id_that_is_no_number_is_refused_as_json(as_user, draft_id: int) -> None:
    response = save(as_user("paul"), DATALEK, "1; drop table", 1)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert response.get_json()["error"] == "validation"


def test_json_calls__need_the_csrf_header(as_user, draft_id: int) -> None:
    response = as_user("paul").post("/beheer/processen/datalek/concepten", json={"xml": DATALEK})

    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"


def test_forms__need_the_csrf_token(app: Flask, as_user, draft_id: int) -> None:
    response = as_user("paul").post(f"/beheer/concepten/{draft_id}/verwijderen")

    assert response.status_code == 400
    assert draft_row(app, draft_id).status == "draft"


# --- comparing and impact ----------------------------------------------------------------------------------------


def test_compare__lists_a_renamed_task(as_user, draft_id: int) -> None:
    client = as_user("paul")
    assert (
        save(client, DATALEK.replace("Incident inperken", "Incident direct inperken"), draft_id, 1).status_code == 200
    )

    page = client.get(f"/beheer/concepten/{draft_id}/vergelijken").get_data(as_text=True)

    assert 'data-element="Task_inperken" data-change="changed"' in page
    assert "Incident direct inperken" in page
    assert f'data-new-url="/beheer/concepten/{draft_id}.bpmn"' in page
    assert 'data-old-url="/beheer/processen/datalek/versies/1.bpmn"' in page
    assert f'data-comparison-url="/beheer/concepten/{draft_id}/vergelijken.json"' in page
    assert "build/compare.js" in page
    answer = client.get(f"/beheer/concepten/{draft_id}/vergelijken.json").get_json()
    assert [c["element_id"] for c in answer["changed"]] == ["Task_inperken"]
    assert "Incident direct inperken" in answer["new_xml"]
    assert client.get(f"/beheer/concepten/{draft_id}/vergelijken", headers={"Accept": "application/json"}).get_json()[
        "changed"
    ]


def test_compare__two_versions_from_the_history(as_user, owners: None) -> None:
    page = as_user("paul").get("/beheer/processen/datalek/vergelijken?links=1&rechts=1").get_data(as_text=True)
    assert "Geen verschillen." in page


def test_impact__shows_a_table_per_changed_element(as_user, draft_id: int) -> None:
    client = as_user("paul")
    save(client, DATALEK.replace("Incident inperken", "Incident direct inperken"), draft_id, 1)

    page = client.get(f"/beheer/concepten/{draft_id}/impact").get_data(as_text=True)

    assert 'data-element="Task_inperken"' in page


# --- publishing ---------------------------------------------------------------------------------------------------


def test_publish__without_a_change_note_is_refused_and_nothing_changes(app: Flask, as_user, draft_id: int) -> None:
    response = post_form(as_user("paul"), f"/beheer/concepten/{draft_id}/publiceren", {"toelichting": "  "})

    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert draft_row(app, draft_id).status == "draft"
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(ProcessVersion).filter_by(process_key="datalek").count() == 1


def test_publish__a_rename_goes_live_as_the_next_version(app: Flask, as_user, draft_id: int) -> None:
    client = as_user("paul")
    save(client, DATALEK.replace("Incident inperken", "Incident direct inperken"), draft_id, 1)

    response = post_form(client, f"/beheer/concepten/{draft_id}/publiceren", {"toelichting": "Naam verduidelijkt"})

    assert response.status_code == 302
    assert "Gepubliceerd als versie 2." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_publish__four_eyes_the_author_cannot_approve_a_second_owner_can(app: Flask, as_user, draft_id: int) -> None:
    paul = as_user("paul")
    assert post_form(paul, "/beheer/processen/datalek/vier-ogen", {"vier_ogen": "always"}).status_code == 302
    save(paul, DATALEK.replace("Incident inperken", "Incident direct inperken"), draft_id, 1)

    submitted = post_form(paul, f"/beheer/concepten/{draft_id}/publiceren", {"toelichting": "Naam verduidelijkt"})
    page = paul.get(submitted.headers["Location"]).get_data(as_text=True)
    assert "wacht op goedkeuring door een tweede procesbeheerder" in page
    assert 'id="eigen-wijziging"' in page
    assert f'action="/beheer/concepten/{draft_id}/goedkeuren"' not in page
    assert post_form(paul, f"/beheer/concepten/{draft_id}/goedkeuren", {}).status_code == 403

    paul.post("/uitloggen", data={"csrf_token": token(paul)})
    petra = as_user("petra")
    assert f'action="/beheer/concepten/{draft_id}/goedkeuren"' in petra.get(
        f"/beheer/concepten/{draft_id}/publiceren"
    ).get_data(as_text=True)
    approved = post_form(petra, f"/beheer/concepten/{draft_id}/goedkeuren", {})

    assert approved.status_code == 302
    with app.extensions["zvh"].db.reader() as session:
        live = session.query(ProcessVersion).filter_by(process_key="datalek", version=2).one()
        assert (live.change_note, live.approved_by) == ("Naam verduidelijkt", "petra")


# --- import -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MIWG, ids=[p.name for p in MIWG])
def test_import__a_miwg_file_becomes_a_draft_or_a_clear_message(as_user, owners: None, path: Path) -> None:
    client = as_user("paul")
    response = post_form(client, "/beheer/importeren", {"bestand": (path.open("rb"), path.name)})

    assert response.status_code in (302, 422)
    if response.status_code == 302:
        found = re.search(r"/beheer/processen/[^/]+/modeller\?concept=(\d+)$", response.headers["Location"])
        assert found
        assert client.get(response.headers["Location"]).status_code == 200
        exported = client.get(f"/beheer/concepten/{found.group(1)}.bpmn?download=1").get_data(as_text=True)
        ids = re.compile(r'\bid="([^"]+)"')
        assert set(ids.findall(path.read_text(encoding="latin-1"))) <= set(ids.findall(exported))
    else:
        page = response.get_data(as_text=True)
        assert path.name in page
        assert "utrecht-form-field-error-message" in page


def test_import__not_xml_keeps_the_file_name_and_stores_nothing(app: Flask, as_user, owners: None, tmp_path) -> None:
    bad = tmp_path / "kapot.bpmn"
    bad.write_text("dit is geen xml")

    response = post_form(as_user("paul"), "/beheer/importeren", {"bestand": (bad.open("rb"), bad.name)})

    assert response.status_code == 422
    assert "kapot.bpmn" in response.get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        assert session.query(ProcessDraft).count() == 0


# --- form editor --------------------------------------------------------------------------------------------------


def form_path(draft: int) -> str:
    return f"/beheer/concepten/{draft}/formulieren/datalek_inperking.json"


def test_form_editor__shows_schema_ui_schema_and_a_live_preview(as_user, draft_id: int) -> None:
    page = as_user("paul").get(form_path(draft_id)).get_data(as_text=True)

    assert 'name="schema"' in page
    assert 'name="ui_schema"' in page
    assert 'name="testgegevens"' in page
    assert f'hx-post="{form_path(draft_id)}/voorbeeld"' in page
    assert 'hx-trigger="keyup changed delay:500ms, change"' in page
    assert "data-schema-form" in page  # the preview is the task page's renderer


def test_form_preview__renders_the_schema_and_validates_test_data(as_user, draft_id: int) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"postcode": {"type": "string", "title": "Postcode", "format": "postcode"}},
    }
    response = post_form(
        as_user("paul"),
        f"{form_path(draft_id)}/voorbeeld",
        {"schema": json.dumps(schema), "ui_schema": "{}", "testgegevens": '{"postcode": "12345"}'},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="postcode"' in page
    assert "Vul een postcode in als 1234 AB." in page
    assert 'hx-swap-oob="true"' in page


def test_form_preview__invalid_json_is_a_clear_message(as_user, draft_id: int) -> None:
    response = post_form(
        as_user("paul"), f"{form_path(draft_id)}/voorbeeld", {"schema": '{"type": ', "ui_schema": "{}"}
    )

    assert "Het JSON Schema is geen geldige JSON" in response.get_data(as_text=True)


def test_form_save__an_invalid_schema_is_shown_and_nothing_is_saved(app: Flask, as_user, draft_id: int) -> None:
    before = draft_row(app, draft_id)
    typed = '{"type": "object", "properties": {"x": {"type": "geen-type"}}}'

    response = post_form(
        as_user("paul"), form_path(draft_id), {"schema": typed, "ui_schema": "{}", "revision": before.revision}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Het formulier is niet opgeslagen." in page
    assert "geen-type" in page  # what was typed stays
    after = draft_row(app, draft_id)
    assert (after.revision, after.files["forms"]) == (before.revision, before.files["forms"])


def test_form_save__writes_the_schema_into_the_draft(app: Flask, as_user, draft_id: int) -> None:
    before = draft_row(app, draft_id)
    schema = json.loads(before.files["forms"]["datalek_inperking.json"])
    schema["title"] = "Inperken (nieuw)"

    response = post_form(
        as_user("paul"),
        form_path(draft_id),
        {"schema": json.dumps(schema), "ui_schema": "{}", "revision": before.revision},
    )

    assert response.status_code == 302
    after = draft_row(app, draft_id)
    assert json.loads(after.files["forms"]["datalek_inperking.json"])["title"] == "Inperken (nieuw)"
    assert after.revision == before.revision + 1


# --- migration ----------------------------------------------------------------------------------------------------


@pytest.fixture
def older_case(app: Flask, owners: None, tmp_path: Path) -> int:
    """A melding case waiting at Beoordelen on version 1, and a version 2 of melding."""
    instance_id = start_melding(app)
    write(tmp_path, "melding.json", MELDING)
    write(tmp_path, "beoordeling.json", BEOORDELING)
    xml = melding_process().replace("Voer de aanpak uit", "Voer het plan van aanpak uit")
    with app.extensions["zvh"].db.transaction() as session:
        deploy_file(session, write(tmp_path, "melding.bpmn", xml), actor="tests", search_paths=[ROOT / "forms"])
    return instance_id


def test_migration__lists_older_cases_with_their_step(as_user, older_case: int) -> None:
    page = as_user("paul").get("/beheer/processen/melding/migreren").get_data(as_text=True)

    assert f'name="zaak" value="{older_case}"' in page
    assert "Beoordeel de melding" in page
    assert '<option value="Beoordelen"' in page


def test_migration__dry_run_says_where_it_waits_and_changes_nothing(app: Flask, as_user, older_case: int) -> None:
    response = post_form(
        as_user("paul"),
        "/beheer/processen/melding/migreren",
        {"doel": 2, "zaak": str(older_case), "_actie": "proefdraaien"},
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'data-zaak="{older_case}" data-ok="ja"' in page
    assert "Kan worden gemigreerd" in page
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(ProcessVersion, _version_id(app, older_case)).version == 1


def test_migration__migrates_only_the_selected_case(app: Flask, as_user, older_case: int) -> None:
    other = start_melding(app)  # started on version 2 already
    response = post_form(
        as_user("paul"),
        "/beheer/processen/melding/migreren",
        {"doel": 2, "bij": "Beoordelen", "_actie": "migreren"},
    )

    assert response.status_code == 200
    assert "Gemigreerd" in response.get_data(as_text=True)
    with app.extensions["zvh"].db.reader() as session:
        assert session.get_one(ProcessVersion, _version_id(app, older_case)).version == 2
    assert f'data-zaak="{other}"' not in response.get_data(as_text=True)


def test_migration__without_a_selection_says_so(as_user, older_case: int) -> None:
    response = post_form(as_user("paul"), "/beheer/processen/melding/migreren", {"doel": 2, "_actie": "proefdraaien"})

    assert response.status_code == 422
    assert "Kies een doelversie en ten minste één zaak." in response.get_data(as_text=True)


def _version_id(app: Flask, instance_id: int) -> int:
    with app.extensions["zvh"].db.reader() as session:
        return session.get_one(Instance, instance_id).process_version_id
