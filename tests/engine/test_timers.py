"""Timers with an injected clock: boundary deadlines, intermediate waits, dates from data, cycles; stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.db import Database
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import audit_actions, complete, deploy, instance_row, open_tasks, start


def boundary(event_id: str, attached_to: str, timer: str, *, interrupting: bool, kind: str = "timeDuration") -> str:
    return (
        f'<bpmn:boundaryEvent id="{event_id}" name="Termijn verlopen" attachedToRef="{attached_to}" '
        f'cancelActivity="{str(interrupting).lower()}"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    )


def deadline_process(timer: str, *, interrupting: bool = False, kind: str = "timeDuration") -> str:
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Koppel terug aan melder", "deadline")
        + boundary("Late", "T1", timer, interrupting=interrupting, kind=kind)
        + user_task("Esc", "Escaleer te late terugkoppeling")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    lanes = {"Screener": ["S", "T1", "E1"], "Manager": ["Esc", "E2"]}
    return process(body, process_id="deadline", lanes=lanes)


@pytest.fixture
def deadline_form(tmp_path: Path) -> Path:
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    return tmp_path


def test_boundary_timer__escalates_to_the_manager_when_the_deadline_passes(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, deadline_form: Path
) -> None:
    deploy(db, write(deadline_form, "d.bpmn", deadline_process('"P5D"')))
    sven, mariska = make_user("sven", "screener"), make_user("mariska", "manager")
    outcome = start(db, runtime, "deadline", sven)
    due = START + timedelta(days=5)

    assert outcome.next_tasks[0].due_at == due
    assert outcome.instance.next_timer_due_at == due
    assert fire_due_timers(db, runtime, now=due - timedelta(seconds=1)) == []

    fired = fire_due_timers(db, runtime, now=due)

    assert [(f.instance_id, f.element_ids) for f in fired] == [(outcome.instance.id, ["Late"])]
    tasks = {t.name: t.role for t in open_tasks(db, outcome.instance.id)}
    assert tasks == {"Koppel terug aan melder": "screener", "Escaleer te late terugkoppeling": "manager"}
    assert "timer" in audit_actions(db, outcome.instance.id)
    assert fire_due_timers(db, runtime, now=due + timedelta(days=1)) == [], "a fired timer does not fire twice"
    clock.set(due + timedelta(hours=1))
    escalation = next(t for t in open_tasks(db, outcome.instance.id) if t.role == "manager")
    assert complete(db, runtime, escalation.id, mariska).instance.status == "running"


def test_boundary_timer__an_interrupting_deadline_withdraws_the_task(
    db: Database, runtime: Runtime, make_user: UserFactory, deadline_form: Path
) -> None:
    deploy(db, write(deadline_form, "d.bpmn", deadline_process('"PT48H"', interrupting=True)))
    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    fire_due_timers(db, runtime, now=START + timedelta(hours=48))

    assert [t.name for t in open_tasks(db, outcome.instance.id)] == ["Escaleer te late terugkoppeling"]


def test_boundary_timer__completing_in_time_cancels_the_deadline(
    db: Database, runtime: Runtime, make_user: UserFactory, deadline_form: Path
) -> None:
    deploy(db, write(deadline_form, "d.bpmn", deadline_process('"P5D"', interrupting=True)))
    sven = make_user("sven", "screener")
    outcome = start(db, runtime, "deadline", sven)

    done = complete(db, runtime, outcome.next_tasks[0].id, sven, {"klaar": True})

    assert done.instance.status == "completed"
    assert done.instance.next_timer_due_at is None
    assert fire_due_timers(db, runtime, now=START + timedelta(days=30)) == []


def test_timer_date__computed_from_process_data_and_stored_in_utc(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "datum.json",
        {"type": "object", "properties": {"uiterlijk": {"type": "string", "format": "date"}}},
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Kies datum", "datum")
        + '<bpmn:intermediateCatchEvent id="W" name="Wacht tot datum"><bpmn:timerEventDefinition><bpmn:timeDate>'
        "iso(end_of_day(parse_date(uiterlijk)))</bpmn:timeDate></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        + user_task("T2", "Na de datum")
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "W")
        + flow("F3", "W", "T2")
        + flow("F4", "T2", "E")
    )
    deploy(db, write(tmp_path, "w.bpmn", process(body, process_id="wacht")))
    anna = make_user("anna")
    outcome = start(db, runtime, "wacht", anna)

    waiting = complete(db, runtime, outcome.next_tasks[0].id, anna, {"uiterlijk": "2026-03-10"})

    expected = datetime(2026, 3, 10, 22, 59, 59, tzinfo=UTC)  # 23:59:59 CET
    assert waiting.instance.status == "waiting"
    assert waiting.instance.next_timer_due_at == expected
    assert waiting.instance.next_timer_due_at.tzinfo == UTC
    fire_due_timers(db, runtime, now=expected)
    assert [t.name for t in open_tasks(db, outcome.instance.id)] == ["Na de datum"]
    assert instance_row(db, outcome.instance.id).status == "running"


def test_timer_date__without_offset_is_an_error_not_a_guess(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    body = (
        '<bpmn:startEvent id="S"/><bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDate>'
        '"2026-04-01T09:00:00"</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        '<bpmn:endEvent id="E"/>' + flow("F1", "S", "W") + flow("F2", "W", "E")
    )
    deploy(db, write(tmp_path, "n.bpmn", process(body, process_id="naive")))

    outcome = start(db, runtime, "naive", make_user("anna"))

    assert (outcome.instance.status, outcome.instance.error_element) == ("error", "W")
    assert "no UTC offset" in (outcome.instance.error_message or "")


def test_timer_cycle__reminds_a_fixed_number_of_times(
    db: Database, runtime: Runtime, make_user: UserFactory, deadline_form: Path
) -> None:
    deploy(db, write(deadline_form, "c.bpmn", deadline_process('"R2/P1D"', kind="timeCycle")))
    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    for day in (1, 2, 3):
        fire_due_timers(db, runtime, now=START + timedelta(days=day))

    names = sorted(t.name for t in open_tasks(db, outcome.instance.id))
    assert names == ["Escaleer te late terugkoppeling"] * 2 + ["Koppel terug aan melder"]
    assert instance_row(db, outcome.instance.id).next_timer_due_at is None


def test_fire_due_timers__only_touches_due_instances(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, deadline_form: Path
) -> None:
    deploy(db, write(deadline_form, "d.bpmn", deadline_process('"P5D"')))
    sven = make_user("sven", "screener")
    early = start(db, runtime, "deadline", sven)
    clock.advance(timedelta(days=3))
    late = start(db, runtime, "deadline", sven)
    before = instance_row(db, late.instance.id).lock_version

    fired = fire_due_timers(db, runtime, now=START + timedelta(days=6))

    assert [f.instance_id for f in fired] == [early.instance.id]
    assert instance_row(db, late.instance.id).lock_version == before


def test_boundary_timer__deadline_comes_from_a_property_the_process_owner_can_change(
    db: Database, runtime: Runtime, make_user: UserFactory, deadline_form: Path
) -> None:
    settings = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="termijn" value="P3D"/></spiffworkflow:properties></bpmn:extensionElements>'
    )
    xml = deadline_process("termijn").replace('cancelActivity="false">', f'cancelActivity="false">{settings}')
    deploy(db, write(deadline_form, "d.bpmn", xml))

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    assert outcome.next_tasks[0].due_at == START + timedelta(days=3)


def test_boundary_timer__a_task_that_opens_after_its_deadline_shows_as_overdue(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, deadline_form: Path
) -> None:
    xml = deadline_process("iso(now() - timedelta(days=1))", kind="timeDate")
    deploy(db, write(deadline_form, "d.bpmn", xml))

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    tasks = {t.name: t.due_at for t in open_tasks(db, outcome.instance.id)}
    assert tasks["Koppel terug aan melder"] == START - timedelta(days=1)
    assert "Escaleer te late terugkoppeling" in tasks
