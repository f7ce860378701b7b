"""The case view: header, timeline of what was done and decided, open tasks, and the diagram with its markers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import may_view, participants, visible_instance
from engine.audit import events_for_instance
from engine.context import WaitingTimer, all_tasks, element_names, in_form_order, waiting_timers
from engine.context import submitted_values as submitted_values  # re-exported (engine.privacy.inzage)
from engine.errors import NotFound
from engine.forms import Form
from engine.inbox import InboxRow, list_tasks
from engine.instance import WorkflowInstance
from engine.models import AuditEvent, Instance, Participant, User
from engine.privacy.visibility import case_classes, may_see_confidential, redact
from engine.runtime import Runtime
from engine.spiff import role_key

#: Audit actions shown in the timeline (views and claims are access records, not steps of the case).
TIMELINE_ACTIONS = frozenset(
    {
        "start",
        "complete",
        "timer",
        "handover",
        "error",
        "retry",
        "reassign",
        "participant",
        "note",
        "escalate",
        "substitute",
        "extend",
        "suspend",
        "resume",
        # casusoverleg (issue 14): invitations per case, the agenda, the minutes, the decision, action points
        "overleg_invited",
        "overleg_uninvited",
        "overleg_case_added",
        # (not "overleg_item": every autosave of the minutes is audited, the timeline shows the decision instead)
        "overleg_outcome",
        "overleg_action_point",
        "overleg_action_done",
    }
)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened in a case: who, when, what, and the values submitted (for completions)."""

    at: datetime
    actor: str
    action: str
    summary: str
    element_id: str | None
    element_name: str | None = None
    reason: str | None = None
    form: Form | None = None
    values: dict[str, Any] = field(default_factory=dict)
    #: the new deadline, for an extension
    until: datetime | None = None


