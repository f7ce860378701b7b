"""Destruction: four eyes on lists, a running case ended first, and no trace of the person in the raw database files
(SQLite file and WAL; PostgreSQL table files after VACUUM) while every report figure stays the same."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.clock import FixedClock
from engine.db import Database
from engine.drafts import save_draft
from engine.errors import Conflict, NotFound, PermissionDenied
from engine.models import (
    AuditEvent,
    CompletedTask,
    DestructionList,
    Draft,
    HumanTask,
    Instance,
    InstancePerson,
    Notification,
    Participant,
    User,
)
from engine.monitor import heat_map, monitor_counts, throughput
from engine.privacy.destruction import (
    DESTROYED_STATE,
    destroy_case,
    destroy_directly,
    execute_list,
    list_items,
    propose_list,
    purge_freed_space,
    review_list,
)
from engine.privacy.retention import due_for_destruction
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import complete, deploy, start

NAME = "Xandra Vernietigtest"
BSN = "999990019"  # passes the elfproef: 9*9+8*9+7*9+6*9+5*9+4*0+3*0+2*1-1*9 = 363 = 33*11
KEY = "vernietigtest"
MELDING_FORM = {
    "type": "object",
    "properties": {
        "gemeente": {"type": "string"},
        "toelichting": {"type": "string"},
        "aanmelddatum": {"type": "string"},
        "betrokkenen": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"naam": {"type": "string"}, "bsn": {"type": "string"}, "rol": {"type": "string"}},
            },
        },
    },
}
MELDING = {
    "gemeente": "Breda",
    "toelichting": f"Melding over {NAME} (BSN {BSN}).",
    "betrokkenen": [{"naam": NAME, "bsn": BSN, "rol": "hoofdbetrokkene"}],
}


def _properties(**values: str) -> str:
    items = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return (
        f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties></bpmn:extensionElements>"
    )


def retention_process(
    db: Database, tmp_path: Path, *, default: str = "P2Y", at_end: str = "P1Y", vanaf: str = ""
) -> str:
    """start → melding (a person) → afronden → end (bewaartermijn `at_end`); the process keeps `default`."""
    own = {"bewaartermijn": default} | ({"bewaartermijn_vanaf": vanaf} if vanaf else {})
    body = (
        _properties(**own)
        + '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Melding vastleggen", "melding")
        + user_task("T2", "Afronden")
        + f'<bpmn:endEvent id="End_afgesloten">{_properties(bewaartermijn=at_end) if at_end else ""}</bpmn:endEvent>'
        + flow("F0", "S", "T1")
        + flow("F1", "T1", "T2")
        + flow("F2", "T2", "End_afgesloten")
    )
    write(tmp_path, "melding.json", MELDING_FORM)
    deploy(db, write(tmp_path, f"{KEY}.bpmn", process(body, process_id=KEY)), search_paths=[tmp_path])
    return KEY


def run_case(db: Database, runtime: Runtime, actor: User, *, finish: bool = True) -> int:
    """A case about Xandra: melding done, and (finish) closed."""
    started = start(db, runtime, KEY, actor)
    outcome = complete(db, runtime, started.next_tasks[0].id, actor, MELDING)
    if finish:
        complete(db, runtime, outcome.next_tasks[0].id, actor)
    return started.instance.id


def figures(db: Database, now: Any) -> tuple[Any, ...]:
    """Everything the monitor and the reports show about the process."""
    with db.reader() as session:
        return (
            throughput(session, process_key=KEY, now=now),
            heat_map(session, process_key=KEY, now=now),
            monitor_counts(session, now=now),
            session.execute(
                select(
                    Instance.id,
                    Instance.process_key,
                    Instance.gemeente,
                    Instance.status,
                    Instance.case_number,
                    Instance.started_at,
                    Instance.ended_at,
                ).order_by(Instance.id)
            ).all(),
            session.execute(
                select(
                    CompletedTask.id,
                    CompletedTask.element_id,
                    CompletedTask.role,
                    CompletedTask.created_at,
                    CompletedTask.completed_at,
                ).order_by(CompletedTask.id)
            ).all(),
        )


def raw_bytes(db: Database) -> bytes:
    """The database as it lies on disk: the SQLite file and its WAL, or PostgreSQL's table, TOAST and index files."""
    if db.dialect == "sqlite":
        path = Path(db.url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))  # shared buffers to the files
        data_dir = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        files = connection.execute(
            text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i') "
                "AND pg_relation_filepath(c.oid) IS NOT NULL"
            )
        ).scalars()
        chunks = []
        for relative in files:
            for segment in sorted((data_dir / relative).parent.glob(Path(relative).name + "*")):
                chunks.append(segment.read_bytes())
    return b"".join(chunks)


