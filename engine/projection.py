"""The inbox projection: what every save writes about an instance's open human tasks, and reads back from it.

One row per READY human task, rewritten in the same transaction as the instance state, so listing an inbox never
restores a workflow. This is the hot path of every completion: statements are built once, Core not ORM.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import Session

from engine.audit import record
from engine.inbox import InboxRow, audiences, list_tasks
from engine.instance import ACTIVE_STATUSES, WorkflowInstance
from engine.models import NO_DEADLINE, HumanTask, Instance, User, task_audience
from engine.privacy.organisations import gemeente_scope, task_scope
from engine.privacy.visibility import is_secret
from engine.spiff import SUSPENDED_SINCE, is_clocked_timer, is_legal_deadline, is_warning_timer, role_key, timer_due_at
from engine.substitutions import active_substitution, cover_access, cover_details

_DROP_TASKS = (
    delete(HumanTask)
    .where(HumanTask.id.in_(bindparam("task_ids", expanding=True)))
    .execution_options(synchronize_session=False)
)
_MOVE_TASKS = (
    update(HumanTask)
    .where(HumanTask.id.in_(bindparam("task_ids", expanding=True)))
    .values(gemeente=bindparam("gemeente"))
    .execution_options(synchronize_session=False)
)
_MARK_SECRET = (
    update(HumanTask)
    .where(HumanTask.id.in_(bindparam("task_ids", expanding=True)))
    .values(secret=bindparam("secret"))
    .execution_options(synchronize_session=False)
)
# Tasks for the case's gemeente follow the case when its gemeente changes (unless someone holds them already).
_FOLLOW_GEMEENTE = (
    update(HumanTask)
    .where(
        HumanTask.id.in_(bindparam("task_ids", expanding=True)),
        HumanTask.scope.like("gm:%"),
        HumanTask.assignee_id.is_(None),
    )
    .values(scope=bindparam("scope"), audience="role:" + HumanTask.role + "|" + bindparam("scope"))
    .execution_options(synchronize_session=False)
)
_ADD_TASKS = insert(HumanTask)
_INBOX_FIELDS = [f.name for f in dataclasses.fields(InboxRow) if f.name not in ("assignee", "assignee_name")]


def project(
    session: Session, instance: WorkflowInstance, ready: list[Any], now: datetime, *, actor_id: int | None
) -> None:
    """Rewrite the instance's inbox rows from its READY human tasks (Core statements: this is the hot path)."""
    row = instance.row
    if row.next_timer_due_at is not None and instance.workflow.data.get(SUSPENDED_SINCE) is not None:
        row.next_timer_due_at = next_timer_while_paused(instance)
    wanted = {} if row.status not in ACTIVE_STATUSES else {str(t.id): t for t in ready}
    existing = instance.projected_ids
    if existing - set(wanted):
        dropped = sorted(existing - set(wanted))
        session.execute(_DROP_TASKS, {"task_ids": dropped})  # their drafts go too (ON DELETE CASCADE)
    kept = existing & set(wanted)
    if kept and row.gemeente != instance.projected_gemeente:
        session.execute(_MOVE_TASKS, {"task_ids": sorted(kept), "gemeente": row.gemeente})
        session.execute(_FOLLOW_GEMEENTE, {"task_ids": sorted(kept), "scope": gemeente_scope(row.gemeente)})
    secret = is_secret(row)
    if kept and secret != instance.projected_secret:
        session.execute(_MARK_SECRET, {"task_ids": sorted(kept), "secret": secret})
    new_rows = []
    for task_id, spiff_task in wanted.items():
        if task_id in kept:
            continue
        spec = spiff_task.task_spec
        fields = inbox_fields(spec)
        owner_id = row.started_by_id if fields["role"] is None else None
        scope = task_scope(instance.version.scope_of(fields["role"]), gemeente=row.gemeente, data=spiff_task.data)
        due_at = task_due_at(spiff_task)
        norm = instance.version.norm_of(spiff_task)
        new_rows.append(
            {
                "id": task_id,
                "instance_id": row.id,
                "element_id": spec.bpmn_id,
                **fields,
                "owner_id": owner_id,
                "assignee_id": None,
                "scope": scope,
                "secret": secret,
                "audience": task_audience(assignee_id=None, role=fields["role"], owner_id=owner_id, scope=scope),
                "created_at": now,
                "due_at": due_at,
                "due_sort": due_at or NO_DEADLINE,
                "norm": norm.label if norm else None,
                "norm_due_at": norm.due(now) if norm else None,
                "case_number": row.case_number,
                "gemeente": row.gemeente,
                "process_key": row.process_key,
                "process_name": instance.version.name,
            }
        )
    # A starter who is at work themselves keeps their own next step: no cover to look up (the hot path).
    if actor_id != row.started_by_id and any(new_row["owner_id"] is not None for new_row in new_rows):
        _cover_owner_tasks(session, row, new_rows, now)
    if new_rows:
        session.execute(_ADD_TASKS, new_rows)
    instance.projected_rows, instance.kept_ids = new_rows, kept


