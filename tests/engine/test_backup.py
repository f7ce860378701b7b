"""`zvh backup` / `zvh restore`: a copy taken while the app runs, restored into an empty database, is the same."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.migrate import alembic_config
from engine.ops import backup as backup_module
from engine.ops.backup import BackupRefused, backup, libpq_connection, restore
from engine.privacy.chain import verify_chain
from engine.registry import deploy_file
from engine.reports.catalog import report_table
from engine.reports.export import to_json
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, screen

SQLITE_HEADER = b"SQLite format 3\x00"


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database to restore into, of the same kind as `database_url`: a new file, or a new PostgreSQL database."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'zvh.sqlite3'}"
    return str(request.getfixturevalue("postgres").create_database(f"zvh_restore_{uuid.uuid4().hex[:12]}"))


def fill(db: Database, clock: FixedClock) -> tuple[int, int]:
    """Two referrals: one screened and waiting at triage after its timer fired, one just started."""
    with db.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])
    driver = ProcessDriver(db, Runtime(clock=clock), clock)
    screened = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, screened)
    driver.advance(timedelta(hours=25))
    assert driver.open(screened) == {"Task_triage"}
    fresh = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    return screened, fresh


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key (by all columns where a table has none)."""
    engine = create_engine(url, poolclass=NullPool)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {
            t.name: [tuple(row) for row in connection.execute(select(t).order_by(*(t.primary_key.columns or t.c)))]
            for t in metadata.sorted_tables
        }
    engine.dispose()
    return rows


def reports(db: Database) -> list[dict[str, Any]]:
    with db.reader() as session:
        return [to_json(report_table(session, name, [2026])) for name in ("meldingen", "activiteiten")]


