"""The managers' Rapportages in a real browser: the tables with their charts, the prognoses form, the print layout
on A4 and a CSV download.

The figures are six years of anonymous case records (as a destroyed case leaves them) with their report facts,
written into the in-process server's database; everything else is the app as `make run` serves it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from engine.models import Instance, ProcessVersion, ReportFact, ReportPrognosis, User
from engine.monitor.norms import LOCAL
from engine.reports.definitions import GEMEENTE_ROWS, PROGNOSES_2021
from tests.browser.conftest import ClockedServer
from tests.browser.test_referral import sign_in

#: Meldingen per gemeente in 2016; every later year adds a few (the small gemeenten stay below 5: suppressed).
MELDINGEN_2016 = {
    "alphen-chaam": 2,
    "altena": 4,
    "baarle-nassau": 1,
    "breda": 38,
    "drimmelen": 5,
    "etten-leur": 9,
    "geertruidenberg": 4,
    "oosterhout": 14,
    "zundert": 3,
    "overig": 6,
}
YEARS = range(2016, 2022)
#: Activities of 2021 besides the meldingen (kengetal, uitsplitsing, count).
ACTIVITIES_2021 = [
    ("weegploeg_triage", None, 21),
    ("reintegratie", None, 352),
    ("bij", None, 24),
    ("isd", None, 9),
    ("mensenhandel", "de_baronie", 41),
    ("inzageverzoek", None, 3),
    ("datalek", "beveiligingsincident", 2),
    ("datalek", "datalek_niet_meldplichtig", 3),
]
#: A4 minus the 15 mm margins of the print style sheet, in CSS pixels (96 per inch).
PRINTABLE_WIDTH = round((210 - 2 * 15) / 25.4 * 96)


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url, "accept_downloads": True}


def _fact(instance_id: int, kengetal: str, gemeente: str | None, year: int, split: str | None = None) -> dict[str, Any]:
    moment = datetime(year, 5, 15, 10, tzinfo=LOCAL)
    return {
        "instance_id": instance_id,
        "process_key": "aanmelding_triage",
        "kengetal": kengetal,
        "uitsplitsing": split,
        "gemeente": gemeente,
        "occurred_at": moment,
        "jaar": year,
        "kwartaal": 2,
    }


def six_years_of_figures(server: ClockedServer) -> None:
    """Anonymous case records 2016–2021 with their facts: meldingen and casussen per gemeente, 2021's activities."""
    with server.app.extensions["zvh"].db.transaction() as session:
        version = session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_key == "aanmelding_triage")
        ).first()
        manager = session.scalars(select(User).where(User.username == "demo.manager")).one()
        assert version is not None
        meldingen = [
            (gemeente, year)
            for year in YEARS
            for gemeente, first in MELDINGEN_2016.items()
            for _ in range(first + (year - 2016) * (first // 4))
        ]
        activities = [(kengetal, split) for kengetal, split, count in ACTIVITIES_2021 for _ in range(count)]
        records = []
        for number in range(max(len(meldingen), len(activities))):
            year = meldingen[number][1] if number < len(meldingen) else 2021
            moment = datetime(year, 12, 1, tzinfo=LOCAL)
            records.append(
                {
                    "process_version_id": version.id,
                    "process_key": "aanmelding_triage",
                    "status": "completed",
                    "state": "{}",
                    "serializer_version": "vernietigd",
                    "library_version": "vernietigd",
                    "case_number": f"ZVH-HIST-{number:05d}",
                    "started_by_id": manager.id,
                    "started_at": moment - timedelta(days=10 + number % 50),
                    "last_progress_at": moment,
                    "ended_at": moment,
                    "destroyed_at": moment,
                    "lock_version": 1,
                }
            )
        ids = list(session.scalars(insert(Instance).returning(Instance.id), records))
        facts = [_fact(ids[n], "melding", gemeente, year) for n, (gemeente, year) in enumerate(meldingen)]
        facts += [_fact(ids[n], "casus", gemeente, year) for n, (gemeente, year) in enumerate(meldingen) if n % 3]
        facts += [_fact(ids[n], kengetal, None, 2021, split) for n, (kengetal, split) in enumerate(activities)]
        session.execute(insert(ReportFact), facts)
        for theme, value in PROGNOSES_2021.items():
            if theme != "triage":  # the test enters this one through the form
                session.add(ReportPrognosis(jaar=2021, thema=theme, waarde=value, set_by_id=manager.id, set_at=moment))
    assert set(MELDINGEN_2016) == set(GEMEENTE_ROWS)


def test_reports__tables_charts_prognoses_print_and_download(
    page: Page, clocked_server: ClockedServer, screenshots: Path
) -> None:
    six_years_of_figures(clocked_server)
    sign_in(page, "demo.manager")

    page.click("nav >> text=Rapportages")
    page.fill("#periode-van", "2016")
    page.fill("#periode-tot", "2021")
    page.click("main button:has-text('Toon')")
    expect(page).to_have_url("/rapportages?van=2016&tot=2021")
    page.screenshot(path=str(screenshots / "rapportage-overzicht.png"), full_page=True)
    page.click("main a:has-text('Meldingen per gemeente per jaar')")
    table = page.locator("#rapport-tabel")
    expect(table.locator("tr[data-rij=breda]")).to_contain_text("38")
    expect(table.locator("tr[data-rij=totaal] td").first).to_have_css("font-weight", "700")
    expect(page.locator("svg#grafiek-gemeenten")).to_be_visible()
    expect(page.locator("svg#grafiek-totaal polyline")).to_be_visible()
    expect(page.get_by_text("De staafgrafiek toont de laatste 4 jaren")).to_be_visible()
    page.screenshot(path=str(screenshots / "rapportage-meldingen.png"), full_page=True)

    page.check("input[name=onderdrukken]")
    page.click("main button:has-text('Toon')")
    expect(table.locator("tr[data-rij=baarle-nassau]")).to_contain_text("<5")
    expect(page.locator("#legenda-onderdrukt")).to_be_visible()
    page.screenshot(path=str(screenshots / "rapportage-meldingen-onderdrukt.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("a:has-text('Download CSV')")
    download = download_info.value
    assert download.suggested_filename == "meldingen-2016-2021-onderdrukt.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Gemeente", *(str(year) for year in YEARS)]
    assert rows[4][0] == "Breda" and rows[4][1] == "38"

    page.goto("/rapportages/activiteiten?van=2016&tot=2021&jaar=2021")
    page.click("a:has-text('Prognoses 2021 invoeren of wijzigen')")
    expect(page.locator("#prognose-reintegratie")).to_have_value("300")
    page.fill("#prognose-triage", "honderddertig")
    page.click("button:has-text('Prognoses opslaan')")
    expect(page.locator("#fout-triage")).to_contain_text("geheel aantal")
    expect(page.locator("#prognose-triage")).to_have_value("honderddertig")
    page.screenshot(path=str(screenshots / "rapportage-prognoses-fout.png"), full_page=True)
    page.fill("#prognose-triage", "130")
    page.click("button:has-text('Prognoses opslaan')")
    expect(page.get_by_role("status").first).to_contain_text("Prognoses 2021 opgeslagen")
    expect(page.locator("#rapport-tabel tr[data-rij=reintegratie]")).to_contain_text("+52")
    expect(page.locator("svg#grafiek-activiteiten")).to_be_visible()
    page.screenshot(path=str(screenshots / "rapportage-activiteiten.png"), full_page=True)

    page.goto("/rapportages/doorlooptijden?van=2016&tot=2021&jaar=2021")
    expect(page.locator("svg#grafiek-doorlooptijden")).to_be_visible()
    expect(page.locator("#rapport-tabel tr[data-rij='aanmelding_triage/mediaan']")).not_to_contain_text("–")
    page.screenshot(path=str(screenshots / "rapportage-doorlooptijden.png"), full_page=True)

    page.goto("/rapportages/kengetallen?van=2020&tot=2021")
    expect(page.locator("#rapport-tabel")).to_contain_text("GM0758")
    page.screenshot(path=str(screenshots / "rapportage-kengetallen.png"), full_page=True)


def test_reports__print_layout_fits_a4(page: Page, clocked_server: ClockedServer, screenshots: Path) -> None:
    sign_in(page, "demo.manager")
    page.goto("/rapportages/meldingen?van=2016&tot=2021")
    expect(page.locator("button[data-afdrukken]")).to_be_visible()

    page.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 1100})
    page.emulate_media(media="print")

    expect(page.locator("header.zvh-header")).to_be_hidden()
    expect(page.locator("form.zvh-report-period")).to_be_hidden()
    expect(page.locator("button[data-afdrukken]")).to_be_hidden()
    expect(page.locator(".zvh-report-definition").first).to_be_visible()
    for selector in ("#rapport-tabel", "svg#grafiek-gemeenten", "svg#grafiek-totaal"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PRINTABLE_WIDTH, (selector, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PRINTABLE_WIDTH, "nothing sticks out sideways"
    page.screenshot(path=str(screenshots / "rapportage-afdruk.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-"), "Chromium prints the page on A4"
    (screenshots / "rapportage-afdruk.pdf").write_bytes(pdf)
