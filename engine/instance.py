"""A process instance as the runtime holds it: its row, its version and its live workflow, and what the engine
left behind (a failure). The statuses an instance row can have are named here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.models import Instance
from engine.privacy.visibility import is_secret
from engine.registry import LoadedVersion
from engine.spiff import CLOCKED_TIMERS, timer_due_at

RUNNING, WAITING, COMPLETED, ERROR, SUSPENDED, TERMINATED = (
    "running",
    "waiting",
    "completed",
    "error",
    "suspended",
    "terminated",
)
ACTIVE_STATUSES = frozenset({RUNNING, WAITING})


@dataclass(frozen=True)
class EngineFailure:
    """Where and why the engine stopped (a script error, a gateway without a matching flow, a stall)."""

    element_id: str | None
    message: str


class WorkflowInstance:
    """An instance row together with its live workflow, and the intent-named views the runtime needs."""

    def __init__(self, row: Instance, version: LoadedVersion, workflow: BpmnWorkflow, *, fresh: bool = False) -> None:
        self.row = row
        self.version = version
        self.workflow = workflow
        #: being created now (not loaded): nothing was stored for it before
        self.fresh = fresh
        # The inbox rows that exist for this instance now: its READY human tasks while it is active (the
        # projection is only ever written together with the state, so this needs no query).
        active = not fresh and row.status in ACTIVE_STATUSES
        self.projected_ids = frozenset(str(t.id) for t in self.ready_human_tasks) if active else frozenset()
        self.projected_gemeente = row.gemeente
        self.projected_secret = is_secret(row)
        # The person keys the person index holds for this case, when known without a query (see index_persons).
        self.indexed_person_keys: list[str] | None = [] if fresh else None
        # What the last save wrote to the inbox projection (so the caller's next tasks need no query).
        self.projected_rows: list[dict[str, Any]] = []
        self.kept_ids: frozenset[str] = frozenset()

    @property
    def ready_human_tasks(self) -> list[Any]:
        return list(self.workflow.get_tasks(state=TaskState.READY, manual=True))

    def current_data(self, ready: list[Any] | None = None) -> dict[str, Any]:
        """The process data as the latest step left it (a ready task's data, else the last task's)."""
        ready = self.ready_human_tasks if ready is None else ready
        source = ready[0] if ready else self.workflow.last_task
        merged = dict(self.workflow.data)
        if source is not None:
            merged.update(source.data)
        return merged

    def timer_due_dates(self) -> list[datetime]:
        due = []
        for event in self.workflow.waiting_events():
            if event.event_type in CLOCKED_TIMERS and (moment := timer_due_at(event.value)) is not None:
                due.append(moment)
        return due

    def find_task(self, task_id: str) -> Any:
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except Exception:
            return None

    def stalled_task(self) -> Any:
        """A READY engine task that `do_engine_steps` did not run (the deep-loop pitfall), if any."""
        workflows = [self.workflow, *self.workflow.subprocesses.values()]
        for workflow in workflows:
            for task in workflow.tasks.values():
                if task.state == TaskState.READY and not task.task_spec.manual:
                    return task
        return None

    def errored_tasks(self) -> list[Any]:
        workflows = [self.workflow, *self.workflow.subprocesses.values()]
        return [t for w in workflows for t in w.tasks.values() if t.state == TaskState.ERROR]
