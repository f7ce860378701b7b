"""Rapportages: the managers' report pages with their charts, the prognoses form and the downloads — on SQLite and
on PostgreSQL. The figures are `report_facts` rows put in the database the way the engine records them."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from engine.clock import FixedClock
from engine.models import AuditEvent, ReportFact, ReportPrognosis
from engine.monitor.charts import Series, line_chart
from engine.monitor.norms import LOCAL
from tests.conftest import START
from tests.web.conftest import login, seed_web_database
from tests.web.helpers import open_task_id, page_token, start_melding
from web import create_app

PAGES = [
    "/rapportages",
    "/rapportages/meldingen",
    "/rapportages/casussen",
    "/rapportages/activiteiten",
    "/rapportages/prognoses",
    "/rapportages/doorlooptijden",
    "/rapportages/kengetallen",
]
DOWNLOADS = [
    "/rapportages/meldingen.csv",
    "/rapportages/casussen.xlsx",
    "/rapportages/activiteiten.csv",
    "/rapportages/doorlooptijden.xlsx",
    "/rapportages/kengetallen.csv",
    "/rapportages/kengetallen.json",
]
#: (kengetal, gemeente, jaar, uitsplitsing, how many)
FACTS = [
    ("melding", "breda", 2020, None, 3),
    ("melding", "breda", 2021, None, 6),
    ("melding", "zundert", 2021, None, 2),
    ("melding", "overig", 2021, None, 1),
    ("casus", "breda", 2021, None, 5),
    ("weegploeg_triage", None, 2021, None, 2),
    ("reintegratie", None, 2021, None, 7),
    ("datalek", None, 2021, "beveiligingsincident", 2),
    ("datalek", None, 2021, "datalek_niet_meldplichtig", 3),
]
PERIOD = "van=2020&tot=2021"
#: Checks of input, rendering and refusals do not depend on the database; the figures are checked on both.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The web tests' app and users (tests/web/conftest.py), on a fresh SQLite or PostgreSQL database."""
    seed_web_database(database_url, tmp_path)
    application = create_app(
        {"ZVH_DATABASE_URL": database_url, "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "test-secret"}
    )
    yield application
    application.extensions["zvh"].db.dispose()


def add_facts(app: Flask, facts: list[tuple[str, str | None, int, str | None, int]] = FACTS) -> None:
    """Count facts as the engine does; a case counts each kengetal once, so the n-th fact of a kengetal is case n's."""
    per_kengetal: dict[str, int] = defaultdict(int)
    rows = []
    for kengetal, gemeente, jaar, split, count in facts:
        for _ in range(count):
            rows.append((per_kengetal[kengetal], kengetal, gemeente, jaar, split))
            per_kengetal[kengetal] += 1
    cases = [start_melding(app) for _ in range(max(per_kengetal.values()))]
    with app.extensions["zvh"].db.transaction() as session:
        for case, kengetal, gemeente, jaar, split in rows:
            moment = datetime(jaar, 2, 1, 12, tzinfo=LOCAL)
            session.add(
                ReportFact(
                    instance_id=cases[case],
                    process_key="melding",
                    kengetal=kengetal,
                    uitsplitsing=split,
                    gemeente=gemeente,
                    occurred_at=moment,
                    jaar=jaar,
                    kwartaal=1,
                )
            )


def row_cells(page: str, key: str) -> list[str]:
    """The texts of a report table row (`data-rij` is the row's key), label excluded."""
    row = re.search(rf'<tr class="[^"]*" data-rij="{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert row, f"no row {key}"
    return [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def assert_chart(page: str, chart_id: str, table_id: str) -> None:
    svg = re.search(rf'<svg [^>]*id="{chart_id}"[^>]*>', page)
    assert svg, chart_id
    assert 'role="img"' in svg.group(0) and f'aria-describedby="{table_id}"' in svg.group(0)
    assert f'<title id="{chart_id}-titel">' in page and f'id="{table_id}"' in page


# --- the pages ---------------------------------------------------------------------------------------------------


def test_meldingen__table_definition_and_two_charts(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    response = client.get(f"/rapportages/meldingen?{PERIOD}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert row_cells(page, "breda") == ["3", "6"]
    assert row_cells(page, "zundert") == ["0", "2"]
    assert row_cells(page, "alphen-chaam") == ["0", "0"]
    assert row_cells(page, "totaal") == ["3", "9"]
    assert 'class="utrecht-table__row zvh-report-total" data-rij="totaal"' in page, "the total row is bold"
    assert len(re.findall(r'data-rij="[^"/]+"', page)) == 11, "nine gemeenten, Overig and the total"
    assert "ter triage is aangeboden" in page and "totaal 2021: 122" in page, "the definition and the seed note"
    assert_chart(page, "grafiek-gemeenten", "rapport-tabel")
    assert_chart(page, "grafiek-totaal", "rapport-tabel")
    assert "<title>Breda – 2021: 6</title>" in page
    assert "<title>2021 – Totaal: 9</title>" in page, "the line chart's point"
    assert "legenda-onderdrukt" not in page, "nothing suppressed: no legend"
    assert 'href="/rapportages/meldingen.csv?van=2020&amp;tot=2021"' in page


@SQLITE_ONLY
def test_meldingen__suppressed_small_cells_with_legend_and_hidden_in_the_chart(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    page = client.get(f"/rapportages/meldingen?{PERIOD}&onderdrukken=1").get_data(as_text=True)

    assert row_cells(page, "breda") == ["&lt;5", "6"]
    assert row_cells(page, "zundert") == ["0", "&lt;5"]
    assert row_cells(page, "totaal") == ["&lt;5", "9"]
    assert 'id="legenda-onderdrukt"' in page and "&lt;5 is een aantal van 1 tot en met 4" in page
    assert "<title>Zundert – 2021: 0</title>" in page, "a chart never shows a suppressed figure"
    assert 'name="onderdrukken" value="1" checked' in page
    assert "onderdrukken=1" in re.search(r'href="(/rapportages/meldingen\.csv[^"]*)"', page).group(1)


@SQLITE_ONLY
def test_casussen__bars_limited_to_the_last_four_years(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    page = client.get("/rapportages/casussen?van=2016&tot=2021").get_data(as_text=True)

    assert row_cells(page, "breda") == ["0", "0", "0", "0", "0", "5"]
    assert "De staafgrafiek toont de laatste 4 jaren" in page
    bars = re.search(r'<svg [^>]*id="grafiek-gemeenten".*?</svg>', page, re.S).group(0)
    legend = re.findall(r'class="zvh-chart__legend"[^>]*>(\d{4})<', bars)
    assert legend == ["2018", "2019", "2020", "2021"]


@SQLITE_ONLY
def test_overview__period_chooser_defaults_to_six_years_ending_this_year(app: Flask, as_user) -> None:
    client = as_user("mariska")

    page = client.get("/rapportages").get_data(as_text=True)

    assert 'name="van" value="2021"' in page and 'name="tot" value="2026"' in page
    assert "kleine aantallen onderdrukken (delen buiten het ZVH)" in page
    for path in ("meldingen", "casussen", "activiteiten", "doorlooptijden", "kengetallen", "prognoses"):
        assert f'href="/rapportages/{path}?' in page, path
    assert '<a class="utrecht-link" href="/rapportages">Rapportages</a>' in page, "the main menu links here"


def test_activiteiten__prognosis_result_difference_and_the_period(app: Flask, as_user) -> None:
    add_facts(app)
    with app.extensions["zvh"].db.transaction() as session:
        session.add(ReportPrognosis(jaar=2021, thema="triage", waarde=10, set_by_id=1, set_at=START))
    client = as_user("mariska")

    page = client.get(f"/rapportages/activiteiten?{PERIOD}&jaar=2021").get_data(as_text=True)

    year = page.split('id="periode-tabel"')[0]
    assert row_cells(year, "triage") == ["10", "11", "+1"]
    assert row_cells(year, "triage/met MaSS en Veilig Thuis") == ["–", "9", "–"]
    assert 'zvh-report-part" data-rij="triage/door de Weegploeg"' in year, "parts are indented"
    assert row_cells(year, "datalek") == ["–", "5", "–"]
    assert row_cells(year, "reintegratie") == ["–", "7", "–"]
    assert_chart(page, "grafiek-activiteiten", "rapport-tabel")
    assert "Prognose: 10</title>" in page and "Resultaat: 11</title>" in page
    assert "Reproduceert 352 personen (prognose 300)." in page, "each theme's note"
    period = page.split('id="periode-tabel"')[1]
    assert row_cells(period, "triage") == ["3", "11"]
    assert 'href="/rapportages/prognoses?van=2020&amp;tot=2021&amp;jaar=2021"' in page


def test_doorlooptijden__process_and_step_lead_times(app: Flask, as_user, clock: FixedClock) -> None:
    instance_id = start_melding(app)
    clock.advance(timedelta(days=2))
    screener = app.test_client()
    login(screener, "sven")
    task_id = open_task_id(app, instance_id)
    data = {"csrf_token": page_token(screener, f"/taken/{task_id}"), "_actie": "afronden"}
    response = screener.post(f"/taken/{task_id}", data={**data, "besluit": "afwijzen", "toelichting": "Geen zorg."})
    assert response.status_code == 302
    client = as_user("mariska")

    page = client.get("/rapportages/doorlooptijden?jaar=2026&proces=melding").get_data(as_text=True)

    assert row_cells(page, "melding/mediaan")[-1] == "2,0"
    step = re.search(r'data-stap="Beoordelen">(.*?)</tr>', page, re.S)
    assert step and "Beoordeel de melding" in step.group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", step.group(1)) == ["1", "2,0", "2,0"]
    assert_chart(page, "grafiek-doorlooptijden", "rapport-tabel")
    assert "Melding – Mediaan: 2,0</title>" in page
    # The chart's year outside the period: its own figures, not a column of the period's table.
    earlier = client.get("/rapportages/doorlooptijden?van=2020&tot=2025&jaar=2026&proces=melding")
    assert "Melding – Mediaan: 2,0</title>" in earlier.get_data(as_text=True)
    assert row_cells(earlier.get_data(as_text=True), "melding/mediaan") == ["–"] * 6


def test_kengetallen__explanation_preview_and_downloads(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    page = client.get(f"/rapportages/kengetallen?{PERIOD}").get_data(as_text=True)

    assert "altijd onderdrukt" in page
    assert 'href="/rapportages/kengetallen.csv?van=2020&amp;tot=2021"' in page
    assert 'href="/rapportages/kengetallen.json?van=2020&amp;tot=2021"' in page
    assert "GM0758" in page, "Breda's CBS code in the preview"


# --- the prognoses form --------------------------------------------------------------------------------------------


def _prognoses(app: Flask, year: int) -> dict[str, int]:
    with app.extensions["zvh"].db.reader() as session:
        found = session.execute(
            select(ReportPrognosis.thema, ReportPrognosis.waarde).where(ReportPrognosis.jaar == year)
        )
        return dict(found.tuples().all())


def test_prognoses__valid_input_is_stored_audited_and_shown(app: Flask, as_user) -> None:
    client = as_user("mariska")
    token = page_token(client, "/rapportages/prognoses?jaar=2021")

    response = client.post(
        "/rapportages/prognoses?jaar=2021", data={"csrf_token": token, "triage": "130", "bij": " 20 ", "isd": ""}
    )

    assert response.status_code == 302
    assert (
        response.headers["Location"].startswith("/rapportages/activiteiten?")
        and "jaar=2021" in response.headers["Location"]
    )
    assert _prognoses(app, 2021) == {"triage": 130, "bij": 20}
    with app.extensions["zvh"].db.reader() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "prognosis")).one()
        assert audit.actor == "mariska" and "triage" in audit.summary
    form = client.get("/rapportages/prognoses?jaar=2021").get_data(as_text=True)
    assert 'name="triage"\n           value="130"' in form, "the form shows what is stored"
    assert "Prognoses 2021 opgeslagen (2 gewijzigd)." in form


@SQLITE_ONLY
def test_prognoses__invalid_input_keeps_what_was_typed_and_stores_nothing(app: Flask, as_user) -> None:
    client = as_user("mariska")
    token = page_token(client, "/rapportages/prognoses?jaar=2021")

    response = client.post(
        "/rapportages/prognoses?jaar=2021", data={"csrf_token": token, "triage": "130", "bij": "twintig"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="twintig"' in page and 'value="130"' in page, "what was typed stays"
    error = re.search(r'<p class="utrecht-form-field-error-message" id="fout-bij">(.*?)</p>', page)
    assert error and "geheel aantal" in error.group(1)
    assert 'id="prognose-bij" name="bij"' in page and 'aria-describedby="fout-bij"' in page
    assert "er is niets opgeslagen" in page
    assert _prognoses(app, 2021) == {}


@SQLITE_ONLY
def test_prognoses__refused_without_csrf_token(app: Flask, as_user) -> None:
    client = as_user("mariska")

    response = client.post("/rapportages/prognoses?jaar=2021", data={"triage": "130"})

    assert response.status_code == 400
    assert _prognoses(app, 2021) == {}


# --- the downloads -------------------------------------------------------------------------------------------------


def test_csv__row_label_first_and_one_column_per_year(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    response = client.get(f"/rapportages/meldingen.csv?{PERIOD}")

    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="meldingen-2020-2021.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Gemeente", "2020", "2021"]
    assert ["Breda", "3", "6"] in rows and rows[-1] == ["Totaal", "3", "9"]


def test_xlsx__numbers_as_numbers(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    response = client.get(f"/rapportages/casussen.xlsx?{PERIOD}&onderdrukken=1")

    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="casussen-2020-2021-onderdrukt.xlsx"'
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["Breda"][:2] == (0, 5)
    assert rows["Totaal"][:2] == (0, 5)


def test_kengetallen_json__parses_and_has_no_small_number(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    response = client.get(f"/rapportages/kengetallen.json?{PERIOD}")

    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="kengetallen-2020-2021.json"'
    document = response.get_json(force=True)
    assert document["zvh"] == "ZVH De Baronie" and document["van"] == 2020
    records = document["records"]
    assert records and not [r for r in records if r["aantal"] is not None and 0 < r["aantal"] < 5]
    breda = [r for r in records if r["jaar"] == 2021 and r["kengetal"] == "melding" and r["gemeente"] == "breda"]
    assert breda[0]["aantal"] == 6 and breda[0]["cbs_code"] == "GM0758"
    zundert = [r for r in records if r["jaar"] == 2021 and r["kengetal"] == "melding" and r["gemeente"] == "zundert"]
    assert zundert[0]["aantal"] is None and zundert[0]["onderdrukt"] == "primair"


@SQLITE_ONLY
def test_kengetallen_csv__one_line_per_record(app: Flask, as_user) -> None:
    add_facts(app)
    client = as_user("mariska")

    response = client.get(f"/rapportages/kengetallen.csv?{PERIOD}")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and set(rows[0]) >= {"zvh", "jaar", "kwartaal", "kengetal", "gemeente", "cbs_code", "aantal"}
    assert {row["aantal"] for row in rows if row["onderdrukt"]} == {""}


# --- who may, and what is refused ----------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("username", ["coen", "sven"])
def test_reports__refused_to_everyone_but_managers(app: Flask, client: FlaskClient, username: str) -> None:
    login(client, username)

    refused = {path: client.get(path).status_code for path in PAGES + DOWNLOADS}

    assert refused == dict.fromkeys(PAGES + DOWNLOADS, 403)
    token = page_token(client, "/taken")
    assert client.post("/rapportages/prognoses?jaar=2021", data={"csrf_token": token, "triage": "1"}).status_code == 403
    assert _prognoses(app, 2021) == {}


@SQLITE_ONLY
def test_reports__need_a_signed_in_user(app: Flask, client: FlaskClient) -> None:
    response = client.get("/rapportages/meldingen")

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("van=twee&tot=2021", "Vul een jaartal tussen 1900 en 2200 in."),
        ("van=2022&tot=2021", "Het jaar &#39;van&#39; (2022) komt na het jaar &#39;tot&#39; (2021)."),
        ("van=1950&tot=2010", "Kies een periode van hoogstens 50 jaar."),
        ("van=2020&tot=99999999999999999999", "Vul een jaartal tussen 1900 en 2200 in."),
    ],
)
def test_reports__bad_period_is_a_400_with_a_message(app: Flask, as_user, query: str, message: str) -> None:
    client = as_user("mariska")

    for path in ["/rapportages", "/rapportages/meldingen", "/rapportages/activiteiten", "/rapportages/kengetallen"]:
        response = client.get(f"{path}?{query}")

        page = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert message in page and 'role="alert" id="periode-fout"' in page, path
        assert 'id="periode-van"' in page, "the period chooser is there to correct it"


@SQLITE_ONLY
def test_downloads__bad_period_is_a_400_with_a_message(app: Flask, as_user) -> None:
    client = as_user("mariska")

    for path in ["/rapportages/meldingen.xlsx", "/rapportages/kengetallen.json"]:
        response = client.get(f"{path}?van=2022&tot=2021")

        assert response.status_code == 400, path
        assert "komt na het jaar" in response.get_data(as_text=True)


@SQLITE_ONLY
def test_doorlooptijden__unknown_process_is_a_400(app: Flask, as_user) -> None:
    client = as_user("mariska")

    response = client.get("/rapportages/doorlooptijden?proces=bestaat_niet")

    assert response.status_code == 400
    assert "Kies een proces uit de lijst." in response.get_data(as_text=True)


@SQLITE_ONLY
def test_reports__english_labels(app: Flask, client: FlaskClient) -> None:
    login(client, "mariska")
    with client.session_transaction() as session:
        session["taal"] = "en"

    page = client.get("/rapportages/meldingen?van=2020&tot=2021&onderdrukken=1").get_data(as_text=True)

    assert ">Reports</a>" in page and "suppress small numbers (sharing outside the ZVH)" in page
    assert "Download CSV" in page and ">Print</button>" in page


@SQLITE_ONLY
def test_reports__index_and_activities_in_english_show_english_titles(app: Flask, client: FlaskClient) -> None:
    add_facts(app)
    login(client, "mariska")
    with client.session_transaction() as session:
        session["taal"] = "en"

    index = client.get(f"/rapportages?{PERIOD}").get_data(as_text=True)
    page = client.get(f"/rapportages/activiteiten?{PERIOD}&jaar=2021").get_data(as_text=True)

    assert ">Referrals per municipality per year</a>" in index and ">Activities: forecast and result</a>" in index
    assert "Meldingen per gemeente per jaar" not in index
    assert '<h1 class="utrecht-heading-1">Activities: forecast and result</h1>' in page
    year = page.split('id="periode-tabel"')[0]
    assert re.search(r'data-rij="datalek">\s*<th[^>]*>Data breaches and security incidents \(incidents\)</th>', year)
    assert re.search(r'data-rij="triage/door de Weegploeg">\s*<th[^>]*>– by the Weegploeg</th>', year)
    assert ">Theme (2021)</th>" in year and ">Forecast</th>" in year and ">Difference</th>" in year
    assert "Reproduces 352 people (forecast 300)." in page, "each theme's note"
    assert "Reproduceert" not in page and "Datalekken" not in page


def test_line_chart__escapes_every_text_and_points_to_its_table() -> None:
    svg = line_chart(
        chart_id="g<1>",
        title='Totaal "<b>"',
        labels=["2020", "<script>"],
        series=[Series("A&B", [3, 7])],
        table_id="t&1",
    )

    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'id="g&lt;1&gt;"' in svg and 'aria-describedby="t&amp;1"' in svg and 'role="img"' in svg
    assert "<title>&lt;script&gt; – A&amp;B: 7</title>" in svg
    assert svg.count("<circle") == 2
