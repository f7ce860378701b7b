"""The inzage pages: the package as preview, PDF and ZIP, the letters, and the FG-only, request-only access."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.users import create_user
from tests.engine.inzage_world import World, build_world, start_request
from tests.web.conftest import PASSWORD, login
from tests.web.helpers import open_task_id, page_token


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    services = app.extensions["zvh"]
    built = build_world(services.db, services.runtime, tmp_path)
    with services.db.transaction() as session:
        create_user(
            session,
            username="fien",
            display_name="Fien Functionaris",
            roles=["privacyfunctionaris"],
            organisation="zvh",
            password=PASSWORD,
        )
    return built


@pytest.fixture
def request_id(world: World) -> int:
    return start_request(world)


def _as(client: FlaskClient, username: str) -> FlaskClient:
    login(client, username)
    return client


def test_package_page__shows_the_package_and_the_search_step_to_the_fg(client: FlaskClient, request_id: int) -> None:
    page = _as(client, "fien").get(f"/inzage/verzoek/{request_id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Karel Testpersoon" in html and "Zoekresultaat vastleggen" in html
    assert "Politie" in html, "the partner to ask"


def test_package_pdf__is_a_pdf(client: FlaskClient, request_id: int) -> None:
    response = _as(client, "fien").get(f"/inzage/verzoek/{request_id}/pakket.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_package_zip__holds_the_pdf_the_data_and_the_access_log(client: FlaskClient, request_id: int) -> None:
    response = _as(client, "fien").get(f"/inzage/verzoek/{request_id}/pakket.zip")

    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["gegevens.json", "inzagepakket.pdf", "toegangslogging.csv"]
    assert archive.read("inzagepakket.pdf").startswith(b"%PDF")
    assert "Karel Testpersoon" in archive.read("gegevens.json").decode("utf-8")


@pytest.mark.parametrize("kind", ["toegewezen", "deels", "afgewezen", "verlenging"])
def test_letters__download_as_pdf(client: FlaskClient, request_id: int, kind: str) -> None:
    response = _as(client, "fien").get(f"/inzage/verzoek/{request_id}/brief/{kind}.pdf")

    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_letters__an_unknown_letter_is_not_found(client: FlaskClient, request_id: int) -> None:
    assert _as(client, "fien").get(f"/inzage/verzoek/{request_id}/brief/onzin.pdf").status_code == 404


@pytest.mark.parametrize("username", ["pim", "mariska"])
@pytest.mark.parametrize("suffix", ["", "/pakket.pdf", "/pakket.zip", "/brief/toegewezen.pdf"])
def test_pages__refused_to_anyone_but_the_fg(client: FlaskClient, request_id: int, username: str, suffix: str) -> None:
    assert _as(client, username).get(f"/inzage/verzoek/{request_id}{suffix}").status_code == 403


def test_pages__only_for_an_inzageverzoek(client: FlaskClient, world: World) -> None:
    assert _as(client, "fien").get(f"/inzage/verzoek/{world.main_case}").status_code == 404
    assert client.get("/inzage/verzoek/999999").status_code == 404


def test_pages__need_a_signed_in_user(client: FlaskClient, request_id: int) -> None:
    response = client.get(f"/inzage/verzoek/{request_id}")

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]


def test_search_and_redaction__are_completed_from_the_package_page_and_redaction_reaches_the_outputs(
    app: Flask, client: FlaskClient, world: World, request_id: int
) -> None:
    fg = _as(client, "fien")
    path = f"/inzage/verzoek/{request_id}"
    token = page_token(fg, path)
    assert fg.post(f"{path}/zoekresultaat", data={"csrf_token": token}).status_code == 302
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        task_id = open_task_id(app, request_id, "Task_standpunt")
        services.runtime.complete_task(
            session, task_id=task_id, actor=world.partner, data={"standpunt": {"oordeel": "geen_bezwaar"}}
        )

    page = fg.get(path).get_data(as_text=True)
    items = re.findall(r'name="onderdeel" value="([0-9a-f-]+)" id="onderdeel-\1"', page)
    piet = next(i for i in items if f"{world.main_case}-" in i and _describes(page, i, "Piet Systeemlid"))
    response = fg.post(
        f"{path}/afscherming",
        data={"csrf_token": token, "onderdeel": [piet], f"grond-{piet}": "rechten_van_anderen"},
    )

    assert response.status_code == 302
    preview = fg.get(path).get_data(as_text=True).split("Voorvertoning", 1)[1]
    assert "afgeschermd: rechten en vrijheden van anderen" in preview
    assert preview.count("Piet Systeemlid") == 1, "only in Piet's own case, where he is not withheld"
    data = zipfile.ZipFile(io.BytesIO(fg.get(f"{path}/pakket.zip").data)).read("gegevens.json").decode("utf-8")
    assert data.count("Piet Systeemlid") == 1


def _describes(page: str, item: str, text: str) -> bool:
    row = page.split(f'value="{item}"', 1)[1].split("</tr>", 1)[0]
    return text in row


def test_task_page__links_the_fg_to_the_package(app: Flask, client: FlaskClient, request_id: int) -> None:
    task_id = open_task_id(app, request_id, "Task_zoeken")

    page = _as(client, "fien").get(f"/taken/{task_id}").get_data(as_text=True)

    assert f'href="/inzage/verzoek/{request_id}"' in page
