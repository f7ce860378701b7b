"""Report definitions on small hand-made data sets, through the real processes (SQLite and PostgreSQL).

Each test drives a few referrals through `aanmelding_triage` (and the procesregie and Weegploeg hand-overs) with
the process test driver, then reads the report tables: what counts, in which year, for which gemeente.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, func, select, update

from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import DeploymentRefused, InvalidInput
from engine.modelling.migrate import migrate_instances
from engine.models import AuditEvent, Instance, ReportFact, ReportPrognosis
from engine.monitor.norms import LOCAL
from engine.privacy.destruction import destroy_directly
from engine.registry import deploy_file
from engine.reports.definitions import CASUSSEN
from engine.reports.durations import doorlooptijden
from engine.reports.facts import backfill_facts
from engine.reports.kengetallen import kengetallen
from engine.reports.prognoses import set_prognoses
from engine.reports.suppression import PRIMARY, SECONDARY, suppress
from engine.reports.tables import activity_year, casussen, meldingen
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, BEKEND, TERUGKOPPELING, screen, triage
from tests.processes.test_weegploeg_radicalisering import WEGING, at_first_meeting

KEYS = ("aanmelding_triage", "procesregie", "weegploeg_radicalisering")


@pytest.fixture
def driver(db: Database, clock: FixedClock) -> ProcessDriver:
    with db.transaction() as session:
        for key in KEYS:
            deploy_file(session, PROCESSES / f"{key}.bpmn", actor="tests", search_paths=[FORMS])
    return ProcessDriver(db, Runtime(clock=clock), clock)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def refer(driver: ProcessDriver, at: datetime, **changes: Any) -> int:
    """A referral submitted and screened at `at` (offered to triage: it counts as a melding)."""
    driver.clock.set(at)
    instance = driver.start("aanmelding_triage", {**AANMELDING, **changes}, as_role="melder")
    screen(driver, instance)
    return instance


def triage_now(driver: ProcessDriver, instance: int, at: datetime, besluit: str = "procesregie_zvh") -> None:
    """Let the weekly triage moment pass at `at` and decide."""
    driver.clock.set(at)
    driver.advance(timedelta(0))
    extra = {"advies": "Bespreek het in het wijkteam."} if besluit == "afwijzen_advies" else {}
    driver.complete(instance, "Task_triage", triage(besluit, **extra))


def row(table: Any, key: str) -> list[float | None]:
    return next([c.value for c in r.cells] for r in table.rows if r.key == key)


def test_meldingen__a_referral_counts_in_the_year_it_was_submitted_once_offered_to_triage(
    driver: ProcessDriver,
) -> None:
    # 31 December 23:30 in Breda is still 2025; 1 January 00:30 in Breda is 2026 (23:30 UTC the day before).
    late = refer(driver, local(2025, 12, 31, 23, 30))
    early = refer(driver, local(2026, 1, 1, 0, 30), gemeente="Zundert")
    triage_now(driver, late, local(2026, 1, 6, 10, 0))
    triage_now(driver, early, local(2026, 1, 6, 10, 0), besluit="afwijzen_advies")

    with driver.db.reader() as session:
        table = meldingen(session, [2025, 2026])
        cases = casussen(session, [2025, 2026])
    assert row(table, "breda") == [1, 0]
    assert row(table, "zundert") == [0, 1], "a declined triage decision still counts as a melding"
    assert row(table, "totaal") == [1, 1]
    # The procesregie case started at the triage of 6 January: a case from the previous year's referral.
    assert row(cases, "breda") == [0, 1]
    assert row(cases, "zundert") == [0, 0]


def test_meldingen__incomplete_referrals_and_radicalisation_signals_are_not_meldingen(driver: ProcessDriver) -> None:
    driver.clock.set(local(2026, 3, 2, 9, 0))
    incomplete = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    for _ in range(3):  # sent back twice, then declined as incomplete
        driver.complete(incomplete, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."})
        if "Task_aanvullen" in driver.open(incomplete):
            driver.complete(incomplete, "Task_aanvullen", AANMELDING)
    driver.complete(
        incomplete,
        "Task_afwijzen_onvolledig",
        {"advies": "Meld opnieuw aan met de betrokken partners.", "motivering": "Na twee rondes nog onvolledig."},
    )
    assert driver.status(incomplete) == "completed"
    signal = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    driver.complete(signal, "Task_volledigheid", {"aanmelding_volledig": True})
    driver.complete(
        signal,
        "Task_bekendheid",
        {**BEKEND, "radicaliseringssignaal": True, "radicalisering_toelichting": "Zoekt contact met een netwerk."},
    )

    with driver.db.reader() as session:
        assert row(meldingen(session, [2026]), "totaal") == [0]
        assert session.scalar(select(func.count()).select_from(ReportFact)) == 0


def test_meldingen__the_gemeente_is_the_one_the_case_had_when_it_was_counted(driver: ProcessDriver) -> None:
    # Corrected by the melder before it was counted: counts for the corrected gemeente.
    driver.clock.set(local(2026, 3, 2, 9, 0))
    corrected = driver.start("aanmelding_triage", {**AANMELDING, "gemeente": "Breda"}, as_role="melder")
    driver.complete(corrected, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "Woonplaats?"})
    driver.complete(corrected, "Task_aanvullen", {**AANMELDING, "gemeente": "Etten-Leur"})
    screen(driver, corrected)
    instance = refer(driver, local(2026, 3, 2, 9, 0), gemeente="Oosterhout")
    triage_now(driver, instance, local(2026, 3, 3, 10, 0))
    (procesregie,) = driver.follow_ups(instance)
    # The person moves to Breda after both were counted (no procesregie form edits the gemeente today; a
    # correction writes the case data as a step would): the published figures stay as they were.
    with driver.db.transaction() as session:
        loaded = driver.runtime.load(session, procesregie.id, for_update=True)
        for task in loaded.ready_human_tasks:
            task.data["gemeente"] = "Breda"
        driver.runtime.save(session, loaded, actor=None, failure=None)

    with driver.db.reader() as session:
        assert row(meldingen(session, [2026]), "etten-leur") == [1]
        assert row(meldingen(session, [2026]), "breda") == [0]
        assert row(meldingen(session, [2026]), "oosterhout") == [1]
        assert row(casussen(session, [2026]), "oosterhout") == [1]
        assert row(casussen(session, [2026]), "breda") == [0]
        assert session.get_one(type(procesregie), procesregie.id).gemeente == "Breda"


def test_meldingen__overig_holds_cases_without_a_gemeente_of_the_district(driver: ProcessDriver) -> None:
    refer(
        driver,
        local(2026, 3, 2, 9, 0),
        gemeente="Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)",
    )
    with driver.db.reader() as session:
        assert row(meldingen(session, [2026]), "overig") == [1]


def test_facts__a_migrated_instance_is_counted_once(
    driver: ProcessDriver, tmp_path: Path, make_user: UserFactory
) -> None:
    instance = refer(driver, local(2026, 3, 2, 9, 0))
    text = (PROCESSES / "aanmelding_triage.bpmn").read_text(encoding="utf-8")
    changed = tmp_path / "aanmelding_triage.bpmn"
    changed.write_text(text.replace('name="Triage en besluit"', 'name="Triage en besluit (v2)"'), encoding="utf-8")
    with driver.db.transaction() as session:
        assert deploy_file(session, changed, actor="tests", search_paths=[FORMS]).version.version == 2
    owner = make_user("eigenaar", "procesbeheerder")
    with driver.db.transaction() as session:
        (step,) = migrate_instances(
            session, driver.runtime, instance_ids=[instance], to_version=2, actor=owner, at=driver.clock.now()
        )
    assert step.migrated, step.reason
    triage_now(driver, instance, local(2026, 3, 3, 10, 0))

    with driver.db.reader() as session:
        facts = session.execute(select(ReportFact.instance_id, ReportFact.kengetal)).all()
        assert sorted(k for i, k in facts if i == instance) == ["melding"]
        assert row(meldingen(session, [2026]), "breda") == [1]


def test_facts__destroying_a_case_changes_no_report_figure(driver: ProcessDriver, make_user: UserFactory) -> None:
    instance = refer(driver, local(2026, 3, 2, 9, 0))
    triage_now(driver, instance, local(2026, 3, 3, 10, 0))
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)

    def figures() -> tuple[Any, ...]:
        with driver.db.reader() as session:
            return (
                meldingen(session, [2026]).records(),
                casussen(session, [2026]).records(),
                activity_year(session, 2026).records(),
                doorlooptijden(session, [2026]).records(),
                kengetallen(session, [2026], zvh="test"),
            )

    before = figures()
    fg = make_user("fg", "privacyfunctionaris")
    with driver.db.transaction() as session:
        case = session.get_one(type(driver.instance(instance)), instance).case_number
        destroyed = destroy_directly(
            session, case=case, actor=fg, reason="Verzoek tot vernietiging", at=driver.clock.now()
        )
    assert len(destroyed) == 2, "the referral and its procesregie case"
    assert figures() == before
    assert ["Breda", "1"] in before[0]


def test_deploy__a_malformed_report_mark_is_refused(driver: ProcessDriver, tmp_path: Path) -> None:
    text = (PROCESSES / "aanmelding_triage.bpmn").read_text(encoding="utf-8")
    broken = tmp_path / "aanmelding_triage.bpmn"
    broken.write_text(text.replace('value="start"', 'value="gisteren"'), encoding="utf-8")
    with driver.db.transaction() as session, pytest.raises(DeploymentRefused) as refused:
        deploy_file(session, broken, actor="tests", search_paths=[FORMS])
    assert any("rapportage_datum" in p.message and p.element == "Gateway_spoed" for p in refused.value.problems)


def test_prognoses__a_manager_enters_them_all_or_nothing_and_the_activity_report_shows_the_difference(
    driver: ProcessDriver, make_user: UserFactory
) -> None:
    refer(driver, local(2026, 3, 2, 9, 0))
    manager, screener = make_user("mariska", "manager"), make_user("sven", "screener")
    at = local(2026, 1, 10, 9, 0)
    with driver.db.transaction() as session:
        assert set_prognoses(session, year=2026, values={"triage": "3", "bij": ""}, actor=manager, at=at) == 1
    with driver.db.transaction() as session, pytest.raises(InvalidInput) as refused:
        set_prognoses(session, year=2026, values={"triage": "7", "bij": "veel"}, actor=manager, at=at)
    assert set(refused.value.fields) == {"bij"}
    with driver.db.transaction() as session, pytest.raises(Exception, match="manager"):
        set_prognoses(session, year=2026, values={"triage": "9"}, actor=screener, at=at)

    with driver.db.reader() as session:
        assert session.scalars(select(ReportPrognosis.waarde)).all() == [3], "the refused forms stored nothing"
        table = activity_year(session, 2026)
        audits = session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "prognosis")).all()
    triage_row = next(r for r in table.rows if r.key == "triage")
    assert [c.text for c in triage_row.cells] == ["3", "1", "-2"]
    assert [c.text for c in next(r for r in table.rows if r.key == "triage/met MaSS en Veilig Thuis").cells] == [
        "–",
        "1",
        "–",
    ]
    assert audits == ["Prognoses 2026 changed: triage"]


def test_suppression__small_cells_and_the_cells_they_could_be_worked_out_from_are_hidden() -> None:
    # Columns add up to the total row; the 3 is hidden, and so must another cell of its column be.
    grid = [[3, 10], [12, 0], [40, 7], [55, 17]]
    hidden = suppress(grid, total_row=True)
    assert hidden[(0, 0)] == PRIMARY
    assert hidden[(1, 0)] == SECONDARY, "the smallest other count of the column"
    assert (0, 1) not in hidden and (1, 1) not in hidden, "zero names nobody; column 2 has nothing to protect"
    assert suppress([[0, 4, 9]], total_row=False) == {(0, 1): PRIMARY}


def test_kengetallen__per_quarter_and_gemeente_with_cbs_codes_and_never_a_small_cell(driver: ProcessDriver) -> None:
    for day in range(2, 8):
        refer(driver, local(2026, 4, day, 9, 0), gemeente="Breda" if day < 7 else "Zundert")
    with driver.db.reader() as session:
        records = kengetallen(session, [2026], zvh="ZVH De Baronie")
    meldingen_q2 = {r["gemeente"]: r for r in records if r["kengetal"] == "melding" and r["kwartaal"] == 2}
    assert meldingen_q2["zundert"]["aantal"] is None and meldingen_q2["zundert"]["onderdrukt"] == PRIMARY
    # Else Zundert's 1 = district 6 − Breda 5: the smallest other count goes too (a zero would protect nothing).
    assert (meldingen_q2["breda"]["onderdrukt"], meldingen_q2["breda"]["cbs_code"]) == (SECONDARY, "GM0758")
    assert (meldingen_q2["district"]["aantal"], meldingen_q2["oosterhout"]["aantal"]) == (6, 0)
    assert all(r["aantal"] is None or r["aantal"] == 0 or r["aantal"] >= 5 for r in records)


def test_cli__report_prints_the_same_table_for_scripts(
    driver: ProcessDriver, database_url: str, tmp_path: Path
) -> None:
    late = refer(driver, local(2025, 12, 31, 23, 30), gemeente="Drimmelen")
    triage_now(driver, late, local(2026, 1, 6, 10, 0))
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": database_url, "ZVH_INSTANCE_PATH": str(tmp_path / "instance")}

    def zvh(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    printed = list(csv.reader(io.StringIO(zvh("report", "meldingen", "--from", "2025", "--to", "2026").stdout)))
    assert printed[0] == ["Gemeente", "2025", "2026"]
    assert ["Drimmelen", "1", "0"] in printed and printed[-1] == ["Totaal", "1", "0"]
    cases = json.loads(zvh("report", "casussen", "--year", "2026", "--format", "json").stdout)
    assert (cases["kolommen"], cases["definitie"]) == (["2026"], CASUSSEN.definition)
    assert next(r for r in cases["rijen"] if r["sleutel"] == "drimmelen")["waarden"] == [1]
    hidden = json.loads(zvh("report", "casussen", "--year", "2026", "--format", "json", "--suppress-small").stdout)
    assert next(r for r in hidden["rijen"] if r["sleutel"] == "drimmelen")["tekst"] == ["<5"]
    activities = list(csv.reader(io.StringIO(zvh("report", "activiteiten", "--year", "2025").stdout)))
    assert activities[1][0].startswith("Gezamenlijke triage") and activities[1][1:] == ["1"]
    assert zvh("report", "doorlooptijden", "--year", "2026").exit_code == 0
    national = json.loads(zvh("report", "kengetallen", "--year", "2025", "--format", "json").stdout)
    assert (national["zvh"], national["van"], national["tot"]) == ("ZVH De Baronie", 2025, 2025)
    drimmelen = next(r for r in national["records"] if r["gemeente"] == "drimmelen" and r["kengetal"] == "melding")
    assert (drimmelen["cbs_code"], drimmelen["aantal"], drimmelen["onderdrukt"]) == ("GM1719", None, "primair")
    lines = zvh("report", "kengetallen", "--year", "2025").stdout.splitlines()
    assert lines[0] == "zvh,jaar,kwartaal,kengetal,uitsplitsing,gemeente,cbs_code,aantal,onderdrukt"

    both = zvh("report", "meldingen", "--year", "2026", "--from", "2025")
    reversed_span = zvh("report", "meldingen", "--from", "2026", "--to", "2025")
    assert (both.exit_code, reversed_span.exit_code) == (2, 2)
    assert "not both" in both.output and "komt na" in reversed_span.output
    refused = zvh("demo", "--history")
    assert refused.exit_code == 1 and "demodatabase" in refused.output


def test_backfill__cases_from_before_the_reports_are_counted_once_on_the_dates_they_happened(
    driver: ProcessDriver,
) -> None:
    signal = at_first_meeting(driver)
    driver.complete(signal, "Task_wegen", {**WEGING, "wegingsbesluit": "geen_actie"})
    weighed_at = driver.clock.now()
    referral = refer(driver, local(2025, 12, 30, 9, 0))
    driver.clock.set(local(2026, 6, 1, 9, 0))
    with driver.db.transaction() as session:  # as the database was before migration 0008
        session.execute(delete(ReportFact))
        session.execute(update(Instance).values(counted=None))

    assert backfill_facts(driver.db, driver.runtime) == (2, 0)
    assert backfill_facts(driver.db, driver.runtime) == (0, 0), "nothing left to do the second time"
    with driver.db.reader() as session:
        facts = {f.kengetal: f for f in session.scalars(select(ReportFact))}
    assert (facts["melding"].instance_id, facts["melding"].jaar) == (referral, 2025), "dated by the case's start"
    assert (facts["weegploeg_triage"].instance_id, facts["weegploeg_triage"].occurred_at) == (signal, weighed_at)
