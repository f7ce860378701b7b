"""The stored state of an instance is bounded: a person's step that outgrows it is refused, a system step stops."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.errors import InvalidInput
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import (
    SCRIPT_AFTER_TASK,
    audit_actions,
    complete,
    deploy,
    instance_row,
    open_tasks,
    start,
)

#: 31,457 bytes: a few kB of typed text fits, a copy made four times over does not.
LIMIT_MB = 0.03


def growing_process() -> str:
    """Text is typed in T1; after a one-hour timer a script makes the data five times as large."""
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Invoer", "tekst")
        + '<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"'
        "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        + '<bpmn:scriptTask id="Dup" name="Verveelvoudig"><bpmn:script>kopie = tekst * 4</bpmn:script>'
        "</bpmn:scriptTask>"
        + user_task("T2", "Daarna")
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "W")
        + flow("F3", "W", "Dup")
        + flow("F4", "Dup", "T2")
        + flow("F5", "T2", "E")
    )
    return process(body, process_id="groei")


@pytest.fixture
def small_runtime(clock: FixedClock) -> Runtime:
    return Runtime(clock=clock, script_time_budget=1.0, max_instance_data_mb=LIMIT_MB)


@pytest.fixture
def growing(db: Database, tmp_path: Path) -> str:
    write(tmp_path, "tekst.json", {"type": "object", "properties": {"tekst": {"type": "string"}}})
    deploy(db, write(tmp_path, "groei.bpmn", growing_process()), search_paths=[tmp_path])
    return "groei"


def test_complete__data_beyond_the_limit_is_refused_and_nothing_is_stored(
    db: Database, small_runtime: Runtime, make_user: UserFactory, growing: str
) -> None:
    anna = make_user("anna")
    outcome = start(db, small_runtime, growing, anna)
    before = instance_row(db, outcome.instance.id)

    with pytest.raises(InvalidInput) as refused:
        complete(db, small_runtime, outcome.next_tasks[0].id, anna, {"tekst": "x" * 40_000})

    assert refused.value.fields == {}, "not one field's fault: the case as a whole grows too large"
    assert refused.value.message.startswith("De gegevens van deze zaak worden te groot (0,04 MB, maximaal 0,03 MB)")
    after = instance_row(db, outcome.instance.id)
    assert (after.status, after.lock_version, after.state) == ("running", before.lock_version, before.state)
    assert [t.name for t in open_tasks(db, outcome.instance.id)] == ["Invoer"]
    assert audit_actions(db, outcome.instance.id) == ["start"]


def test_timer__a_step_beyond_the_limit_puts_the_instance_in_error_and_keeps_the_state_before_it(
    db: Database, small_runtime: Runtime, clock: FixedClock, make_user: UserFactory, growing: str
) -> None:
    anna, bea = make_user("anna"), make_user("bea", "beheerder")
    outcome = start(db, small_runtime, growing, anna)
    waiting = complete(db, small_runtime, outcome.next_tasks[0].id, anna, {"tekst": "x" * 8_000})
    assert waiting.instance.status == "waiting"
    state_before = instance_row(db, outcome.instance.id).state

    fire_due_timers(db, small_runtime, now=clock.now() + timedelta(hours=2))

    failed = instance_row(db, outcome.instance.id)
    assert failed.status == "error"
    assert "worden te groot" in (failed.error_message or "") and "maximaal 0,03 MB" in (failed.error_message or "")
    assert failed.state == state_before, "the oversized state was never written"
    assert failed.next_timer_due_at is None and open_tasks(db, outcome.instance.id) == []
    assert audit_actions(db, outcome.instance.id)[-1] == "error"
    with db.reader() as session:
        assert small_runtime.load(session, outcome.instance.id).current_data()["tekst"] == "x" * 8_000

    with db.transaction() as session:  # a retry waits for the timer again, and the step outgrows the limit again
        assert small_runtime.retry_instance(session, instance_id=outcome.instance.id, actor=bea).instance.status == (
            "waiting"
        )
    fire_due_timers(db, small_runtime, now=clock.now() + timedelta(hours=3))
    assert instance_row(db, outcome.instance.id).status == "error"


def test_retry__corrected_data_beyond_the_limit_is_refused_and_the_instance_stays_in_error(
    db: Database, small_runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "deler.json", {"type": "object", "properties": {"deler": {"type": "integer"}}})
    deploy(db, write(tmp_path, "s.bpmn", SCRIPT_AFTER_TASK))
    anna, bea = make_user("anna"), make_user("bea", "beheerder")
    task_id = start(db, small_runtime, "script_error", anna).next_tasks[0].id
    failed = complete(db, small_runtime, task_id, anna, {"deler": 0})

    with pytest.raises(InvalidInput, match="worden te groot"), db.transaction() as session:
        small_runtime.retry_instance(
            session, instance_id=failed.instance.id, actor=bea, data={"deler": 2, "bijlage": "x" * 40_000}
        )

    assert instance_row(db, failed.instance.id).status == "error"
    assert "division by zero" in (instance_row(db, failed.instance.id).error_message or "")
    assert "retry" not in audit_actions(db, failed.instance.id)


def test_limit__a_step_within_it_is_stored_as_always(
    db: Database, small_runtime: Runtime, clock: FixedClock, make_user: UserFactory, growing: str
) -> None:
    anna = make_user("anna")
    outcome = start(db, small_runtime, growing, anna)
    complete(db, small_runtime, outcome.next_tasks[0].id, anna, {"tekst": "x" * 100})

    fire_due_timers(db, small_runtime, now=clock.now() + timedelta(hours=2))

    assert [t.name for t in open_tasks(db, outcome.instance.id)] == ["Daarna"]


def test_settings__the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZVH_MAX_INSTANCE_DATA_MB", raising=False)
    assert Runtime.from_settings(Settings.from_env()).max_instance_data_mb == 5

    monkeypatch.setenv("ZVH_MAX_INSTANCE_DATA_MB", "12.5")
    runtime = Runtime.from_settings(Settings.from_env())

    assert runtime.max_instance_data_mb == 12.5
    assert runtime.with_clock(runtime.clock).max_instance_data_mb == 12.5
