"""The heat map of a process: per step, how many cases wait there now and how long, against the step's norm.

Read from the inbox projection only (`human_tasks`, an index range on `process_key, element_id`), counted and
ranked in the database: the workflows themselves are never loaded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from engine.models import HumanTask, User
from engine.monitor.quantiles import epoch_seconds, quantiles

Band = Literal["ok", "warn", "over"]

_Assignee = aliased(User)


@dataclass(frozen=True)
class ElementHeat:
    """How busy one step is: the cases waiting there, their median wait, and how that compares to the norm."""

    element_id: str
    name: str
    waiting: int
    #: median seconds the open tasks have been waiting
    median_wait: float
    #: the norm as modelled (`P5D`, `5 werkdagen`); the most common one when versions differ
    norm: str | None
    #: open tasks past their norm (`norm_due_at`)
    stalled: int
    #: open tasks that used more than half of their norm
    past_half: int
    band: Band

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class WaitingInstance:
    """One case waiting at a step: since when, for whom, and when it passes its norm."""

    instance_id: int
    case_number: str
    task_id: str
    step: str
    waiting_since: datetime
    waited: float
    role: str | None
    assignee: str | None
    gemeente: str | None
    norm: str | None
    norm_due_at: datetime | None
    due_at: datetime | None
    stalled: bool


def band(*, with_norm: int, past_half: int, stalled: int) -> Band:
    """Over when a case passed its norm; a warning when the median case used more than half of it.

    Per case, not against one norm in seconds: a norm in working days lasts longer over a weekend.
    """
    if stalled:
        return "over"
    if 2 * past_half > with_norm:
        return "warn"
    return "ok"


def heat_map(session: Session, *, process_key: str, now: datetime) -> dict[str, ElementHeat]:
    """Per step (element id) of `process_key` with open tasks: how many wait there and how long (by step name)."""
    in_process = HumanTask.process_key == process_key
    # Grouped by name and norm too: a step renamed or re-normed in a newer version shows its newest name.
    grouped = (
        select(
            HumanTask.element_id,
            HumanTask.name,
            HumanTask.norm,
            func.count(),
            func.count(HumanTask.norm_due_at),
            func.count(case((HumanTask.norm_due_at <= now, 1))),
            func.count(case((_past_half_norm(now), 1))),
            func.max(HumanTask.created_at),
        )
        .where(in_process)
        .group_by(HumanTask.element_id, HumanTask.name, HumanTask.norm)
    )
    steps: dict[str, list[_Group]] = defaultdict(list)
    for row in session.execute(grouped).tuples():
        steps[row[0]].append(_Group._make(row[1:]))
    heat = [_element_heat(session, process_key, element_id, groups, now) for element_id, groups in steps.items()]
    return {step.element_id: step for step in sorted(heat, key=lambda step: (step.name, step.element_id))}


class _Group(NamedTuple):
    """The open tasks of one step with one name and one norm."""

    name: str
    norm: str | None
    waiting: int
    with_norm: int
    stalled: int
    past_half: int
    newest: datetime


def _past_half_norm(now: datetime) -> ColumnElement[bool]:
    """Opened more than half of the norm ago: created + (norm due - created) / 2 < now."""
    return epoch_seconds(HumanTask.created_at) + epoch_seconds(HumanTask.norm_due_at) < 2 * now.timestamp()


def _element_heat(
    session: Session, process_key: str, element_id: str, groups: list[_Group], now: datetime
) -> ElementHeat:
    waiting = sum(group.waiting for group in groups)
    median = quantiles(
        session,
        value=HumanTask.created_at,
        where=[HumanTask.process_key == process_key, HumanTask.element_id == element_id],
        count=waiting,
        percents=[50],
    )
    norms: Counter[str] = Counter()
    for group in groups:
        if group.norm is not None:
            norms[group.norm] += group.waiting
    stalled, past_half = sum(group.stalled for group in groups), sum(group.past_half for group in groups)
    return ElementHeat(
        element_id=element_id,
        name=max(groups, key=lambda group: group.newest).name,
        waiting=waiting,
        median_wait=(now - median.get(50, now)).total_seconds(),
        norm=norms.most_common(1)[0][0] if norms else None,
        stalled=stalled,
        past_half=past_half,
        band=band(with_norm=sum(group.with_norm for group in groups), past_half=past_half, stalled=stalled),
    )


def waiting_at(
    session: Session, *, process_key: str, element_id: str, now: datetime, limit: int = 500
) -> list[WaitingInstance]:
    """The cases waiting at one step, longest waiting first."""
    query = (
        select(HumanTask, _Assignee.display_name)
        .outerjoin(_Assignee, _Assignee.id == HumanTask.assignee_id)
        .where(HumanTask.process_key == process_key, HumanTask.element_id == element_id)
        .order_by(HumanTask.created_at, HumanTask.id)
        .limit(limit)
    )
    return [
        WaitingInstance(
            instance_id=task.instance_id,
            case_number=task.case_number,
            task_id=task.id,
            step=task.name,
            waiting_since=task.created_at,
            waited=(now - task.created_at).total_seconds(),
            role=task.role,
            assignee=assignee,
            gemeente=task.gemeente,
            norm=task.norm,
            norm_due_at=task.norm_due_at,
            due_at=task.due_at,
            stalled=task.norm_due_at is not None and task.norm_due_at <= now,
        )
        for task, assignee in session.execute(query).tuples()
    ]
