"""Medians and percentiles computed in the database (SQLite and PostgreSQL alike), one small group at a time.

Fetching every row to sort it in Python costs about 10 µs a row through the driver and the ORM's types: a
second for the inbox of 100,000 cases; ranking a whole process in one window query makes PostgreSQL sort it on
disk. Per step the rows are an index range of a few thousand, so the database sorts them in memory and returns
only the one or two neighbours of a quantile's position; Python interpolates between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, SQLColumnExpression, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[float]):
    """A timestamp column as seconds since 1970-01-01 UTC (for arithmetic on times in SQL)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part gives a double; EXTRACT gives a numeric since PostgreSQL 14, twice as slow to add up.
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC times as text; julianday() reads them (day 2440587.5 is the Unix epoch).
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


def quantiles(
    session: Session,
    *,
    value: SQLColumnExpression[Any],
    where: Sequence[ColumnElement[bool]],
    count: int,
    percents: Sequence[int],
) -> dict[int, Any]:
    """The quantiles of `value` (numbers or times) over the `count` rows matching `where`, linear between ranks.

    `count` comes from the caller's grouped query. A quantile whose rows went away in between (a task completed
    meanwhile) is left out.
    """
    found: dict[int, Any] = {}
    for percent in percents:
        lower, remainder = divmod((count - 1) * percent, 100)
        query = select(value).where(*where).order_by(value).offset(lower).limit(2 if remainder else 1)
        neighbours = session.scalars(query).all()
        if neighbours:
            low, high = neighbours[0], neighbours[-1]
            found[percent] = low + (high - low) * (remainder / 100) if remainder else low
    return found
