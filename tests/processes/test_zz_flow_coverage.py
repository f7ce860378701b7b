"""Runs last in tests/processes/: every sequence flow of every process was taken by at least one test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.processes.harness import FlowCoverage

HERE = Path(__file__).resolve().parent


def test_every_sequence_flow_of_every_process_is_taken(request: pytest.FixtureRequest, coverage: FlowCoverage) -> None:
    modules = {p.name for p in HERE.glob("test_*.py")} - {Path(__file__).name}
    collected = {Path(str(item.fspath)).name for item in request.session.items}
    if not modules <= collected:
        pytest.skip("flow coverage is only meaningful when all of tests/processes runs")

    assert coverage.flows, "processes/ holds no executable process"
    assert coverage.missing() == {}, "sequence flows no test takes:\n" + coverage.table()
