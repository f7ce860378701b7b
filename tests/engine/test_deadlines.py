"""Extending a task's deadline (engine.deadlines): the boundary timer moves, the inbox and the case follow, the old
moment no longer fires and the new one does; only coordinators, managers and the case's procesregisseur may, with a
reason and a later moment, and a refusal changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import take_part
from engine.clock import FixedClock
from engine.db import Database
from engine.deadlines import Deadline, deadline, extend_deadline
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.models import AuditEvent, User
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from tests.conftest import START, UserFactory
from tests.engine.bpmn import write
from tests.engine.test_runtime import audit_actions, deploy, instance_row, open_tasks, start
from tests.engine.test_timers import deadline_process

DUE = START + timedelta(days=5)
LATER = START + timedelta(days=12)


@pytest.fixture
def case(db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path) -> dict[str, Any]:
    """A case whose open task "Koppel terug aan melder" (screener) must be done within five days."""
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "d.bpmn", deadline_process('"P5D"')))
    sven = make_user("sven", "screener")
    outcome = start(db, runtime, "deadline", sven)
    return {"instance_id": outcome.instance.id, "task_id": outcome.next_tasks[0].id, "screener": sven}


def extend(db: Database, runtime: Runtime, task_id: str, actor: User, until: datetime | None, reason: str = "Ziek"):
    with db.transaction() as session:
        return extend_deadline(
            session, runtime, task_id=task_id, actor=actor, until=until, reason=reason, at=runtime.clock.now()
        )


def state(db: Database, instance_id: int) -> tuple[Any, ...]:
    row = instance_row(db, instance_id)
    due = {t.name: t.due_at for t in open_tasks(db, instance_id)}
    return row.next_timer_due_at, row.lock_version, due, audit_actions(db, instance_id)


def test_extend__moves_the_deadline_and_the_timer_fires_at_the_new_moment_only(
    db: Database, runtime: Runtime, make_user: UserFactory, case: dict[str, Any]
) -> None:
    coen = make_user("coen", "coordinator")
    lock_before = instance_row(db, case["instance_id"]).lock_version

    extended = extend(db, runtime, case["task_id"], coen, LATER, reason="Melder is met vakantie")

    assert isinstance(extended, Deadline)
    assert extended.due_at == LATER
    row = instance_row(db, case["instance_id"])
    assert row.next_timer_due_at == LATER
    assert row.lock_version == lock_before + 1
    assert [t.due_at for t in open_tasks(db, case["instance_id"])] == [LATER]
    assert audit_actions(db, case["instance_id"])[-1] == "extend"
    assert fire_due_timers(db, runtime, now=DUE) == [], "the old moment no longer fires the timer"
    assert fire_due_timers(db, runtime, now=LATER - timedelta(seconds=1)) == []
    fired = fire_due_timers(db, runtime, now=LATER)
    assert [(f.instance_id, f.element_ids) for f in fired] == [(case["instance_id"], ["Late"])]
    names = {t.name for t in open_tasks(db, case["instance_id"])}
    assert names == {"Koppel terug aan melder", "Escaleer te late terugkoppeling"}


def test_extend__the_audit_event_keeps_the_old_and_new_moment_and_the_reason(
    db: Database, runtime: Runtime, make_user: UserFactory, case: dict[str, Any]
) -> None:
    extend(db, runtime, case["task_id"], make_user("coen", "coordinator"), LATER, reason="Melder is met vakantie")

    with db.reader() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "extend")).one()
    assert event.actor == "coen"
    assert event.task_id == case["task_id"]
    assert event.details is not None
    assert datetime.fromisoformat(event.details["from"]) == DUE
    assert datetime.fromisoformat(event.details["to"]) == LATER
    assert event.details["reason"] == "Melder is met vakantie"


def test_extend__the_procesregisseur_who_works_on_the_case_may_one_who_does_not_never_sees_it(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, case: dict[str, Any]
) -> None:
    pim = make_user("pim", "procesregisseur")
    with pytest.raises(NotFound):
        extend(db, runtime, case["task_id"], pim, LATER)
    with db.transaction() as session:
        take_part(session, instance_id=case["instance_id"], user_id=pim.id, reason="added", at=clock.now())

    assert extend(db, runtime, case["task_id"], pim, LATER).due_at == LATER


def test_extend__a_fired_deadline_moves_without_a_second_escalation(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, case: dict[str, Any]
) -> None:
    coen = make_user("coen", "coordinator")
    fire_due_timers(db, runtime, now=DUE)
    clock.set(DUE + timedelta(hours=2))
    with db.reader() as session:
        before = deadline(session, runtime, task_id=case["task_id"], actor=coen, at=clock.now())
    assert (before.due_at, before.fired) == (DUE, True)

    extend(db, runtime, case["task_id"], coen, LATER)

    due = {t.name: t.due_at for t in open_tasks(db, case["instance_id"])}
    assert due == {"Koppel terug aan melder": LATER, "Escaleer te late terugkoppeling": None}
    assert fire_due_timers(db, runtime, now=LATER + timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("who", "until", "reason", "refusal", "field"),
    [
        ("screener", LATER, "Ziek", PermissionDenied, None),
        ("coordinator", DUE - timedelta(hours=1), "Ziek", InvalidInput, "until"),
        ("coordinator", DUE, "Ziek", InvalidInput, "until"),
        ("coordinator", START - timedelta(hours=1), "Ziek", InvalidInput, "until"),
        ("coordinator", None, "Ziek", InvalidInput, "until"),
        ("coordinator", LATER, "   ", InvalidInput, "reason"),
    ],
    ids=["no-right", "earlier", "same-moment", "in-the-past", "no-moment", "no-reason"],
)
def test_extend__refusals_change_nothing(
    db: Database,
    runtime: Runtime,
    make_user: UserFactory,
    case: dict[str, Any],
    who: str,
    until: datetime | None,
    reason: str,
    refusal: type[Exception],
    field: str | None,
) -> None:
    actor = case["screener"] if who == "screener" else make_user("coen", "coordinator")
    before = state(db, case["instance_id"])

    with pytest.raises(refusal) as raised:
        extend(db, runtime, case["task_id"], actor, until, reason=reason)

    if field is not None:
        assert isinstance(raised.value, InvalidInput)
        assert field in raised.value.fields
    assert state(db, case["instance_id"]) == before


def test_extend__a_task_without_a_deadline_is_refused_with_a_clear_message(
    db: Database, runtime: Runtime, make_user: UserFactory, case: dict[str, Any]
) -> None:
    coen = make_user("coen", "coordinator")
    fire_due_timers(db, runtime, now=DUE)
    escalation = next(t for t in open_tasks(db, case["instance_id"]) if t.due_at is None)
    before = state(db, case["instance_id"])

    with pytest.raises(InvalidInput) as raised:
        extend(db, runtime, escalation.id, coen, LATER)

    assert raised.value.message == "Deze taak heeft geen termijn; er is niets te verlengen."
    assert state(db, case["instance_id"]) == before


def test_extend__an_unknown_task_is_not_found(db: Database, runtime: Runtime, make_user: UserFactory) -> None:
    with pytest.raises(NotFound):
        extend(db, runtime, "00000000-0000-0000-0000-000000000000", make_user("coen", "coordinator"), LATER)
