"""Fixtures for the process tests: every diagram in processes/ deployed once, a fresh copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.db import Database
from engine.migrate import upgrade_to_head
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.processes.harness import FORMS, FlowCoverage, ProcessDriver, process_files

COVERAGE = FlowCoverage.of(process_files())


@pytest.fixture(scope="session")
def deployed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with the processes under test deployed (a deployment refusal fails the tests)."""
    path = tmp_path_factory.mktemp("processes") / "zvh.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    database = Database(url)
    with database.transaction() as session:
        for bpmn in process_files():
            deploy_file(session, bpmn, actor="tests", search_paths=[FORMS])
    database.dispose()
    return path


@pytest.fixture
def coverage() -> FlowCoverage:
    return COVERAGE


@pytest.fixture
def driver(deployed_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[ProcessDriver]:
    path = tmp_path / "zvh.sqlite3"
    shutil.copyfile(deployed_template, path)
    database = Database(f"sqlite:///{path}")
    process_driver = ProcessDriver(database, Runtime(clock=clock), clock)
    yield process_driver
    process_driver.record_coverage(COVERAGE)
    database.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if any(COVERAGE.taken.values()):
        terminalreporter.section("sequence-flow coverage of processes/")
        terminalreporter.write_line(COVERAGE.table())
