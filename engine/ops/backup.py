"""Backing up and restoring the database: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A backup holds the whole database, personal data included, so its file is readable by its owner only. It does not
hold the keys (engine.config.Keys): without the same audit key the restored chain does not verify, without the same
pseudonym key no person is found again, so they are kept apart from the database and backed up separately.
A restore goes into an empty database only: it never merges into, or overwrites, a database in use.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from engine.errors import ZvhError
from engine.migrate import alembic_config

#: How each kind of backup file begins; the first bytes tell which database a file can go into.
HEADERS = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: What the summary counts, by table: how many, never what.
COUNTED = {
    "instances": "instances",
    "open_tasks": "human_tasks",
    "completed_tasks": "completed_tasks",
    "audit_events": "audit_events",
}
#: The keys that are not in the database: the variable that holds each, or else its file in ZVH_INSTANCE_PATH.
KEYS = (("ZVH_AUDIT_KEY", "audit_key"), ("ZVH_PSEUDONYM_KEY", "pseudonym_key"), ("ZVH_TOTP_KEY", "totp_key"))


class BackupRefused(ZvhError):
    """A backup or restore was refused (unreadable file, wrong kind, target not empty, tool failed); nothing changed."""

    code = "backup_refused"


@dataclass(frozen=True)
class Inventory:
    """What a database holds, told without personal data: its schema revision and row counts."""

    revision: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class BackupSummary:
    """A backup file and what it holds; `restore` answers with the database it filled."""

    database: str
    path: Path
    size: int
    revision: str | None
    head: str | None
    counts: Mapping[str, int]

    @property
    def at_head(self) -> bool:
        """False for an older backup: restored, it needs `zvh init` to migrate it to this release's schema."""
        return self.revision == self.head

    def as_dict(self) -> dict[str, object]:
        return {
            "database": self.database,
            "file": str(self.path),
            "bytes": self.size,
            "revision": self.revision,
            "head": self.head,
            "at_head": self.at_head,
            "counts": dict(self.counts),
        }


def backup(database_url: str, path: Path) -> BackupSummary:
    """Write a consistent copy of the database to `path` while it is in use; the file is replaced only when complete."""
    kind = database_kind(database_url)
    if kind == "sqlite" and path.resolve() == sqlite_path(database_url).resolve():
        raise BackupRefused("Het backupbestand kan niet de database zelf zijn.")
    try:
        with _staged(path) as staging:
            inventory = (
                _backup_sqlite(database_url, staging) if kind == "sqlite" else _backup_postgresql(database_url, staging)
            )
        return _summary(database_url, kind, path, inventory)
    except OSError as error:
        raise BackupRefused("%(bestand)s: %(fout)s", bestand=str(path), fout=error.strerror) from None


def restore(database_url: str, path: Path) -> BackupSummary:
    """Load the backup at `path` into the (empty) database at `database_url`; refused when it holds any table."""
    kind = database_kind(database_url)
    _check_file(path, kind)
    try:
        if kind == "sqlite":
            _restore_sqlite(database_url, path)
        else:
            _restore_postgresql(database_url, path)
    except OSError as error:
        raise BackupRefused("%(bestand)s: %(fout)s", bestand=str(path), fout=error.strerror) from None
    with _connection(database_url) as connection:
        inventory = _inventory(connection)
    return _summary(database_url, kind, path, inventory)


def key_locations(instance_path: Path) -> list[str]:
    """Where each key lives (its variable, or its file beside the database): back these up apart from the database."""
    return [name if os.environ.get(name) else str(instance_path / file) for name, file in KEYS]


def database_kind(database_url: str) -> str:
    """`sqlite` or `postgresql`; other databases have no backup here."""
    kind = make_url(database_url).get_backend_name()
    if kind not in HEADERS:
        raise BackupRefused("Backup en herstel kennen alleen SQLite en PostgreSQL, niet %(soort)s.", soort=kind)
    return kind


def display_url(database_url: str) -> str:
    """The database's URL as it may be shown: without its password."""
    return make_url(database_url).render_as_string(hide_password=True)


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database (an in-memory database has none to back up or restore)."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupRefused("Een database in het geheugen heeft geen bestand voor backup of herstel.")
    return Path(database)


