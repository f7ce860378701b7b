"""Moving running cases to a newer version of their process: a dry run first, then per instance all-or-nothing.

Running instances stay on the version they started on. A process owner moves them explicitly; each instance goes
over in its own savepoint, so a refusal or a failure leaves that instance untouched and the others moved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FixedClock
from engine.errors import InvalidInput, NotFound, ZvhError
from engine.instance import ACTIVE_STATUSES
from engine.modelling import require_process_owner
from engine.models import HumanTask, Instance, ProcessVersion, User
from engine.runtime import MigrationPlan, Runtime


@dataclass
class MigrationStep:
    """What happens (dry run) or happened to one instance: where it waits now, where it will wait, or why not."""

    instance_id: int
    case_number: str
    from_version: int
    to_version: int
    waits_now: list[str]
    will_wait: list[str]
    ok: bool
    reason: str | None
    migrated: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def instances_waiting_at(
    session: Session, *, process_key: str, element_id: str | None = None, version: int | None = None
) -> list[int]:
    """Active instances of a process, optionally only those with an open task at `element_id` or on `version`.

    Read from indexed columns (the inbox projection), never from workflow states: an instance that waits on a
    timer or a message has no open task and is found by its version only.
    """
    query = select(Instance.id).where(Instance.process_key == process_key, Instance.status.in_(ACTIVE_STATUSES))
    if version is not None:
        query = query.join(ProcessVersion, ProcessVersion.id == Instance.process_version_id).where(
            ProcessVersion.version == version
        )
    if element_id is not None:
        at_element = select(HumanTask.instance_id).where(
            HumanTask.process_key == process_key, HumanTask.element_id == element_id
        )
        query = query.where(Instance.id.in_(at_element))
    return list(session.scalars(query.order_by(Instance.id)))


def migrate_instances(
    session: Session,
    runtime: Runtime,
    *,
    instance_ids: list[int],
    to_version: int,
    actor: User,
    at: datetime,
    dry_run: bool = False,
) -> list[MigrationStep]:
    """Move instances to version `to_version` of their process (dry run: only say what would happen)."""
    require_process_owner(actor)
    runtime = runtime.with_clock(FixedClock(at))
    rows = _instances(session, instance_ids)
    targets = {key: _target(session, key, to_version) for key in {row.process_key for row in rows}}
    for row in rows:
        if to_version <= row.process_version.version:
            message = f"Zaak {row.case_number} staat al op versie {row.process_version.version}; kies een nieuwere."
            raise InvalidInput(message, {"versie": [message]})
    return [_migrate_one(session, runtime, row, targets[row.process_key], actor=actor, dry_run=dry_run) for row in rows]


def _instances(session: Session, instance_ids: list[int]) -> list[Instance]:
    """The instances in the order asked, each once (unknown ids are refused before anything happens)."""
    wanted = list(dict.fromkeys(instance_ids))
    found = {row.id: row for row in session.scalars(select(Instance).where(Instance.id.in_(wanted)))}
    missing = [str(instance_id) for instance_id in wanted if instance_id not in found]
    if missing:
        raise NotFound(f"Zaak {', '.join(missing)} bestaat niet.")
    return [found[instance_id] for instance_id in wanted]


def _target(session: Session, process_key: str, number: int) -> ProcessVersion:
    target = session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_key == process_key, ProcessVersion.version == number)
    )
    if target is None:
        message = f"Versie {number} van '{process_key}' bestaat niet."
        raise InvalidInput(message, {"versie": [message]})
    return target


def _migrate_one(
    session: Session, runtime: Runtime, row: Instance, target: ProcessVersion, *, actor: User, dry_run: bool
) -> MigrationStep:
    instance_id, case_number, from_version = row.id, row.case_number, row.process_version.version
    try:
        if dry_run:
            plan = runtime.migrate_instance(session, instance_id=instance_id, to=target, actor=actor, dry_run=True)
        else:
            with session.begin_nested():
                plan = runtime.migrate_instance(session, instance_id=instance_id, to=target, actor=actor)
    except ZvhError as error:  # e.g. a lost race with a colleague's step: this instance stays as it was
        plan = MigrationPlan([], [], error.message)
    return MigrationStep(
        instance_id=instance_id,
        case_number=case_number,
        from_version=from_version,
        to_version=target.version,
        waits_now=plan.waits_now,
        will_wait=plan.will_wait,
        ok=plan.refusal is None,
        reason=plan.refusal,
        migrated=not dry_run and plan.refusal is None,
    )
