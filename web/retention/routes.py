"""Retention and destruction: due and uncomputable cases, one extension with a reason, and destruction lists with
four eyes (a manager proposes, the privacyfunctionaris reviews, a manager or the FG executes). Every route checks
the role on the server; the engine checks it again."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import InvalidInput
from engine.monitor.norms import LOCAL
from engine.privacy.destruction import (
    get_list,
    list_items,
    list_lists,
    propose_list,
    review_list,
    run_list,
    user_names,
)
from engine.privacy.retention import due_for_destruction, extend_retention, require_retention_role, uncomputable
from web.services import me, now, reader, services, transaction

bp = Blueprint("retention", __name__)


@bp.get("/bewaartermijnen")
@login_required
def index() -> ResponseReturnValue:
    require_retention_role(me())
    with reader() as session:
        due = due_for_destruction(session, now())
        unknown = uncomputable(session, now())
    return render_template("retention/index.html", due=due, unknown=unknown)


def _until(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=LOCAL)
    except ValueError:
        raise InvalidInput(_("Kies een datum."), {"until": [_("Kies een datum.")]}) from None


@bp.post("/bewaartermijnen/<int:instance_id>/verlengen")
@login_required
def extend(instance_id: int) -> ResponseReturnValue:
    require_retention_role(me())
    until = _until(request.form.get("until", ""))
    with transaction() as session:
        extend_retention(
            session, instance_id=instance_id, actor=me(), reason=request.form.get("reason", ""), until=until, at=now()
        )
    flash(_("De bewaartermijn is verlengd."), "success")
    return redirect(url_for("retention.index"))


@bp.get("/vernietiging")
@login_required
def lists() -> ResponseReturnValue:
    require_retention_role(me())
    with reader() as session:
        found = list_lists(session)
        names = user_names(session, [n for item in found for n in (item.proposed_by_id, item.reviewed_by_id)])
    return render_template("retention/lists.html", lists=found, names=names)


@bp.post("/vernietiging")
@login_required
def propose() -> ResponseReturnValue:
    require_retention_role(me())
    chosen = [int(value) for value in request.form.getlist("instance_id") if value.isdigit()]
    with transaction() as session:
        listing = propose_list(session, actor=me(), instance_ids=chosen, note=request.form.get("note", ""), at=now())
        list_id = listing.id
    flash(_("De vernietigingslijst is voorgesteld; de privacyfunctionaris beoordeelt hem."), "success")
    return redirect(url_for("retention.show", list_id=list_id))


@bp.get("/vernietiging/<int:list_id>")
@login_required
def show(list_id: int) -> ResponseReturnValue:
    require_retention_role(me())
    with reader() as session:
        items = list_items(session, list_id)
        listing = get_list(session, list_id)
        names = user_names(session, [listing.proposed_by_id, listing.reviewed_by_id, listing.executed_by_id])
    return render_template("retention/list.html", listing=listing, items=items, names=names)


@bp.post("/vernietiging/<int:list_id>/beoordelen")
@login_required
def review(list_id: int) -> ResponseReturnValue:
    require_retention_role(me())
    approve = request.form.get("besluit") == "goedkeuren"
    with transaction() as session:
        review_list(session, list_id=list_id, actor=me(), approve=approve, note=request.form.get("note", ""), at=now())
    flash(_("De lijst is goedgekeurd.") if approve else _("De lijst is afgewezen."), "success")
    return redirect(url_for("retention.show", list_id=list_id))


@bp.post("/vernietiging/<int:list_id>/uitvoeren")
@login_required
def execute(list_id: int) -> ResponseReturnValue:
    require_retention_role(me())
    done = run_list(services().db, list_id=list_id, actor=me(), at=now())
    flash(_("%(aantal)s zaak/zaken vernietigd.", aantal=len(done)), "success")
    return redirect(url_for("retention.show", list_id=list_id))