def _cover_owner_tasks(session: Session, row: Instance, new_rows: list[dict[str, Any]], now: datetime) -> None:
    """New lane-less tasks of a starter who is away go to their substitute (vervanging), logged."""
    cover = active_substitution(session, user_id=row.started_by_id, at=now)
    if cover is None:
        return
    for new_row in new_rows:
        if new_row["owner_id"] is None:
            continue
        new_row["assignee_id"] = cover.substitute_id
        new_row["audience"] = task_audience(assignee_id=cover.substitute_id, role=None, owner_id=None)
        record(
            session,
            actor="system",
            action="substitute",
            at=now,
            instance_id=row.id,
            task_id=new_row["id"],
            element_id=new_row["element_id"],
            process_version_id=row.process_version_id,
            summary=f"'{new_row['name']}' went to {cover.substitute.username}, covering for {cover.absent.username}",
            details=cover_details(cover),
        )
    cover_access(session, cover, instance_id=row.id, at=now)


def next_tasks_for(session: Session, actor: User, instance: WorkflowInstance) -> list[InboxRow]:
    """The instance's open tasks that `actor` may do now (what the UI opens next)."""
    if instance.kept_ids:  # tasks that stayed open may have been claimed by someone: ask the projection
        return list_tasks(session, user=actor, instance_id=instance.row.id, with_total=False).tasks
    mine = set(audiences(actor))
    rows = sorted(
        (row for row in instance.projected_rows if row["audience"] in mine),
        key=lambda row: (row["due_sort"], row["created_at"], row["id"]),
    )
    return [InboxRow(**{name: row[name] for name in _INBOX_FIELDS}, assignee=None) for row in rows]


def inbox_fields(spec: Any) -> dict[str, Any]:
    """What an open task's inbox row takes from its element."""
    properties = spec.extensions.get("properties", {})
    return {
        "name": spec.bpmn_name or spec.bpmn_id,
        "form": properties.get("formJsonSchemaFilename"),
        "ui_form": properties.get("formUiSchemaFilename"),
        "role": role_key(spec.lane),
    }


def next_timer_while_paused(instance: WorkflowInstance) -> datetime | None:
    """The case's next timer moment while its legal deadlines are paused: its other timers only (a paused legal
    deadline cannot fire, so the timer job need not look at the case for it)."""
    moments = [
        moment
        for workflow in [instance.workflow, *instance.workflow.subprocesses.values()]
        for task in workflow.get_tasks(state=TaskState.WAITING)
        if is_clocked_timer(task.task_spec)
        and not is_legal_deadline(task.task_spec)
        and (moment := timer_moment(task)) is not None
    ]
    return min(moments) if moments else None


def deadline_timers(task: Any) -> list[Any]:
    """The clocked timers that set `task`'s deadline: attached to it or to an enclosing step (waiting or fired).

    Boundary timer events are siblings of the task they are attached to; a deadline on an enclosing step is the due
    date of every task inside it: the parallel branches of a sub-process or called process, the parallel instances
    of a multi-instance task and the rounds of a loop (whose instances are children of the loop activity). A timer
    that already fired still names the deadline: a task that opens after its deadline passed shows as overdue, not
    as a task without a deadline. A warning timer (property `waarschuwing`) warns before the deadline; it is none.
    """
    timers: list[Any] = []
    while task is not None:
        parent = task.parent
        # An instance of a multi-instance or loop activity: the activity's own timers are attached one level up.
        while parent is not None and isinstance(parent.task_spec, LoopTask):
            task, parent = parent, parent.parent
        if parent is not None:
            timers += [
                sibling
                for sibling in parent.children
                if sibling is not task
                and sibling.state in (TaskState.WAITING, TaskState.COMPLETED)
                and is_clocked_timer(sibling.task_spec)
                and not is_warning_timer(sibling.task_spec)
                and timer_moment(sibling) is not None
            ]
        around = getattr(task.workflow, "parent_task_id", None)
        task = task.workflow.top_workflow.get_task_from_id(around) if around is not None else None
    return timers


def timer_moment(timer: Any) -> datetime | None:
    """The moment a timer task waits for (or waited for, once fired)."""
    return timer_due_at(timer._get_internal_data("event_value"))


def task_due_at(task: Any) -> datetime | None:
    """The task's deadline: the earliest of its `deadline_timers`."""
    moments = [moment for timer in deadline_timers(task) if (moment := timer_moment(timer)) is not None]
    return min(moments) if moments else None
