"""Case facts that one step changes for the whole case, such as a release date DJI moves.

SpiffWorkflow keeps data per branch: a value a task sets reaches only the tasks that follow it. A user task with
the property `wijzigt_gegevens` (comma-separated data fields, e.g. `detentie`) changes those facts for every step
of the case: on completion its values are copied into every other task that will still run or merge (parallel
branches, sub-processes, waiting events), and the waiting date timers whose expression reads one of the fields
compute their moment again from the new value at the next check. What people submitted in a form that holds the
field stays as it was submitted (the timeline shows it). Such a task usually stands open beside the main path;
it is kept up to date with what the other steps complete, so the case data shown from it is the case's.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.util.task import TaskState

from engine.context import all_tasks
from engine.instance import WorkflowInstance
from engine.spiff import ClockedTimeDate

CHANGES_FACTS = "wijzigt_gegevens"


def changed_fields(task_spec: Any) -> list[str]:
    """The data fields a task changes for the whole case (its `wijzigt_gegevens` property)."""
    value = task_spec.extensions.get("properties", {}).get(CHANGES_FACTS, "") if task_spec.extensions else ""
    return [field.strip() for field in str(value).split(",") if field.strip()]


def share_case_facts(instance: WorkflowInstance, completed: Any) -> None:
    """Copy the facts `completed` changes to the rest of the case and have dependent date timers recompute; keep
    the open tasks that change case facts up to date with what `completed` holds."""
    _refresh_standing_tasks(instance, completed)
    fields = changed_fields(completed.task_spec)
    values = {field: completed.data[field] for field in fields if field in completed.data}
    if not values:
        return
    for task in all_tasks(instance):
        if task is completed or _submitted_by_hand(instance, task, values):
            continue
        if task.state == TaskState.WAITING and _reads(task, values):
            task.internal_data.pop("event_value", None)
        task.data.update(deepcopy(values))


def _refresh_standing_tasks(instance: WorkflowInstance, completed: Any) -> None:
    for task in instance.ready_human_tasks:
        if task is not completed and (own := changed_fields(task.task_spec)):
            task.data.update(deepcopy({key: value for key, value in completed.data.items() if key not in own}))


def _submitted_by_hand(instance: WorkflowInstance, task: Any, values: dict[str, Any]) -> bool:
    if task.state != TaskState.COMPLETED or not (task.task_spec.manual or isinstance(task.task_spec, StartEvent)):
        return False
    return bool(set(instance.version.form_for(task.task_spec).fields) & set(values))


def _reads(task: Any, values: dict[str, Any]) -> bool:
    definition: Any = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, ClockedTimeDate) or task._get_internal_data("event_fired"):
        return False
    return any(field in str(definition.expression) for field in values)