def traces(db: Database) -> set[str]:
    content = raw_bytes(db)
    return {secret for secret in (NAME, BSN) if secret.encode() in content}


def test_destroy__leaves_no_trace_in_the_raw_files_and_the_figures_unchanged(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path)
    mila, fg = make_user("mila", "melder"), make_user("fenna", "privacyfunctionaris")
    kept = run_case(db, runtime, mila)
    gone = run_case(db, runtime, mila)
    assert NAME in traces(db)  # the test can see the person before
    before = figures(db, clock.now())

    with db.transaction() as session:
        done = destroy_directly(
            session, case=str(gone), actor=fg, reason="Verzoek tot vernietiging (AVG art. 17)", at=clock.now()
        )
    purge_freed_space(db)

    assert [d.instance_id for d in done] == [gone] and not done[0].terminated
    assert figures(db, clock.now()) == before
    with db.reader() as session:
        row = session.get_one(Instance, gone)
        assert (row.state, row.subject_person, row.person_key, row.destroyed_at) == (
            DESTROYED_STATE,
            None,
            None,
            clock.now(),
        )
        assert session.scalars(select(InstancePerson).where(InstancePerson.instance_id == gone)).all() == []
        assert session.scalars(select(Participant).where(Participant.instance_id == gone)).all() == []
        events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == gone)).all()
        destroy = [e for e in events if e.action == "destroy"]
        assert destroy[0].details == {
            "case_number": row.case_number,
            "rule": "verzoek tot vernietiging",
            "list_id": None,
            "reason": "Verzoek tot vernietiging (AVG art. 17)",
        }
        assert all(e.summary == "Vernietigd" and e.details is None for e in events if e.action != "destroy")
        # The other case about the same invented person is untouched.
        assert session.get_one(Instance, kept).subject_person == NAME
    # Destroy the other one too: then no byte of the person is left anywhere.
    with db.transaction() as session:
        destroy_directly(session, case=str(kept), actor=fg, reason="Verzoek tot vernietiging", at=clock.now())
    purge_freed_space(db)
    assert traces(db) == set()
    with pytest.raises(NotFound, match="vernietigd"), db.reader() as session:
        runtime.load(session, gone)


def test_destroy__a_running_case_is_terminated_first_and_its_tasks_drafts_and_notifications_go(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path)
    mila, fg = make_user("mila", "melder"), make_user("fenna", "privacyfunctionaris")
    instance_id = run_case(db, runtime, mila, finish=False)
    with db.transaction() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        save_draft(session, user=mila, task_id=task.id, data={"notitie": NAME}, at=clock.now())
        session.add(
            Notification(
                user_id=mila.id,
                kind="new_task",
                key=f"t:{task.id}",
                title="Afronden",
                link="/taken",
                instance_id=instance_id,
                created_at=clock.now(),
            )
        )

    with db.transaction() as session:
        done = destroy_case(session, instance_id=instance_id, actor=fg, reason="Wissen", rule=None, at=clock.now())
    purge_freed_space(db)

    assert done.terminated
    assert done.removed["human_tasks"] == 1 and done.removed["notifications"] == 1
    with db.reader() as session:
        row = session.get_one(Instance, instance_id)
        assert (row.status, row.ended_at, row.next_timer_due_at) == ("terminated", clock.now(), None)
        assert session.scalars(select(Draft)).all() == []
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        ).all()
        assert actions[-2:] == ["terminate", "destroy"]
    assert traces(db) == set()


