"""The 404 and 409 answers look a task up in the audit log by `task_id`: every such lookup searches
`ix_audit_events_task_id` (no scan that grows with the log), and still finds a completed task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

from engine.assignment import open_task
from engine.db import Database
from engine.deadlines import deadline
from engine.errors import Conflict, NotFound
from engine.models import AuditEvent, User
from engine.privacy.accesslog import record_refusal
from engine.runtime import Runtime
from tests.conftest import START, UserFactory
from tests.engine.test_runtime import BENCH, complete, deploy, start
from tests.statements import query_plan, sent_statements
from web.api.routes import _COMPLETED_IN

INDEX = "ix_audit_events_task_id"
#: Enough other rows that PostgreSQL's planner prefers an index over a sequential scan when one fits.
OTHER_EVENTS = 3000

Lookup = tuple[str, Any]


@pytest.fixture
def completed(db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path) -> dict[str, Any]:
    """One completed task in a case, amid audit events of other tasks (about a fifth of them `complete`)."""
    for item in BENCH.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    deploy(db, tmp_path / "three_user_tasks.bpmn")
    anna = make_user("anna")
    first = start(db, runtime, "Process_three_user_tasks", anna)
    task_id = first.next_tasks[0].id
    complete(db, runtime, task_id, anna, {"field1": "waarde"})
    actions = ("complete", "read", "claim", "start", "save")
    rows = [
        {
            "at": datetime(2026, 1, 1, tzinfo=UTC),
            "actor": "other",
            "action": actions[n % len(actions)],
            "task_id": str(uuid.UUID(int=n + 1)),
            "summary": "another task",
            "outcome": "allowed",
        }
        for n in range(OTHER_EVENTS)
    ]
    with db.engine.begin() as connection:
        connection.execute(insert(AuditEvent), rows)
    return {"task_id": task_id, "instance_id": first.instance.id, "anna": anna}


def task_lookups(sent: list[Lookup]) -> list[Lookup]:
    """The SELECTs whose WHERE clause searches audit_events by task_id, with their parameters."""
    return [
        (statement, parameters)
        for statement, parameters in sent
        if statement.lstrip().startswith("SELECT") and "audit_events.task_id =" in statement.partition("WHERE")[2]
    ]


def answers(db: Database, runtime: Runtime, task_id: str, user: User) -> list[str]:
    """What the 404/409 paths answer for `task_id`: open_task, the deadline page, the refusal log, the API."""
    found: list[str] = []
    with db.transaction() as session:
        for call in (
            lambda: open_task(session, task_id),
            lambda: deadline(session, runtime, task_id=task_id, actor=user, at=START),
        ):
            try:
                call()
                found.append("open")
            except Conflict:
                found.append("409")
            except NotFound:
                found.append("404")
        logged = record_refusal(session, user=user, object_type="task", task_id=task_id, at=START)
        found.append(f"refusal logged: {logged}")
        found.append(f"api: {session.scalar(_COMPLETED_IN, {'task_id': task_id})}")
    return found


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-statistics", "analyzed"])
def test_not_found_and_double_submit__search_the_task_id_index(
    db: Database, runtime: Runtime, completed: dict[str, Any], analyzed: bool
) -> None:
    if analyzed:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    unknown = str(uuid.uuid4())

    with sent_statements(db.engine) as sent:
        not_found = answers(db, runtime, unknown, completed["anna"])
        double = answers(db, runtime, completed["task_id"], completed["anna"])
    lookups = task_lookups(sent)

    assert not_found == ["404", "404", "refusal logged: False", "api: None"]
    assert double == ["409", "409", "refusal logged: True", f"api: {completed['instance_id']}"]
    assert len(lookups) >= 8, "each path searched the audit log by task id"
    for statement, parameters in lookups:
        plan = query_plan(db.engine, statement, parameters)
        assert INDEX in plan, f"{statement}\n{plan}"
        assert "SCAN audit_events" not in plan and "Seq Scan" not in plan, plan
