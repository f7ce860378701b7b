"""Retention: periods per process and end state from the model, counted from the end or from a date in the data,
validated at deploy; due and uncomputable cases; one limited extension with a reason; the daily job; the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, DeploymentRefused, InvalidInput, PermissionDenied
from engine.models import AuditEvent, Instance, Notification, RetentionExtension
from engine.privacy.retention import due_for_destruction, extend_retention, run_retention_job, uncomputable
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.test_destruction import BSN, KEY, MELDING, NAME, retention_process, run_case
from tests.engine.test_runtime import complete, start


def _row(db: Database, instance_id: int) -> Instance:
    with db.reader() as session:
        return session.get_one(Instance, instance_id)


def test_rules__a_malformed_bewaartermijn_is_refused_on_its_element(db: Database, tmp_path: Path) -> None:
    with pytest.raises(DeploymentRefused) as refused:
        retention_process(db, tmp_path, at_end="6 maanden")
    assert [(p.element, "bewaartermijn" in p.message) for p in refused.value.problems] == [("End_afgesloten", True)]
    with pytest.raises(DeploymentRefused) as refused:
        retention_process(db, tmp_path, vanaf="datum uit")
    assert [p.element for p in refused.value.problems] == [KEY]


def test_rules__the_end_state_overrides_the_process_and_counts_from_the_end(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, default="P2Y", at_end="P1Y")
    mila = make_user("mila", "melder")
    running = run_case(db, runtime, mila, finish=False)
    ended = run_case(db, runtime, mila)

    assert (_row(db, running).retention_due_at, _row(db, running).retention_rule) == (None, None)
    row = _row(db, ended)
    assert row.retention_rule == f"{KEY}/End_afgesloten P1Y vanaf einde"
    assert row.retention_due_at == clock.now().replace(year=clock.now().year + 1)


def test_rules__a_vanaf_date_counts_while_the_case_runs(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, default="P6M", at_end="", vanaf="gemeente_datum, aanmelddatum")
    mila = make_user("mila", "melder")
    started = start(db, runtime, KEY, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, {**MELDING, "aanmelddatum": "2026-01-31"})
    instance_id = started.instance.id

    row = _row(db, instance_id)

    assert row.retention_rule == f"{KEY}/proces P6M vanaf aanmelddatum"
    assert row.retention_due_at is not None and row.retention_due_at.date().isoformat() == "2026-07-30"
    with db.reader() as session:
        assert [c.instance_id for c in due_for_destruction(session, clock.now() + timedelta(days=200))] == [instance_id]


def test_uncomputable__ended_without_a_rule_missing_date_and_no_progress(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, default="", at_end="", vanaf="aanmelddatum")
    mila = make_user("mila", "melder")
    ended = run_case(db, runtime, mila)
    waiting = run_case(db, runtime, mila, finish=False)

    with db.reader() as session:
        now = [(c.instance_id, c.reason) for c in uncomputable(session, clock.now())]
        later = [(c.instance_id, c.reason) for c in uncomputable(session, clock.now() + timedelta(days=400))]

    assert now == [(ended, "geen_regel")]
    assert later == [(ended, "geen_regel"), (waiting, "geen_voortgang")]


def test_extend__once_with_a_reason_and_at_most_the_original_period(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, at_end="P1Y")
    mila, mariska = make_user("mila", "melder"), make_user("mariska", "manager")
    instance_id = run_case(db, runtime, mila)
    due = _row(db, instance_id).retention_due_at
    assert due is not None

    with pytest.raises(PermissionDenied), db.transaction() as session:
        extend_retention(session, instance_id=instance_id, actor=mila, reason="x", until=due, at=clock.now())
    with pytest.raises(InvalidInput), db.transaction() as session:
        extend_retention(
            session, instance_id=instance_id, actor=mariska, reason=" ", until=due + timedelta(days=1), at=clock.now()
        )
    with pytest.raises(InvalidInput, match="oorspronkelijke termijn"), db.transaction() as session:
        extend_retention(
            session,
            instance_id=instance_id,
            actor=mariska,
            reason="Lopende procedure",
            until=due + timedelta(days=367),
            at=clock.now(),
        )
    with db.transaction() as session:
        extend_retention(
            session,
            instance_id=instance_id,
            actor=mariska,
            reason="Lopende bezwaarprocedure",
            until=due + timedelta(days=90),
            at=clock.now(),
        )
    with pytest.raises(Conflict, match="al eens verlengd"), db.transaction() as session:
        extend_retention(
            session,
            instance_id=instance_id,
            actor=mariska,
            reason="Nog eens",
            until=due + timedelta(days=100),
            at=clock.now(),
        )

    row = _row(db, instance_id)
    assert (row.retention_due_at, row.retention_extensions) == (due + timedelta(days=90), 1)
    with db.reader() as session:
        assert session.scalars(select(RetentionExtension.reason)).all() == ["Lopende bezwaarprocedure"]
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "retention_extend")).all() == [
            "retention_extend"
        ]


def test_daily_job__tells_managers_and_the_fg_the_counts_once_a_day(
    db: Database, runtime: Runtime, make_user: UserFactory, clock: FixedClock, tmp_path: Path
) -> None:
    retention_process(db, tmp_path, at_end="P0D")
    mila, mariska, fenna = (
        make_user("mila", "melder"),
        make_user("mariska", "manager"),
        make_user("fenna", "privacyfunctionaris"),
    )
    run_case(db, runtime, mila)

    assert run_retention_job(db, now=clock.now()) == (1, 0)
    assert run_retention_job(db, now=clock.now() + timedelta(hours=23)) is None

    with db.reader() as session:
        notes = session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [n.user_id for n in notes] == [mariska.id, fenna.id]
    assert notes[0].title == "Bewaartermijnen: 1 zaken te vernietigen, 0 zonder berekenbare bewaartermijn"
    assert all(NAME not in n.title and BSN not in n.title and n.instance_id is None for n in notes)


def test_cli__destroy_and_retention_lists(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.cli import main

    retention_process(db, tmp_path, at_end="P0D")
    mila = make_user("mila", "melder")
    make_user("fenna", "privacyfunctionaris")
    instance_id = run_case(db, runtime, mila)
    case_number = _row(db, instance_id).case_number
    monkeypatch.setenv("ZVH_DATABASE_URL", db.url)
    runner = CliRunner()

    due = runner.invoke(main, ["retention", "due", "--json"])
    refused = runner.invoke(main, ["destroy", case_number, "--as", "mila", "--reason", "x"])
    destroyed = runner.invoke(main, ["destroy", case_number, "--as", "fenna", "--reason", "AVG art. 17", "--json"])

    assert [c["instance_id"] for c in json.loads(due.output)] == [instance_id]
    assert refused.exit_code == 1
    assert destroyed.exit_code == 0, destroyed.output
    assert json.loads(destroyed.output)[0]["case_number"] == case_number
    assert json.loads(runner.invoke(main, ["retention", "due", "--json"]).output) == []
    assert _row(db, instance_id).destroyed_at is not None