def _moment(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows about one instance."""

    instance: Instance
    process_name: str
    version: int
    procesregisseur: str | None
    timeline: list[TimelineEntry]
    open_tasks: list[InboxRow]
    participants: list[tuple[User, Participant]]
    diagram: str
    completed_elements: list[str]
    current_elements: list[str]
    waiting_elements: list[str]
    #: the names of the current steps (for the diagram's accessible label)
    current_names: list[str] = field(default_factory=list)
    #: the timers the case waits for: until when and why
    timers: list[WaitingTimer] = field(default_factory=list)
    #: display names by username (open tasks' assignees)
    people: dict[str, str] = field(default_factory=dict)
    #: the name of the step where the engine stopped (status error)
    error_step: str | None = None


def start_values(loaded: WorkflowInstance) -> tuple[Form | None, dict[str, Any]]:
    """The start form and the values the case was started with."""
    form = loaded.version.start_form
    if not form.name:
        return None, {}
    data = loaded.workflow.task_tree.data
    return form, in_form_order(form, {key: data[key] for key in form.fields if key in data})


def element_name(loaded: WorkflowInstance, element_id: str | None) -> str | None:
    """The name of a BPMN element as the model writes it (its id when it has none)."""
    if not element_id:
        return element_id
    return element_names(loaded).get(element_id, element_id)


def _element_states(loaded: WorkflowInstance) -> tuple[list[str], list[str], list[str]]:
    completed, current, waiting = set(), set(), set()
    for task in all_tasks(loaded):
        element = task.task_spec.bpmn_id
        if element is None:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(element)
        elif task.state == TaskState.READY and task.task_spec.manual:
            current.add(element)
        elif task.state in (TaskState.WAITING, TaskState.ERROR):
            waiting.add(element)
    return sorted(completed - current), sorted(current), sorted(waiting - current)


def _procesregisseur(session: Session, loaded: WorkflowInstance, events: list[AuditEvent]) -> str | None:
    """Who directs the case: the latest person to complete a step in the Procesregisseur lane."""
    lane_tasks = {
        str(task.id)
        for task in all_tasks(loaded)
        if task.task_spec.manual and role_key(task.task_spec.lane) == "procesregisseur"
    }
    usernames = [e.actor for e in events if e.action == "complete" and e.task_id in lane_tasks]
    if not usernames:
        return None
    user = session.scalar(select(User).where(User.username == usernames[-1]))
    return user.display_name if user else usernames[-1]


def case_view(session: Session, runtime: Runtime, *, user: User, instance_id: int) -> CaseView:
    """The case page of one instance for `user` (`NotFound` when they may not see it)."""
    now = runtime.clock.now()
    instance = visible_instance(session, user, instance_id, at=now)
    if not may_see_confidential(session, user, instance, at=now):
        raise NotFound("Deze zaak bestaat niet of u heeft er geen toegang toe.")
    classes = case_classes(session, user, instance, at=now)
    loaded = runtime.load(session, instance_id)
    events = events_for_instance(session, instance_id)
    names = {u.username: u.display_name for u in session.scalars(select(User))}
    submitted = submitted_values(loaded, events)
    step_names = element_names(loaded)
    timeline = []
    for event in events:
        if event.action not in TIMELINE_ACTIONS:
            continue
        form: Form | None = None
        values: dict[str, Any] = {}
        if event.action == "complete" and event.task_id in submitted:
            form, values = submitted[event.task_id]
        elif event.action == "start":
            form, values = start_values(loaded)
        timeline.append(
            TimelineEntry(
                at=event.at,
                actor=names.get(event.actor, event.actor),
                action=event.action,
                summary=event.summary,
                element_id=event.element_id,
                element_name=step_names.get(event.element_id, event.element_id) if event.element_id else None,
                reason=(event.details or {}).get("reason") or (event.details or {}).get("note"),
                until=_moment((event.details or {}).get("to")) if event.action == "extend" else None,
                form=form,
                values=redact(form, values, user, classes=classes) if form else values,
            )
        )
    completed, current, waiting = _element_states(loaded)
    version = instance.process_version
    return CaseView(
        instance=instance,
        process_name=loaded.version.name,
        version=version.version,
        procesregisseur=_procesregisseur(session, loaded, events),
        timeline=timeline,
        open_tasks=list_tasks(session, instance_id=instance_id, limit=100).tasks,
        participants=participants(session, instance_id, at=now),
        diagram=version.files["bpmn"][version.main_file],
        completed_elements=completed,
        current_elements=current,
        waiting_elements=waiting,
        current_names=[step_names.get(element, element) for element in current],
        timers=waiting_timers(loaded),
        people=names,
        error_step=step_names.get(instance.error_element, instance.error_element) if instance.error_element else None,
    )


@dataclass(frozen=True)
class ChainLink:
    """One instance in a case's chain of hand-overs, as the viewer may know it.

    An instance the viewer may not see (need-to-know, vertrouwelijkheid, destroyed) keeps only its place in the chain:
    no process, status or dates.
    """

    instance_id: int
    #: how many hand-overs away from the first instance of the case
    depth: int
    visible: bool
    #: the instance the viewer is looking at
    current: bool
    #: before the current instance (an ancestor) rather than after it
    earlier: bool
    process_name: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def case_chain(session: Session, instance_id: int, *, user: User, at: datetime | None = None) -> list[ChainLink]:
    """The instances linked to this one by hand-overs (parent -> follow-ups), first instance first, each follow-up
    after the instance that handed over; need-to-know is checked per instance."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=instance_id)
    # A hand-over keeps the case number, so one query finds the whole chain.
    members = {
        row.id: row for row in session.scalars(select(Instance).where(Instance.case_number == instance.case_number))
    }
    children: dict[int | None, list[Instance]] = {}
    for row in sorted(members.values(), key=lambda r: (r.started_at, r.id)):
        children.setdefault(row.parent_instance_id, []).append(row)
    ancestors: set[int] = set()
    root = instance
    while root.parent_instance_id is not None and root.parent_instance_id in members:
        root = members[root.parent_instance_id]
        ancestors.add(root.id)
    chain: list[ChainLink] = []

    def visit(row: Instance, depth: int) -> None:
        chain.append(
            _link(session, row, user, at, depth=depth, current=row.id == instance_id, earlier=row.id in ancestors)
        )
        for child in children.get(row.id, []):
            visit(child, depth + 1)

    visit(root, 0)
    return chain


def _link(
    session: Session, row: Instance, user: User, at: datetime | None, *, depth: int, current: bool, earlier: bool
) -> ChainLink:
    place = ChainLink(instance_id=row.id, depth=depth, visible=False, current=current, earlier=earlier)
    seen = (
        row.destroyed_at is None
        and may_view(session, user, row.id, at=at)
        and may_see_confidential(session, user, row, at=at)
    )
    if not seen:
        return place
    return replace(
        place,
        visible=True,
        process_name=row.process_version.name,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )
