"""Start, claim, complete, run to the next wait state, and persist — each in the caller's transaction.

Every change to an instance goes through `_save`: the workflow state, the business columns, the timer column,
the inbox projection and the audit events are written together, and the instance row's `lock_version`
(SQLAlchemy's version counter) turns a lost race into a `Conflict` instead of an overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import assignment
from engine.access import take_part
from engine.audit import record
from engine.case_facts import share_case_facts
from engine.clock import SYSTEM_CLOCK, Clock
from engine.config import Settings
from engine.db import session_keys
from engine.errors import ConfigurationError, Conflict, InvalidInput, NotFound, PermissionDenied
from engine.holidays import LOCAL
from engine.inbox import InboxRow
from engine.instance import (
    ACTIVE_STATUSES,
    COMPLETED,
    ERROR,
    RUNNING,
    WAITING,
    EngineFailure,
    WorkflowInstance,
)
from engine.models import (
    CompletedTask,
    Counter,
    HumanTask,
    Instance,
    Participant,
    ProcessVersion,
    User,
)
from engine.ops.metrics import TASK_COMPLETIONS, TIMERS_FIRED, count_on_commit
from engine.privacy.bekendheid import with_check_result, without_check_result
from engine.privacy.persons import index_persons, person_keys
from engine.privacy.retention import update_retention
from engine.privacy.visibility import protect_submission
from engine.projection import next_tasks_for, project
from engine.registry import LoadedVersion, latest_version, list_processes, load_version
from engine.reports.facts import record_facts
from engine.sandbox import Sandbox
from engine.spiff import (
    CLOCKED_TIMERS,
    SERIALIZER_VERSION,
    SandboxScriptEngine,
    dump_workflow,
    new_workflow,
    restore_workflow,
)

LIBRARY_VERSION = package_version("SpiffWorkflow")

#: Who may run a failed step again (the beheerder with corrected data, a manager from the monitor).
RETRY_ROLES = frozenset({"beheerder", "procesbeheerder", "manager"})
_MB = 1024 * 1024

# Statements on the hot path are built once: building a SQLAlchemy statement costs more than running it.
_INSTANCE = select(Instance).where(Instance.id == bindparam("instance_id"))
_INSTANCE_FOR_UPDATE = _INSTANCE.with_for_update(of=Instance).execution_options(populate_existing=True)
_TASKS_OF_INSTANCE = (
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"))
    .order_by(HumanTask.created_at, HumanTask.id)
)
_ADD_COMPLETED = insert(CompletedTask)


@dataclass(frozen=True)
class Outcome:
    """What an action left behind: the instance and the open tasks the actor can pick up next."""

    instance: Instance
    next_tasks: list[InboxRow]


class Runtime:
    """Runs process instances; built from injected parts (clock, sandbox budget)."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        script_time_budget: float = 2.0,
        script_memory_budget_mb: int = 256,
        max_instance_data_mb: float = 5.0,
    ) -> None:
        self.clock = clock
        self.script_time_budget = script_time_budget
        self.script_memory_budget_mb = script_memory_budget_mb
        self.max_instance_data_mb = max_instance_data_mb
        # The serializer writes ASCII JSON, so the length of the dumped state is its size in bytes.
        self._max_state_length = int(max_instance_data_mb * _MB)
        self.sandbox = Sandbox(clock=clock, time_budget=script_time_budget, memory_budget_mb=script_memory_budget_mb)
        self.script_engine = SandboxScriptEngine(self.sandbox)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Runtime:
        """A runtime with the configured script budget and instance size limit."""
        return cls(
            clock=clock,
            script_time_budget=settings.script_time_budget,
            script_memory_budget_mb=settings.script_memory_budget_mb,
            max_instance_data_mb=settings.max_instance_data_mb,
        )

    def with_clock(self, clock: Clock) -> Runtime:
        """The same runtime reading time from `clock` (`zvh timers fire --now`, tests)."""
        return Runtime(
            clock=clock,
            script_time_budget=self.script_time_budget,
            script_memory_budget_mb=self.script_memory_budget_mb,
            max_instance_data_mb=self.max_instance_data_mb,
        )

    # --- loading -----------------------------------------------------------------------------------------

    def _load(self, session: Session, instance_id: int, *, for_update: bool = False) -> WorkflowInstance:
        # Writers take the row lock first (PostgreSQL; SQLite writers already queue on BEGIN IMMEDIATE), so a
        # concurrent writer waits and then sees the new state; lock_version stays the safety net.
        row = session.scalar(_INSTANCE_FOR_UPDATE if for_update else _INSTANCE, {"instance_id": instance_id})
        if row is None:
            raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=instance_id)
        if row.destroyed_at is not None:
            raise NotFound("Deze zaak is vernietigd.")
        version = load_version(row.process_version)
        workflow = restore_workflow(
            row.state,
            spec=version.spec,
            subprocess_specs=version.subprocess_specs,
            script_engine=self.script_engine,
        )
        instance = WorkflowInstance(row, version, workflow)
        # What the last save indexed: the keys of the data as that save left it, which loading restores.
        instance.indexed_person_keys = person_keys(session_keys(session).pseudonym, instance.current_data())
        return instance

    def load(self, session: Session, instance_id: int, *, for_update: bool = False) -> WorkflowInstance:
        """An instance with its workflow restored (views read it; a writer takes the row lock with `for_update`)."""
        return self._load(session, instance_id, for_update=for_update)

    # --- starting ----------------------------------------------------------------------------------------

    def start_instance(
        self,
        session: Session,
        *,
        process_key: str,
        actor: User,
        data: Mapping[str, Any] | None = None,
        locale: str = "nl",
    ) -> Outcome:
        """Start the newest version of a process with validated start data and run it to its first wait."""
        stored = latest_version(session, process_key)
        version = load_version(stored)
        if not version.may_be_started_by(actor.role_keys):
            if not version.user_startable:
                raise PermissionDenied(
                    "'%(proces)s' wordt door een ander proces gestart, niet met de hand.", proces=version.name
                )
            raise PermissionDenied(
                "Alleen %(rollen)s mogen '%(proces)s' starten.",
                rollen=", ".join(sorted(version.start_roles)),
                proces=version.name,
            )
        start_data = self._validate_start_data(version, data or {}, locale)
        instance = self._create_instance(
            session,
            stored,
            version,
            actor=actor,
            data=start_data,
            case_number=self._next_case_number(session, self.clock.now()),
        )
        return Outcome(instance.row, next_tasks_for(session, actor, instance))

    def _create_instance(
        self,
        session: Session,
        stored: ProcessVersion,
        version: LoadedVersion,
        *,
        actor: User,
        data: Mapping[str, Any],
        case_number: str,
        parent: Instance | None = None,
        message: BpmnEvent | None = None,
    ) -> WorkflowInstance:
        now = self.clock.now()
        workflow = new_workflow(version.spec, version.subprocess_specs, self.script_engine)
        workflow.task_tree.data.update(data, casusnummer=case_number)
        row = Instance(
            process_version_id=stored.id,
            process_key=version.process_key,
            parent_instance_id=parent.id if parent else None,
            status=RUNNING,
            state="",
            serializer_version=SERIALIZER_VERSION,
            library_version=LIBRARY_VERSION,
            case_number=case_number,
            started_by_id=actor.id,
            started_at=now,
            last_progress_at=now,
        )
        session.add(row)
        session.flush()
        instance = WorkflowInstance(row, version, workflow, fresh=True)
        take_part(session, instance_id=row.id, user_id=actor.id, reason="started", at=now)
        origin = f" (hand-over from instance {parent.id})" if parent else ""
        record(
            session,
            actor=actor.username,
            action="start",
            at=now,
            instance_id=row.id,
            process_version_id=stored.id,
            summary=f"Started {version.name} (v{stored.version}) as case {case_number}{origin}",
        )

        def run() -> None:
            _choose_start_events(workflow, by_message=message is not None)
            workflow.do_engine_steps()
            if message is not None:
                workflow.catch(message)
                workflow.do_engine_steps()

        failure = self.run_engine(instance, run)
        self.save(session, instance, actor=actor, failure=failure)
        return instance

    def start_follow_up(
        self, session: Session, *, instance_id: int, message: str, actor: User, data: Mapping[str, Any]
    ) -> Instance:
        """Start the process that `message` starts as a follow-up of an instance's case (same case number)."""
        parent = session.get(Instance, instance_id)
        if parent is None:
            raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=instance_id)
        stored, loaded = _receiver(session, message)
        # The receiver's own definition: the parser's message class is what its start event compares against.
        definition = next(
            spec.event_definition
            for spec in loaded.spec.task_specs.values()
            if isinstance(spec, StartEvent) and getattr(spec.event_definition, "name", None) == message
        )
        event = BpmnEvent(definition, dict(data))
        child = self._create_instance(
            session,
            stored,
            loaded,
            actor=actor,
            data=dict(data),
            case_number=parent.case_number,
            parent=parent,
            message=event,
        )
        return child.row

    def _hand_over(self, session: Session, instance: WorkflowInstance, actor: User) -> None:
        """Start the follow-up process for every message the instance threw that it did not catch itself."""
        for event in instance.workflow.get_events():
            if not isinstance(event.event_definition, MessageEventDefinition):
                continue
            name = event.event_definition.name
            stored, loaded = _receiver(session, name)
            payload = event.payload if isinstance(event.payload, dict) else {"bericht": event.payload}
            child = self._create_instance(
                session,
                stored,
                loaded,
                actor=actor,
                data=payload,
                case_number=instance.row.case_number,
                parent=instance.row,
                message=event,
            )
            record(
                session,
                actor=actor.username,
                action="handover",
                at=self.clock.now(),
                instance_id=instance.row.id,
                process_version_id=instance.row.process_version_id,
                summary=f"Handed case {instance.row.case_number} over to {loaded.name} (instance {child.row.id})",
                details={"message": name, "instance_id": child.row.id},
            )

    def _validate_start_data(self, version: LoadedVersion, data: Mapping[str, Any], locale: str) -> dict[str, Any]:
        if version.start_form.name:
            return version.start_form.validate(data, locale=locale)
        if data:
            fields = {
                key: ["Dit proces heeft geen startformulier; startgegevens zijn niet toegestaan."] for key in data
            }
            raise InvalidInput("Dit proces neemt geen startgegevens aan.", fields)
        return {}

    def _next_case_number(self, session: Session, now: datetime) -> str:
        # a naive moment is UTC (the engine's clock); the year is Breda's
        year = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(LOCAL).year
        name = f"case-{year}"
        value = session.scalar(
            update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
        )
        if value is None:
            session.add(Counter(name=name, value=1))
            session.flush()
            value = 1
        return f"ZVH-{year}-{value:05d}"  # the year of Breda's calendar: 00:30 on 1 January is the new year

    # --- human tasks: claiming, releasing and reassigning live in engine.assignment ---------------------

    def claim_task(self, session: Session, *, task_id: str, actor: User) -> InboxRow:
        """Take an open task so colleagues see it is being handled."""
        return assignment.claim_task(session, task_id=task_id, actor=actor, at=self.clock.now())

    def unclaim_task(self, session: Session, *, task_id: str, actor: User) -> InboxRow:
        """Give a claimed task back to the role's shared queue."""
        return assignment.unclaim_task(session, task_id=task_id, actor=actor, at=self.clock.now())

    def reassign_task(self, session: Session, *, task_id: str, actor: User, assignee: User, reason: str) -> InboxRow:
        """(Coordinator) hand a task to a colleague who holds its role; the reason goes to the audit log."""
        return assignment.reassign_task(
            session, task_id=task_id, actor=actor, assignee=assignee, reason=reason, at=self.clock.now()
        )

    @staticmethod
    def _joins_by_completing(session: Session, row: Instance, task: HumanTask, actor: User) -> bool:
        """Whether completing this task makes the actor a participant: work done does."""
        # Access the actor already has is left as it is: the starter's, and a substitute's cover that ends with the
        # absence (a claimer has none yet: claiming gives no participation).
        if row.started_by_id == actor.id:
            return False
        return task.assignee_id != actor.id or session.get(Participant, (row.id, actor.id)) is None

    def complete_task(
        self,
        session: Session,
        *,
        task_id: str,
        actor: User,
        data: Mapping[str, Any] | None = None,
        lock_version: int | None = None,
        locale: str = "nl",
    ) -> Outcome:
        """Validate the form data, complete the task, run the engine to the next wait state and persist."""
        task = assignment.open_task(session, task_id)
        if not assignment.may_work_on(actor, task):
            if task.assignee_id is not None and assignment.eligible(actor, task):
                raise Conflict("Deze taak staat op naam van %(naam)s.", naam=assignment.holder_name(session, task))
            raise PermissionDenied("U heeft niet de rol die deze taak vraagt.")
        instance = self._load(session, task.instance_id, for_update=True)
        if lock_version is not None and lock_version != instance.row.lock_version:
            raise Conflict(
                "De zaak is gewijzigd sinds u deze taak opende; laad de taak opnieuw en controleer uw invoer voordat u "
                "verstuurt."
            )
        if instance.row.status not in ACTIVE_STATUSES:
            raise Conflict(
                "De zaak heeft de status '%(status)s'; de taken ervan kunnen nu niet worden afgerond.",
                status=instance.row.status,
            )
        spiff_task = instance.find_task(task_id)
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("Deze taak is intussen door iemand anders afgerond; er is niets opgeslagen.")
        form = instance.version.form_for(spiff_task.task_spec)
        data = without_check_result(spiff_task.task_spec, data)
        # "afgeschermd" sent back for a field the actor may not see (a class they lack) never replaces its value.
        values = form.validate(protect_submission(form, data or {}, spiff_task.data, actor), locale=locale)
        values = with_check_result(
            session,
            task_spec=spiff_task.task_spec,
            task_name=task.name,
            data=spiff_task.data,
            values=values,
            asker=actor,
            case_number=instance.row.case_number,
            at=self.clock.now(),
        )

        def advance() -> None:
            spiff_task.set_data(**values)
            spiff_task.run()
            share_case_facts(instance, spiff_task)
            instance.workflow.do_engine_steps()

        failure = self.run_engine(instance, advance)
        session.execute(_ADD_COMPLETED, _completed_row(task, actor, self.clock.now()))
        if self._joins_by_completing(session, instance.row, task, actor):
            take_part(session, instance_id=instance.row.id, user_id=actor.id, reason="worked_on", at=self.clock.now())
        record(
            session,
            actor=actor.username,
            action="complete",
            at=self.clock.now(),
            instance_id=instance.row.id,
            task_id=task_id,
            element_id=task.element_id,
            process_version_id=instance.row.process_version_id,
            summary=f"Completed '{task.name}'",
            details={"fields": sorted(values)},
        )
        self.save(session, instance, actor=actor, failure=failure)
        count_on_commit(session, TASK_COMPLETIONS, process=task.process_key)
        return Outcome(instance.row, next_tasks_for(session, actor, instance))

    def retry_instance(
        self, session: Session, *, instance_id: int, actor: User, data: Mapping[str, Any] | None = None
    ) -> Outcome:
        """Run the failed step of an instance in `error` again, optionally with corrected data."""
        if not (actor.role_keys & RETRY_ROLES):
            raise PermissionDenied("Alleen een beheerder of manager kan een vastgelopen zaak opnieuw uitvoeren.")
        instance = self._load(session, instance_id, for_update=True)
        if instance.row.status != ERROR:
            raise Conflict(
                "Zaak %(zaak)s heeft de status '%(status)s' en is niet vastgelopen.",
                zaak=instance_id,
                status=instance.row.status,
            )
        failed = instance.errored_tasks() or [t for t in [instance.stalled_task()] if t is not None]

        def rerun() -> None:
            for task in failed:
                # A reset task inherits its input again from its parent: corrections go there.
                if data and task.parent is not None:
                    task.parent.data.update(data)
                task.workflow.reset_from_task_id(task.id)
            instance.workflow.do_engine_steps()

        failure = self.run_engine(instance, rerun)
        record(
            session,
            actor=actor.username,
            action="retry",
            at=self.clock.now(),
            instance_id=instance_id,
            process_version_id=instance.row.process_version_id,
            summary=f"Retried {', '.join(_step_name(t.task_spec) for t in failed) or 'instance'}",
            details={"corrected_fields": sorted(data or {})},
        )
        self.save(session, instance, actor=actor, failure=failure)
        return Outcome(instance.row, next_tasks_for(session, actor, instance))

    # --- timers ------------------------------------------------------------------------------------------

    def fire_timers(self, session: Session, instance_id: int) -> list[str]:
        """Fire the due timers of one instance and run on; returns the ids of the timer events that fired."""
        instance = self._load(session, instance_id, for_update=True)
        if instance.row.status not in ACTIVE_STATUSES:
            return []
        waiting_before = {t.id: t for t in self._waiting_timers(instance)}

        def fire() -> None:
            for _ in range(3):  # a fired timer can make the next one ready in the same pass
                instance.workflow.refresh_timers()
                instance.workflow.do_engine_steps()

        failure = self.run_engine(instance, fire)
        still_waiting = {t.id for t in self._waiting_timers(instance)}
        fired = [
            t
            for task_id, t in waiting_before.items()
            if task_id not in still_waiting or t._get_internal_data("event_fired")
        ]
        now = self.clock.now()
        for timer in fired:
            record(
                session,
                actor="system",
                action="timer",
                at=now,
                instance_id=instance_id,
                element_id=timer.task_spec.bpmn_id,
                process_version_id=instance.row.process_version_id,
                summary=f"Timer '{timer.task_spec.bpmn_name or timer.task_spec.bpmn_id}' fired",
            )
        self.save(session, instance, actor=None, failure=failure, progressed=bool(fired))
        if fired:
            count_on_commit(session, TIMERS_FIRED, process=instance.row.process_key, amount=len(fired))
        return [t.task_spec.bpmn_id for t in fired]

    @staticmethod
    def _waiting_timers(instance: WorkflowInstance) -> list[Any]:
        return [
            task
            for task in instance.workflow.event_manager.tasks.values()
            if type(task.task_spec.event_definition).__name__ in CLOCKED_TIMERS
        ]

    # --- engine and persistence --------------------------------------------------------------------------

    @staticmethod
    def run_engine(instance: WorkflowInstance, step: Any) -> EngineFailure | None:
        """Run `step`; a script/gateway error or a stall becomes an `EngineFailure`, never a lost state."""
        try:
            step()
        except WorkflowException as error:
            task = getattr(error, "task", None)
            spec = getattr(task, "task_spec", None) or getattr(error, "task_spec", None)
            element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
            cause = getattr(error, "exception", None)
            message = str(cause) if cause is not None else str(error)
            return EngineFailure(element, message.strip() or type(error).__name__)
        except Exception as error:
            return EngineFailure(None, f"{type(error).__name__}: {error}")
        stalled = instance.stalled_task()
        if stalled is not None:
            return EngineFailure(
                stalled.task_spec.bpmn_id or stalled.task_spec.name,
                "The process stopped advancing here (a loop kept too much history); "
                "model repetition with a loop marker or a follow-up instance.",
            )
        return None

    def save(
        self,
        session: Session,
        instance: WorkflowInstance,
        *,
        actor: User | None,
        failure: EngineFailure | None,
        progressed: bool = True,
    ) -> None:
        """Persist state, business columns, timers, inbox rows and hand-overs; `actor` None means the system."""
        row, workflow, now = instance.row, instance.workflow, self.clock.now()
        actor_name = actor.username if actor else "system"
        if failure is None:
            self._hand_over(session, instance, actor or row.started_by)
        state = dump_workflow(workflow)
        if len(state) > self._max_state_length:
            too_large = self._too_large(len(state))
            if actor is not None:  # a person's step is refused: the transaction rolls back, nothing is stored
                raise InvalidInput(too_large, {})
            failure = EngineFailure(None, too_large)  # a system step keeps the previous state and stops
        else:
            row.state = state
            row.serializer_version = SERIALIZER_VERSION
            row.library_version = LIBRARY_VERSION
        if progressed:
            row.last_progress_at = now
        ready = instance.ready_human_tasks
        data = instance.current_data(ready)
        row.gemeente = _text(data.get("gemeente"), 100)
        row.subject_person = _subject_person(data)
        row.vertrouwelijkheid = _text(data.get("vertrouwelijkheid"), 32)
        row.person_key = index_persons(session, row.id, data, indexed=instance.indexed_person_keys)
        if failure is not None:
            row.status, row.error_element, row.error_message = (
                ERROR,
                failure.element_id,
                failure.message[:2000],
            )
            record(
                session,
                actor=actor_name,
                action="error",
                at=now,
                instance_id=row.id,
                element_id=failure.element_id,
                process_version_id=instance.row.process_version_id,
                summary=f"Error at {_element_name(instance, failure.element_id)}: {failure.message}",
            )
        else:
            row.error_element = row.error_message = None
            if workflow.is_completed():
                row.status, row.ended_at = COMPLETED, now
            else:
                row.status = RUNNING if ready else WAITING
        due_dates = instance.timer_due_dates()
        active = row.status in ACTIVE_STATUSES
        row.next_timer_due_at = min(due_dates) if due_dates and active else None
        process_norm = instance.version.process_norm
        row.stall_at = process_norm.due(row.last_progress_at) if process_norm and active else None
        update_retention(instance, data)
        record_facts(
            session,
            row=row,
            workflows=[workflow, *workflow.subprocesses.values()],
            marks=instance.version.report_marks,
            data=data,
            now=now,
            fresh=instance.fresh,
        )
        try:
            with session.no_autoflush:
                project(session, instance, ready, now, actor_id=actor.id if actor else None)
            session.flush()
        except (StaleDataError, IntegrityError):
            raise Conflict(
                "Iemand anders wijzigde deze zaak op hetzelfde moment; er is niets opgeslagen. Laad de pagina "
                "opnieuw en probeer het nog eens."
            ) from None

    def _too_large(self, length: int) -> str:
        size, limit = f"{length / _MB:.2f}".replace(".", ","), f"{self.max_instance_data_mb:g}".replace(".", ",")
        return (
            f"De gegevens van deze zaak worden te groot ({size} MB, maximaal {limit} MB); deze stap is niet "
            "opgeslagen. Verklein de ingevoerde gegevens of vraag beheer om hulp."
        )


