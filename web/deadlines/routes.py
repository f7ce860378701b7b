"""Termijn verlengen: a coordinator, manager or the case's procesregisseur moves an open task's deadline; and
opschorten: whoever may (engine.suspension) pauses and resumes a case's legal deadlines with a reason.

The engine (engine.deadlines) decides who may and validates; this page shows the current deadline, asks for the new
moment (date and time, Dutch time) and a reason, and keeps what was typed when something is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.dates import local_moment, typed_moment
from engine.deadlines import deadline, extend_deadline, may_extend
from engine.errors import InvalidInput
from engine.suspension import PauseState, authorize, may_suspend, open_pauses, resume_deadlines, suspend_deadlines
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


# --- Opschorten: pausing and resuming a case's legal deadlines (engine.suspension) ------------------------------


@bp.app_template_global("deadline_pause")
def deadline_pause(instance_id: int) -> PauseState | None:
    """The case's open pause of its legal deadlines, if any (the open pauses are read once per request)."""
    if not current_user.is_authenticated:
        return None
    if "_zvh_pauses" not in g:
        with reader() as session:
            g._zvh_pauses = open_pauses(session)
    pauses: dict[int, PauseState] = g._zvh_pauses
    return pauses.get(instance_id)


@bp.app_template_global("may_pause_deadlines")
def may_pause_deadlines(instance_id: int) -> bool:
    """Whether the signed-in user may pause and resume this case's legal deadlines (asked once per case and
    request)."""
    if not current_user.is_authenticated:
        return False
    answers: dict[int, bool] = g.setdefault("_zvh_may_pause", {})
    if instance_id not in answers:
        with reader() as session:
            answers[instance_id] = may_suspend(session, me(), instance_id, at=now())
    return answers[instance_id]


def _suspension_page(
    instance_id: int, values: Mapping[str, str], errors: Mapping[str, list[str]], status: int = 200
) -> tuple[str, int]:
    with reader() as session:
        row = authorize(session, me(), instance_id, now())
        case_number, process_name = row.case_number, row.process_version.name
    page = render_template(
        "deadlines/suspension.html",
        instance_id=instance_id,
        case_number=case_number,
        process_name=process_name,
        values=values,
        errors=errors,
    )
    return page, status


@bp.get("/zaken/<int:instance_id>/opschorting")
@login_required
def suspension(instance_id: int) -> ResponseReturnValue:
    return _suspension_page(instance_id, {}, {})


def _pause_or_resume(instance_id: int, action: Callable[..., object], done: str) -> ResponseReturnValue:
    form = request.form
    try:
        with transaction() as session:
            action(session, runtime(), instance_id=instance_id, actor=me(), reason=form.get("reden", ""), at=now())
    except InvalidInput as refused:
        return _suspension_page(instance_id, form.to_dict(), refused.fields or {"reason": [refused.message]}, 422)
    flash(done, "success")
    return redirect(url_for("cases.case", instance_id=instance_id))


@bp.post("/zaken/<int:instance_id>/opschorten")
@login_required
def suspend(instance_id: int) -> ResponseReturnValue:
    """Pause the case's legal deadlines; an empty reason re-renders the form with what was typed (422)."""
    return _pause_or_resume(instance_id, suspend_deadlines, _("Wettelijke termijn opgeschort"))


@bp.post("/zaken/<int:instance_id>/hervatten")
@login_required
def resume(instance_id: int) -> ResponseReturnValue:
    """Resume the case's legal deadlines, moved by the paused days."""
    return _pause_or_resume(instance_id, resume_deadlines, _("Wettelijke termijn hervat; de termijn is verschoven"))
