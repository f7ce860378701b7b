"""The case facts a task needs: read-only sections chosen per task in the process model.

A user task names what its decision needs with the property `context`: a comma-separated list of earlier steps
(element ids: user tasks, manual tasks, the start event) and data fields (`veld:<naam>`), e.g.
`Start_aanmelding, Task_verrijken, veld:aanvulrondes`. For each listed step the page shows its name, who completed it
and when, and the values submitted with its form (every completion: every partner's contribution, every round); for a
listed field its value with the label its form gives it. When the task's own element completed earlier in the case
(a second completeness check, the next monitoring round), that previous round is shown too, and the task's editable
fields start empty (the property `herhaling` = `vooringevuld` keeps them filled, e.g. for the referrer completing
their own referral).

Everything follows the case page's rules: only someone who may see the case gets here, and every value goes through
the field classes the viewer holds for the case (`engine.privacy.visibility`).

An escalation task (reached from a timer, or the Bewaking's escalation process) also says what is late, since when
and for whom (`escalation`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import events_for_instance
from engine.forms import Form
from engine.inbox import InboxRow, list_tasks
from engine.models import AuditEvent, Instance, User
from engine.privacy.visibility import case_classes, redact
from engine.spiff import is_clocked_timer, is_legal_deadline, timer_due_at

if TYPE_CHECKING:  # engine.validation reads the property parsers here, before engine.instance can load
    from engine.instance import WorkflowInstance

CONTEXT_PROPERTY = "context"
REPEAT_PROPERTY = "herhaling"
#: `herhaling` values: a repeated round starts empty (default) or with the values of the previous round.
EMPTY, PREFILLED = "leeg", "vooringevuld"
FIELD_PREFIX = "veld:"
#: At most this many completions of one listed step are shown (the newest).
MAX_COMPLETIONS = 10

_ELEMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SPLIT_SUFFIX = ".BoundaryEventSplit"


# --- the property -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextItem:
    """One entry of the `context` property: a step (element id) or a data field."""

    kind: str  # "step" or "field"
    ref: str


def parse_context(value: str | None) -> list[ContextItem]:
    """The items of a `context` property; `ValueError` says what is malformed."""
    if value is None:
        return []
    items: list[ContextItem] = []
    for raw in value.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"context '{value}': an empty entry; separate steps and fields with one comma")
        if part.startswith(FIELD_PREFIX):
            name = part[len(FIELD_PREFIX) :].strip()
            if not _FIELD.fullmatch(name):
                raise ValueError(f"context entry '{part}': veld: must name a data field (letters, digits, '_')")
            items.append(ContextItem("field", name))
        elif _ELEMENT.fullmatch(part):
            items.append(ContextItem("step", part))
        else:
            raise ValueError(f"context entry '{part}' is neither an element id nor veld:<naam>")
    return items


def parse_repeat(value: str | None) -> str:
    """The `herhaling` property: `leeg` (default) or `vooringevuld`; `ValueError` otherwise."""
    if value is None:
        return EMPTY
    if value not in (EMPTY, PREFILLED):
        raise ValueError(f"herhaling '{value}': use '{EMPTY}' (a new round starts empty) or '{PREFILLED}'")
    return value


def _properties(task_spec: Any) -> Mapping[str, str]:
    properties = getattr(task_spec, "extensions", {}).get("properties", {})
    return properties if isinstance(properties, Mapping) else {}


def starts_empty(task_spec: Any) -> bool:
    """Whether a repeated round of this task starts with empty editable fields (not `herhaling=vooringevuld`)."""
    return _properties(task_spec).get(REPEAT_PROPERTY) != PREFILLED


# --- what a completion submitted ------------------------------------------------------------------------------


def all_tasks(loaded: WorkflowInstance) -> Iterator[Any]:
    """Every task of the instance, in the main workflow and its sub-processes."""
    workflow = loaded.workflow
    for part in [workflow, *workflow.subprocesses.values()]:
        yield from part.tasks.values()


def in_form_order(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` in the order the form shows its fields (`ui:order`, then the schema's order)."""
    order = form.ui_schema.get("ui:order") if isinstance(form.ui_schema, Mapping) else None
    named = [key for key in order if isinstance(key, str) and key != "*"] if isinstance(order, list) else []
    properties = form.resolved_schema.get("properties", {})
    rank = {key: index for index, key in enumerate(dict.fromkeys([*named, *properties]))}
    return dict(sorted(values.items(), key=lambda item: rank.get(item[0], len(rank))))


