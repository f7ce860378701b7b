"""`zvh ready`: the readiness checks of /readyz for the worker's and beat's healthchecks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.services import free_port


def ready(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str | None = None) -> tuple[int, dict]:
    monkeypatch.setenv("ZVH_DATABASE_URL", database_url)
    if redis_url:
        monkeypatch.setenv("ZVH_REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["ready", "--json"])
    return result.exit_code, json.loads(result.output)


def test_ready__a_migrated_database_is_ready(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    assert ready(monkeypatch, database_url) == (
        0,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"}},
    )


def test_ready__an_empty_database_or_an_absent_redis_is_not(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    status, answer = ready(monkeypatch, f"sqlite:///{tmp_path / 'leeg.sqlite3'}", f"redis://127.0.0.1:{free_port()}/0")

    assert status == 1
    assert answer == {
        "status": "fail",
        "checks": {
            "database": "ok",
            "migrations": "fail: no schema (run zvh init)",
            "redis": "fail: ConnectionError",
        },
    }
