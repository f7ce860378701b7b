"""Inbox pages at any depth: keyset pages in every order and direction, over several audiences, forward and back,
and counts that stop at COUNT_CAP instead of reading every task a user may see."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from engine.clock import FixedClock
from engine.db import Database
from engine.inbox import COUNT_CAP, Count, InboxPage, InboxQuery, InboxRow, inbox, tab_counts
from engine.models import NO_DEADLINE, HumanTask, User
from engine.runtime import Runtime
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import deploy, start
from tests.statements import query_plan, sent_statements

PER_PAGE = 7
ORDERS = [(sort, descending) for sort in ("due", "received", "case", "process") for descending in (False, True)]


def _one_step(process_id: str, name: str, lane: str) -> str:
    body = '<bpmn:startEvent id="S"/>' + user_task("T", f"Stap van {name}") + '<bpmn:endEvent id="E"/>'
    body += flow("F1", "S", "T") + flow("F2", "T", "E")
    return process(body, process_id=process_id, name=name, lanes={"Melder": ["S"], lane: ["T", "E"]})


@pytest.fixture
def sven(db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path) -> User:
    """A screener and procesregisseur with tasks in both queues and on their own name: 45 in the open tab, 6 in
    mine; deadlines, receipt times and case numbers repeat, so each order needs its last key (the id) to page."""
    deploy(db, write(tmp_path, "screening.bpmn", _one_step("screening", "Screening", "Screener")))
    deploy(db, write(tmp_path, "regie.bpmn", _one_step("regie", "Procesregie", "Procesregisseur")))
    melder, sven = make_user("mila"), make_user("sven", "screener", "procesregisseur")
    for n in range(51):
        if n % 4 == 0:
            clock.advance(timedelta(minutes=1))  # four cases at a time are received in the same second
        start(db, runtime, "screening" if n % 3 else "regie", melder)
    with db.transaction() as session:
        tasks = session.scalars(select(HumanTask).order_by(HumanTask.case_number)).all()
        for n, task in enumerate(tasks):
            task.due_at = None if n % 5 == 0 else START + timedelta(days=n % 4)  # ties, and tasks without one
            task.due_sort = task.due_at or NO_DEADLINE
            task.case_number = f"ZVH-2026-{n % 20:05d}"  # one number for several tasks: a case with parallel steps
        for task in tasks[:6]:
            runtime.claim_task(session, task_id=task.id, actor=sven)
    return sven


def _key(row: InboxRow, sort: str) -> tuple[Any, ...]:
    due = row.due_at or NO_DEADLINE
    return {
        "due": (due, row.created_at, row.id),
        "received": (row.created_at, row.id),
        "case": (row.case_number, row.id),
        "process": (row.process_name, due, row.id),
    }[sort]


def _page(db: Database, user: User, query: InboxQuery) -> InboxPage:
    with db.reader() as session:
        return inbox(session, user=user, query=query, now=START)


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_pages__walked_forward_and_back_hold_every_task_once_in_the_order(
    db: Database, sven: User, sort: str, descending: bool
) -> None:
    base = InboxQuery(sort=sort, descending=descending, per_page=PER_PAGE)  # type: ignore[arg-type]
    everything = _page(db, sven, InboxQuery(sort=sort, descending=descending, per_page=1000))  # type: ignore[arg-type]

    forward: list[list[str]] = []
    page = _page(db, sven, base)
    assert page.previous_cursor is None, "the first page has no previous one"
    while True:
        forward.append([row.id for row in page.tasks])
        if page.next_cursor is None:
            break
        page = _page(db, sven, InboxQuery(**{**base.__dict__, "after": page.next_cursor}))
    backward: list[list[str]] = []
    while page.previous_cursor is not None:
        page = _page(db, sven, InboxQuery(**{**base.__dict__, "before": page.previous_cursor}))
        backward.insert(0, [row.id for row in page.tasks])

    expected = sorted(everything.tasks, key=lambda row: _key(row, sort), reverse=descending)
    assert len(expected) == 45 and everything.total == 45 and not everything.capped
    assert [row.id for row in everything.tasks] == [row.id for row in expected], "the database's order is the key's"
    assert [task for tasks in forward for task in tasks] == [row.id for row in expected]
    assert [len(tasks) for tasks in forward] == [PER_PAGE] * 6 + [3]
    assert backward == forward[:-1], "reading back gives the same pages"
    assert page.tasks and page.previous_cursor is None and page.next_cursor is not None


def test_numbered_pages__are_the_keyset_pages(db: Database, sven: User) -> None:
    by_cursor = _page(db, sven, InboxQuery(per_page=PER_PAGE))
    second = _page(db, sven, InboxQuery(per_page=PER_PAGE, after=by_cursor.next_cursor))
    numbered = _page(db, sven, InboxQuery(per_page=PER_PAGE, page=2))

    assert [row.id for row in numbered.tasks] == [row.id for row in second.tasks]
    assert numbered.next_cursor == second.next_cursor and numbered.previous_cursor is not None
    assert _page(db, sven, InboxQuery(per_page=PER_PAGE, page=8)).tasks == [], "past the end: no rows, no error"


def _token(content: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _token("nonsense"),
        "!!!",
        _token(["case", False, ["ZVH-2026-00001", "a"]]),  # a cursor of another order
        _token(["due", True, ["2026-03-02T09:00:00+00:00", "2026-03-02T09:00:00+00:00", "a"]]),  # other direction
        _token(["due", False, ["2026-03-02T09:00:00", "2026-03-02T09:00:00+00:00", "a"]]),  # a naive time
        _token(["due", False, [1, 2, 3]]),  # numbers instead of times
        _token(["due", False, ["2026-03-02T09:00:00+00:00", "a"]]),  # too short
    ],
)
def test_cursor__that_does_not_fit_the_order_gives_the_first_page(db: Database, sven: User, cursor: str) -> None:
    first = _page(db, sven, InboxQuery(per_page=PER_PAGE))

    for position in ("after", "before"):
        page = _page(db, sven, replace(InboxQuery.from_dict({position: cursor}), per_page=PER_PAGE))
        assert [row.id for row in page.tasks][:PER_PAGE] == [row.id for row in first.tasks], position


def test_page_after_tasks_that_were_completed__is_the_last_page(db: Database, runtime: Runtime, sven: User) -> None:
    first = _page(db, sven, InboxQuery(per_page=40))
    assert first.next_cursor is not None
    with db.transaction() as session:  # the tasks after the cursor go (colleagues completed them)
        session.execute(delete(HumanTask).where(HumanTask.id.not_in([row.id for row in first.tasks[:30]])))
    after = _page(db, sven, InboxQuery(per_page=20, after=first.next_cursor))

    assert [row.id for row in after.tasks] == [row.id for row in first.tasks[10:30]], "the last 20 that are left"
    assert after.next_cursor is None and after.previous_cursor is not None
    back = _page(db, sven, InboxQuery(per_page=20, before=after.previous_cursor))
    assert [row.id for row in back.tasks] == [row.id for row in first.tasks[:10]]
    assert back.previous_cursor is None


def _more_tasks(db: Database, count: int, **values: Any) -> None:
    """`count` copies of an open task's inbox row with new ids (the inbox reads only the projection)."""
    with db.reader() as session:
        model = session.scalars(select(HumanTask).where(HumanTask.audience == "role:screener")).first()
        assert model is not None
        row = {column.key: getattr(model, column.key) for column in HumanTask.__table__.columns}
    rows = [{**row, **values, "id": str(uuid.uuid4()), "case_number": f"ZVH-2025-{n:05d}"} for n in range(count)]
    with db.engine.begin() as connection:
        connection.execute(insert(HumanTask), rows)


