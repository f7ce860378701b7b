"""Drive the ZVH processes through the engine API, and record which sequence flows the tests took.

A test gets a `ProcessDriver` (fixture `driver`): it starts processes and completes tasks as a user holding the
task's role (one user per role, made on demand), moves the injected clock and fires timers. When the test ends,
every instance in its database is read back and the sequence flows its tokens travelled are recorded, so
`test_zz_flow_coverage.py` can require every flow of every process to be taken by some test.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.bundles import NS
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import InvalidInput
from engine.inbox import InboxRow, list_tasks
from engine.models import HumanTask, Instance, User
from engine.privacy.organisations import UNKNOWN
from engine.registry import load_version
from engine.runtime import Outcome, Runtime
from engine.timers import FiredTimers, fire_due_timers
from engine.users import create_user

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"


def process_files() -> list[Path]:
    """The BPMN files under test: all of processes/, or those named in ZVH_TEST_PROCESSES (comma-separated keys)."""
    selected = {key.strip() for key in os.environ.get("ZVH_TEST_PROCESSES", "").split(",") if key.strip()}
    return [p for p in sorted(PROCESSES.glob("*.bpmn")) if not selected or p.stem in selected]


# A flow into a task counts as taken once the token got there: the task ran, runs, or waits.
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def process_flows(path: Path) -> tuple[str, dict[str, tuple[str, str]]]:
    """The executable process of a BPMN file and all its sequence flows (sub-processes included)."""
    root = etree.parse(str(path)).getroot()
    process = root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NS)[0]
    flows = {
        str(f.get("id")): (str(f.get("sourceRef")), str(f.get("targetRef")))
        for f in process.xpath(".//bpmn:sequenceFlow", namespaces=NS)
    }
    return str(process.get("id")), flows


def _bpmn_ancestor(task: Any) -> Any:
    """The nearest ancestor that is a BPMN element (skipping SpiffWorkflow's internal split/join tasks)."""
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent


def travelled_edges(workflow: Any) -> set[tuple[str, str]]:
    """(source element, target element) pairs a token went along, in a workflow and its sub-processes."""
    edges: set[tuple[str, str]] = set()
    for part in [workflow, *workflow.subprocesses.values()]:
        for task in part.tasks.values():
            target = task.task_spec.bpmn_id
            if target is None:
                continue
            source = _bpmn_ancestor(task)
            if source is None:
                continue
            # A reached task was reached from its parent (also from a cycle timer that keeps waiting); a join
            # gateway cancelled after another branch arrived first still received this branch's token.
            is_join = task.state == TaskState.CANCELLED and "Gateway" in type(task.task_spec).__name__
            if task.state & _REACHED or (is_join and source.state == TaskState.COMPLETED):
                edges.add((source.task_spec.bpmn_id, target))
    return edges


@dataclass
class FlowCoverage:
    """Every sequence flow of every process in processes/, and which ones tests have taken."""

    flows: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    taken: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, files: Iterable[Path]) -> FlowCoverage:
        coverage = cls()
        for path in files:
            key, flows = process_flows(path)
            coverage.flows[key] = flows
        return coverage

    def record(self, process_key: str, edges: Iterable[tuple[str, str]]) -> None:
        edges = set(edges)
        for flow_id, pair in self.flows.get(process_key, {}).items():
            if pair in edges:
                self.taken[process_key].add(flow_id)

    def missing(self) -> dict[str, list[str]]:
        return {
            key: sorted(set(flows) - self.taken[key])
            for key, flows in self.flows.items()
            if set(flows) - self.taken[key]
        }

    def table(self) -> str:
        lines = [f"{'process':34} {'flows':>5} {'taken':>5} {'cover':>6}  missing"]
        for key, flows in sorted(self.flows.items()):
            taken = len(self.taken[key] & set(flows))
            share = 100.0 * taken / len(flows) if flows else 100.0
            missing = ", ".join(sorted(set(flows) - self.taken[key]))
            lines.append(f"{key:34} {len(flows):5} {taken:5} {share:5.1f}%  {missing}")
        return "\n".join(lines)


