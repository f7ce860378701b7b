"""The round trips of one task completion: each statement is there for a reason, and nothing is read back that the
step already holds (the case row for the audit entry's person key, the starter's name after the UPDATE)."""

from __future__ import annotations

import re
from pathlib import Path

from engine.db import Database
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.test_runtime import BENCH, deploy, start
from tests.statements import sent_statements

#: SQLite takes the write lock with BEGIN IMMEDIATE; PostgreSQL's BEGIN is sent by the driver, not as a statement.
COMMON = [
    "SELECT human_tasks",  # the open task (engine.assignment.open_task)
    "SELECT instances",  # the case, its version joined, locked on PostgreSQL
    "INSERT completed_tasks",
    "DELETE human_tasks",  # the inbox projection of the case: the completed task goes...
    "INSERT human_tasks",  # ...the next one comes
    "UPDATE instances",  # state, business columns, lock_version
]
EXPECTED = {
    "sqlite": ["BEGIN IMMEDIATE", *COMMON, "SELECT audit_events", "INSERT audit_events"],
    "postgresql": [*COMMON, "SELECT pg_advisory_xact_lock", "SELECT nextval", "INSERT audit_events"],
}


def _kind(statement: str) -> str:
    words = statement.split()
    if words[0] in ("BEGIN", "COMMIT", "ROLLBACK"):
        return " ".join(words[:2]) if len(words) > 1 else words[0]
    if words[0] == "SELECT" and words[1].startswith(("pg_", "nextval")):
        return f"SELECT {words[1].split('(')[0]}"
    if words[0] == "SELECT":  # the table read from last (the case's select reads the starter's name in a sub-select)
        tables = re.findall(r"\bFROM\s+(\w+)", statement)
        return f"SELECT {tables[-1] if tables else '?'}"
    table = re.search(r"\b(?:INTO|UPDATE|FROM)\s+(\w+)", statement)
    return f"{words[0]} {table.group(1) if table else '?'}"


def test_completion__sends_the_statements_it_needs_and_no_more(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    for item in BENCH.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    deploy(db, tmp_path / "three_user_tasks.bpmn")
    anna = make_user("anna")
    task_id = start(db, runtime, "Process_three_user_tasks", anna).next_tasks[0].id
    with sent_statements(db.engine) as sent, db.transaction() as session:
        outcome = runtime.complete_task(session, task_id=task_id, actor=anna, data={"field1": "waarde"})
        assert outcome.instance.started_by_name == "anna"  # read with the row, not again after the UPDATE

    assert [_kind(statement) for statement, _ in sent] == EXPECTED[db.engine.dialect.name]
