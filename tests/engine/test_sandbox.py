"""The script sandbox refuses every known escape and stops runaway scripts, leaving no trace."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.errors import SandboxViolation
from engine.sandbox import Sandbox, add_working_days, check_compiles

ESCAPES = {
    "import": "import os\nos.system('touch {marker}')",
    "dunder-import": "__import__('os').system('touch {marker}')",
    "open": "open('{marker}', 'w').write('x')",
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "getattr": "x = getattr(data, '__class__')",
    "format": "x = '{{0.__class__}}'.format(data)",
    "eval": "eval(\"open('{marker}', 'w')\")",
    "exec": "exec(\"open('{marker}', 'w')\")",
    "compile": "c = compile('1', 'f', 'exec')",
    "globals": "g = globals()",
    "fstring-dunder": "x = f'{{data.__class__}}'",
    "frame": "x = (a for a in []).gi_frame",
    "class": "class Evil:\n    pass",
}


@pytest.mark.parametrize("script", ESCAPES.values(), ids=ESCAPES.keys())
def test_sandbox__refuses_escapes_at_compile_time_and_leaves_no_trace(script: str, tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    source = script.format(marker=marker)
    data = {"data": {"naam": "Fenna"}, "teller": 1}

    assert check_compiles(source, "exec") is not None
    with pytest.raises(SandboxViolation):
        Sandbox().execute(source, data)

    assert data == {"data": {"naam": "Fenna"}, "teller": 1}
    assert not marker.exists()


def test_sandbox__names_outside_the_whitelist_do_not_exist_at_run_time() -> None:
    with pytest.raises(NameError):
        Sandbox().evaluate("issubclass", {})


def test_sandbox__stops_an_endless_loop_within_the_time_budget() -> None:
    sandbox = Sandbox(time_budget=0.3, max_iterations=10**12)
    data = {"n": 0}
    began = time.monotonic()

    with pytest.raises(SandboxViolation, match=r"longer than 0\.3 s"):
        sandbox.execute("while True:\n    n = n + 1", data)

    assert time.monotonic() - began < 2
    assert data == {"n": 0}, "a stopped script changes nothing"


def test_sandbox__stops_a_loop_over_the_iteration_budget() -> None:
    with pytest.raises(SandboxViolation, match="loop iterations"):
        Sandbox(max_iterations=1000).execute("t = 0\nfor i in range(5000):\n    t = t + i", {})


def test_sandbox__stops_a_script_that_eats_memory() -> None:
    with pytest.raises(SandboxViolation, match="memory"):
        Sandbox(time_budget=10, memory_budget_mb=64).execute("a = []\nwhile True:\n    a.append('x' * 100000)", {})


@pytest.mark.parametrize(
    "script",
    [
        "x = 'a' * 10**9",
        "x = [0] * 10**8",
        "x = 10 ** 10 ** 8",
        "x = 1 << 10**9",
        "x = range(10**9)",
        "x = 'ab'\nx *= 10**9",
    ],
)
def test_sandbox__refuses_values_too_large_to_build(script: str) -> None:
    with pytest.raises(SandboxViolation):
        Sandbox().execute(script, {})


def test_sandbox__scripts_read_and_write_process_data() -> None:
    data = {"aantal": 2, "namen": ["a"], "weg": True}

    Sandbox().execute("totaal = aantal * 3\nnamen.append('b')\ndel weg", data)

    assert data == {"aantal": 2, "namen": ["a", "b"], "totaal": 6}


def test_sandbox__refuses_to_store_values_that_are_not_data() -> None:
    data: dict[str, object] = {}
    with pytest.raises(SandboxViolation, match="cannot be stored"):
        Sandbox().execute("r = range(3)", data)
    assert data == {}


def test_sandbox__date_helpers_use_the_injected_clock() -> None:
    sandbox = Sandbox(clock=FixedClock(datetime(2026, 3, 6, 15, 0, tzinfo=UTC)))

    assert sandbox.evaluate("now()", {}) == datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert sandbox.evaluate("today()", {}) == date(2026, 3, 6)
    assert sandbox.evaluate("add_working_days(today(), 5)", {}) == date(2026, 3, 13)
    assert sandbox.evaluate("iso(end_of_day(parse_date('2026-07-01')))", {}) == "2026-07-01T23:59:59+02:00"


def test_add_working_days__skips_weekends() -> None:
    friday = date(2026, 3, 6)

    assert add_working_days(friday, 1) == date(2026, 3, 9)
    assert add_working_days(friday, -5) == date(2026, 2, 27)
