"""Moving a running workflow onto the specs of a newer process version (SpiffWorkflow's diff + migrate).

What SpiffWorkflow 3.2 does not do by itself, found by experiment: a timer that waits at an unchanged element keeps
its due date (migrating resets waiting tasks, which would restart the deadline); finished steps of elements the new
version removed leave the task tree (a stored state naming them would not restore); and an instance is refused by
element id — it waits at an element the new version removed or turned into another kind — instead of letting the
library match a removed task to a new one in the same position.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.registry import LoadedVersion
from engine.spiff import SERIALIZER


def _element(spec: Any) -> str:
    """An element as a process owner knows it: `'Task_x' (Naam)`."""
    name = f" ({spec.bpmn_name})" if getattr(spec, "bpmn_name", None) else ""
    return f"'{getattr(spec, 'bpmn_id', None) or spec.name}'{name}"


def _kind(spec: Any) -> tuple[str, str]:
    return type(spec).__name__, type(getattr(spec, "event_definition", None)).__name__


def waiting_elements(workflow: BpmnWorkflow) -> list[str]:
    """The elements an instance waits at: open user tasks, timers and message catches (incl. sub-processes)."""
    waiting: dict[str, None] = {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        spec = task.task_spec
        event = getattr(spec, "event_definition", None)
        if (task.state == TaskState.READY and spec.manual) or (
            task.state == TaskState.WAITING and isinstance(event, TimerEventDefinition | MessageEventDefinition)
        ):
            waiting[spec.bpmn_id or spec.name] = None
    return list(waiting)


def migration_refusal(workflow: BpmnWorkflow, target: LoadedVersion, number: int) -> str | None:
    """Why the instance cannot move: it waits at an element the new version removed or turned into another kind."""
    processes = {spec.name: spec for spec in [target.spec, *target.subprocess_specs.values()]}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        spec = task.task_spec
        new_process = processes.get(task.workflow.spec.name)
        new = new_process.task_specs.get(spec.name) if new_process is not None else None
        if new is None:
            return f"Wacht bij {_element(spec)}, dat in versie {number} niet meer bestaat"
        if _kind(new) != _kind(spec):
            return (
                f"Wacht bij {_element(spec)}, dat in versie {number} een ander soort element is "
                f"({_kind(spec)[0]} → {_kind(new)[0]})"
            )
    return None


@lru_cache(maxsize=64)
def _spec_diff(old: Any, new: Any) -> SpecDiff:
    # Specs are parsed once per version and never change: one diff serves every instance of a batch.
    return SpecDiff(SERIALIZER.registry, old, new)


def _workflow_diff(workflow: Any, new_spec: Any) -> WorkflowDiff:
    return WorkflowDiff(workflow, _spec_diff(workflow.spec, new_spec))


def _forget_removed_history(diff: WorkflowDiff) -> None:
    """Take finished steps of elements the new version no longer has out of the task tree.

    A stored state names each task's element; one that no longer exists would not restore. The audit log and the
    completed-task history still record the step.
    """
    for task in diff.removed:
        parent = task.parent
        if not task.has_state(TaskState.FINISHED_MASK) or parent is None or task.id not in task.workflow.tasks:
            continue
        at = parent._children.index(task.id)
        parent._children[at : at + 1] = task._children
        for child in task.children:
            child._parent = parent.id
        del task.workflow.tasks[task.id]


def move_to_specs(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any]) -> None:
    """Put `workflow` (and its sub-processes) on new specs; the caller checks the result restores and runs."""
    diffs = [(workflow, _workflow_diff(workflow, spec))]
    for sub_id, sub in list(workflow.subprocesses.items()):
        new_spec = subprocess_specs.get(sub.spec.name)
        if new_spec is None:  # a finished sub-process the new version no longer has (a running one is refused)
            del workflow.subprocesses[sub_id]
        else:
            diffs.append((sub, _workflow_diff(sub, new_spec)))
    # Migrating resets waiting tasks: a timer would start counting again. Unchanged ones keep what they hold.
    changed = {task.id for _, diff in diffs for task in diff.changed}
    held = {
        task.id: dict(task.internal_data)
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if task.id not in changed
    }
    for part, diff in diffs:
        _forget_removed_history(diff)
        migrate_workflow(diff, part, spec if part is workflow else subprocess_specs[part.spec.name])
    workflow.subprocess_specs = subprocess_specs
    for task_id, data in held.items():
        if (task := _find(workflow, task_id)) is not None:
            task.internal_data = data


def _find(workflow: BpmnWorkflow, task_id: Any) -> Any:
    try:
        return workflow.get_task_from_id(task_id if isinstance(task_id, UUID) else UUID(str(task_id)))
    except Exception:
        return None
