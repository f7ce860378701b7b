"""Termijn verlengen: a coordinator, manager or the case's procesregisseur moves an open task's deadline.

The engine (engine.deadlines) decides who may and validates; this page shows the current deadline, asks for the new
moment (date and time, Dutch time) and a reason, and keeps what was typed when something is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.dates import local_moment, typed_moment
from engine.deadlines import deadline, extend_deadline, may_extend
from engine.errors import InvalidInput
from web.services import me, now, reader, runtime, transaction

bp = Blueprint("deadlines", __name__)


@bp.app_template_global("may_extend_deadline")
def may_extend_deadline(instance_id: int) -> bool:
    """Whether the signed-in user may extend the deadlines of this case's open tasks (asked once per case and
    request), so a page offers "Termijn verlengen" only to whom the engine allows it."""
    if not current_user.is_authenticated:
        return False
    answers: dict[int, bool] = g.setdefault("_zvh_may_extend", {})
    if instance_id not in answers:
        with reader() as session:
            answers[instance_id] = may_extend(session, me(), instance_id, at=now())
    return answers[instance_id]


def _page(
    task_id: str, values: Mapping[str, str], errors: Mapping[str, list[str]], status: int = 200
) -> tuple[str, int]:
    with reader() as session:
        current = deadline(session, runtime(), task_id=task_id, actor=me(), at=now())
        case_number, process_name = current.instance.case_number, current.instance.process_version.name
    page = render_template(
        "deadlines/extend.html",
        deadline=current,
        case_number=case_number,
        process_name=process_name,
        values=values,
        errors=errors,
    )
    return page, status


@bp.get("/taken/<task_id>/verlengen")
@login_required
def extend(task_id: str) -> ResponseReturnValue:
    return _page(task_id, {}, {})


@bp.post("/taken/<task_id>/verlengen")
@login_required
def store(task_id: str) -> ResponseReturnValue:
    """Extend the deadline; input errors re-render the form with what was typed (422)."""
    form = request.form
    try:
        with transaction() as session:
            extended = extend_deadline(
                session,
                runtime(),
                task_id=task_id,
                actor=me(),
                until=typed_moment(form.get("datum", ""), form.get("tijd", "")),
                reason=form.get("reden", ""),
                at=now(),
            )
            instance_id = extended.instance.id
    except InvalidInput as refused:
        return _page(task_id, form.to_dict(), refused.fields or {"until": [refused.message]}, status=422)
    assert extended.due_at is not None
    flash(_("Termijn verlengd tot %(moment)s", moment=local_moment(extended.due_at)), "success")
    return redirect(url_for("cases.case", instance_id=instance_id))
