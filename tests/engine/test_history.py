"""`zvh demo --history` reproduces the published 2021 annual report, cell for cell, through the real processes.

The history is generated once (SQLite; it is the runtime and the processes that make it, the database is not
what is under test here) into a demo database; every test reads it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.db import Database
from engine.errors import Conflict
from engine.instance import COMPLETED
from engine.models import Instance, ReportFact
from engine.reports.history import generate_history
from engine.reports.tables import activity_year, casussen, meldingen
from engine.runtime import Runtime
from tests import history_build

YEARS = ["2016", "2017", "2018", "2019", "2020", "2021"]
MELDINGEN = """
Alphen-Chaam 0 0 1 0 0 2 · Altena 7 4 4 3 6 0 · Baarle-Nassau 0 0 0 1 0 1 · Breda 42 58 73 57 73 80 ·
Drimmelen 0 3 1 1 2 4 · Etten-Leur 1 9 4 4 10 14 · Geertruidenberg 2 3 0 5 5 4 · Oosterhout 8 4 4 1 7 14 ·
Zundert 1 2 1 2 1 2 · Overig 1 3 0 1 8 1 · Totaal 62 86 88 75 112 122
"""
CASUSSEN = """
Alphen-Chaam 0 0 1 0 0 1 · Altena 1 2 3 2 6 0 · Baarle-Nassau 0 0 0 1 0 1 · Breda 18 23 47 40 49 54 ·
Drimmelen 0 1 0 1 2 1 · Etten-Leur 0 3 4 3 4 13 · Geertruidenberg 0 2 0 5 4 2 · Oosterhout 5 2 2 3 5 8 ·
Zundert 1 2 1 2 1 2 · Overig 0 1 0 1 7 1 · Totaal 25 36 58 58 78 83
"""


def published(text: str) -> dict[str, list[str]]:
    """The annual report's table as {row label: counts}."""
    rows = [part.strip() for part in text.replace("\n", " ").split("·")]
    return {
        (m := re.fullmatch(r"(.+?) ((?:\d+ ?)+)", row)).group(1): m.group(2).split()  # type: ignore[union-attr]
        for row in rows
    }


@pytest.fixture(scope="module")
def history(pytestconfig: pytest.Config) -> tuple[str, dict[str, int]]:
    """The database `zvh init --demo && zvh demo --history` made in the background (tests/history_build.py)."""
    build = pytestconfig.stash[history_build.KEY]
    return build.url, build.result()["made"]


def cli_table(url: str, tmp_path: Path, *args: str) -> dict[str, list[str]]:
    env = {"ZVH_DATABASE_URL": url, "ZVH_INSTANCE_PATH": str(tmp_path / "instance")}
    printed = CliRunner().invoke(main, ["report", *args], env=env, catch_exceptions=False).stdout
    rows = list(csv.reader(io.StringIO(printed)))
    assert rows[0] == ["Gemeente", *YEARS]
    return {row[0].split(" (")[0]: row[1:] for row in rows[1:]}


def test_history__meldingen_per_gemeente_are_the_published_table(
    history: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    url, _ = history
    assert cli_table(url, tmp_path, "meldingen", "--from", "2016", "--to", "2021") == published(MELDINGEN)


def test_history__new_procesregie_cases_per_gemeente_are_the_published_table(
    history: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    url, _ = history
    assert cli_table(url, tmp_path, "casussen", "--from", "2016", "--to", "2021") == published(CASUSSEN)


def test_history__the_2021_activities_and_prognoses_are_those_of_the_annual_report(
    history: tuple[str, dict[str, int]],
) -> None:
    url, _ = history
    db = Database(url)
    with db.reader() as session:
        table = activity_year(session, 2021)
    db.dispose()
    figures = {row.key: [cell.text for cell in row.cells] for row in table.rows}
    assert figures["triage"] == ["130", "143", "+13"]
    assert figures["triage/met MaSS en Veilig Thuis"] == ["–", "122", "–"]
    assert figures["triage/door de Weegploeg"] == ["–", "21", "–"]
    assert figures["procesregie"] == ["75", "83", "+8"]
    assert figures["weegploeg"] == ["30", "21", "-9"]
    assert figures["reintegratie"] == ["300", "352", "+52"]
    assert figures["bij"] == ["20", "24", "+4"]
    assert figures["isd"] == ["–", "9", "–"]
    assert figures["mensenhandel"] == ["30", "41", "+11"]
    assert figures["inzageverzoek"] == ["–", "3", "–"]
    assert figures["datalek"] == ["–", "5", "–"]
    assert figures["datalek/beveiligingsincident"][1] == "2"
    assert figures["datalek/datalek, niet meldplichtig"][1] == "3"
    assert figures["datalek/gemeld bij de Autoriteit Persoonsgegevens"][1] == "0"


def test_history__every_case_ran_to_an_end_through_the_processes_with_invented_people(
    history: tuple[str, dict[str, int]],
) -> None:
    url, made = history
    db = Database(url)
    with db.reader() as session:
        query = select(Instance.status, func.count()).group_by(Instance.status)
        statuses = {status: count for status, count in session.execute(query)}
        pending = session.scalar(
            select(func.count()).select_from(Instance).where(Instance.next_timer_due_at.is_not(None))
        )
        last = session.scalar(select(func.max(ReportFact.occurred_at)))
        states = session.scalars(select(Instance.state)).all()
    db.dispose()
    assert set(statuses) == {COMPLETED}, statuses
    assert pending == 0, "no timer left to fire on the real clock"
    assert last is not None and last < datetime(2022, 1, 1, tzinfo=UTC)
    bsns = {bsn for state in states for bsn in re.findall(r'"bsn": ?"(\d{9})"', state)}
    assert bsns and all(bsn.startswith("99") for bsn in bsns), "only the generator's fake BSN range"
    assert sum(made.values()) > 0


def test_history__goes_into_a_database_once(history: tuple[str, dict[str, int]]) -> None:
    url, _ = history
    db = Database(url)
    with pytest.raises(Conflict):
        generate_history(db, Runtime())
    with db.reader() as session:
        assert meldingen(session, [2021]).rows[-1].cells[0].text == "122"
        assert casussen(session, [2021]).rows[-1].cells[0].text == "83"
    db.dispose()
