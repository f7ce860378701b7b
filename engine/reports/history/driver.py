"""Drive the real processes at chosen moments in the past, as the demo people in their lanes would.

The history generator (`zvh demo --history`) uses this to make synthetic cases: every case is started and its
tasks are completed through the runtime, with validated form data, on a clock set to the moment the step
happened; timers fire when the clock passes them. Nothing is written into the report tables directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.clock import FixedClock, as_utc
from engine.db import Database
from engine.inbox import InboxRow, list_tasks
from engine.models import HumanTask, Instance, User
from engine.privacy.organisations import UNKNOWN
from engine.runtime import Runtime
from engine.users import create_user


class HistoryDriver:
    """Start processes and complete tasks at a moment in the past; one (passwordless) person per queue."""

    def __init__(self, db: Database, runtime: Runtime, *, start: datetime) -> None:
        self.db = db
        self.clock = FixedClock(as_utc(start))
        self.runtime = runtime.with_clock(self.clock)
        self._users: dict[str, User] = {}

    def at(self, moment: datetime) -> None:
        """Set the clock (any moment: cases are driven one after the other, each on its own dates)."""
        self.clock.set(as_utc(moment))

    def user(self, role: str, scope: str | None = None) -> User:
        """The history person who holds `role` in the queue `scope` (`gm:breda`, `org:politie`, or all)."""
        queue = f"{role}|{scope}" if scope else role
        if queue not in self._users:
            kind, _, value = (scope or "").partition(":")
            if value == UNKNOWN:
                raise ValueError(f"a {role} task for an unknown {kind} reaches no one; choose another path")
            username = f"historie.{role}.{value}".strip(".")[:64]
            with self.db.transaction() as session:
                user = session.scalar(select(User).where(User.username == username))
                if user is None:
                    user = create_user(
                        session,
                        username=username,
                        display_name=f"Historie {role.replace('_', ' ')}",
                        roles=[role],
                        organisation=value if kind == "org" else "zvh",
                        gemeenten=[value] if kind == "gm" else [],
                        actor="zvh-demo-history",
                    )
                session.expunge(user)
            self._users[queue] = user
        return self._users[queue]

    def start(self, process_key: str, data: dict[str, Any] | None = None, *, as_role: str) -> int:
        """Start a process by hand as the holder of `as_role`; returns the instance id."""
        actor = self.user(as_role)
        with self.db.transaction() as session:
            outcome = self.runtime.start_instance(session, process_key=process_key, actor=actor, data=data)
            return outcome.instance.id

    def tasks(self, instance_id: int) -> list[InboxRow]:
        """The open tasks of an instance."""
        with self.db.reader() as session:
            return list_tasks(session, instance_id=instance_id, limit=1000).tasks

    def open(self, instance_id: int) -> set[str]:
        """Element ids of the open tasks of an instance."""
        return {task.element_id for task in self.tasks(instance_id)}

    def complete(self, instance_id: int, element_id: str, data: dict[str, Any] | None = None) -> None:
        """Complete the open task `element_id` as a holder of its queue (the starter for lane-less tasks).

        One indexed lookup finds the task and its queue (the inbox listing would join more than a history needs).
        """
        with self.db.reader() as session:
            found = session.execute(
                select(HumanTask.id, HumanTask.role, HumanTask.scope)
                .where(HumanTask.instance_id == instance_id, HumanTask.element_id == element_id)
                .limit(1)
            ).first()
            if found is None:
                raise LookupError(
                    f"no open task {element_id} in instance {instance_id}: {sorted(self.open(instance_id))}"
                )
            task_id, role, scope = found
            starter = None
            if role is None:
                starter = session.get_one(User, session.get_one(Instance, instance_id).started_by_id)
                session.expunge(starter)
        actor = starter or self.user(str(role), scope)
        with self.db.transaction() as session:
            self.runtime.complete_task(session, task_id=task_id, actor=actor, data=data)

    def complete_at(
        self, moment: datetime, instance_id: int, element_id: str, data: dict[str, Any] | None = None
    ) -> None:
        """Set the clock to `moment` and complete the task there."""
        self.at(moment)
        self.complete(instance_id, element_id, data)

    def fire_timers(self, instance_id: int) -> list[str]:
        """Fire the instance's timers that are due at the clock's moment; returns the timer elements that fired."""
        with self.db.transaction() as session:
            return self.runtime.fire_timers(session, instance_id)

    def follow_ups(self, instance_id: int) -> list[int]:
        """Instances started by hand-over from this one (oldest first)."""
        with self.db.reader() as session:
            return list(
                session.scalars(
                    select(Instance.id).where(Instance.parent_instance_id == instance_id).order_by(Instance.id)
                )
            )

    def data(self, instance_id: int) -> dict[str, Any]:
        """The instance's process data as its latest step left it."""
        with self.db.reader() as session:
            return self.runtime.load(session, instance_id).current_data()

    def status(self, instance_id: int) -> str:
        with self.db.reader() as session:
            return session.get_one(Instance, instance_id).status

    def next_timer(self, instance_id: int) -> datetime | None:
        """When the instance's next timer is due (None: no timer waits)."""
        with self.db.reader() as session:
            return session.get_one(Instance, instance_id).next_timer_due_at