def test_counts__stop_at_the_cap_and_say_there_are_more(db: Database, sven: User) -> None:
    _more_tasks(db, COUNT_CAP)
    with db.reader() as session:
        counts = tab_counts(session, user=sven)
    page = _page(db, sven, InboxQuery())
    regie = _page(db, sven, InboxQuery(process="regie"))

    assert counts == {"mine": Count(6), "open": Count(COUNT_CAP, capped=True)}
    assert (page.total, page.capped, len(page.tasks)) == (COUNT_CAP, True, 50)
    assert (regie.total, regie.capped) == (15, False), "a filter with fewer tasks is counted exactly"


def test_count__of_exactly_the_cap_is_not_capped(db: Database, sven: User) -> None:
    with db.reader() as session:
        have = tab_counts(session, user=sven)["open"].total
    _more_tasks(db, COUNT_CAP - have)
    with db.reader() as session:
        assert tab_counts(session, user=sven)["open"] == Count(COUNT_CAP)


def test_page__reads_each_audience_on_the_index_of_its_order(db: Database, sven: User) -> None:
    """Every order is an index range per audience (SQLite's plan names the index and sorts only the merged page)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses by statistics; the flat figures are in bench/scale_bench.py")
    with sent_statements(db.engine) as sent:
        for sort, _ in ORDERS[::2]:
            _page(db, sven, InboxQuery(sort=sort))  # type: ignore[arg-type]
    merged = [(statement, parameters) for statement, parameters in sent if "UNION ALL" in statement]
    statements = [(statement, parameters) for statement, parameters in merged if "count(" not in statement]
    counts = [(statement, parameters) for statement, parameters in merged if "count(" in statement]
    indexes = {
        "due": "ix_human_tasks_inbox ",
        "received": "ix_human_tasks_inbox_received",
        "case": "ix_human_tasks_inbox_case",
        "process": "ix_human_tasks_inbox_process",
    }
    assert len(statements) == 4 and len(counts) == 4
    for (statement, parameters), index in zip(statements, indexes.values(), strict=True):
        plan = query_plan(db.engine, statement, parameters)
        assert plan.count(f"INDEX {index.strip()} (audience=?") >= 3, plan
        assert "SCAN human_tasks\n" not in plan + "\n", plan
    for statement, parameters in counts:  # each audience's range, read up to the cap
        plan = query_plan(db.engine, statement, parameters)
        assert plan.count("(audience=?)") >= 3 and "SCAN human_tasks\n" not in plan + "\n", plan
