"""Shared fixtures: a fresh database per test on SQLite and on a real PostgreSQL, an injected clock, users."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

os.environ.setdefault("ZVH_INSTANCE_PATH", tempfile.mkdtemp(prefix="zvh-instance-"))

from engine.clock import FixedClock
from engine.db import Database
from engine.migrate import upgrade_to_head
from engine.models import User
from engine.runtime import Runtime
from engine.users import create_user
from tests import history_build
from tests.services import Postgres, Redis

# A busy 2-core CI machine must not turn slow examples into failures; correctness is what is asserted.
settings.register_profile("zvh", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("zvh")

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: Monday 2 March 2026, 09:00 in Breda.
START = datetime(2026, 3, 2, 9, 0, tzinfo=AMSTERDAM)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    history_build.schedule(config, items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    history_build.finish(session.config)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    server = Redis.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "zvh.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database(postgres: Postgres) -> str:
    url = postgres.create_database("zvh_test")
    upgrade_to_head(url)
    return url


def _truncate_all(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as connection:
        tables = (
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
            .scalars()
            .all()
        )
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a copy of a template file on SQLite, a truncated database on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "zvh.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def runtime(clock: FixedClock) -> Runtime:
    return Runtime(clock=clock, script_time_budget=1.0)


UserFactory = Callable[..., User]


@pytest.fixture
def make_user(db: Database) -> UserFactory:
    """Create a user with the given roles (committed) and return it detached."""

    def factory(username: str, *roles: str, organisation: str | None = None, gemeenten: tuple[str, ...] = ()) -> User:
        with db.transaction() as session:
            user = create_user(
                session,
                username=username,
                display_name=username.title(),
                roles=roles or ["melder"],
                organisation=organisation,
                gemeenten=gemeenten,
            )
        return user

    return factory
