"""Impact of a change on running cases: how many wait at each changed or removed element, and which would strand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from engine.instance import ERROR
from engine.modelling.compare import Comparison, ElementChange
from engine.models import HumanTask, Instance


@dataclass
class ElementImpact:
    """One changed or removed element: instances waiting there now, and how many of those could not move on."""

    element_id: str
    name: str
    change: str
    waiting: int
    stranded: int


def impact(session: Session, *, process_key: str, comparison: Comparison) -> list[ElementImpact]:
    """Per changed or removed element, the instances (of any version) waiting at it and those it would strand.

    Waiting: instances with an open human task at the element, plus instances in error at it. Stranded: for a
    removed element, everyone waiting there (there is no place to put them in the new version); for a changed
    element, those waiting there when its type changed — the same rule the migration refuses by
    (`engine.spiff_migration.migration_refusal`); a changed form, name or lane moves with them (0). Instances
    waiting at a timer or message are not counted: only their workflow state knows where they are, and this view
    must not load every instance.
    """
    changes = [*comparison.removed, *comparison.changed]
    ids = [change.element_id for change in changes]
    at_tasks = _count_by_element(
        session,
        select(HumanTask.element_id, func.count(distinct(HumanTask.instance_id)))
        .where(HumanTask.process_key == process_key, HumanTask.element_id.in_(ids))
        .group_by(HumanTask.element_id),
    )
    in_error = _count_by_element(
        session,
        select(Instance.error_element, func.count())
        .where(Instance.process_key == process_key, Instance.status == ERROR, Instance.error_element.in_(ids))
        .group_by(Instance.error_element),
    )
    return [
        _impact_of(change, at_tasks.get(change.element_id, 0), in_error.get(change.element_id, 0)) for change in changes
    ]


def _count_by_element(session: Session, query: Select[Any]) -> dict[str, int]:
    return {str(element): int(count) for element, count in session.execute(query)}


def _impact_of(change: ElementChange, at_tasks: int, in_error: int) -> ElementImpact:
    waiting = at_tasks + in_error
    if change.change == "removed":
        stranded = waiting
    elif any(_incompatible(detail) for detail in change.details):
        stranded = at_tasks
    else:
        stranded = 0
    return ElementImpact(change.element_id, change.name, change.change, waiting, stranded)


def _incompatible(detail: str) -> bool:
    """A change of type (a user task that became another kind of element): the migration refuses it."""
    return detail.startswith("soort:")
