"""The audit log's keyed hash chain: appends chain, `zvh audit verify` names the first broken entry — also after
someone with database access dropped the append-only triggers — and a redaction still verifies."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from engine.audit import AccessContext, access, canonical, content_digest, record
from engine.cli import main
from engine.clock import FixedClock
from engine.config import Keys
from engine.db import Database
from engine.models import AuditEvent
from engine.privacy.chain import anchor_chain, read_anchors, verify_chain
from engine.runtime import Runtime
from engine.users import create_user
from tests.conftest import START, UserFactory
from tests.engine.test_runtime import BENCH, complete, deploy, start

AUDIT_KEY = "test-audit-key-for-the-chain"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The database with a known audit key (so the command line can use the same one)."""
    database = Database(database_url, keys=replace(Keys.from_env(), audit=AUDIT_KEY.encode()))
    yield database
    database.dispose()


@pytest.fixture
def without_triggers(db: Database) -> Iterator[None]:
    """An insider with database access drops the append-only triggers (put back afterwards on PostgreSQL)."""
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
    yield
    if db.dialect == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
                )
            )


@pytest.fixture
def bench_process(db: Database, tmp_path: Path) -> str:
    for item in BENCH.iterdir():
        shutil.copy(item, tmp_path / item.name)
    deploy(db, tmp_path / "three_user_tasks.bpmn")
    return "Process_three_user_tasks"


def append(db: Database, count: int, *, clock: FixedClock | None = None) -> None:
    clock = clock or FixedClock(START)
    for number in range(count):
        with db.transaction() as session:
            record(
                session,
                actor="anna",
                action="view",
                at=clock.now(),
                summary=f"Viewed case {number}",
                details={"n": number, "ratio": 2.0},
            )
        clock.advance(timedelta(seconds=1))


def raw(db: Database, statement: str, **params: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_record__chains_every_entry_to_the_one_before(db: Database) -> None:
    append(db, 4)
    report = verify_chain(db)
    assert report.ok and report.verified == 4 and report.before_chain == 0 and report.last_id == 4
    with db.reader() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.id for e in events] == [1, 2, 3, 4]
    assert all(e.chain_hash and e.content_digest and e.outcome == "allowed" for e in events)
    assert events[0].content_digest == content_digest("Viewed case 0", {"n": 0, "ratio": 2.0})


def test_record__fills_role_organisation_request_and_person_from_the_context(db: Database, clock: FixedClock) -> None:
    with db.transaction() as session:
        user = create_user(session, username="pia", display_name="Pia", roles=["screener"], organisation="zvh")
    context = AccessContext.of(request_id="req-12345678", client="10.0.0.1", user=user)
    with access(context), db.transaction() as session:
        record(session, actor="pia", action="view", at=clock.now(), summary="Viewed", object_type="case")
        record(session, actor="system", action="timer", at=clock.now(), summary="Timer", person_key="k" * 64)
    with db.reader() as session:
        own, other = session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["view", "timer"])).order_by(AuditEvent.id)
        )
    assert (own.role, own.organisation, own.request_id, own.client) == ("screener", "zvh", "req-12345678", "10.0.0.1")
    assert (other.role, other.organisation, other.request_id, other.person_key) == (
        None,
        None,
        "req-12345678",
        "k" * 64,
    )
    assert verify_chain(db).ok


def test_record__takes_the_person_from_the_case_and_chains_the_runtime_entries(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str, clock: FixedClock
) -> None:
    anna = make_user("anna")
    outcome = start(db, runtime, bench_process, anna)
    complete(db, runtime, outcome.next_tasks[0].id, anna, {"field1": "x"})
    raw(db, "UPDATE instances SET person_key = :key WHERE id = :id", key="p" * 64, id=outcome.instance.id)
    with db.transaction() as session:
        record(session, actor="anna", action="view", at=clock.now(), summary="Viewed", instance_id=outcome.instance.id)
    with db.reader() as session:
        keys = list(session.scalars(select(AuditEvent.person_key).order_by(AuditEvent.id)))
    assert keys[-1] == "p" * 64
    assert verify_chain(db).ok


def test_record__refuses_a_reader(db: Database, clock: FixedClock) -> None:
    with db.reader() as session, pytest.raises(RuntimeError, match="transaction"):
        record(session, actor="anna", action="view", at=clock.now(), summary="Viewed")


def test_record__concurrent_writers_keep_one_chain(db: Database) -> None:
    def writer() -> None:
        append(db, 5)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_chain(db)
    assert report.ok and report.verified == 20


@pytest.mark.usefixtures("without_triggers")
def test_verify__names_the_first_entry_whose_content_was_changed(db: Database) -> None:
    append(db, 5)
    raw(db, "UPDATE audit_events SET summary = 'Viewed nothing' WHERE id IN (3, 4)")
    report = verify_chain(db)
    assert not report.ok and report.broken is not None
    assert report.broken.id == 3 and "summary or details" in report.broken.problem
    assert report.verified == 2


@pytest.mark.usefixtures("without_triggers")
def test_verify__names_an_entry_whose_chained_column_was_changed(db: Database) -> None:
    append(db, 5)
    raw(db, "UPDATE audit_events SET actor = 'bert' WHERE id = 4")
    broken = verify_chain(db).broken
    assert broken is not None and broken.id == 4 and "chain hash" in broken.problem


