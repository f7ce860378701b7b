"""Units of work on PostgreSQL: a connection refused as one begins (the server restarting) is tried once more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from engine.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr("engine.db.BEGIN_RETRY_PAUSE", 0)
    database = Database(postgres_database)  # a pool of its own: its first unit of work connects
    yield database
    database.dispose()


def refuse_connections(database: Database, *errors: Exception) -> list[Exception]:
    """Make the next connection attempts fail with `errors`, in order; returns those raised so far."""
    raised: list[Exception] = []

    @event.listens_for(database.engine, "do_connect")
    def _refuse(*_args: Any) -> None:
        if len(raised) < len(errors):
            raised.append(errors[len(raised)])
            raise raised[-1]

    return raised


@pytest.mark.parametrize("unit", ["transaction", "reader"])
def test_unit_of_work__a_connection_refused_once_as_it_begins_is_tried_again(database: Database, unit: str) -> None:
    raised = refuse_connections(database, psycopg.OperationalError("the database system is starting up"))

    with getattr(database, unit)() as session:
        assert session.scalar(text("SELECT 1")) == 1

    assert len(raised) == 1


def test_transaction__a_database_that_stays_down_is_tried_twice_and_then_reported(database: Database) -> None:
    down = psycopg.OperationalError("connection refused")
    raised = refuse_connections(database, down, down, down)

    with pytest.raises(OperationalError), database.transaction():
        pass

    assert len(raised) == 2


def test_transaction__other_errors_are_not_tried_again(database: Database) -> None:
    raised = refuse_connections(database, psycopg.ProgrammingError("not a connection problem"))

    with pytest.raises(ProgrammingError), database.transaction():
        pass

    assert len(raised) == 1
