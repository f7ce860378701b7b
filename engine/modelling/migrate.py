"""Moving running cases to a newer version of their process: a dry run first, then per instance all-or-nothing.

Running instances stay on the version they started on. A process owner moves them explicitly; each instance goes
over in its own savepoint, so a refusal or a failure leaves that instance untouched and the others moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.audit import record
from engine.clock import FixedClock
from engine.errors import InvalidInput, NotFound, ZvhError
from engine.instance import ACTIVE_STATUSES, COMPLETED, ERROR, SUSPENDED, TERMINATED, WorkflowInstance
from engine.modelling import require_process_owner
from engine.models import HumanTask, Instance, ProcessVersion, User, task_audience
from engine.privacy.organisations import task_scope
from engine.projection import inbox_fields
from engine.registry import LoadedVersion, load_version
from engine.runtime import Runtime
from engine.spiff import dump_workflow, restore_workflow
from engine.spiff_migration import migration_refusal, move_to_specs, waiting_elements


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


@dataclass(frozen=True)
class MigrationPlan:
    """Where an instance waits on its version, where it would wait on another one, and why not (if refused)."""

    waits_now: list[str]
    will_wait: list[str]
    refusal: str | None = None


_STATUS_NAMES = {COMPLETED: "afgerond", ERROR: "in fout", SUSPENDED: "gepauzeerd", TERMINATED: "beëindigd"}


def migrate_instance(
    session: Session, runtime: Runtime, *, instance_id: int, to: ProcessVersion, actor: User, dry_run: bool = False
) -> MigrationPlan:
    """Move an active instance onto a newer version of its process; a dry run or a refusal changes nothing."""
    instance = runtime.load(session, instance_id, for_update=not dry_run)
    row, source = instance.row, instance.row.process_version
    if to.process_key != row.process_key or to.version <= source.version:
        raise InvalidInput(
            "Versie %(naar)s is geen nieuwere versie van '%(proces)s' dan versie %(van)s.",
            {"versie": [f"Kies een versie van '{row.process_key}' na versie {source.version}."]},
            naar=to.version,
            proces=row.process_key,
            van=source.version,
        )
    waits_now = waiting_elements(instance.workflow)
    before = {str(task.id): task.task_spec for task in instance.ready_human_tasks}
    if row.status not in ACTIVE_STATUSES:
        return MigrationPlan(
            waits_now,
            [],
            f"De zaak is {_STATUS_NAMES.get(row.status, row.status)}; "
            "alleen lopende zaken gaan over naar een nieuwe versie.",
        )
    target = load_version(to)
    refusal = migration_refusal(instance.workflow, target, to.version)
    if refusal is None:
        refusal = _move_workflow(runtime, instance, target, to.version)
    will_wait = [] if refusal else waiting_elements(instance.workflow)
    plan = MigrationPlan(waits_now, will_wait, refusal)
    if dry_run or refusal:
        return plan
    record(
        session,
        actor=actor.username,
        action="migrate",
        at=runtime.clock.now(),
        instance_id=row.id,
        process_version_id=to.id,
        summary=f"Migrated from version {source.version} to {to.version}; waits at {', '.join(will_wait) or '-'}",
        details={
            "from_version": source.version,
            "to_version": to.version,
            "waits_now": waits_now,
            "will_wait": will_wait,
        },
    )
    row.process_version_id, row.process_version = to.id, to
    runtime.save(session, instance, actor=actor, failure=None, progressed=False)
    _follow_version(session, instance, before)
    return plan


def _move_workflow(runtime: Runtime, instance: WorkflowInstance, target: LoadedVersion, number: int) -> str | None:
    """Put `instance` on the target specs and run it to its next wait; a reason when that does not work."""
    workflow = instance.workflow
    move_to_specs(workflow, target.spec, target.subprocess_specs)
    try:  # the state as it will be stored must restore on the new version
        instance.workflow = restore_workflow(
            dump_workflow(workflow),
            spec=target.spec,
            subprocess_specs=target.subprocess_specs,
            script_engine=runtime.script_engine,
        )
    except Exception as error:
        return f"De toestand van de zaak past niet op versie {number}: {type(error).__name__}: {error}"
    instance.version = target
    failure = runtime.run_engine(instance, instance.workflow.do_engine_steps)
    if failure is not None:
        return f"Op versie {number} stopt de zaak bij '{failure.element_id or '?'}': {failure.message}"
    return None


def _follow_version(session: Session, instance: WorkflowInstance, before: Mapping[str, Any]) -> None:
    """Tasks that stayed open keep their row (assignee, drafts); name, form and lane follow the new version."""
    for task_id in sorted(instance.kept_ids):
        spiff_task = instance.find_task(task_id)
        old, new = inbox_fields(before[task_id]), inbox_fields(spiff_task.task_spec)
        values: dict[str, Any] = {**new, "process_name": instance.version.name}
        if new["role"] != old["role"]:  # another lane: back to the new role's queue, scoped as that lane says
            owner_id = instance.row.started_by_id if new["role"] is None else None
            scope = task_scope(
                instance.version.scope_of(new["role"]), gemeente=instance.row.gemeente, data=spiff_task.data
            )
            audience = task_audience(assignee_id=None, role=new["role"], owner_id=owner_id, scope=scope)
            values |= {"owner_id": owner_id, "assignee_id": None, "scope": scope, "audience": audience}
        session.execute(
            update(HumanTask).where(HumanTask.id == task_id).values(values).execution_options(synchronize_session=False)
        )


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
        raise NotFound("Zaak %(zaken)s bestaat niet.", zaken=", ".join(missing))
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
            plan = migrate_instance(session, runtime, instance_id=instance_id, to=target, actor=actor, dry_run=True)
        else:
            with session.begin_nested():
                plan = migrate_instance(session, runtime, instance_id=instance_id, to=target, actor=actor)
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
