"""The script sandbox refuses every known escape and stops runaway scripts, leaving no trace."""

from __future__ import annotations

import os
import resource
import select
import signal
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine import evaluator
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import SandboxViolation
from engine.runtime import Runtime
from engine.sandbox import Sandbox, add_working_days, check_compiles
from tests.conftest import UserFactory
from tests.engine.bpmn import linear, user_task, write
from tests.engine.test_runtime import complete, deploy, start
from tests.engine.test_timers import deadline_process

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

    with pytest.raises(SandboxViolation, match=r"time budget of 0\.3 s"):
        sandbox.execute("while True:\n    n = n + 1", data)

    assert time.monotonic() - began < 2
    assert data == {"n": 0}, "a stopped script changes nothing"


def test_sandbox__stops_a_loop_over_the_iteration_budget() -> None:
    with pytest.raises(SandboxViolation, match="loop iterations"):
        Sandbox(max_iterations=1000).execute("t = 0\nfor i in range(5000):\n    t = t + i", {})


def test_sandbox__stops_a_script_that_eats_memory() -> None:
    with pytest.raises(SandboxViolation, match="memory"):
        Sandbox(time_budget=10, memory_budget_mb=64).execute("a = []\nwhile True:\n    a.append('x' * 100000)", {})


RUNAWAYS = {
    "translate": "x = ('a' * 10000).translate({97: 'b' * 100000})",
    "format-spec": "x = f\"{'':>{900000000}}\"",
    "sum-map": "x = sum(map(lambda x: x, range(10**9)))",
    "nested-sum-map": "x = sum(map(lambda i: sum(range(10**6)), range(10**6)))",
    "recursion": "f = lambda f: f(f)\nf(f)",
    "exponential-recursion": "def f(n):\n    return 1 if n == 0 else f(n - 1) + f(n - 1)\nx = f(200)",
    "caught-budget": "def spin():\n    try:\n        while True:\n            pass\n"
    "    except Exception:\n        spin()\nspin()",
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("script", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_sandbox__a_runaway_ends_within_its_budget_without_touching_this_process(script: str) -> None:
    sandbox = Sandbox(time_budget=1.0, memory_budget_mb=64)
    data = {"n": 1}
    peak_before, began = _peak_rss_mb(), time.monotonic()

    with pytest.raises(SandboxViolation, match=r"Script stopped|exceeds the limit"):
        sandbox.execute(script, data)

    assert time.monotonic() - began < 1.0 + 0.75
    assert _peak_rss_mb() - peak_before < 32, "the work happened outside the serving process"
    assert data == {"n": 1}
    assert sandbox.evaluate("n + 1", data) == 2, "the next evaluation runs normally"


@pytest.mark.parametrize(
    ("expression", "budget"),
    [
        ("sum(map(lambda i: sum(range(10**6)), range(10**6)))", "time budget of 1 s"),
        ("('a' * 10000).translate({97: 'b' * 100000})", "memory budget of 64 MB"),
    ],
)
def test_sandbox__a_runaway_expression_names_the_budget(expression: str, budget: str) -> None:
    began = time.monotonic()

    with pytest.raises(SandboxViolation, match=budget):
        Sandbox(time_budget=1.0, memory_budget_mb=64).evaluate(expression, {})

    assert time.monotonic() - began < 1.75


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("besluit == 'oppakken' and bedrag > 1000", True),
        ("aanvraag['soort'] in ('a', 'b') or not bedrag", True),
        ("bedrag * 2 > 3000", False),
        ("len(besluit) == 8", True),
    ],
)
def test_sandbox__conditions_give_the_same_answer_in_and_out_of_process(expression: str, expected: bool) -> None:
    data = {"besluit": "oppakken", "bedrag": 1200, "aanvraag": {"soort": "a"}}

    assert Sandbox().evaluate(expression, data) is expected


def test_sandbox__data_of_every_stored_type_round_trips_through_a_script() -> None:
    data = {"op": date(2026, 3, 6), "om": datetime(2026, 3, 6, 9, tzinfo=UTC), "lijst": [1, {"a": None}]}

    Sandbox().execute("later = op + timedelta(days=1)\ndag = op.strftime('%d-%m-%Y')", data)

    assert data["later"] == date(2026, 3, 7)
    assert data["dag"] == "06-03-2026"
    assert data["om"] == datetime(2026, 3, 6, 9, tzinfo=UTC)


def test_sandbox__script_errors_reach_the_caller_unchanged() -> None:
    with pytest.raises(ZeroDivisionError):
        Sandbox().execute("x = 1 / 0", {})


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
    assert sandbox.evaluate("today().strftime('%d-%m-%Y')", {}) == "06-03-2026"
    assert isinstance(sandbox.evaluate("date.today()", {}), date)
    assert sandbox.evaluate("datetime.strptime('06-03-2026', '%d-%m-%Y').date()", {}) == date(2026, 3, 6)


def test_add_working_days__skips_weekends() -> None:
    friday = date(2026, 3, 6)

    assert add_working_days(friday, 1) == date(2026, 3, 9)
    assert add_working_days(friday, -5) == date(2026, 2, 27)


