"""SpiffWorkflow wired for ZVH Regie: sandboxed scripts, clocked timers, specs stored by reference.

Three adaptations of the library, each the smallest that works:

* `SandboxScriptEngine` routes every script, condition, timer expression and DMN cell through `Sandbox`.
* Timer event definitions ask the workflow's script engine for "now" instead of reading the wall clock,
  so the clock is injected (tests move it; `zvh timers fire --now` uses it) and due dates are UTC.
* The serializer leaves the process spec out of the instance state: an instance refers to an immutable
  process version, whose parsed spec is cached per process (`restore_workflow`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from calendar import monthrange
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, cast
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.clock import Clock, as_utc
from engine.errors import SandboxViolation
from engine.holidays import LOCAL, legal_term_end_moment
from engine.sandbox import Sandbox

SERIALIZER_VERSION = "zvh-1"


# --- scripts -------------------------------------------------------------------------------------------------


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks are refused at deployment")


#: Properties that configure the engine or the task page, not values for the element's own expressions.
_NOT_SETTINGS = frozenset(
    {
        "formJsonSchemaFilename",
        "formUiSchemaFilename",
        "context",
        "herhaling",
        "wettelijke_termijn",
        "bekendheidscheck",
        "waarschuwing",
        "wijzigt_gegevens",
    }
)


def element_settings(task_spec: Any) -> dict[str, str]:
    """The `spiffworkflow:properties` of an element that its own expressions and scripts may read by name.

    This is how a process owner changes a deadline or a threshold without touching code: a boundary timer
    with property `termijn` = `P5D` and timer expression `termijn`.
    """
    properties = getattr(task_spec, "extensions", {}).get("properties", {})
    return {
        k: v for k, v in properties.items() if k.isidentifier() and not k.startswith("_") and k not in _NOT_SETTINGS
    }


class SandboxScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Spiff's script engine with every evaluation inside the sandbox, and the clock timers read."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(environment=_SandboxEnvironment(sandbox))
        self.sandbox = sandbox

    @property
    def clock(self) -> Clock:
        return self.sandbox.clock

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(task, expression, {**element_settings(task.task_spec), **(external_context or {})})
        except WorkflowTaskException as error:
            # Spiff keeps only "Error evaluating expression"; the beheerder needs to know which budget ran out.
            if isinstance(error.__context__, SandboxViolation):
                error.add_note(error.__context__.message)
            raise

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        return super().execute(task, script, {**element_settings(task.task_spec), **(external_context or {})})


# --- timers --------------------------------------------------------------------------------------------------


def _now(my_task: Any) -> datetime:
    return cast(SandboxScriptEngine, my_task.workflow.script_engine).clock.now()


def _parse_moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timer date '{value}' has no UTC offset; write e.g. 2026-03-01T09:00:00+01:00")
    return moment.astimezone(UTC)


def _add_duration(start: datetime, parsed: dict[str, float]) -> datetime:
    """Add an ISO 8601 duration to `start` the way people read it in Breda.

    Years, months, weeks and days are calendar units: they are added to the local wall-clock time
    (Europe/Amsterdam), so a `P10D` deadline set at 09:00 is due at 09:00 ten days later, also across a change to or
    from summer time, and P1M from 31 January is 28/29 February. Hours, minutes and seconds are elapsed time: `PT72H`
    is 72 real hours (the AP's deadline for a data breach), which is 71 or 73 hours of wall-clock time across a DST
    change. A wall-clock time that does not exist (02:30 on the spring-forward night) is read with the offset before
    the change, i.e. one hour later; an ambiguous one (autumn) as its first occurrence. A naive `start` is UTC and
    the result is naive UTC too; an aware one gives a moment in its time zone.
    """
    parts = dict(parsed)
    months = int(parts.pop("years", 0) * 12 + parts.pop("months", 0))
    days = parts.pop("days", 0) + 7 * parts.pop("weeks", 0)
    if months or days:
        aware = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        wall = aware.astimezone(LOCAL).replace(tzinfo=None)
        if months:
            month_index = wall.month - 1 + months
            year, month = wall.year + month_index // 12, month_index % 12 + 1
            wall = wall.replace(year=year, month=month, day=min(wall.day, monthrange(year, month)[1]))
        wall += timedelta(days=days)
        moved = wall.replace(tzinfo=LOCAL).astimezone(aware.tzinfo)
        start = moved if start.tzinfo is not None else moved.replace(tzinfo=None)
    return start + timedelta(**parts)


def timer_due(expression_value: str, now: datetime) -> datetime:
    """The moment a timeDate or timeDuration value (`P5D`, `2026-03-01T09:00+01:00`) comes due (UTC for a date; for
    a duration in the time zone of `now`, which is UTC for the engine's clock)."""
    if expression_value.upper().startswith("P"):
        return _add_duration(now, TimerEventDefinition.parse_iso_duration(expression_value))
    return _parse_moment(expression_value)


#: A timer with this property is a legal deadline: pausing the case (opschorting) stops it. The value names the data
#: fields that hold the deadline, comma-separated, which move with it (`deadline, uiterste_datum`); `ja` names none.
LEGAL_DEADLINE = "wettelijke_termijn"
#: Key in the top workflow's data (not a task's, so no form sees it) while the case's legal deadlines are paused:
#: the UTC moment the pause began, ISO 8601 (`engine.suspension` sets and clears it).
SUSPENDED_SINCE = "zvh_opgeschort_sinds"


#: A timer with this property warns before a deadline (the datalek's 48 hours): it sets no task's due date.
WARNING_TIMER = "waarschuwing"


def is_warning_timer(task_spec: Any) -> bool:
    """Whether a timer event only warns that a deadline is near (property `waarschuwing`)."""
    return WARNING_TIMER in getattr(task_spec, "extensions", {}).get("properties", {})


def is_legal_deadline(task_spec: Any) -> bool:
    """Whether a timer event is marked as a legal deadline (property `wettelijke_termijn`)."""
    return LEGAL_DEADLINE in getattr(task_spec, "extensions", {}).get("properties", {})


def _suspended(my_task: Any) -> bool:
    """A legal-deadline timer of a case whose legal deadlines are paused: it must not fire, whatever its moment."""
    return is_legal_deadline(my_task.task_spec) and my_task.workflow.top_workflow.data.get(SUSPENDED_SINCE) is not None


def _legal_term(my_task: Any, due: datetime) -> datetime:
    """A legal deadline's due moment moved off a Saturday, Sunday or *algemeen erkende feestdag* to the same local
    time on the next day that is none of these (Algemene termijnenwet); any other timer's moment as it is."""
    if not is_legal_deadline(my_task.task_spec):
        return due
    return legal_term_end_moment(due).astimezone(UTC)


def _timer_error(my_task: Any, error: Exception) -> WorkflowTaskException:
    return WorkflowTaskException(str(error), task=my_task, exception=error)


class ClockedTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    """A timeDate timer; the date must carry an offset and is stored in UTC (a legal deadline moved off a day off)."""

    def has_fired(self, my_task: Any) -> bool:
        try:
            return self._has_fired(my_task)
        except ValueError as error:
            raise _timer_error(my_task, error) from error

    def _has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(value, datetime):
                value = as_utc(value).isoformat()
            due = _legal_term(my_task, _parse_moment(str(value))).isoformat()
            my_task._set_internal_data(event_value=due)
        if _suspended(my_task):
            return False
        if datetime.fromisoformat(due) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    """A timeDuration timer, counted from the moment the event started waiting (`timer_due`; a legal deadline moved
    off a Saturday, Sunday or holiday, `_legal_term`)."""

    def has_fired(self, my_task: Any) -> bool:
        try:
            return self._has_fired(my_task)
        except ValueError as error:
            raise _timer_error(my_task, error) from error

    def _has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            value = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            due = _legal_term(my_task, timer_due(value, _now(my_task))).isoformat()
            my_task._set_internal_data(event_value=due)
        if _suspended(my_task):
            return False
        if datetime.fromisoformat(due) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


_CYCLE = re.compile(r"^R(\d*)/(P[^/]+)$", re.IGNORECASE)


class ClockedCycle(CycleTimerEventDefinition):  # type: ignore[misc]
    """A timeCycle timer of the form `R3/P1D` (repeat three times a day) or `R/P1W` (for ever)."""

    def cycle_complete(self, my_task: Any) -> bool:
        try:
            return self._cycle_complete(my_task)
        except ValueError as error:
            raise _timer_error(my_task, error) from error

    def _cycle_complete(self, my_task: Any) -> bool:
        state = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if state is None:
            value = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            match = _CYCLE.match(value.strip())
            if match is None:
                raise ValueError(f"timer cycle '{value}' is not of the form R<n>/<duration>")
            duration = match.group(2)
            state = {
                "cycles": int(match.group(1)) if match.group(1) else -1,
                "duration": duration,
                "next": timer_due(duration, now).isoformat(),
            }
        ready = False
        if state["cycles"] != 0:
            due = datetime.fromisoformat(state["next"])
            if due <= now:
                state["next"] = timer_due(state["duration"], due).isoformat()
                state["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return ready
        my_task._set_internal_data(event_value=state)
        return ready


_CLOCKED = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}


class _ClockedTimerParsing:
    def parse_timer_event(self, event: Any) -> TimerEventDefinition:
        parsed = super().parse_timer_event(event)  # type: ignore[misc]
        clocked = _CLOCKED[type(parsed)]
        return clocked(parsed.name, parsed.expression, description=parsed.description)


class _StartEventParser(_ClockedTimerParsing, SpiffStartEventParser):  # type: ignore[misc]
    pass


class _CatchEventParser(_ClockedTimerParsing, SpiffIntermediateCatchEventParser):  # type: ignore[misc]
    pass


class _BoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):  # type: ignore[misc]
    pass


class _GatewayParser(ConditionalGatewayParser):  # type: ignore[misc]
    """Gateways keep their `spiffworkflow:properties`, so their conditions can read configurable values."""

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        return SpiffTaskParser._parse_extensions(self.node if node is None else node)  # type: ignore[no-any-return]


class ZvhParser(SpiffBpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's parser with clocked timers and gateway properties."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[type, type]]] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (_CatchEventParser, IntermediateCatchEvent),
        full_tag("exclusiveGateway"): (_GatewayParser, ExclusiveGateway),
        full_tag("inclusiveGateway"): (_GatewayParser, InclusiveGateway),
    }

    def get_document_lanes(self, root: Any) -> dict[str, str]:
        """The lane name of every flow node; a lane marked `rol` = `starter` reads as the `Starter` lane."""
        lanes = dict(super().get_document_lanes(root))
        for lane in root.xpath(".//bpmn:lane", namespaces=_LANE_NS):
            found = lane.xpath("./bpmn:extensionElements/*/spiffworkflow:property", namespaces=_LANE_NS)
            if is_starter_lane({str(p.get("name")): str(p.get("value")) for p in found}):
                refs = lane.xpath("./bpmn:flowNodeRef/text()", namespaces=_LANE_NS)
                lanes.update(dict.fromkeys((str(ref).strip() for ref in refs), STARTER_LANE))
        return lanes


#: SpiffWorkflow's timer event definitions that wait for a moment on the clock (not for a message or a signal).
CLOCKED_TIMERS = frozenset({"ClockedTimeDate", "ClockedDuration", "ClockedCycle"})


def is_clocked_timer(task_spec: Any) -> bool:
    """Whether an element is a timer event that waits for a moment on the clock."""
    return type(getattr(task_spec, "event_definition", None)).__name__ in CLOCKED_TIMERS


#: A timer waiting for a date nobody knows yet (a release date during voorlopige hechtenis) waits for this year.
UNKNOWN_DATE_YEAR = 9999


def timer_due_at(event_value: object) -> datetime | None:
    """The next due moment stored by a clocked timer (a date string, or a cycle's state); None when it has none,
    also for a timer that waits for a date nobody knows yet (year 9999): it is due at no moment anyone can plan by."""
    if isinstance(event_value, dict):
        next_due = event_value.get("next") if event_value.get("cycles") != 0 else None
        moment = datetime.fromisoformat(next_due) if isinstance(next_due, str) else None
    elif isinstance(event_value, str):
        moment = datetime.fromisoformat(event_value)
    else:
        return None
    return moment if moment is not None and moment.year < UNKNOWN_DATE_YEAR else None


# --- serialization -------------------------------------------------------------------------------------------


class _SpecByReferenceConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Serializes a workflow without its spec; restoring needs the spec from the process version."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: dict[str, Any] | None = None
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpecByReferenceConverter
    for clocked in _CLOCKED.values():
        config[clocked] = TimerConditionalEventDefinitionConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


SERIALIZER = _build_serializer()


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """The instance state as JSON, without the process spec."""
    return cast(str, SERIALIZER.serialize_json(workflow))


def restore_workflow(
    state: str, *, spec: Any, subprocess_specs: dict[str, Any], script_engine: SandboxScriptEngine
) -> BpmnWorkflow:
    """Rebuild a workflow from its stored state and the (cached) spec of its process version."""
    dct = json.loads(state)
    dct.pop(SERIALIZER.VERSION_KEY, None)
    workflow = SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: SandboxScriptEngine) -> BpmnWorkflow:
    """A fresh workflow for a process version's spec."""
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


