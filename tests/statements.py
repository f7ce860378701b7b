"""What a block of code sends to the database: for tests that pin round trips, query plans and lock scopes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

Sent = tuple[str, Any]


@contextmanager
def sent_statements(engine: Engine) -> Iterator[list[Sent]]:
    """Every statement (with its parameters) sent through `engine` while the block runs, in order."""
    sent: list[Sent] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def query_plan(engine: Engine, statement: str, parameters: Any) -> str:
    """The plan the database chooses for a statement sent earlier, one line per step."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters))