def test_sandbox__calendar_helpers_know_the_holidays_for_dates_and_moments() -> None:
    sandbox = Sandbox(clock=FixedClock(datetime(2027, 3, 23, 9, 0, tzinfo=UTC)))

    assert sandbox.evaluate("add_working_days(today(), 5)", {}) == date(2027, 3, 31), "Tweede Paasdag 29-03"
    # 10:00 local on both days: CET then CEST.
    assert sandbox.evaluate("iso(add_working_days(now(), 5))", {}) == "2027-03-31T08:00:00+00:00"
    assert sandbox.evaluate("next_working_day(parse_date('2027-04-27'))", {}) == date(2027, 4, 28), "Koningsdag"
    assert sandbox.evaluate("is_working_day(parse_datetime('2027-04-27T10:00:00+02:00'))", {}) is False
    assert sandbox.evaluate("legal_term_end(parse_date('2027-02-28'))", {}) == date(2027, 3, 1)
    # A moment keeps its local time: Sunday 28-02 17:00 CET ends Monday 01-03 17:00; Easter moves over two days.
    assert sandbox.evaluate("iso(legal_term_end(parse_datetime('2027-02-28T17:00:00+01:00')))", {}) == (
        "2027-03-01T17:00:00+01:00"
    )
    assert sandbox.evaluate("iso(next_working_day(parse_datetime('2027-03-28T10:00:00+02:00')))", {}) == (
        "2027-03-30T10:00:00+02:00"
    )


def test_runtime__a_runaway_script_puts_its_instance_in_error_and_the_next_one_runs(
    db: Database, make_user: UserFactory, tmp_path: Path, clock: FixedClock
) -> None:
    runtime = Runtime(clock=clock, script_time_budget=1.0, script_memory_budget_mb=64)
    runaway = "x = f\"{'':>{900000000}}\" if teller else 1"
    write(tmp_path, "teller.json", {"type": "object", "properties": {"teller": {"type": "integer"}}})
    body = linear(
        user_task("T1", "Start", "teller"),
        f'<bpmn:scriptTask id="T2" name="Te groot"><bpmn:script>{runaway}</bpmn:script></bpmn:scriptTask>',
        user_task("T3", "Verder"),
        process_id="runaway",
    )
    deploy(db, write(tmp_path, "r.bpmn", body))
    anna = make_user("anna")
    first = start(db, runtime, "runaway", anna).next_tasks[0].id
    second = start(db, runtime, "runaway", anna).next_tasks[0].id

    failed = complete(db, runtime, first, anna, {"teller": 1})
    passed = complete(db, runtime, second, anna, {"teller": 0})

    assert (failed.instance.status, failed.instance.error_element) == ("error", "T2")
    assert "memory budget of 64 MB" in (failed.instance.error_message or "")
    assert passed.instance.status == "running"
    assert [t.name for t in passed.next_tasks] == ["Verder"]


def test_runtime__a_runaway_timer_expression_puts_its_instance_in_error(
    db: Database, make_user: UserFactory, tmp_path: Path, clock: FixedClock
) -> None:
    runtime = Runtime(clock=clock, script_time_budget=1.0)
    write(tmp_path, "deadline.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    deploy(db, write(tmp_path, "d.bpmn", deadline_process("str(sum(map(lambda i: sum(range(10**6)), range(10**6))))")))
    began = time.monotonic()

    outcome = start(db, runtime, "deadline", make_user("sven", "screener"))

    assert time.monotonic() - began < 1.0 + 1.0
    assert outcome.instance.status == "error"
    assert "time budget of 1 s" in (outcome.instance.error_message or "")


def test_evaluator__a_forked_server_process_gets_its_own_evaluation_process() -> None:
    Sandbox().evaluate("sum(range(10))", {})  # the parent's evaluation process exists before the fork

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked copy reports through its exit status
        os._exit(0 if Sandbox().evaluate("sum(range(10))", {}) == 45 else 1)

    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert Sandbox().evaluate("sum(range(10))", {}) == 45


def test_evaluator__an_idle_evaluation_process_that_died_is_replaced() -> None:
    Sandbox().evaluate("sum(range(10))", {})
    for child in list(evaluator._POOL.idle):
        os.kill(child.pid, signal.SIGKILL)
        os.waitpid(child.pid, 0)

    assert Sandbox().evaluate("sum(range(10))", {}) == 45


def test_evaluation_child__keeps_none_of_the_parents_other_descriptors() -> None:
    """A child holding a copy of, say, a browser driver's pipe would keep that peer waiting for end-of-file."""
    read_end, write_end = os.pipe()
    child = evaluator._POOL._fork()
    try:
        os.close(write_end)  # the parent's only copy; the child must not have one
        readable, _, _ = select.select([read_end], [], [], 10)
        assert readable and os.read(read_end, 1) == b""  # end-of-file at once, not a wait on the child
    finally:
        os.close(read_end)
        evaluator._POOL.discard(child)