#: A lane with this name holds tasks for the person who started the case (their own, need-to-know), not a role.
STARTER_LANE = "starter"
#: The lane property that marks such a lane under a name for people ("Melder (indiener)"): `rol` = `starter`.
LANE_ROLE_PROPERTY = "rol"
_LANE_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def role_key(lane: str | None) -> str | None:
    """The role a lane stands for: lane `Procesregisseur` is role `procesregisseur`, `Re-integratiecoördinator`
    is `re_integratiecoordinator` (lower case, accents dropped, anything else between words becomes `_`).
    The lane `Starter` stands for no role: its tasks belong to whoever started the case (None, like no lane)."""
    if lane is None:
        return None
    plain = unicodedata.normalize("NFKD", lane).encode("ascii", "ignore").decode("ascii")
    key = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_") or None
    return None if key == STARTER_LANE else key


def is_starter_lane(properties: Mapping[str, str]) -> bool:
    """Whether a lane's `spiffworkflow:properties` mark it as the starter's lane (`rol` = `starter`)."""
    return properties.get(LANE_ROLE_PROPERTY, "").strip().lower() == STARTER_LANE


def lane_role(name: str | None, properties: Mapping[str, str]) -> str | None:
    """The role of a lane element read from the BPMN: None for the starter's lane (by its property or old name)."""
    return None if is_starter_lane(properties) else role_key(name)
