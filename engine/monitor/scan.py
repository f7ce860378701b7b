"""What is stalled, overdue or failing, read from indexed columns only (never from workflow state).

* **stalled** — an open task waited past its norm (`human_tasks.norm_due_at`), or an instance with no open task made
  no progress for longer than its process norm (`instances.stall_at`) and has no timer that will move it;
* **overdue** — a task's deadline (`human_tasks.due_at`, also inherited from a sub-process) passed or passes within
  the warning window, or a timer is due but has not fired (`instances.next_timer_due_at`: the timer job is behind);
* **incident** — an instance in `error`, with the element and the message;
* **paused** — a case whose legal deadlines are paused (opschorting, engine.suspension), since when and why; its
  tasks are not overdue while it is paused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from engine.errors import PermissionDenied
from engine.models import DeadlinePause, HumanTask, Instance, ProcessVersion, User

Category = Literal["stalled", "overdue", "incident", "paused"]
CATEGORIES: tuple[Category, ...] = ("stalled", "overdue", "incident", "paused")
#: Reasons a row is listed, as stable codes (the UI and the CLI turn them into words).
Reason = Literal[
    "task_norm", "instance_norm", "deadline_passed", "deadline_near", "timer_not_fired", "error", "deadline_paused"
]
#: A task of a case whose legal deadlines are paused is not overdue.
_NOT_PAUSED = ~exists().where(DeadlinePause.instance_id == HumanTask.instance_id, DeadlinePause.ended_at.is_(None))

#: Who sees the monitor: managers, and coordinators for the team they coordinate.
MONITOR_ROLES = frozenset({"manager", "coordinator"})
#: A deadline within this window shows as "bijna verlopen".
DEFAULT_WARNING = timedelta(days=2)
#: A timer this late has not been picked up by the timer job (beat or worker down).
TIMER_GRACE = timedelta(minutes=5)
#: Active instance statuses (the runtime's; repeated here so the monitor does not load the runtime).
_ACTIVE = ("running", "waiting")

_Assignee = aliased(User)


@dataclass(frozen=True)
class MonitorFilter:
    """Which rows to list (from untrusted input: unknown values fall back to 'all')."""

    category: Category | None = None
    process: str | None = None
    element: str | None = None
    gemeente: str | None = None
    role: str | None = None
    sort: Literal["since", "due", "process", "case"] = "since"
    limit: int = 500
    #: only what crossed its limit after this moment (the notification scan picks up where it stopped)
    crossed_after: datetime | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorFilter:
        """A filter from URL parameters or CLI options."""

        def text(value: Any) -> str | None:
            return value.strip()[:128] or None if isinstance(value, str) and value.isprintable() else None

        category = data.get("categorie") or data.get("category")
        sort = data.get("sorteer") or data.get("sort")
        return cls(
            category=category if category in CATEGORIES else None,
            process=text(data.get("proces") or data.get("process")),
            element=text(data.get("stap") or data.get("element")),
            gemeente=text(data.get("gemeente")),
            role=text(data.get("rol") or data.get("role")),
            sort=sort if sort in ("since", "due", "process", "case") else "since",
        )


@dataclass(frozen=True)
class MonitorRow:
    """One stalled task or instance, overdue task or incident, with what a manager needs to act on it."""

    category: Category
    reason: Reason
    instance_id: int
    case_number: str
    process_key: str
    process_name: str
    element_id: str | None
    step: str | None
    task_id: str | None
    waiting_since: datetime
    norm: str | None
    due_at: datetime | None
    role: str | None
    assignee: str | None
    gemeente: str | None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 times)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class MonitorCounts:
    """How many rows each category, process and step holds."""

    by_category: dict[str, int] = field(default_factory=dict)
    by_process: dict[str, int] = field(default_factory=dict)
    by_step: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the name of each counted step, as the diagram names it
    step_names: dict[tuple[str, str], str] = field(default_factory=dict)


def require_monitor(user: User) -> None:
    """Only managers and coordinators see the monitor."""
    if not (user.role_keys & MONITOR_ROLES):
        raise PermissionDenied("Alleen managers en coördinatoren zien de bewaking.")


def _task_filters(filters: MonitorFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.process:
        conditions.append(HumanTask.process_key == filters.process)
    if filters.element:
        conditions.append(HumanTask.element_id == filters.element)
    if filters.gemeente:
        conditions.append(HumanTask.gemeente == filters.gemeente)
    if filters.role:
        conditions.append(HumanTask.role == filters.role)
    return conditions


def _instance_filters(filters: MonitorFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.process:
        conditions.append(Instance.process_key == filters.process)
    if filters.element:
        conditions.append(Instance.error_element == filters.element)
    if filters.gemeente:
        conditions.append(Instance.gemeente == filters.gemeente)
    return conditions


def _crossed(limit: Any, now: datetime, after: datetime | None) -> ColumnElement[bool]:
    """The limit lies in the past (and, when `after` is given, was crossed after it): one index range."""
    return limit <= now if after is None else and_(limit > after, limit <= now)


def _quiet_instance(now: datetime) -> list[ColumnElement[bool]]:
    """An active instance past its process norm with no open task and no timer behind it: nothing will move it."""
    return [
        Instance.stall_at <= now,
        Instance.status.in_(_ACTIVE),
        Instance.next_timer_due_at.is_(None),
        ~exists().where(HumanTask.instance_id == Instance.id),
    ]


def _task_query(condition: ColumnElement[bool], filters: MonitorFilter, order: Any) -> Select[Any]:
    return (
        select(HumanTask, _Assignee.display_name)
        .outerjoin(_Assignee, _Assignee.id == HumanTask.assignee_id)
        .where(condition, *_task_filters(filters))
        .order_by(order, HumanTask.id)
        .limit(filters.limit)
    )


def _task_row(
    task: HumanTask, assignee: str | None, category: Category, reason: Reason, due: datetime | None
) -> MonitorRow:
    return MonitorRow(
        category=category,
        reason=reason,
        instance_id=task.instance_id,
        case_number=task.case_number,
        process_key=task.process_key,
        process_name=task.process_name,
        element_id=task.element_id,
        step=task.name,
        task_id=task.id,
        waiting_since=task.created_at,
        norm=task.norm,
        due_at=due,
        role=task.role,
        assignee=assignee,
        gemeente=task.gemeente,
    )


def _process_names(session: Session) -> dict[str, str]:
    newest = select(ProcessVersion.process_key, ProcessVersion.name).order_by(ProcessVersion.version)
    return {key: name for key, name in session.execute(newest).tuples()}


def step_name(version: ProcessVersion, element_id: str | None) -> str | None:
    """The name the model gives element `element_id` of `version` (also inside a sub-process), None when the
    element is unknown or has no name: people read the step, never its id."""
    if element_id is None:
        return None
    from engine.registry import load_version  # parsed once per version and cached; the registry imports much

    loaded = load_version(version)
    for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None and task_spec.bpmn_name:
            return str(task_spec.bpmn_name)
    return None


def _instance_row(instance: Instance, names: dict[str, str], category: Category, reason: Reason) -> MonitorRow:
    since = instance.last_progress_at
    due = instance.stall_at if reason == "instance_norm" else instance.next_timer_due_at
    return MonitorRow(
        category=category,
        reason=reason,
        instance_id=instance.id,
        case_number=instance.case_number,
        process_key=instance.process_key,
        process_name=names.get(instance.process_key, instance.process_key),
        element_id=instance.error_element,
        step=step_name(instance.process_version, instance.error_element),
        task_id=None,
        waiting_since=since,
        norm=None,
        due_at=None if reason == "error" else due,
        role=None,
        assignee=None,
        gemeente=instance.gemeente,
        message=instance.error_message if reason == "error" else None,
    )


def stalled(session: Session, *, now: datetime, filters: MonitorFilter = MonitorFilter()) -> list[MonitorRow]:
    """Open tasks past their norm, and instances without an open task that made no progress within theirs."""
    rows = [
        _task_row(task, assignee, "stalled", "task_norm", task.norm_due_at)
        for task, assignee in session.execute(
            _task_query(_crossed(HumanTask.norm_due_at, now, filters.crossed_after), filters, HumanTask.norm_due_at)
        ).tuples()
    ]
    if filters.element is None and filters.role is None:  # instance-level rows have no step and no role
        names = _process_names(session)
        quiet = (
            select(Instance)
            .where(
                *_quiet_instance(now),
                _crossed(Instance.stall_at, now, filters.crossed_after),
                *_instance_filters(filters),
            )
            .order_by(Instance.stall_at, Instance.id)
            .limit(filters.limit)
        )
        rows += [_instance_row(i, names, "stalled", "instance_norm") for i in session.scalars(quiet)]
    return rows


def overdue(
    session: Session, *, now: datetime, warning: timedelta = DEFAULT_WARNING, filters: MonitorFilter = MonitorFilter()
) -> list[MonitorRow]:
    """Open tasks whose deadline passed or passes within `warning`, and timers due that did not fire."""
    rows = [
        _task_row(task, assignee, "overdue", "deadline_passed" if task.due_at <= now else "deadline_near", task.due_at)
        for task, assignee in session.execute(
            _task_query(and_(HumanTask.due_at <= now + warning, _NOT_PAUSED), filters, HumanTask.due_at)
        ).tuples()
    ]
    if filters.element is None and filters.role is None:
        names = _process_names(session)
        late = (
            select(Instance)
            .where(
                Instance.next_timer_due_at <= now - TIMER_GRACE,
                Instance.status.in_(_ACTIVE),
                *_instance_filters(filters),
            )
            .order_by(Instance.next_timer_due_at, Instance.id)
            .limit(filters.limit)
        )
        rows += [_instance_row(i, names, "overdue", "timer_not_fired") for i in session.scalars(late)]
    return rows


def paused(session: Session, *, filters: MonitorFilter = MonitorFilter()) -> list[MonitorRow]:
    """Cases whose legal deadlines are paused: since when, and their earliest open deadline."""
    if filters.role is not None or filters.element is not None:
        return []
    names = _process_names(session)
    earliest = (
        select(func.min(HumanTask.due_at)).where(HumanTask.instance_id == Instance.id).correlate(Instance)
    ).scalar_subquery()
    query = (
        select(Instance, DeadlinePause, earliest)
        .join(DeadlinePause, and_(DeadlinePause.instance_id == Instance.id, DeadlinePause.ended_at.is_(None)))
        .where(Instance.status.in_(_ACTIVE), *_instance_filters(filters))
        .order_by(DeadlinePause.started_at, Instance.id)
        .limit(filters.limit)
    )
    rows = []
    for instance, pause, due in session.execute(query).tuples():
        row = _instance_row(instance, names, "paused", "deadline_paused")
        # The reason stays on the case page: it may tell about the person (need-to-know), the Bewaking does not.
        rows.append(replace(row, waiting_since=pause.started_at, due_at=due))
    return rows


def incidents(session: Session, *, filters: MonitorFilter = MonitorFilter()) -> list[MonitorRow]:
    """Instances in `error`: where and why the engine stopped."""
    if filters.role is not None:
        return []
    names = _process_names(session)
    query = (
        select(Instance)
        .where(Instance.status == "error", *_instance_filters(filters))
        .order_by(Instance.last_progress_at, Instance.id)
        .limit(filters.limit)
    )
    return [_instance_row(i, names, "incident", "error") for i in session.scalars(query)]


_SORTS = {
    "since": lambda row: (row.waiting_since, row.instance_id),
    "due": lambda row: (row.due_at is None, row.due_at or row.waiting_since, row.instance_id),
    "process": lambda row: (row.process_name, row.step or "", row.waiting_since),
    "case": lambda row: (row.case_number, row.waiting_since),
}


def monitor_rows(
    session: Session, *, now: datetime, filters: MonitorFilter = MonitorFilter(), warning: timedelta = DEFAULT_WARNING
) -> list[MonitorRow]:
    """Every stalled, overdue and incident row that matches `filters`, in the filter's order."""
    rows: list[MonitorRow] = []
    if filters.category in (None, "stalled"):
        rows += stalled(session, now=now, filters=filters)
    if filters.category in (None, "overdue"):
        rows += overdue(session, now=now, warning=warning, filters=filters)
    if filters.category in (None, "incident"):
        rows += incidents(session, filters=filters)
    if filters.category in (None, "paused"):
        rows += paused(session, filters=filters)
    return sorted(rows, key=_SORTS[filters.sort])