def submitted_values(
    loaded: WorkflowInstance, events: Iterable[AuditEvent] = ()
) -> dict[str, tuple[Form | None, dict[str, Any]]]:
    """Per completed human task (by task id): its form and the values submitted with it.

    The fields submitted are those its completion event lists; every completion shows them, also when a round
    repeats the value an earlier round gave (without a listing: the form's editable fields the task holds).
    """
    listed: dict[str, list[str]] = {}
    for event in events:
        if event.action == "complete" and event.task_id and isinstance((event.details or {}).get("fields"), list):
            listed[event.task_id] = [str(key) for key in (event.details or {})["fields"]]
    submitted: dict[str, tuple[Form | None, dict[str, Any]]] = {}
    for task in all_tasks(loaded):
        if not task.task_spec.manual or task.state != TaskState.COMPLETED:
            continue
        form = loaded.version.form_for(task.task_spec)
        keys = listed.get(str(task.id))
        if keys is None:
            keys = [key for key in form.fields if key not in form.read_only_fields]
        values = {key: task.data[key] for key in form.fields if key in keys and key in task.data}
        submitted[str(task.id)] = (form if form.name else None, in_form_order(form, values))
    return submitted


# --- the sections -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """One completion of a step: its name, who and when, and what they submitted (redacted for the viewer)."""

    element_id: str
    name: str
    actor: str | None
    at: datetime | None
    form: Form | None
    values: dict[str, Any]


@dataclass(frozen=True)
class FieldFact:
    """One listed data field: its label and value (redacted for the viewer), and the form that defines it."""

    key: str
    label: str
    value: Any
    form: Form | None


@dataclass(frozen=True)
class LateTask:
    """An open task an escalation is about: its name, deadline, and who holds it."""

    task_id: str
    name: str
    role: str | None
    assignee: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class Escalation:
    """What an escalation task is about: what is late, since when, in which case, and the open tasks concerned."""

    late_step: str
    since: datetime | None
    instance: Instance
    reason: str | None = None
    late_tasks: list[LateTask] = field(default_factory=list)


@dataclass(frozen=True)
class TaskContext:
    """The read-only sections of a task page."""

    steps: list[Completion]
    fields: list[FieldFact]
    previous_round: Completion | None
    escalation: Escalation | None

    @property
    def empty(self) -> bool:
        return not (self.steps or self.fields or self.previous_round or self.escalation)


def _title(form: Form, key: str) -> str:
    spec = form.resolved_schema.get("properties", {}).get(key)
    title = spec.get("title") if isinstance(spec, Mapping) else None
    return str(title) if title else key.replace("_", " ").capitalize()


def _names(session: Session) -> dict[str, str]:
    return {username: name for username, name in session.execute(select(User.username, User.display_name)).tuples()}


