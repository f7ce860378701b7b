"""The only place where BPMN scripts, conditions, timer expressions and DMN cells are executed.

SpiffWorkflow's default script engine is `exec(script, task.data)` with full builtins, so a deployed diagram
could run any code as the server user. Everything here goes through RestrictedPython's `compile_restricted_*`
with a stricter policy on top of it:

* imports, the reflective builtins (`eval`, `exec`, `compile`, `globals`, `getattr`, `open`, ...) and
  `str.format` are refused when the code is compiled, so a deployment that uses them is refused;
* attribute access goes through `safer_getattr` (no `_`-names), item access and iteration are guarded;
* every loop iteration calls a budget check, so an endless loop stops with a clear message after
  `time_budget` seconds (or `max_iterations` iterations);
* `*`, `**` and `<<` are checked so a single expression cannot build a huge string, list or number.

Those checks cannot see work done inside C builtins, so the code itself runs in an evaluation child
process with a hard time and memory budget (`engine.evaluator`). The one exception is an expression
that is bounded by its form alone: no calls, no comprehensions or lambdas, no arithmetic and no
f-strings, only names, constants, item/attribute access, comparisons and boolean logic. Its cost is a
fixed number of steps, each at most linear in the size of the (bounded) process data, so gateway
conditions and DMN cells like `besluit == "oppakken" and bedrag > 1000` skip the round trip.
"""

from __future__ import annotations

import ast
import operator
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import CodeType
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer

from engine import holidays
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import SandboxViolation
from engine.evaluator import run_budgeted

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Builtins that give access to the interpreter, the file system or other objects' internals.
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "open",
        "input",
        "breakpoint",
        "help",
        "dir",
        "type",
        "super",
        "object",
        "memoryview",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
        "copyright",
        "credits",
        "license",
    }
)
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro", "gi_frame", "gi_code", "cr_frame"})

MAX_SEQUENCE_LENGTH = 1_000_000
MAX_INT_BITS = 100_000

Mode = Literal["exec", "eval"]


_Positioned = ast.stmt | ast.expr | ast.excepthandler | ast.arg | ast.keyword | ast.alias | ast.pattern


