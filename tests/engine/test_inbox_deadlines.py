"""The inbox deadline of a task inside an enclosing step: the parallel branches of a sub-process or called process
with a boundary timer, the parallel instances of a multi-instance task and the rounds of a looping sub-process.
Every such task carries the enclosing deadline in its inbox row, so the "Verlopen" filter, the order by deadline and
the counts see them all (one index range, no workflow restored)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.db import Database
from engine.inbox import InboxQuery, inbox
from engine.models import User
from engine.runtime import Runtime
from engine.timers import fire_due_timers
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import complete, deploy, open_tasks, start
from tests.engine.test_timers import boundary

DEADLINE = START + timedelta(days=5)


def _branches(prefix: str = "") -> str:
    """Start, a parallel split into "Onderdak regelen" and two ID-bewijs steps after each other, join, end."""
    return (
        f'<bpmn:startEvent id="{prefix}SubS"/><bpmn:parallelGateway id="{prefix}Split"/>'
        + user_task("A", "Onderdak regelen")
        + user_task("B1", "ID-bewijs aanvragen")
        + user_task("B2", "ID-bewijs ophalen")
        + f'<bpmn:parallelGateway id="{prefix}Join"/><bpmn:endEvent id="{prefix}SubE"/>'
        + flow(f"{prefix}s1", f"{prefix}SubS", f"{prefix}Split")
        + flow(f"{prefix}s2", f"{prefix}Split", "A")
        + flow(f"{prefix}s3", f"{prefix}Split", "B1")
        + flow(f"{prefix}s4", "B1", "B2")
        + flow(f"{prefix}s5", "A", f"{prefix}Join")
        + flow(f"{prefix}s6", "B2", f"{prefix}Join")
        + flow(f"{prefix}s7", f"{prefix}Join", f"{prefix}SubE")
    )


def _around(activity: str) -> str:
    """A process whose one step `activity` (id "Step") has a non-interrupting five-day timer and an escalation."""
    body = (
        '<bpmn:startEvent id="S"/>'
        + activity
        + boundary("Late", "Step", '"P5D"', interrupting=False)
        + user_task("Esc", "Escalatie: niet op tijd")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "Step")
        + flow("F2", "Step", "E1")
        + flow("F3", "Late", "Esc")
        + flow("F4", "Esc", "E2")
    )
    nodes = ["S", "Step", "SubS", "Split", "A", "B1", "B2", "Join", "SubE", "E1", "Esc", "E2"]
    return process(body, process_id="basis", name="Basisvoorwaarden", lanes={"Screener": nodes})


def sub_process() -> str:
    return _around(f'<bpmn:subProcess id="Step" name="Basisvoorwaarden regelen">{_branches()}</bpmn:subProcess>')


def call_activity() -> str:
    called = (
        '<bpmn:process id="basis_deel" name="Basisvoorwaarden (deel)" isExecutable="true">'
        '<bpmn:laneSet id="LS2"><bpmn:lane id="L2" name="Screener">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ["SubS", "Split", "A", "B1", "B2", "Join"])
        + "<bpmn:flowNodeRef>SubE</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        + _branches()
        + "</bpmn:process>"
    )
    main = _around('<bpmn:callActivity id="Step" name="Basisvoorwaarden regelen" calledElement="basis_deel"/>')
    return main.replace("</bpmn:definitions>", called + "</bpmn:definitions>")


def multi_instance() -> str:
    loop = "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality>"
    loop += "</bpmn:multiInstanceLoopCharacteristics>"
    return _around(f'<bpmn:userTask id="Step" name="Standpunt partner">{loop}</bpmn:userTask>')


def looping_sub_process() -> str:
    loop = "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>False</bpmn:loopCondition>"
    loop += "</bpmn:standardLoopCharacteristics>"
    return _around(f'<bpmn:subProcess id="Step" name="Monitoren">{loop}{_branches()}</bpmn:subProcess>')


def overdue(db: Database, user: User, now: object) -> list[str]:
    with db.reader() as session:
        page = inbox(session, user=user, query=InboxQuery(due="overdue"), now=now)  # type: ignore[arg-type]
    return sorted(row.name for row in page.tasks)


@pytest.mark.parametrize("model", [sub_process, call_activity, looping_sub_process], ids=lambda m: m.__name__)
def test_parallel_branches__carry_the_deadline_of_the_enclosing_step(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path, model
) -> None:
    deploy(db, write(tmp_path, "basis.bpmn", model()))
    sven = make_user("sven", "screener")
    outcome = start(db, runtime, "basis", sven)
    tasks = {t.element_id: t for t in open_tasks(db, outcome.instance.id)}
    assert {key: task.due_at for key, task in tasks.items()} == {"A": DEADLINE, "B1": DEADLINE}

    clock.advance(timedelta(days=6))
    fire_due_timers(db, runtime, now=clock.now())
    complete(db, runtime, tasks["B1"].id, sven)  # the next step of a branch opens after the deadline passed

    due = {t.element_id: t.due_at for t in open_tasks(db, outcome.instance.id)}
    assert due == {"A": DEADLINE, "B2": DEADLINE, "Esc": None}
    assert overdue(db, sven, clock.now()) == ["ID-bewijs ophalen", "Onderdak regelen"]


def test_multi_instance__every_parallel_instance_carries_the_activitys_deadline(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy(db, write(tmp_path, "basis.bpmn", multi_instance()))
    sven = make_user("sven", "screener")
    outcome = start(db, runtime, "basis", sven)

    assert [t.due_at for t in open_tasks(db, outcome.instance.id)] == [DEADLINE] * 3
    assert overdue(db, sven, DEADLINE - timedelta(seconds=1)) == []
    assert overdue(db, sven, DEADLINE + timedelta(seconds=1)) == ["Standpunt partner"] * 3