def element_names(loaded: WorkflowInstance) -> dict[str, str]:
    """Every BPMN element's name by id (its id when it has none)."""
    names: dict[str, str] = {}
    for spec in [loaded.version.spec, *loaded.version.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            # A loop marker's outer task has no name; its `[child]` carries the element's name.
            if task_spec.bpmn_id and (task_spec.bpmn_name or task_spec.bpmn_id not in names):
                names[task_spec.bpmn_id] = str(task_spec.bpmn_name or task_spec.bpmn_id)
    return names


class _Reader:
    """Completions of an instance's steps, read once, redacted for one viewer."""

    def __init__(self, session: Session, loaded: WorkflowInstance, user: User, classes: frozenset[str]) -> None:
        self.loaded = loaded
        self.user = user
        self.classes = classes
        self.events = events_for_instance(session, loaded.row.id)
        self.completed_by = {e.task_id: e for e in self.events if e.action == "complete" and e.task_id}
        self.people = _names(session)
        self.submitted = submitted_values(loaded, self.events)
        self.names = element_names(loaded)

    def _redact(self, form: Form | None, values: Mapping[str, Any]) -> dict[str, Any]:
        return redact(form, values, self.user, classes=self.classes) if form else dict(values)

    def completion(self, task: Any) -> Completion:
        element = str(task.task_spec.bpmn_id)
        form, values = self.submitted.get(str(task.id), (None, {}))
        event = self.completed_by.get(str(task.id))
        return Completion(
            element_id=element,
            name=self.names.get(element, element),
            actor=self.people.get(event.actor, event.actor) if event else None,
            at=event.at if event else None,
            form=form,
            values=self._redact(form, values),
        )

    def start(self, element: str) -> Completion:
        row = self.loaded.row
        form = self.loaded.version.start_form
        data = self.loaded.workflow.task_tree.data
        values = in_form_order(form, {key: data[key] for key in form.fields if key in data}) if form.name else {}
        starter = row.started_by.display_name if row.started_by is not None else None
        return Completion(
            element_id=element,
            name=self.names.get(element, element),
            actor=starter,
            at=row.started_at,
            form=form if form.name else None,
            values=self._redact(form if form.name else None, values),
        )

    def completions(self, element: str) -> list[Completion]:
        tasks = [
            task
            for task in all_tasks(self.loaded)
            if task.task_spec.bpmn_id == element and task.state == TaskState.COMPLETED
        ]
        if any(isinstance(task.task_spec, StartEvent) for task in tasks):
            return [self.start(element)]
        found = [self.completion(task) for task in tasks if task.task_spec.manual]
        found.sort(key=lambda c: (c.at is None, c.at or datetime.min))
        return found[-MAX_COMPLETIONS:]


def _earlier_rounds(loaded: WorkflowInstance, current: Any) -> list[Any]:
    """Completed tasks of the same element as `current`, excluding parallel multi-instance siblings."""
    element = current.task_spec.bpmn_id
    parent = current.parent
    parallel = parent is not None and "Parallel" in type(parent.task_spec).__name__
    return [
        task
        for task in all_tasks(loaded)
        if task.task_spec.bpmn_id == element
        and task.state == TaskState.COMPLETED
        and task.id != current.id
        and not (parallel and task.parent is parent)
    ]


def is_repeated_round(loaded: WorkflowInstance, task: Any) -> bool:
    """Whether the element of `task` already completed earlier in this instance (a second round)."""
    return bool(_earlier_rounds(loaded, task))


def task_context(session: Session, loaded: WorkflowInstance, task: Any, user: User, *, now: datetime) -> TaskContext:
    """The read-only sections of the page of `task` for `user` (who may see the case: the caller checked)."""
    classes = case_classes(session, user, loaded.row, at=now)
    reader = _Reader(session, loaded, user, classes)
    items = parse_context(_properties(task.task_spec).get(CONTEXT_PROPERTY))
    steps = [c for item in items if item.kind == "step" for c in reader.completions(item.ref)]
    data = loaded.current_data()
    facts = []
    for item in items:
        if item.kind != "field" or item.ref not in data:
            continue
        form = next((f for f in loaded.version.forms.values() if item.ref in f.fields), None)
        value = reader._redact(form, {item.ref: data[item.ref]}).get(item.ref)
        facts.append(FieldFact(item.ref, _title(form, item.ref) if form else item.ref, value, form))
    earlier = [reader.completion(t) for t in _earlier_rounds(loaded, task)]
    earlier.sort(key=lambda c: (c.at is None, c.at or datetime.min))
    return TaskContext(
        steps=steps,
        fields=facts,
        previous_round=earlier[-1] if earlier else None,
        escalation=escalation(session, loaded, task, reader),
    )


# --- escalations and waiting timers --------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingTimer:
    """A timer the case waits for: until when, and why (its name and documentation, the step it guards)."""

    element_id: str
    name: str
    due_at: datetime | None
    documentation: str | None
    guards: str | None
    #: a legal deadline: it stands still while the case is paused (`engine.suspension`)
    legal: bool = False


def guarded_element(task: Any) -> str | None:
    """The element a boundary timer is attached to (the step it guards), None for other timers."""
    parent = task.parent
    name = str(parent.task_spec.name) if parent is not None else ""
    return name[: -len(_SPLIT_SUFFIX)] if name.endswith(_SPLIT_SUFFIX) else None


def waiting_timers(loaded: WorkflowInstance) -> list[WaitingTimer]:
    """The timers the case waits for, soonest first."""
    names = element_names(loaded)
    timers = []
    for task in all_tasks(loaded):
        if task.state != TaskState.WAITING or not is_clocked_timer(task.task_spec) or not task.task_spec.bpmn_id:
            continue
        guards = guarded_element(task)
        element = str(task.task_spec.bpmn_id)
        documentation = getattr(task.task_spec, "documentation", None)
        timers.append(
            WaitingTimer(
                element_id=element,
                name=names.get(element, element),
                due_at=timer_due_at(task._get_internal_data("event_value")),
                documentation=str(documentation).strip() if documentation else None,
                guards=names.get(guards, guards) if guards else None,
                legal=is_legal_deadline(task.task_spec),
            )
        )
    timers.sort(key=lambda t: (t.due_at is None, t.due_at or datetime.max))
    return timers


def _timer_before(task: Any) -> Any:
    """The timer event that led to `task` (through gateways and scripts, not through another person's step)."""
    node = task.parent
    while node is not None:
        spec = node.task_spec
        if is_clocked_timer(spec):
            return node
        if getattr(spec, "manual", False):
            return None
        node = node.parent
    return None


def _late_tasks(
    session: Session, instance_id: int, elements: set[str] | None, skip: str, people: dict[str, str]
) -> list[LateTask]:
    rows: list[InboxRow] = list_tasks(session, instance_id=instance_id, limit=100, with_total=False).tasks
    return [
        LateTask(
            row.id, row.name, row.role, people.get(row.assignee, row.assignee) if row.assignee else None, row.due_at
        )
        for row in rows
        if row.id != skip and (elements is None or row.element_id in elements)
    ]


def _elements_of(loaded: WorkflowInstance, element: str) -> set[str]:
    """The element itself, and for a sub-process every element inside it."""
    elements = {element}
    specs = [loaded.version.spec, *loaded.version.subprocess_specs.values()]
    names = {element} | {
        str(getattr(s, "spec", "")) for spec in specs for s in spec.task_specs.values() if s.bpmn_id == element
    }
    for name in names:
        inner = loaded.version.subprocess_specs.get(name)
        if inner is not None:
            elements |= {s.bpmn_id for s in inner.task_specs.values() if s.bpmn_id}
    return elements


def escalation(session: Session, loaded: WorkflowInstance, task: Any, reader: _Reader) -> Escalation | None:
    """What an escalation task is about, or None when `task` is no escalation."""
    data = dict(task.data)
    parent_id = data.get("escalatie_zaak")
    if "escalatie_reden" in data and loaded.row.parent_instance_id is not None:
        # The Bewaking's escalation process: a follow-up of the stalled case.
        stalled = session.get(Instance, loaded.row.parent_instance_id)
        if stalled is None or (isinstance(parent_id, int) and parent_id != stalled.id):
            return None
        return Escalation(
            late_step=str(data.get("escalatie_stap") or "–"),
            since=stalled.last_progress_at,
            instance=stalled,
            reason=str(data["escalatie_reden"]),
            late_tasks=_late_tasks(session, stalled.id, None, "", reader.people),
        )
    timer = _timer_before(task)
    if timer is None:
        return None
    guarded = guarded_element(timer)
    timer_id = str(timer.task_spec.bpmn_id)
    fired = [e.at for e in reader.events if e.action == "timer" and e.element_id == timer_id]
    since = fired[-1] if fired else timer_due_at(timer._get_internal_data("event_value"))
    elements = _elements_of(loaded, guarded) if guarded else None
    return Escalation(
        late_step=reader.names.get(guarded, guarded) if guarded else reader.names.get(timer_id, timer_id),
        since=since,
        instance=loaded.row,
        late_tasks=_late_tasks(session, loaded.row.id, elements, str(task.id), reader.people) if elements else [],
    )