class _ZvhPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus: no imports, no reflective builtins, budget checks in loops."""

    def check_name(self, node: _Positioned, name: str | None, allow_magic_methods: bool = False) -> None:
        super().check_name(node, name, allow_magic_methods)
        if name in FORBIDDEN_NAMES:
            self.error(node, f'"{name}" is not allowed in a process script.')

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import is not allowed in a process script.")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "import is not allowed in a process script.")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed in a process script.")
        return node

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.error(node, f'".{node.attr}" is not allowed in a process script (use an f-string).')
        return super().visit_Attribute(node)

    @staticmethod
    def _with_tick(node: Any) -> Any:
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.copy_location(tick, node))
        return ast.fix_missing_locations(node)

    def visit_While(self, node: ast.While) -> Any:
        return self._with_tick(super().visit_While(node))

    def visit_For(self, node: ast.For) -> Any:
        return self._with_tick(super().visit_For(node))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = cast(ast.BinOp, super().visit_BinOp(node))
        symbol = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))


@lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> CodeType:
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename="<script>", policy=_ZvhPolicy)
    if result.errors or result.code is None:
        raise SandboxViolation(" ".join(result.errors))
    return result.code


def check_compiles(source: str, mode: Mode) -> str | None:
    """Return why `source` is refused by the sandbox compiler, or None when it compiles."""
    try:
        _compile(source, mode)
    except SandboxViolation as violation:
        return violation.message
    return None


def _check_size(value: object) -> object:
    if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_SEQUENCE_LENGTH:
        raise SandboxViolation(f"Result is too large ({len(value)} items; the limit is {MAX_SEQUENCE_LENGTH}).")
    return value


def _guarded_binop(symbol: str, left: Any, right: Any) -> Any:
    if symbol == "*":
        for sequence, count in ((left, right), (right, left)):
            repeats = isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int)
            if repeats and len(sequence) * max(count, 0) > MAX_SEQUENCE_LENGTH:
                raise SandboxViolation("Repetition would build a value larger than the sandbox allows.")
        return left * right
    if symbol == "**":
        huge = isinstance(left, int) and isinstance(right, int) and right > 0
        if huge and max(abs(left).bit_length(), 1) * right > MAX_INT_BITS:
            raise SandboxViolation("Power would build a number larger than the sandbox allows.")
        return left**right
    if isinstance(left, int) and isinstance(right, int) and right > MAX_INT_BITS:
        raise SandboxViolation("Shift would build a number larger than the sandbox allows.")
    return left << right


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.add,
    "-=": operator.sub,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": operator.mod,
    "&=": operator.and_,
    "|=": operator.or_,
    "^=": operator.xor,
    ">>=": operator.rshift,
}


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    guarded = {"*=": "*", "**=": "**", "<<=": "<<"}.get(op)
    if guarded is not None:
        return _guarded_binop(guarded, left, right)
    return _check_size(_INPLACE[op](left, right))


def _guarded_getitem(container: Any, key: Any) -> Any:
    if isinstance(container, (dict, list, tuple, str, range)):
        return container[key]
    raise SandboxViolation(f"Item access on {type(container).__name__} is not allowed.")


def _guarded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_SEQUENCE_LENGTH:
        raise SandboxViolation(f"range() of {len(result)} items exceeds the limit of {MAX_SEQUENCE_LENGTH}.")
    return result


class _Budget:
    """Counts loop iterations of one execution and stops it when time or iterations run out."""

    __slots__ = ("deadline", "iterations", "max_iterations", "time_budget")

    def __init__(self, time_budget: float, max_iterations: int) -> None:
        self.time_budget = time_budget
        self.deadline = time.monotonic() + time_budget
        self.iterations = 0
        self.max_iterations = max_iterations

    def tick(self) -> None:
        self.iterations += 1
        if time.monotonic() > self.deadline:
            raise SandboxViolation(f"Script stopped: it ran longer than its time budget of {self.time_budget:g} s.")
        if self.iterations > self.max_iterations:
            raise SandboxViolation(f"Script stopped: more than {self.max_iterations} loop iterations.")

    def guarded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item


def add_working_days(start: date | datetime, days: int) -> date | datetime:
    """Return `start` moved by `days` working days: Monday to Friday, the ZVH's days off excluded
    (`engine.holidays`); a date-time keeps its local time of day."""
    if isinstance(start, datetime):
        return holidays.add_working_days_to_moment(start, days)
    return holidays.add_working_days(start, days)


def is_working_day(day: date | datetime) -> bool:
    """Whether the ZVH works on `day` (Monday to Friday, not a day off)."""
    return holidays.is_working_day(day.astimezone(AMSTERDAM).date() if isinstance(day, datetime) else day)


def next_working_day(day: date | datetime) -> date | datetime:
    """`day` when the ZVH works that day, else the first working day after it (meetings move off holidays); a
    date-time keeps its local time of day."""
    if isinstance(day, datetime):
        return _same_local_time(day, holidays.next_working_day(day.astimezone(AMSTERDAM).date()))
    return holidays.next_working_day(day)


def legal_term_end(day: date | datetime) -> date | datetime:
    """The last day of a legal term that would end on `day`: a Saturday, Sunday or recognised holiday moves it to
    the next day that is none of these (Algemene termijnenwet); a date-time keeps its local time of day."""
    if isinstance(day, datetime):
        return holidays.legal_term_end_moment(day if day.tzinfo else day.replace(tzinfo=AMSTERDAM))
    return holidays.legal_term_end(day)


def _same_local_time(moment: datetime, day: date) -> datetime:
    """`moment` moved to `day` at the same local (Amsterdam) time of day, in `moment`'s time zone."""
    local = moment.astimezone(AMSTERDAM)
    if day == local.date():
        return moment
    moved = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=AMSTERDAM)
    return moved.astimezone(moment.tzinfo) if moment.tzinfo else moved.replace(tzinfo=None)


def parse_date(value: str) -> date:
    """Parse an ISO date (`2026-03-01`)."""
    return date.fromisoformat(value)


def parse_datetime(value: str) -> datetime:
    """Parse an ISO date-time; a value without offset is taken as Dutch local time."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)


def iso(value: date | datetime) -> str:
    """Format a date or date-time as ISO 8601; date-times always carry their offset (timer expressions)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=AMSTERDAM)
    return value.isoformat()


def end_of_day(value: date) -> datetime:
    """The last second of `value` in Dutch local time: deadlines "on" a date end there."""
    return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=AMSTERDAM)


#: Modules C code imports on a script's behalf (`date.strftime` imports `time`, `datetime.strptime` `_strptime`).
#: Scripts themselves cannot name `__import__`: the compiler refuses `_`-names.
_C_LEVEL_IMPORTS = frozenset({"time", "_strptime"})


def _c_level_import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name not in _C_LEVEL_IMPORTS:
        raise ImportError(f"import of {name} is not allowed in a process script.")
    return __import__(name, *args, **kwargs)


_SAFE_BUILTINS: dict[str, object] = {
    "__import__": _c_level_import,
    "None": None,
    "True": True,
    "False": False,
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "divmod": divmod,
    "enumerate": enumerate,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "range": _guarded_range,
    "reversed": reversed,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": tuple,
    "zip": zip,
    "map": map,
    "filter": filter,
    "Exception": Exception,
    "ValueError": ValueError,
    "KeyError": KeyError,
}

#: What a script may call besides the builtins above: dates and deadlines.
HELPERS: dict[str, object] = {
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "UTC": UTC,
    "add_working_days": add_working_days,
    "is_working_day": is_working_day,
    "next_working_day": next_working_day,
    "legal_term_end": legal_term_end,
    "parse_date": parse_date,
    "parse_datetime": parse_datetime,
    "iso": iso,
    "end_of_day": end_of_day,
}