def monitor_counts(session: Session, *, now: datetime, warning: timedelta = DEFAULT_WARNING) -> MonitorCounts:
    """Counts per category, per process and per step (grouped in the database on the indexed columns)."""
    by_category: Counter[str] = Counter()
    by_process: Counter[str] = Counter()
    by_step: Counter[tuple[str, str]] = Counter()
    step_names: dict[tuple[str, str], str] = {}
    task_conditions = {
        "stalled": HumanTask.norm_due_at <= now,
        "overdue": and_(HumanTask.due_at <= now + warning, _NOT_PAUSED),
    }
    for category, condition in task_conditions.items():
        grouped = (
            select(HumanTask.process_key, HumanTask.element_id, func.max(HumanTask.name), func.count())
            .where(condition)
            .group_by(HumanTask.process_key, HumanTask.element_id)
        )
        for process_key, element_id, name, count in session.execute(grouped).tuples():
            by_category[category] += count
            by_process[process_key] += count
            by_step[(process_key, element_id)] += count
            step_names[(process_key, element_id)] = name
    instance_conditions: dict[str, ColumnElement[bool]] = {
        "stalled": and_(*_quiet_instance(now)),
        "overdue": and_(Instance.next_timer_due_at <= now - TIMER_GRACE, Instance.status.in_(_ACTIVE)),
        "incident": Instance.status == "error",
        "paused": and_(
            Instance.status.in_(_ACTIVE),
            exists().where(DeadlinePause.instance_id == Instance.id, DeadlinePause.ended_at.is_(None)),
        ),
    }
    for category, condition in instance_conditions.items():
        grouped_instances = select(Instance.process_key, func.count()).where(condition).group_by(Instance.process_key)
        for process_key, count in session.execute(grouped_instances).tuples():
            by_category[category] += count
            by_process[process_key] += count
    return MonitorCounts(dict(by_category), dict(by_process), dict(by_step), step_names)
