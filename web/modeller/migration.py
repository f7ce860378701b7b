"""Moving running cases to a newer version: choose them (one, a selection, or all waiting at an element), dry run
first, then migrate. The page and `zvh migrate` call the same engine function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.modelling.drafts import versions
from engine.modelling.migrate import MigrationStep, instances_waiting_at, migrate_instances
from engine.models import HumanTask, Instance
from web.modeller.routes import bp
from web.services import me, now, reader, runtime, transaction

DRY_RUN, MIGRATE = "proefdraaien", "migreren"


@dataclass(frozen=True)
class Candidate:
    """A running case on an older version, with the steps it waits at."""

    instance_id: int
    case_number: str
    version: int
    steps: list[tuple[str, str]]  # (element id, name)


def _candidates(session: Any, key: str, target: int) -> list[Candidate]:
    """Running cases of `key` on a version older than `target`, with their open steps from the inbox table."""
    ids = instances_waiting_at(session, process_key=key)
    rows = session.scalars(select(Instance).where(Instance.id.in_(ids)).order_by(Instance.id)).all()
    steps: dict[int, list[tuple[str, str]]] = {}
    waiting = select(HumanTask.instance_id, HumanTask.element_id, HumanTask.name).where(HumanTask.instance_id.in_(ids))
    for instance_id, element_id, name in session.execute(waiting.order_by(HumanTask.created_at)):
        steps.setdefault(instance_id, []).append((element_id, name))
    return [
        Candidate(row.id, row.case_number, row.process_version.version, steps.get(row.id, []))
        for row in rows
        if row.process_version.version < target
    ]


def _page(
    key: str,
    *,
    status: int = 200,
    target: int | None = None,
    selected: frozenset[int] = frozenset(),
    element: str = "",
    steps: list[MigrationStep] | None = None,
    ran: str = "",
    messages: list[str] | None = None,
) -> ResponseReturnValue:
    with reader() as session:
        history = versions(session, process_key=key)
        target = target or (history[0].version if history else 0)
        candidates = _candidates(session, key, target)
    elements = sorted({step for candidate in candidates for step in candidate.steps}, key=lambda s: s[1])
    return render_template(
        "modeller/migrate.html",
        key=key,
        history=history,
        target=target,
        candidates=candidates,
        elements=elements,
        selected=selected,
        element=element,
        steps=steps,
        ran=ran,
        messages=messages or [],
    ), status


@bp.get("/processen/<key>/migreren")
@login_required
def migration(key: str) -> ResponseReturnValue:
    return _page(key, target=request.args.get("doel", type=int))


@bp.post("/processen/<key>/migreren")
@login_required
def migrate(key: str) -> ResponseReturnValue:
    """Dry run or migrate the chosen cases; only the ones selected (or waiting at the chosen element) are touched."""
    target = request.form.get("doel", type=int)
    action = request.form.get("_actie", DRY_RUN)
    element = request.form.get("bij", "")
    selected = frozenset(request.form.getlist("zaak", type=int))
    if element and target is not None:
        with reader() as session:
            older = {candidate.instance_id for candidate in _candidates(session, key, target)}
            selected = frozenset(instances_waiting_at(session, process_key=key, element_id=element)) & older
    page = {"target": target, "selected": selected, "element": element}
    if target is None or not selected:
        return _page(key, status=422, messages=[_("Kies een doelversie en ten minste één zaak.")], **page)
    try:
        with transaction() as session:
            steps = migrate_instances(
                session,
                runtime(),
                instance_ids=sorted(selected),
                to_version=target,
                actor=me(),
                at=now(),
                dry_run=action != MIGRATE,
            )
    except InvalidInput as refused:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
        return _page(key, status=422, messages=messages, **page)
    if action == MIGRATE:
        moved = sum(step.migrated for step in steps)
        flash(_("%(aantal)s zaak/zaken gemigreerd naar versie %(n)s.", aantal=moved, n=target), "success")
    return _page(key, steps=steps, ran=action, **page)