_STORABLE_SCALARS = (str, int, float, bool, type(None), datetime, date, timedelta)


def _storable(value: object, path: str) -> object:
    """Return `value` in a form the instance state can hold, or refuse it."""
    if isinstance(value, _STORABLE_SCALARS):
        return value
    if isinstance(value, Mapping):
        result: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SandboxViolation(f"'{path}' has a non-text key; process data keys must be text.")
            result[key] = _storable(item, f"{path}.{key}")
        return result
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_storable(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise SandboxViolation(f"'{path}' holds a {type(value).__name__}, which cannot be stored in process data.")


_FIXED: dict[str, Any] = {
    "__builtins__": _SAFE_BUILTINS,
    "__name__": "zvh_script",
    "_getattr_": safer_getattr,
    "_getitem_": _guarded_getitem,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_binop_": _guarded_binop,
    "_print_": PrintCollector,
    **HELPERS,
}
_FIXED_NAMES = frozenset(_FIXED) | {"_getiter_", "_tick_", "_print", "now", "today"}


@dataclass(frozen=True)
class _Run:
    """One evaluation as it travels to the evaluation process: the code, its inputs and its loop budget."""

    source: str
    mode: Mode
    data: Mapping[str, Any]
    extras: Mapping[str, Any]
    moment: datetime
    time_budget: float
    max_iterations: int


def _namespace(run: _Run) -> dict[str, Any]:
    budget = _Budget(run.time_budget, run.max_iterations)
    moment = run.moment
    namespace = {key: value for key, value in run.data.items() if not key.startswith("_")}
    namespace.update((key, value) for key, value in run.extras.items() if not key.startswith("_"))
    namespace.update(_FIXED)
    namespace["now"] = lambda: moment
    namespace["today"] = lambda: moment.astimezone(AMSTERDAM).date()
    namespace["_getiter_"] = budget.guarded_iter
    namespace["_tick_"] = budget.tick
    return namespace


def _perform(run: _Run) -> Any:
    """Evaluate an expression and return its value, or run a script and return the data it leaves behind."""
    code = _compile(run.source, run.mode)
    namespace = _namespace(run)
    try:
        if run.mode == "eval":
            return eval(code, namespace)  # noqa: S307 - restricted code, see the module docstring
        exec(code, namespace)  # noqa: S102 - restricted code, see the module docstring
    except RecursionError:
        raise SandboxViolation("Script stopped: it called itself too deeply (RecursionError).") from None
    extras, data = run.extras, run.data
    return {
        key: _storable(value, key)
        for key, value in namespace.items()
        if key not in _FIXED_NAMES
        and not key.startswith("_")
        and not callable(value)
        and not (key in extras and key not in data and value is extras[key])
    }


_BOUNDED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.boolop,
    ast.UnaryOp,
    ast.unaryop,
    ast.Compare,
    ast.cmpop,
    ast.IfExp,
    ast.Name,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.List,
    ast.Dict,
    ast.expr_context,
)


@lru_cache(maxsize=4096)
def _bounded_by_form(expression: str) -> bool:
    """True when an expression cannot run long or grow large whatever the data (see the module docstring)."""
    tree = ast.parse(expression, mode="eval")
    return all(isinstance(node, _BOUNDED_NODES) for node in ast.walk(tree))


class Sandbox:
    """Compiles and runs process code under a budget; one instance is shared, executions are independent."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        time_budget: float = 2.0,
        max_iterations: int = 1_000_000,
        memory_budget_mb: int = 256,
    ) -> None:
        self.clock = clock
        self.time_budget = time_budget
        self.max_iterations = max_iterations
        self.memory_budget_mb = memory_budget_mb

    def _run(self, source: str, mode: Mode, data: Mapping[str, Any], extras: Mapping[str, Any] | None) -> Any:
        _compile(source, mode)  # refused code never leaves this process
        run = _Run(source, mode, data, extras or {}, self.clock.now(), self.time_budget, self.max_iterations)
        if mode == "eval" and _bounded_by_form(source):
            return _perform(run)
        return run_budgeted(_perform, (run,), time_budget=self.time_budget, memory_budget_mb=self.memory_budget_mb)

    def evaluate(self, expression: str, data: Mapping[str, Any], extras: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression (gateway condition, timer, DMN cell) against `data` and read-only `extras`."""
        return self._run(expression.strip(), "eval", data, extras)

    def execute(self, script: str, data: MutableMapping[str, Any], extras: Mapping[str, Any] | None = None) -> None:
        """Run a script that reads and writes `data` (and reads `extras`); `data` only changes on success."""
        updated: dict[str, Any] = self._run(script, "exec", data, extras)
        for key in [key for key in data if key not in updated and not key.startswith("_")]:
            del data[key]
        data.update(updated)