def table_count(url: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        count = len(inspect(connection).get_table_names())
    engine.dispose()
    return count


def test_backup_restore__gives_identical_cases_tasks_audit_chain_and_reports(
    db: Database, database_url: str, empty_target: str, clock: FixedClock, tmp_path: Path
) -> None:
    screened, fresh = fill(db, clock)
    path = tmp_path / "zvh.backup"

    made = backup(database_url, path)
    restored = restore(empty_target, path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(tmp_path.glob(".zvh.backup.*")) == []
    assert made.counts == restored.counts
    assert restored.counts["instances"] == 2
    assert restored.counts["open_tasks"] == 2
    assert restored.counts["completed_tasks"] == 4
    assert restored.at_head
    assert restored.revision == made.revision == made.head
    source_rows, target_rows = all_rows(database_url), all_rows(empty_target)
    assert source_rows == target_rows
    assert all(source_rows[name] for name in ("audit_events", "report_facts", "human_tasks", "completed_tasks"))
    target = Database(empty_target)
    try:
        chain = verify_chain(target)
        assert chain.ok
        assert chain.verified == restored.counts["audit_events"]
        assert reports(target) == reports(db)
        assert any(value for table in reports(target) for row in table["rijen"] for value in row["waarden"])
        driver = ProcessDriver(target, Runtime(clock=clock), clock)
        driver.complete(fresh, "Task_volledigheid", {"aanmelding_volledig": True})
        assert driver.open(fresh) == {"Task_bekendheid"}
        assert driver.open(screened) == {"Task_triage"}
        after = verify_chain(target)
        assert after.ok
        assert after.verified > restored.counts["audit_events"]
    finally:
        target.dispose()


def test_restore__refuses_a_database_that_is_not_empty_and_changes_nothing(
    database_url: str, make_user: UserFactory, empty_target: str, tmp_path: Path
) -> None:
    path = tmp_path / "zvh.backup"
    backup(database_url, path)
    make_user("bea.bewaar", "screener")
    before = all_rows(database_url)

    with pytest.raises(BackupRefused, match="niet leeg") as refused:
        restore(database_url, path)

    assert refused.value.code == "backup_refused"
    assert all_rows(database_url) == before
    assert len(before["users"]) == 1


def small_sqlite_database(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    return f"sqlite:///{path}"


def test_restore__refuses_a_missing_garbled_or_other_kind_of_file(
    database_url: str, empty_target: str, tmp_path: Path
) -> None:
    sqlite_target = database_url.startswith("sqlite")
    other_kind = tmp_path / "other.backup"
    if sqlite_target:
        other_kind.write_bytes(b"PGDMP" + bytes(200))
    else:
        backup(small_sqlite_database(tmp_path / "other.sqlite3"), other_kind)
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes((SQLITE_HEADER if sqlite_target else b"PGDMP") + b"\x01\x02 niet meer dan dit" * 20)
    garbage = tmp_path / "garbage.backup"
    garbage.write_text("Dit is geen backup.\n")

    refusals = {
        tmp_path / "missing.backup": "bestaat niet",
        other_kind: "PostgreSQL-database; deze database is SQLite"
        if sqlite_target
        else "SQLite-database; deze database is PostgreSQL",
        damaged: "beschadigd" if sqlite_target else "pg_restore is mislukt",
        garbage: "geen backup van ZVH Regie",
    }
    for path, message in refusals.items():
        with pytest.raises(BackupRefused, match=message):
            restore(empty_target, path)

    if sqlite_target:
        assert not Path(make_url(empty_target).database or "").exists()
    else:
        assert table_count(empty_target) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_backup__while_a_write_transaction_is_open_holds_only_committed_data(
    database_url: str, make_user: UserFactory, tmp_path: Path
) -> None:
    make_user("bea.bewaar", "screener")
    writer = sqlite3.connect(make_url(database_url).database or "", isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE users SET display_name = 'Nog niet vastgelegd'")
    writer.execute("INSERT INTO counters (name, value) VALUES ('uncommitted', 1)")

    try:
        during = backup(database_url, tmp_path / "during.backup")
        writer.execute("COMMIT")
    finally:
        writer.close()
    after = backup(database_url, tmp_path / "after.backup")

    assert committed(during.path) == (["Bea.Bewaar"], [])
    assert committed(after.path) == (["Nog niet vastgelegd"], [("uncommitted", 1)])


def committed(path: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """The users' names and the counters in a SQLite backup (after checking that the file is whole)."""
    with closing(sqlite3.connect(path)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = [name for (name,) in copy.execute("SELECT display_name FROM users")]
        return names, copy.execute("SELECT name, value FROM counters").fetchall()


def test_cli__backup_and_restore_end_to_end_with_exit_codes_and_no_password(
    db: Database,
    database_url: str,
    empty_target: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill(db, clock)
    password = "Geheim-Wachtwoord-7"
    if not database_url.startswith("sqlite"):
        # The test cluster trusts loopback: the password is sent along and ignored, which is enough to follow it.
        database_url, empty_target = (
            make_url(url).set(password=password).render_as_string(hide_password=False)
            for url in (database_url, empty_target)
        )
    children: list[tuple[list[str], dict[str, str] | None]] = []
    real_run = subprocess.run

    def recording_run(args: list[str], **kwargs: Any) -> Any:
        children.append((list(args), kwargs.get("env")))
        return real_run(args, **kwargs)

    monkeypatch.setattr(backup_module.subprocess, "run", recording_run)
    runner = CliRunner()
    path = tmp_path / "zvh.backup"

    # One key from a variable, one from its file in the instance folder: both named, neither's value shown.
    key_value = "sleutel-die-niet-in-beeld-mag"
    env = {"ZVH_PSEUDONYM_KEY": key_value, "ZVH_AUDIT_KEY": None}

    def zvh(url: str, *args: str) -> Any:
        return runner.invoke(main, list(args), env={**env, "ZVH_DATABASE_URL": url}, catch_exceptions=False)

    made = zvh(database_url, "backup", str(path))
    restored = zvh(empty_target, "restore", "--json", str(path))
    again = zvh(empty_target, "restore", str(path))
    no_folder = zvh(database_url, "backup", str(tmp_path / "geen-map" / "zvh.backup"))

    assert made.exit_code == 0, made.output
    assert "2 instances, 2 open tasks, 4 completed tasks" in made.output
    assert "keys are not in the backup" in made.output
    assert "audit_key" in made.output
    assert "ZVH_PSEUDONYM_KEY" in made.output
    payload = json.loads(restored.stdout)
    assert restored.exit_code == 0
    assert payload["counts"]["instances"] == 2
    assert payload["at_head"] is True
    assert again.exit_code == 1
    assert "niet leeg" in again.output
    assert no_folder.exit_code == 1
    assert "geen-map bestaat niet" in no_folder.output
    for result in (made, restored, again, no_folder):
        assert password not in result.output
        assert key_value not in result.output
    if not database_url.startswith("sqlite"):
        tools = [(args, env) for args, env in children if "--version" not in args]
        assert {Path(args[0]).name for args, _ in tools} == {"pg_dump", "pg_restore"}
        assert all(password not in " ".join(args) for args, _ in children)
        assert all(env is not None and env["PGPASSWORD"] == password for _, env in tools)


def test_restore__an_older_backup_says_to_run_zvh_init(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    script = ScriptDirectory.from_config(alembic_config(source))
    head = script.get_current_head()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    command.upgrade(alembic_config(source), previous)
    backup(source, tmp_path / "old.backup")
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": f"sqlite:///{tmp_path / 'new' / 'zvh.sqlite3'}"}

    restored = runner.invoke(main, ["restore", str(tmp_path / "old.backup")], env=env, catch_exceptions=False)
    initialised = runner.invoke(main, ["init"], env=env, catch_exceptions=False)
    again = runner.invoke(main, ["backup", "--json", str(tmp_path / "new.backup")], env=env, catch_exceptions=False)

    assert restored.exit_code == 0
    assert f"Schema revision {previous} is not this release's newest ({head}): run `zvh init`" in restored.output
    assert initialised.exit_code == 0
    assert json.loads(again.stdout)["at_head"] is True


def test_libpq_connection__keeps_the_password_out_of_the_connection_string() -> None:
    url = "postgresql+psycopg://zvh:p%40ss%27w0rd@db.example:6543/zvh regie?sslmode=require"

    conninfo, environment = libpq_connection(url)

    assert conninfo == "host='db.example' port='6543' user='zvh' dbname='zvh regie' sslmode='require'"
    assert environment["PGPASSWORD"] == "p@ss'w0rd"