def test_destroy__only_the_privacy_officer_destroys_directly_and_only_once(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path)
    mila, mariska = make_user("mila", "melder"), make_user("mariska", "manager")
    fg = make_user("fenna", "privacyfunctionaris")
    instance_id = run_case(db, runtime, mila)
    with db.reader() as session:
        case_number = session.get_one(Instance, instance_id).case_number

    for actor in (mila, mariska):
        with pytest.raises(PermissionDenied), db.transaction() as session:
            destroy_directly(session, case=case_number, actor=actor, reason="x", at=clock.now())
    with db.transaction() as session:
        destroy_directly(session, case=case_number, actor=fg, reason="Verzoek", at=clock.now())
    with pytest.raises(Conflict, match="al vernietigd"), db.transaction() as session:
        destroy_directly(session, case=case_number, actor=fg, reason="Verzoek", at=clock.now())


def test_list__four_eyes_propose_review_execute(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, at_end="P0D")
    mila, mariska = make_user("mila", "melder"), make_user("mariska", "manager", "privacyfunctionaris")
    fg = make_user("fenna", "privacyfunctionaris")
    instance_id = run_case(db, runtime, mila)
    with db.reader() as session:
        assert [c.instance_id for c in due_for_destruction(session, clock.now())] == [instance_id]

    with db.transaction() as session:
        listing = propose_list(session, actor=mariska, instance_ids=[instance_id], note="Maart", at=clock.now())
    with db.reader() as session:
        assert due_for_destruction(session, clock.now()) == []  # on an open list
    with pytest.raises(PermissionDenied, match="vier ogen"), db.transaction() as session:
        review_list(session, list_id=listing.id, actor=mariska, approve=True, note="", at=clock.now())
    with pytest.raises(Conflict, match="niet goedgekeurd"), db.transaction() as session:
        execute_list(session, list_id=listing.id, actor=fg, at=clock.now())
    with db.transaction() as session:
        review_list(session, list_id=listing.id, actor=fg, approve=True, note="Akkoord", at=clock.now())
    with db.transaction() as session:
        done = execute_list(session, list_id=listing.id, actor=mariska, at=clock.now())
    purge_freed_space(db)

    assert [d.instance_id for d in done] == [instance_id]
    with db.reader() as session:
        assert session.get_one(DestructionList, listing.id).status == "executed"
        report = list_items(session, listing.id)
        assert [(i.instance_id, i.rule, i.destroyed_at) for i in report] == [
            (instance_id, f"{KEY}/End_afgesloten P0D vanaf einde", clock.now())
        ]
        details = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "destroy")).one()
        assert details["list_id"] == listing.id
    assert traces(db) == set()


def test_list__a_rejected_list_cannot_run_and_its_cases_are_due_again(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, at_end="P0D")
    mila, mariska = make_user("mila", "melder"), make_user("mariska", "manager")
    fg = make_user("fenna", "privacyfunctionaris")
    instance_id = run_case(db, runtime, mila)
    with db.transaction() as session:
        listing = propose_list(session, actor=mariska, instance_ids=[instance_id], note="", at=clock.now())
    with pytest.raises(PermissionDenied), db.transaction() as session:
        review_list(session, list_id=listing.id, actor=mariska, approve=False, note="nee", at=clock.now())
    with db.transaction() as session:
        review_list(session, list_id=listing.id, actor=fg, approve=False, note="Lopend bezwaar", at=clock.now())

    with pytest.raises(Conflict), db.transaction() as session:
        execute_list(session, list_id=listing.id, actor=fg, at=clock.now())
    with db.reader() as session:
        assert session.get_one(Instance, instance_id).destroyed_at is None
        assert [c.instance_id for c in due_for_destruction(session, clock.now() + timedelta(days=1))] == [instance_id]
