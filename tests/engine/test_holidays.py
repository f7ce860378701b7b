"""The calendar deadlines are counted in (2027 examples from issue 13): working days with the Dutch holidays, legal
terms (Algemene termijnenwet), calendar durations in local time, and the case number's year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine import holidays
from engine.clock import FixedClock
from engine.db import Database
from engine.holidays import LOCAL, DaysOff
from engine.runtime import Runtime
from engine.sandbox import add_working_days, legal_term_end, next_working_day
from engine.spiff import timer_due
from engine.timers import fire_due_timers
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import deploy, open_tasks, start
from tests.engine.test_timers import deadline_process


@pytest.fixture
def days_off() -> Iterator[None]:
    """Restore the configured days off after a test that changes them."""
    previous = holidays.configure(DaysOff())
    yield
    holidays.configure(previous)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)  # type: ignore[misc]


# --- working days and legal terms ----------------------------------------------------------------------------


def test_five_working_days__skip_tweede_paasdag(days_off: None) -> None:
    # Triage on Tuesday 23-03-2027; Monday 29-03 is Tweede Paasdag, so the feedback is due Wednesday 31-03.
    assert add_working_days(date(2027, 3, 23), 5) == date(2027, 3, 31)
    assert add_working_days(local(2027, 3, 23, 10), 5) == local(2027, 3, 31, 10)


def test_legal_term__ending_on_sunday_ends_on_monday() -> None:
    assert legal_term_end(date(2027, 2, 28)) == date(2027, 3, 1)
    assert legal_term_end(date(2027, 3, 1)) == date(2027, 3, 1)
    assert holidays.legal_term_end_moment(local(2027, 2, 28, 17)) == local(2027, 3, 1, 17)
    # Easter Sunday 28-03-2027 and Tweede Paasdag: the term ends on Tuesday.
    assert legal_term_end(date(2027, 3, 28)) == date(2027, 3, 30)


def test_koningsdag_2027_is_a_tuesday_off(days_off: None) -> None:
    assert date(2027, 4, 27).weekday() == 1
    assert not holidays.is_working_day(date(2027, 4, 27))
    assert next_working_day(date(2027, 4, 27)) == date(2027, 4, 28)
    assert date(2027, 4, 27) in holidays.legal_holidays(2027)


@pytest.mark.parametrize(
    ("setting", "off_2025", "off_2027"),
    [("lustrum", True, False), ("jaarlijks", True, True), ("nee", False, False)],
)
def test_bevrijdingsdag__as_configured_for_the_office_but_always_for_legal_terms(
    days_off: None, setting: str, off_2025: bool, off_2027: bool
) -> None:
    holidays.configure(DaysOff.parse(setting, ""))

    assert holidays.is_working_day(date(2025, 5, 5)) is not off_2025  # a Monday
    assert holidays.is_working_day(date(2027, 5, 5)) is not off_2027  # a Wednesday
    # The Atw counts Bevrijdingsdag every year; Thursday 06-05-2027 is Hemelvaartsdag.
    assert legal_term_end(date(2027, 5, 5)) == date(2027, 5, 7)


def test_own_days_off__parsed_from_zvh_vrije_dagen(days_off: None) -> None:
    settings = DaysOff.parse("", " 12-24, 2027-12-27 ,goede_vrijdag,,")
    assert settings == DaysOff("lustrum", ((12, 24),), (date(2027, 12, 27),), ("goede_vrijdag",))

    holidays.configure(settings)

    assert not holidays.is_working_day(date(2027, 12, 24))
    assert not holidays.is_working_day(date(2028, 12, 25))  # a public holiday anyway
    assert not holidays.is_working_day(date(2027, 12, 27))
    assert holidays.is_working_day(date(2028, 12, 27)), "a dated day off is for that year only"
    assert not holidays.is_working_day(date(2027, 3, 26)), "Goede Vrijdag 2027"
    assert legal_term_end(date(2027, 3, 26)) == date(2027, 3, 26), "a local day off is no legal holiday"


@pytest.mark.parametrize(("bevrijdingsdag", "extra"), [("soms", ""), ("", "24-12"), ("", "2027-13-01"), ("", "pasen")])
def test_own_days_off__malformed_settings_are_refused(bevrijdingsdag: str, extra: str) -> None:
    with pytest.raises(ValueError, match="ZVH_"):
        DaysOff.parse(bevrijdingsdag, extra)


# --- calendar durations in local time ------------------------------------------------------------------------


def test_timer_due__days_keep_the_local_time_across_dst_and_hours_are_elapsed_time() -> None:
    start = local(2027, 3, 20, 9).astimezone(UTC)  # CET

    assert timer_due("P10D", start) == local(2027, 3, 30, 9)  # CEST: 07:00 UTC, not 08:00
    assert timer_due("P1M", local(2027, 10, 15, 9).astimezone(UTC)) == local(2027, 11, 15, 9)
    assert timer_due("P1W", local(2027, 3, 23, 10).astimezone(UTC)) == local(2027, 3, 30, 10), "a weekly cycle's step"
    assert timer_due("P1D", local(2027, 3, 27, 9)) == local(2027, 3, 28, 9), "an aware start keeps its zone"
    assert timer_due("PT72H", start) == local(2027, 3, 23, 9), "no DST change in between"
    assert timer_due("PT48H", local(2027, 3, 27, 9).astimezone(UTC)) == local(2027, 3, 29, 10), "48 real hours"


def test_duration_timer__p10d_across_dst_is_due_at_the_same_local_time(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "d.bpmn", deadline_process('"P10D"')))
    clock.set(local(2027, 3, 20, 9))

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    due = local(2027, 3, 30, 9)
    assert outcome.next_tasks[0].due_at == due
    assert fire_due_timers(db, runtime, now=local(2027, 3, 30, 8, 59)) == []
    assert [f.element_ids for f in fire_due_timers(db, runtime, now=due)] == [["Late"]]


def legal_deadline_process(*, legal: bool) -> str:
    props = (
        '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="wettelijke_termijn" '
        'value="ja"/></spiffworkflow:properties></bpmn:extensionElements>'
        if legal
        else ""
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Beslis op het verzoek", "deadline")
        + f'<bpmn:boundaryEvent id="Late" name="Termijn verlopen" attachedToRef="T1" cancelActivity="false">{props}'
        + '<bpmn:timerEventDefinition><bpmn:timeDuration>"P6D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        + "</bpmn:boundaryEvent>"
        + user_task("Esc", "Escaleer")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    return process(body, process_id="deadline", lanes={"Screener": ["S", "T1", "E1"], "Manager": ["Esc", "E2"]})


@pytest.mark.parametrize(("legal", "due"), [(True, local(2026, 3, 9, 9)), (False, local(2026, 3, 8, 9))])
def test_legal_deadline_timer__due_on_sunday_fires_on_monday(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path, legal: bool, due: datetime
) -> None:
    # START is Monday 02-03-2026 09:00; six days on is Sunday 08-03.
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "d.bpmn", legal_deadline_process(legal=legal)))

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    assert outcome.next_tasks[0].due_at == due
    assert outcome.instance.next_timer_due_at == due
    fired_on_sunday = fire_due_timers(db, runtime, now=local(2026, 3, 8, 12))
    assert bool(fired_on_sunday) is not legal
    if legal:
        assert fire_due_timers(db, runtime, now=local(2026, 3, 9, 8, 59)) == []
        assert [f.element_ids for f in fire_due_timers(db, runtime, now=due)] == [["Late"]]
    assert {t.name for t in open_tasks(db, outcome.instance.id)} == {"Beslis op het verzoek", "Escaleer"}


# --- case numbers --------------------------------------------------------------------------------------------


def test_case_number__takes_its_year_from_local_time(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "d.bpmn", deadline_process('"P5D"')))
    clock.set(local(2028, 1, 1, 0, 30))  # still 2027 in UTC

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    assert outcome.instance.case_number.startswith("ZVH-2028-")