@pytest.mark.usefixtures("without_triggers")
def test_verify__detects_a_deleted_middle_entry(db: Database) -> None:
    append(db, 5)
    raw(db, "DELETE FROM audit_events WHERE id = 3")
    broken = verify_chain(db).broken
    assert broken is not None and broken.id == 4 and "removed" in broken.problem


@pytest.mark.usefixtures("without_triggers")
def test_verify__detects_a_chain_recomputed_with_plain_hashes_or_another_key(db: Database) -> None:
    """An insider rewrites entry 2 and recomputes every later hash — without the audit key they cannot match."""
    append(db, 4)
    with db.reader() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    previous = events[0].chain_hash or ""
    for event in events[1:]:
        summary = "Viewed nothing" if event.id == 2 else event.summary
        digest = hashlib.sha256(canonical([summary, event.details]).encode()).hexdigest()
        columns = [getattr(event, name) for name in ("id", "at", "actor", "action")] + [digest]
        forged = hashlib.sha256((previous + "\n" + canonical(columns)).encode()).hexdigest()
        raw(
            db,
            "UPDATE audit_events SET summary = :summary, content_digest = :digest, chain_hash = :forged WHERE id = :id",
            summary=summary,
            digest=digest,
            forged=forged,
            id=event.id,
        )
        previous = forged
    broken = verify_chain(db).broken
    assert broken is not None and broken.id == 2 and "chain hash" in broken.problem

    other_key = Database(db.url, keys=replace(db.keys, audit=b"another key"))
    try:
        assert verify_chain(other_key).broken == replace(broken, id=1)
    finally:
        other_key.dispose()


def test_verify__a_redacted_entry_still_verifies(db: Database, clock: FixedClock) -> None:
    """A destruction blanks summary and details (the trigger allows exactly that); the digest keeps the chain."""
    append(db, 3)
    raw(
        db,
        "UPDATE audit_events SET summary = '', details = NULL, redacted_at = :at WHERE id = 2",
        at=clock.now().replace(tzinfo=None) if db.dialect == "sqlite" else clock.now(),
    )
    report = verify_chain(db)
    assert report.ok and report.redacted == 1


@pytest.mark.usefixtures("without_triggers")
def test_verify__a_null_chain_hash_is_before_the_chain_only_at_the_start(db: Database, clock: FixedClock) -> None:
    moment = clock.now().replace(tzinfo=None) if db.dialect == "sqlite" else clock.now()
    for number in (1, 2):
        raw(
            db,
            "INSERT INTO audit_events (id, at, actor, action, summary, outcome) "
            "VALUES (:id, :at, 'oud', 'start', 'Written before the chain', 'allowed')",
            id=number,
            at=moment,
        )
    if db.dialect == "postgresql":
        raw(db, "SELECT setval('audit_events_id_seq', 2)")
    append(db, 3)
    report = verify_chain(db)
    assert report.ok and report.before_chain == 2 and report.verified == 3

    raw(db, "UPDATE audit_events SET chain_hash = NULL WHERE id = 4")
    broken = verify_chain(db).broken
    assert broken is not None and broken.id == 4 and "missing" in broken.problem


@pytest.mark.usefixtures("without_triggers")
def test_anchor__detects_a_log_cut_short(db: Database, tmp_path: Path, clock: FixedClock) -> None:
    anchors = tmp_path / "anker.txt"
    append(db, 3)
    first = anchor_chain(db, anchors, at=clock.now())
    append(db, 2)
    second = anchor_chain(db, anchors, at=clock.now())
    assert (first.id, second.id) == (3, 5)
    assert anchors.read_text().count("\n") == 2
    report = verify_chain(db, anchors=read_anchors(anchors))
    assert report.ok and report.anchors_checked == 2

    raw(db, "DELETE FROM audit_events WHERE id > 3")  # the tail is gone: what is left is still a whole chain
    assert verify_chain(db).ok
    broken = verify_chain(db, anchors=read_anchors(anchors)).broken
    assert broken is not None and broken.id == 5 and "cut short" in broken.problem


def test_cli__audit_verify_and_anchor(db: Database, tmp_path: Path) -> None:
    append(db, 3)
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": db.url, "ZVH_AUDIT_KEY": AUDIT_KEY}
    anchors = tmp_path / "anker.txt"

    anchored = runner.invoke(main, ["audit", "anchor", str(anchors), "--json"], env=env, catch_exceptions=False)
    assert anchored.exit_code == 0 and json.loads(anchored.stdout)["id"] == 3
    verified = runner.invoke(main, ["audit", "verify", "--anchor", str(anchors)], env=env, catch_exceptions=False)
    assert verified.exit_code == 0, verified.stdout
    assert "3 entries verified" in verified.stdout and "0 vóór de keten" in verified.stdout

    wrong_key = runner.invoke(main, ["audit", "verify", "--json"], env={**env, "ZVH_AUDIT_KEY": "guessed"})
    assert wrong_key.exit_code == 1
    assert json.loads(wrong_key.stdout)["broken"]["id"] == 1
