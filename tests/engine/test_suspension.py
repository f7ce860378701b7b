"""Pausing and resuming a case's legal deadlines (engine.suspension) and extending them within the process's maximum
(engine.deadlines): a paused legal deadline never fires, other timers do; resuming moves the timers and the data
fields by the paused days (then off a weekend or holiday), so nothing fires at the resume itself; every pause,
resume and extension is audited with its reason; refusals change nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import take_part
from engine.clock import FixedClock
from engine.db import Database
from engine.deadlines import extend_deadline
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.holidays import LOCAL
from engine.models import AuditEvent, DeadlinePause, User
from engine.monitor import monitor_counts, monitor_rows
from engine.runtime import Runtime
from engine.spiff import SUSPENDED_SINCE
from engine.suspension import open_pauses, resume_deadlines, suspend_deadlines
from engine.timers import fire_due_timers
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import audit_actions, complete, deploy, instance_row, open_tasks, start


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)  # type: ignore[misc]


DEADLINE = local(2026, 3, 6, 17)  # Friday; START is Monday 02-03-2026 09:00


def _legal_timer(event_id: str, attached_to: str) -> str:
    return (
        f'<bpmn:boundaryEvent id="{event_id}" name="Termijn verlopen" attachedToRef="{attached_to}" '
        'cancelActivity="false"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="wettelijke_termijn" value="deadline, uiterste_datum"/>'
        '<spiffworkflow:property name="verlenging_max" value="P2M"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        "<bpmn:timerEventDefinition><bpmn:timeDate>deadline</bpmn:timeDate></bpmn:timerEventDefinition>"
        "</bpmn:boundaryEvent>"
    )


def legal_process(*, starter: str = "Privacyfunctionaris") -> str:
    """Identiteit vaststellen, then Besluiten, each guarded by the legal deadline Friday 06-03-2026 17:00 (fields
    `deadline` and `uiterste_datum`, at most two months' extension); a parallel reminder after five days is no legal
    deadline. The start event is in the `starter` lane."""
    script = f'uiterste_datum = "2026-03-06"\ndeadline = "{DEADLINE.isoformat()}"'
    body = (
        '<bpmn:startEvent id="S"/>'
        + f'<bpmn:scriptTask id="Calc" name="Termijn berekenen"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
        + user_task("T1", "Identiteit vaststellen", "deadline")
        + _legal_timer("Late1", "T1")
        + '<bpmn:parallelGateway id="Fork"/>'
        + '<bpmn:intermediateCatchEvent id="Remind" name="Herinnering">'
        + '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        + "</bpmn:intermediateCatchEvent>"
        + user_task("T2", "Besluiten", "deadline")
        + _legal_timer("Late2", "T2")
        + user_task("Esc", "Termijn verstreken")
        + user_task("Rem", "Herinnering opvolgen")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/><bpmn:endEvent id="E3"/>'
        + flow("F1", "S", "Calc")
        + flow("F2", "Calc", "Fork")
        + flow("F10", "Fork", "T1")
        + flow("F11", "Fork", "Remind")
        + flow("F3", "T1", "T2")
        + flow("F4", "T2", "E1")
        + flow("F5", "Late1", "Esc")
        + flow("F6", "Late2", "Esc")
        + flow("F7", "Esc", "E2")
        + flow("F8", "Remind", "Rem")
        + flow("F9", "Rem", "E3")
    )
    lanes = {
        "Privacyfunctionaris": ["Calc", "Fork", "T1", "T2", "E1", "Remind", "Rem", "E3"],
        "Manager": ["Esc", "E2"],
    }
    lanes[starter] = ["S", *lanes.get(starter, [])]
    return process(body, process_id="legal", lanes=lanes)


@pytest.fixture
def case(db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path) -> dict[str, Any]:
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "legal.bpmn", legal_process()))
    petra = make_user("petra", "privacyfunctionaris")
    outcome = start(db, runtime, "legal", petra)
    return {"instance_id": outcome.instance.id, "task_id": outcome.next_tasks[0].id, "petra": petra}


def suspend(db: Database, runtime: Runtime, instance_id: int, actor: User, reason: str = "Wacht op ID") -> Any:
    with db.transaction() as session:
        return suspend_deadlines(
            session, runtime, instance_id=instance_id, actor=actor, reason=reason, at=runtime.clock.now()
        )


def resume(db: Database, runtime: Runtime, instance_id: int, actor: User, reason: str = "ID ontvangen") -> Any:
    with db.transaction() as session:
        return resume_deadlines(
            session, runtime, instance_id=instance_id, actor=actor, reason=reason, at=runtime.clock.now()
        )


def task_data(db: Database, runtime: Runtime, instance_id: int, task_id: str) -> dict[str, Any]:
    with db.reader() as session:
        return dict(runtime.load(session, instance_id).find_task(task_id).data)


def due(db: Database, instance_id: int) -> dict[str, datetime | None]:
    return {t.name: t.due_at for t in open_tasks(db, instance_id)}


def test_pause__the_legal_deadline_waits_other_timers_fire_and_resume_moves_it_by_the_paused_days(
    db: Database, runtime: Runtime, clock: FixedClock, case: dict[str, Any]
) -> None:
    instance_id, petra = case["instance_id"], case["petra"]
    clock.set(local(2026, 3, 3, 9))
    suspend(db, runtime, instance_id, petra)

    assert instance_row(db, instance_id).next_timer_due_at == local(2026, 3, 7, 9), "only the reminder is next"
    with db.reader() as session:
        assert open_pauses(session, [instance_id])[instance_id].reason == "Wacht op ID"
    fired = fire_due_timers(db, runtime, now=local(2026, 3, 7, 10))
    assert [f.element_ids for f in fired] == [["Remind"]], "the other timer fires, the paused deadline does not"
    assert fire_due_timers(db, runtime, now=local(2026, 3, 11, 12)) == [], "long past the old deadline: nothing"
    assert instance_row(db, instance_id).next_timer_due_at is None

    clock.set(local(2026, 3, 12, 9))  # nine days paused: more than the three days and eight hours that were left
    resume(db, runtime, instance_id, petra)

    moved = local(2026, 3, 16, 17)  # Friday 06-03 + 9 days = Sunday 15-03: Monday 16-03 (Algemene termijnenwet)
    assert due(db, instance_id)["Identiteit vaststellen"] == moved
    assert instance_row(db, instance_id).next_timer_due_at == moved
    data = task_data(db, runtime, instance_id, case["task_id"])
    assert (data["uiterste_datum"], datetime.fromisoformat(data["deadline"])) == ("2026-03-16", moved)
    assert SUSPENDED_SINCE not in data
    assert fire_due_timers(db, runtime, now=local(2026, 3, 12, 9)) == [], "nothing fires at the resume"
    assert fire_due_timers(db, runtime, now=local(2026, 3, 16, 16, 59)) == []
    assert [f.element_ids for f in fire_due_timers(db, runtime, now=moved)] == [["Late1"]]
    assert audit_actions(db, instance_id).count("suspend") == 1
    with db.reader() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "resume")).one()
        pause = session.scalars(select(DeadlinePause)).one()
    assert event.details is not None
    assert (event.details["reason"], event.details["days"]) == ("ID ontvangen", 9)
    assert (pause.ended_at, pause.ended_by_id) == (local(2026, 3, 12, 9), petra.id)


def test_pause__a_legal_deadline_that_starts_waiting_during_the_pause_also_waits(
    db: Database, runtime: Runtime, clock: FixedClock, case: dict[str, Any]
) -> None:
    instance_id, petra = case["instance_id"], case["petra"]
    clock.set(local(2026, 3, 3, 9))
    suspend(db, runtime, instance_id, petra)
    clock.set(local(2026, 3, 4, 9))
    complete(db, runtime, case["task_id"], petra, {"klaar": True})

    assert [f.element_ids for f in fire_due_timers(db, runtime, now=local(2026, 3, 9, 9))] == [["Remind"]]
    clock.set(local(2026, 3, 10, 9))
    resume(db, runtime, instance_id, petra)

    assert due(db, instance_id) == {
        "Besluiten": local(2026, 3, 13, 17),
        "Herinnering opvolgen": None,
    }  # Friday 06-03 + 7 days
    assert fire_due_timers(db, runtime, now=local(2026, 3, 13, 16)) == []
    assert [f.element_ids for f in fire_due_timers(db, runtime, now=local(2026, 3, 13, 17))] == [["Late2"]]


def test_pause__refusals_are_clear_and_change_nothing(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, case: dict[str, Any]
) -> None:
    instance_id, petra = case["instance_id"], case["petra"]
    before = instance_row(db, instance_id).lock_version
    with pytest.raises(Conflict, match="niet opgeschort"):
        resume(db, runtime, instance_id, petra)
    with pytest.raises(InvalidInput) as empty:
        suspend(db, runtime, instance_id, petra, reason="  ")
    assert "reason" in empty.value.fields
    sven = make_user("sven", "screener")
    with pytest.raises(NotFound):
        suspend(db, runtime, instance_id, sven)
    with db.transaction() as session:
        take_part(session, instance_id=instance_id, user_id=sven.id, reason="added", at=clock.now())
    with pytest.raises(PermissionDenied):
        suspend(db, runtime, instance_id, sven)
    assert instance_row(db, instance_id).lock_version == before
    assert audit_actions(db, instance_id).count("suspend") == 0

    suspend(db, runtime, instance_id, make_user("coen", "coordinator"))
    after_pause = instance_row(db, instance_id).lock_version
    with pytest.raises(Conflict, match="al opgeschort sinds 02-03-2026 09:00"):
        suspend(db, runtime, instance_id, petra)
    assert instance_row(db, instance_id).lock_version == after_pause
    with db.reader() as session:
        assert len(session.scalars(select(DeadlinePause)).all()) == 1


def test_extend__a_legal_deadline_moves_its_data_fields_and_stays_within_the_maximum(
    db: Database, runtime: Runtime, make_user: UserFactory, case: dict[str, Any]
) -> None:
    coen = make_user("coen", "coordinator")

    def extend(until: datetime) -> Any:
        with db.transaction() as session:
            return extend_deadline(
                session,
                runtime,
                task_id=case["task_id"],
                actor=coen,
                until=until,
                reason="Complex",
                at=runtime.clock.now(),
            )

    with pytest.raises(InvalidInput) as beyond:
        extend(local(2026, 5, 7, 9))
    assert beyond.value.fields["until"] == [
        "Deze wettelijke termijn mag in totaal ten hoogste 2 maanden worden verlengd: kies uiterlijk 06-05-2026 17:00."
    ]
    extend(local(2026, 4, 6, 17))
    data = task_data(db, runtime, case["instance_id"], case["task_id"])
    assert (data["uiterste_datum"], datetime.fromisoformat(data["deadline"])) == ("2026-04-06", local(2026, 4, 6, 17))
    extend(local(2026, 5, 6, 17))
    with pytest.raises(InvalidInput, match="niet verlengd"):
        extend(local(2026, 5, 6, 18))
    assert due(db, case["instance_id"])["Identiteit vaststellen"] == local(2026, 5, 6, 17)


def test_monitor__a_paused_case_is_listed_as_paused_not_overdue(
    db: Database, runtime: Runtime, clock: FixedClock, case: dict[str, Any]
) -> None:
    instance_id = case["instance_id"]
    clock.set(local(2026, 3, 3, 9))
    suspend(db, runtime, instance_id, case["petra"])
    later = local(2026, 3, 9, 9)  # past the old deadline
    fire_due_timers(db, runtime, now=later)  # the reminder

    with db.reader() as session:
        rows = monitor_rows(session, now=later)
        counts = monitor_counts(session, now=later)

    assert [(r.category, r.reason, r.instance_id) for r in rows] == [("paused", "deadline_paused", instance_id)]
    assert (rows[0].waiting_since, rows[0].due_at, rows[0].message) == (local(2026, 3, 3, 9), DEADLINE, None)
    assert counts.by_category.get("overdue", 0) == 0
    assert counts.by_category["paused"] == 1