def _receiver(session: Session, message: str) -> tuple[ProcessVersion, LoadedVersion]:
    """The one deployed process that a message starts."""
    receivers = [
        (stored, loaded)
        for stored in list_processes(session)
        if message in (loaded := load_version(stored)).start_messages
    ]
    if len(receivers) != 1:
        problem = "geen uitgerold proces start" if not receivers else "meer dan één proces start"
        raise ConfigurationError(
            "Overdragen lukt niet: %(probleem)s bij bericht '%(bericht)s'. Er is niets opgeslagen; vraag beheer het "
            "vervolgproces uit te rollen.",
            probleem=problem,
            bericht=message,
        )
    return receivers[0]


def _choose_start_events(workflow: BpmnWorkflow, *, by_message: bool) -> None:
    """In a process with both kinds of start event, withdraw the kind this start does not use.

    A plain start event fires at once; left in place it would also run when a hand-over message starts the
    instance, and a waiting message start event would linger after a start by hand.
    """
    for task in workflow.get_tasks(state=TaskState.PREDICTED_MASK):
        if isinstance(task.task_spec, StartEvent):
            by_hand = isinstance(task.task_spec.event_definition, NoneEventDefinition)
            if by_hand == by_message:
                task.cancel()


def _completed_row(task: HumanTask, actor: User, at: datetime) -> dict[str, Any]:
    """The history row of a task completed now (lead times per step)."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_key": task.process_key,
        "element_id": task.element_id,
        "name": task.name,
        "role": task.role,
        "created_at": task.created_at,
        "completed_at": at,
        "completed_by_id": actor.id,
    }


def _text(value: object, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def _subject_person(data: Mapping[str, Any]) -> str | None:
    """The person a case is about: the hoofdbetrokkene (or first betrokkene), else `naam_betrokkene`."""
    people = data.get("betrokkenen")
    if isinstance(people, list):
        named = [p for p in people if isinstance(p, dict) and isinstance(p.get("naam"), str)]
        main = [p for p in named if p.get("rol") == "hoofdbetrokkene"] or named
        if main:
            return _text(main[0]["naam"], 200)
    return _text(data.get("naam_betrokkene"), 200)


def _step_name(task_spec: Any) -> str:
    """A step as the model names it; its id only when the model gives it no name."""
    return str(task_spec.bpmn_name or task_spec.bpmn_id or task_spec.name)


def _element_name(instance: WorkflowInstance, element_id: str | None) -> str:
    """The name of element `element_id` of the instance's process (or a subprocess), for summaries people read."""
    if element_id is None:
        return "the process"
    for spec in [instance.version.spec, *instance.version.subprocess_specs.values()]:
        if (task_spec := spec.task_specs.get(element_id)) is not None:
            return _step_name(task_spec)
    return element_id
