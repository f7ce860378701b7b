"""Fixtures for the web tests: an app on a SQLite copy with small test processes and one user per role."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FixedClock
from engine.db import Database
from engine.migrate import upgrade_to_head
from engine.registry import deploy_file
from engine.twofactor import code_at, enrol_now, second_factor_required, stored_secret
from engine.users import create_user, get_user
from tests.conftest import START
from tests.engine.bpmn import flow, process, user_task, write
from web import create_app

PASSWORD = "test-wachtwoord-123"
USERS = {
    "mila": ("Mila Melder", ["melder"]),
    "sven": ("Sven Screener", ["screener"]),
    "sanne": ("Sanne Screener", ["screener"]),
    "coen": ("Coen Coördinator", ["coordinator"]),
    "mariska": ("Mariska Manager", ["manager"]),
    "otto": ("Otto Buitenstaander", ["gemeente"]),
    "pim": ("Pim Regisseur", ["procesregisseur"]),
}
#: Who works where: Otto works for Zundert, the melding cases are Breda's.
ORGANISATIONS = {"mila": ("politie", ()), "otto": ("gemeente", ("zundert",))}

MELDING = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Melding",
    "type": "object",
    "properties": {
        "gemeente": {"$ref": "definities.json#/$defs/gemeente"},
        "betrokkenen": {"$ref": "definities.json#/$defs/betrokkenen"},
        "aanleiding": {"type": "string", "title": "Aanleiding", "minLength": 5, "maxLength": 2000},
    },
    "required": ["gemeente", "betrokkenen", "aanleiding"],
}
BEOORDELING = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Beoordeling",
    "type": "object",
    "properties": {
        "besluit": {"type": "string", "title": "Besluit", "enum": ["oppakken", "afwijzen"]},
        "toelichting": {"type": "string", "title": "Toelichting", "maxLength": 500},
        "casusnummer": {"type": "string", "title": "Casusnummer", "readOnly": True},
    },
    "required": ["besluit"],
    "if": {"properties": {"besluit": {"const": "afwijzen"}}, "required": ["besluit"]},
    "then": {"required": ["toelichting"]},
}
START_FORM = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="formJsonSchemaFilename" value="melding.json"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)


def melding_process() -> str:
    body = (
        f'<bpmn:startEvent id="S">{START_FORM}</bpmn:startEvent>'
        + user_task("Beoordelen", "Beoordeel de melding", "beoordeling").replace(
            "</spiffworkflow:properties>",
            "</spiffworkflow:properties><spiffworkflow:instructionsForEndUser>"
            "Beoordeel casus **{{ casusnummer }}**. &lt;script&gt;alert(1)&lt;/script&gt;"
            "</spiffworkflow:instructionsForEndUser>",
        )
        + '<bpmn:exclusiveGateway id="G" default="Nee"/>'
        + user_task("Uitvoeren", "Voer de aanpak uit")
        + user_task("Afronden", "Rond de melding af")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "Beoordelen")
        + flow("F2", "Beoordelen", "G")
        + flow("Ja", "G", "Uitvoeren", 'besluit == "oppakken"')
        + flow("Nee", "G", "E2")
        + flow("F3", "Uitvoeren", "Afronden")
        + flow("F4", "Afronden", "E1")
    )
    lanes = {"Melder": ["S"], "Screener": ["Beoordelen", "G", "Uitvoeren", "Afronden", "E1", "E2"]}
    return process(body, process_id="melding", name="Melding", lanes=lanes)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The English catalogue compiled from its .po file (make setup does this too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[2] / "web" / "translations" / "en" / "LC_MESSAGES"
    partial = folder / f"messages.mo.{os.getpid()}"
    with (folder / "messages.po").open("rb") as po, partial.open("wb") as mo:
        write_mo(mo, read_po(po))
    partial.replace(folder / "messages.mo")  # atomic: parallel test runs never read half a file


def seed_web_database(url: str, folder: Path) -> None:
    """Into a migrated database: the test process `melding` and the users above (2FA set up where required)."""
    forms = Path(__file__).resolve().parents[2] / "forms"
    write(folder, "melding.json", MELDING)
    write(folder, "beoordeling.json", BEOORDELING)
    database = Database(url)
    with database.transaction() as session:
        deploy_file(session, write(folder, "melding.bpmn", melding_process()), actor="tests", search_paths=[forms])
        for username, (name, roles) in USERS.items():
            organisation, gemeenten = ORGANISATIONS.get(username, ("zvh", ()))
            user = create_user(
                session,
                username=username,
                display_name=name,
                roles=roles,
                password=PASSWORD,
                organisation=organisation,
                gemeenten=gemeenten,
            )
            if second_factor_required(user):
                enrol_now(session, user=user, at=START)
    database.dispose()


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web")
    path = folder / "zvh.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    seed_web_database(f"sqlite:///{path}", folder)
    return path


@pytest.fixture
def app(web_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    path = tmp_path / "zvh.sqlite3"
    shutil.copyfile(web_template, path)
    application = create_app(
        {"ZVH_DATABASE_URL": f"sqlite:///{path}", "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "test-secret"}
    )
    yield application
    application.extensions["zvh"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/inloggen") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    """Sign in as a person would, with the code from their authenticator app where their role needs one (a user
    without an app yet sets one up from the secret the page shows)."""
    token = csrf_token(client)
    response = client.post("/inloggen", data={"gebruikersnaam": username, "wachtwoord": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if response.headers["Location"] == "/inloggen/code":
        data = {"code": current_code(client, username), "csrf_token": csrf_token(client, "/inloggen/code")}
        response = client.post("/inloggen/code", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    elif response.headers["Location"] == "/account/tweestapsverificatie/instellen":
        enrol(client)


def current_code(client: FlaskClient, username: str) -> str:
    """The user's code at the app's clock. Tests sign the same person in many times without moving the clock;
    the replay protection (tests/web/test_twofactor.py) would refuse a code of a step used before, so it is reset."""
    app = client.application
    with app.extensions["zvh"].db.transaction() as session:
        user = get_user(session, username)
        user.totp_last_step = None
        return code_at(stored_secret(session, user), app.extensions["zvh"].runtime.clock.now())


def enrol(client: FlaskClient) -> list[str]:
    """Set up the authenticator app from the secret on the enrolment page; returns the recovery codes."""
    path = "/account/tweestapsverificatie/instellen"
    page = client.get(path).get_data(as_text=True)
    secret = re.search(r'data-geheim="([A-Z2-7]+)"', page)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert secret and token, page[:500]
    code = code_at(secret.group(1), client.application.extensions["zvh"].runtime.clock.now())
    response = client.post(path, data={"code": code, "csrf_token": token.group(1)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))


@pytest.fixture
def as_user(client: FlaskClient):
    def sign_in(username: str) -> FlaskClient:
        login(client, username)
        return client

    return sign_in
