"""The Alembic migrations create exactly the schema the models describe, and the audit log is append-only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine.audit import record
from engine.db import Base, Database
from engine.models import AuditEvent


def test_migrations__match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET summary = 'x'", "DELETE FROM audit_events"])
def test_audit_log__cannot_be_changed_in_the_database(db: Database, statement: str) -> None:
    with db.transaction() as session:
        record(session, actor="tester", action="deploy", at=datetime.now(UTC), summary="original")

    with pytest.raises(DatabaseError, match="append-only"), db.transaction() as session:
        session.execute(text(statement))

    with db.reader() as session:
        assert session.query(AuditEvent.summary).scalar() == "original"


def test_sqlite__runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'zvh.sqlite3'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
