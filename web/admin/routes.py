"""Storingen: the beheerder's list of cases the engine stopped on, with a retry that may carry corrected data.

Only who may retry (beheerder, procesbeheerder, manager) knows this page exists: everyone else gets a 404.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidInput, ZvhError
from engine.instance import ERROR
from engine.monitor.instances import list_instances, require_repairer
from web.services import me, reader, runtime, transaction

bp = Blueprint("admin", __name__)
#: The most stuck cases one page shows (the CLI lists more).
_PAGE_LIMIT = 500


@bp.before_request
def _repairers_only() -> None:
    if current_user.is_authenticated:  # anonymous visitors are sent to sign in by `login_required`
        require_repairer(me())


def _page(*, status: int = 200, problem: dict[str, Any] | None = None) -> ResponseReturnValue:
    """The list; `problem` re-opens the retry that failed with what the user typed and why."""
    with reader() as session:
        rows = list_instances(session, status=ERROR, limit=_PAGE_LIMIT)
    return render_template("admin/errors.html", rows=rows, problem=problem or {}), status


@bp.get("/storingen")
@login_required
def errors() -> ResponseReturnValue:
    return _page()


def _corrections(typed: str) -> dict[str, Any] | None:
    """The corrected data typed as a JSON object (nothing typed: retry as it is)."""
    if not typed.strip():
        return None
    try:
        data = json.loads(typed)
    except json.JSONDecodeError as error:
        raise InvalidInput(_("Dit is geen geldige JSON: %(fout)s", fout=str(error)), {}) from None
    if not isinstance(data, dict):
        raise InvalidInput(_('Geef de gegevens als JSON-object, bijvoorbeeld {"deler": 2}.'), {})
    return data


@bp.post("/storingen/<int:instance_id>/opnieuw")
@login_required
def retry(instance_id: int) -> ResponseReturnValue:
    typed = request.form.get("gegevens", "")
    try:
        data = _corrections(typed)
        with transaction() as session:
            outcome = runtime().retry_instance(session, instance_id=instance_id, actor=me(), data=data)
            status = outcome.instance.status
    except InvalidInput as refused:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
        return _page(status=422, problem={"instance_id": instance_id, "typed": typed, "messages": messages})
    except ZvhError as refused:
        flash(refused.message, "error")
        return redirect(url_for("admin.errors"))
    if status == ERROR:
        flash(_("Opnieuw geprobeerd, maar de stap faalt nog steeds; de melding staat hieronder."), "warning")
    else:
        flash(_("De zaak loopt weer."), "success")
    return redirect(url_for("admin.errors"))