class ProcessDriver:
    """Run processes as the people in their lanes would; one user per role, created on first use."""

    def __init__(self, db: Database, runtime: Runtime, clock: FixedClock) -> None:
        self.db, self.runtime, self.clock = db, runtime, clock
        self._users: dict[str, User] = {}

    def user(self, role: str, scope: str | None = None) -> User:
        """The test user who holds `role` (and only that role), in the gemeente or organisation of `scope`."""
        queue = f"{role}|{scope}" if scope else role
        if queue not in self._users:
            kind, _, value = (scope or "").partition(":")
            assert value != UNKNOWN, f"a {role} task for an unknown {kind} reaches no one"
            username = f"test.{role}.{value}".strip(".")[:64]
            with self.db.transaction() as session:
                # a second driver on the same database (a test that drives on after its fixture) reuses the users
                existing = session.scalar(select(User).where(User.username == username))
                self._users[queue] = existing or create_user(
                    session,
                    username=username,
                    display_name=f"Test {role}",
                    roles=[role],
                    organisation=value if kind == "org" else None,
                    gemeenten=[value] if kind == "gm" else [],
                )
        return self._users[queue]

    def start(self, process_key: str, data: dict[str, Any] | None = None, *, as_role: str) -> int:
        """Start a process as the holder of `as_role`; returns the instance id."""
        actor = self.user(as_role)
        with self.db.transaction() as session:
            return self.runtime.start_instance(session, process_key=process_key, actor=actor, data=data).instance.id

    def tasks(self, instance_id: int) -> list[InboxRow]:
        """The open tasks of an instance."""
        with self.db.reader() as session:
            return list_tasks(session, instance_id=instance_id, limit=1000).tasks

    def open(self, instance_id: int) -> set[str]:
        """Element ids of the open tasks of an instance."""
        return {task.element_id for task in self.tasks(instance_id)}

    def task(self, instance_id: int, element_id: str) -> InboxRow:
        matches = [t for t in self.tasks(instance_id) if t.element_id == element_id]
        assert matches, f"no open task {element_id} in instance {instance_id}; open: {sorted(self.open(instance_id))}"
        return matches[0]

    def _worker(self, instance_id: int, task: InboxRow) -> User:
        if task.role is not None:
            with self.db.reader() as session:
                scope = session.get_one(HumanTask, task.id).scope
            return self.user(task.role, scope)
        with self.db.reader() as session:
            row = session.get(Instance, instance_id)
            assert row is not None
            return session.get_one(User, row.started_by_id)

    def complete(self, instance_id: int, element_id: str, data: dict[str, Any] | None = None) -> Outcome:
        """Complete the open task `element_id` as a holder of its role, with form data."""
        task = self.task(instance_id, element_id)
        actor = self._worker(instance_id, task)
        with self.db.transaction() as session:
            return self.runtime.complete_task(session, task_id=task.id, actor=actor, data=data)

    def refused(self, instance_id: int, element_id: str, data: dict[str, Any]) -> dict[str, list[str]]:
        """Submit invalid data; returns the field errors (and asserts the task stays open)."""
        task = self.task(instance_id, element_id)
        actor = self._worker(instance_id, task)
        try:
            with self.db.transaction() as session:
                self.runtime.complete_task(session, task_id=task.id, actor=actor, data=data)
        except InvalidInput as refusal:
            assert element_id in self.open(instance_id)
            return refusal.fields
        raise AssertionError(f"{element_id} accepted data that should have been refused: {data}")

    def advance(self, delta: timedelta) -> list[FiredTimers]:
        """Move the clock and fire every timer that is then due."""
        self.clock.advance(delta)
        return fire_due_timers(self.db, self.runtime)

    def instance(self, instance_id: int) -> Instance:
        with self.db.reader() as session:
            row = session.get(Instance, instance_id)
            assert row is not None
            return row

    def status(self, instance_id: int) -> str:
        return self.instance(instance_id).status

    def data(self, instance_id: int) -> dict[str, Any]:
        """The instance's process data as its latest step left it."""
        with self.db.reader() as session:
            return self.runtime.load(session, instance_id).current_data()

    def follow_ups(self, instance_id: int) -> list[Instance]:
        """Instances started by hand-over from this one."""
        with self.db.reader() as session:
            return list(session.scalars(select(Instance).where(Instance.parent_instance_id == instance_id)))

    def record_coverage(self, coverage: FlowCoverage) -> None:
        """Record the flows travelled by every instance in this test's database."""
        with self.db.reader() as session:
            for row in session.scalars(select(Instance)):
                workflow = self.runtime.load(session, row.id).workflow
                coverage.record(row.process_key, travelled_edges(workflow))


def role_of_lanes(path: Path) -> set[str]:
    """The roles (lane names as role keys) used by a BPMN file."""
    from engine.spiff import lane_role

    root = etree.parse(str(path)).getroot()
    lanes = root.xpath(".//bpmn:lane", namespaces=NS)
    return {key for lane in lanes if (key := lane_role(lane.get("name"), lane_properties(lane)))}


def lane_properties(lane: etree._Element) -> dict[str, str]:
    """The `spiffworkflow:properties` of a lane element."""
    found = lane.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    return {str(p.get("name")): str(p.get("value")) for p in found}


def start_roles(db: Database, process_key: str) -> frozenset[str]:
    """The roles that may start a process (the lanes of its plain start events)."""
    from engine.registry import latest_version

    with db.reader() as session:
        return load_version(latest_version(session, process_key)).start_roles


def days(n: float) -> timedelta:
    return timedelta(days=n)
