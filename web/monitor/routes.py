"""Bewaking: the manager's lists of stalled, overdue and failing cases, and the actions taken from them.

Reassigning (one or many tasks) goes through the inbox's reassign route, so there is one way to do it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied, ZvhError
from engine.inbox import may_see_team
from engine.models import ProcessVersion, User
from engine.monitor import CATEGORIES, MonitorFilter, monitor_counts, monitor_rows, require_monitor
from engine.monitor.actions import add_note, escalate, open_case
from web.inbox.routes import GEMEENTEN
from web.overleg.planning import overdue_for_monitor  # overleg (issue 14)
from web.services import me, now, reader, runtime, transaction

bp = Blueprint("monitor", __name__)


def _page(*, status: int = 200, problem: dict[str, Any] | None = None) -> ResponseReturnValue:
    """The Bewaking page; `problem` re-opens the action that failed with what the user typed and why."""
    user = me()
    require_monitor(user)
    filters = MonitorFilter.from_dict(request.args.to_dict())
    with reader() as session:
        rows = monitor_rows(session, now=now(), filters=filters)
        context = {
            "filters": filters,
            "rows": rows,
            "counts": monitor_counts(session, now=now()),
            "processes": dict(
                session.execute(
                    select(ProcessVersion.process_key, ProcessVersion.name).order_by(ProcessVersion.version)
                )
                .tuples()
                .all()
            ),
            "colleagues": _colleagues(session, {row.role for row in rows if row.role}) if may_see_team(user) else [],
            "gemeenten": GEMEENTEN,
            "categories": CATEGORIES,
            "problem": problem or {},
            # overleg (issue 14): overdue action points, without their description (no case content here)
            "overdue_action_points": overdue_for_monitor(session, at=now()),
        }
    return render_template("monitor/index.html", **context), status


def _colleagues(session: Any, roles: set[str]) -> list[User]:
    """Who can take over the listed tasks: active users holding one of their roles."""
    users = session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
    return [colleague for colleague in users if colleague.role_keys & roles]


@bp.get("/bewaking")
@login_required
def index() -> ResponseReturnValue:
    return _page()


def _back() -> str:
    target = request.form.get("terug") or ""
    return target if target.startswith("/bewaking") else url_for("monitor.index")


def _act(instance_id: int, action: str, field: str, run: Any, done: str) -> ResponseReturnValue:
    """Run one row action; on bad input show the page again with the text kept and the reason, nothing stored."""
    typed = request.form.get(field, "")
    try:
        with transaction() as session:
            result = run(session, typed)
    except InvalidInput as refused:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
        problem = {"instance_id": instance_id, "action": action, "typed": typed, "messages": messages}
        return _page(status=422, problem=problem)
    except PermissionDenied:
        raise  # a refusal is answered (403) and logged for the FG, never only flashed
    except ZvhError as refused:
        flash(refused.message, "error")
        return redirect(_back())
    flash(done, "success")
    return result if result is not None else redirect(_back())


@bp.post("/bewaking/zaken/<int:instance_id>/notitie")
@login_required
def note(instance_id: int) -> ResponseReturnValue:
    def run(session: Any, text: str) -> None:
        add_note(session, instance_id=instance_id, actor=me(), text=text, at=now())

    return _act(instance_id, "notitie", "notitie", run, _("Notitie vastgelegd."))


@bp.post("/bewaking/zaken/<int:instance_id>/escaleren")
@login_required
def escalation(instance_id: int) -> ResponseReturnValue:
    step = request.form.get("stap") or None

    def run(session: Any, reason: str) -> None:
        escalate(session, runtime(), instance_id=instance_id, actor=me(), reason=reason, step=step)

    return _act(instance_id, "escaleren", "reden", run, _("De procesregisseur heeft een escalatietaak gekregen."))


@bp.post("/bewaking/zaken/<int:instance_id>/openen")
@login_required
def open_from_monitor(instance_id: int) -> ResponseReturnValue:
    def run(session: Any, reason: str) -> ResponseReturnValue:
        open_case(session, instance_id=instance_id, actor=me(), reason=reason, at=now())
        return redirect(url_for("cases.case", instance_id=instance_id))

    return _act(instance_id, "openen", "reden", run, _("Toegang vastgelegd in het logboek."))


@bp.post("/bewaking/zaken/<int:instance_id>/opnieuw")
@login_required
def retry(instance_id: int) -> ResponseReturnValue:
    require_monitor(me())
    try:
        with transaction() as session:
            outcome = runtime().retry_instance(session, instance_id=instance_id, actor=me())
            status = outcome.instance.status
    except PermissionDenied:
        raise  # a coordinator may see the monitor but not retry: a 403, logged for the FG
    except ZvhError as refused:
        flash(refused.message, "error")
        return redirect(_back())
    if status == "error":
        flash(
            _("Opnieuw geprobeerd, maar de stap faalt nog steeds. Vraag de beheerder de gegevens te corrigeren."),
            "warning",
        )
    else:
        flash(_("De zaak loopt weer."), "success")
    return redirect(_back())
