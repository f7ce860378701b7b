"""Database engine and units of work; SQLite (embedded default) and PostgreSQL behave the same to callers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from engine.config import Keys


class Base(DeclarativeBase):
    """Declarative base for all ORM models."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_WRITE = "zvh_write"
#: where a session keeps the `Keys` (see `session_keys`)
KEYS = "zvh_keys"


def session_keys(session: Session) -> Keys:
    """The secrets of the database this unit of work belongs to (the keys from the environment otherwise)."""
    keys = session.info.get(KEYS)
    return keys if isinstance(keys, Keys) else Keys.from_env()


#: A unit of work whose first connection fails (the database restarting) is tried once more after a pause:
#: nothing has run yet, so that is always safe. A failure later in the work is never retried here.
BEGIN_ATTEMPTS = 2
BEGIN_RETRY_PAUSE = 0.5


def database_unavailable(error: BaseException) -> bool:
    """True when `error` means the database cannot be reached or is busy now, so trying later may well work."""
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    )


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (instance/ on a fresh checkout)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's implicit transactions would start deferred transactions that fail with "database is
    # locked" when two writers race; we issue BEGIN ourselves so writers queue on BEGIN IMMEDIATE instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A destruction must not leave the deleted content in free pages (engine.privacy.destruction).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """An engine plus session factory; `transaction()` for changes, `reader()` for queries."""

    def __init__(self, url: str, *, echo: bool = False, keys: Keys | None = None) -> None:
        self.url = url
        self.keys = keys or Keys.from_env()
        ensure_sqlite_folder(url)
        # hide_parameters: an error's text (in a log line or a traceback) never quotes the values of a statement.
        self.engine = create_engine(url, echo=echo, pool_pre_ping=not url.startswith("sqlite"), hide_parameters=True)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
        # Every unit of work carries the keys: the audit chain and person keys are computed where they are written.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={KEYS: self.keys})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that commits when the block ends normally and rolls back on any exception."""
        with self._sessions() as session:
            _begin(session, write=True)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only unit of work: never commits; closing it ends the transaction and keeps loaded objects."""
        with self._sessions() as session:
            _begin(session, write=False)
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _begin(session: Session, *, write: bool) -> None:
    """Open the unit of work's connection, once more after a pause when the database is briefly unreachable."""
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            session.connection(execution_options={_WRITE: write})
            return
        except DBAPIError as error:
            if attempt == BEGIN_ATTEMPTS or not database_unavailable(error):
                raise
            session.rollback()
            time.sleep(BEGIN_RETRY_PAUSE)