def libpq_connection(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for `database_url` without its password, and the environment that carries it."""
    url = make_url(database_url)
    params: dict[str, object] = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params.update({key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()})
    password = params.pop("password", None) or url.password
    conninfo = " ".join(f"{key}={_quoted(str(value))}" for key, value in params.items() if value is not None)
    environment = dict(os.environ)
    if password:
        environment["PGPASSWORD"] = str(password)
    return conninfo, environment


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def pg_tool(name: str) -> str:
    """The newest `pg_dump` or `pg_restore` on PATH or in /usr/lib/postgresql/*/bin: older ones refuse newer servers."""
    found = [path for path in (shutil.which(name), *glob(f"/usr/lib/postgresql/*/bin/{name}")) if path]
    if not found:
        raise BackupRefused(
            "%(programma)s is niet gevonden, niet op PATH en niet in /usr/lib/postgresql/*/bin.", programma=name
        )
    return max(found, key=_tool_version)


def _tool_version(path: str) -> tuple[int, ...]:
    answer = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", answer.stdout)
    return tuple(int(part) for part in match.groups() if part) if match else ()


def _run(args: list[str], environment: dict[str, str]) -> None:
    """Run a PostgreSQL tool; its own error message (never the password: that is in the environment) if it fails."""
    answer = subprocess.run(  # noqa: S603 - a fixed tool with arguments built here, no shell
        args, env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if answer.returncode != 0:
        lines = [line for line in answer.stderr.splitlines() if line.strip()] or [f"exit {answer.returncode}"]
        problem = " ".join(lines[-3:])
        raise BackupRefused("%(programma)s is mislukt: %(fout)s", programma=Path(args[0]).name, fout=problem)


@contextmanager
def _staged(path: Path) -> Iterator[Path]:
    """A new file beside `path`, readable by its owner only, that takes the place of `path` when the block succeeds."""
    if not path.parent.is_dir():
        raise BackupRefused("De map %(map)s bestaat niet.", map=str(path.parent))
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    staging = Path(name)
    try:
        yield staging
        with staging.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextmanager
def _connection(database_url: str) -> Iterator[Connection]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        try:
            connection = engine.connect()
        except OperationalError as error:
            problem = str(error.orig).strip()
            raise BackupRefused("De database is niet bereikbaar: %(fout)s", fout=problem) from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def _inventory(connection: Connection) -> Inventory:
    tables = set(inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    counts = {
        name: connection.execute(select(func.count()).select_from(table(name_in_database))).scalar_one()
        for name, name_in_database in COUNTED.items()
        if name_in_database in tables
    }
    return Inventory(revision=revision, counts=counts)


def _summary(database_url: str, kind: str, path: Path, inventory: Inventory) -> BackupSummary:
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    return BackupSummary(
        database=kind,
        path=path,
        size=path.stat().st_size,
        revision=inventory.revision,
        head=head,
        counts=inventory.counts,
    )


def _check_file(path: Path, kind: str) -> None:
    """Refuse a missing file, a file that is no backup, and a backup of the other kind of database."""
    if not path.is_file():
        raise BackupRefused("Het backupbestand %(bestand)s bestaat niet.", bestand=str(path))
    with path.open("rb") as file:
        start = file.read(len(HEADERS["sqlite"]))
    found = next((name for name, header in HEADERS.items() if start.startswith(header)), None)
    if found is None:
        raise BackupRefused(
            "%(bestand)s is geen backup van ZVH Regie (geen SQLite-database en geen pg_dump-archief).",
            bestand=str(path),
        )
    if found != kind:
        raise BackupRefused(
            "%(bestand)s is een backup van een %(backup)s-database; deze database is %(database)s.",
            bestand=str(path),
            backup=KIND_NAMES[found],
            database=KIND_NAMES[kind],
        )


def _not_empty(database_url: str) -> BackupRefused:
    return BackupRefused(
        "De database %(database)s is niet leeg; herstel alleen in een lege database. Er is niets veranderd.",
        database=display_url(database_url),
    )


def _unreadable(database: Path, error: sqlite3.DatabaseError) -> BackupRefused:
    return BackupRefused("De database %(bestand)s is onleesbaar: %(fout)s", bestand=str(database), fout=str(error))


def _open_sqlite(path: Path, mode: str) -> sqlite3.Connection:
    """Open an existing SQLite file (`mode` ro or rw) without creating one, as `sqlite3.connect` would."""
    return sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True)


def _backup_sqlite(database_url: str, staging: Path) -> Inventory:
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupRefused("De database %(bestand)s bestaat niet.", bestand=str(source_path))
    try:
        with closing(_open_sqlite(source_path, "rw")) as source, closing(sqlite3.connect(staging)) as target:
            # All pages in one step, under one read transaction: a snapshot of what was committed when it began, while
            # writers carry on (WAL). Copied in steps, a write in between would restart the copy.
            source.backup(target)
            # One self-contained file: no -wal beside it, and it opens read-only for a restore.
            target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as error:
        raise _unreadable(source_path, error) from None
    with _connection(f"sqlite:///{staging}") as connection:
        return _inventory(connection)


def _restore_sqlite(database_url: str, path: Path) -> None:
    target_path = sqlite_path(database_url)
    with closing(_open_sqlite(path, "ro")) as source:
        _check_sqlite_backup(source, path)
        created = not target_path.exists()
        if created:
            target_path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            with closing(_open_sqlite(target_path, "rw")) as target:
                tables = target.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
                if tables != (0,):
                    raise _not_empty(database_url)
                # The copy is one write transaction on the target: all of it, or (on an error) nothing.
                source.backup(target)
        except BaseException as error:
            if created:
                target_path.unlink(missing_ok=True)
            if isinstance(error, sqlite3.DatabaseError):
                raise _unreadable(target_path, error) from None
            raise


def _check_sqlite_backup(source: sqlite3.Connection, path: Path) -> None:
    """Refuse a SQLite backup whose pages do not hold together (a damaged or truncated file)."""
    try:
        verdict = source.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as error:
        verdict = (str(error),)
    if verdict != ("ok",):
        problem = str(verdict[0]) if verdict else "?"
        raise BackupRefused("%(bestand)s is beschadigd: %(fout)s", bestand=str(path), fout=problem)


def _backup_postgresql(database_url: str, staging: Path) -> Inventory:
    conninfo, environment = libpq_connection(database_url)
    dump = pg_tool("pg_dump")
    with _connection(database_url) as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump reads the snapshot this transaction exported, so the counts describe exactly what it wrote.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            inventory = _inventory(connection)
            _run(
                [
                    dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={staging}",
                    f"--dbname={conninfo}",
                ],
                environment,
            )
    return inventory


def _restore_postgresql(database_url: str, path: Path) -> None:
    conninfo, environment = libpq_connection(database_url)
    tool = pg_tool("pg_restore")
    # Reading the archive's table of contents refuses a damaged file before the database is touched.
    _run([tool, "--list", str(path)], environment)
    with _connection(database_url) as connection:
        tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    if tables:
        raise _not_empty(database_url)
    _run(
        [
            tool,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={conninfo}",
            str(path),
        ],
        environment,
    )
