"""Mijn zaken and the case page: header, timeline, open tasks, participants and the diagram."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import login_required

from engine.access import (
    add_participant,
    emergency_access,
    may_ask_emergency_access,
    may_manage_participants,
    my_instances,
    remove_participant,
    visible_instance,
)
from engine.cases import case_chain, case_view
from engine.errors import InvalidInput, NotFound
from engine.models import User
from engine.privacy.accesslog import record_read
from engine.privacy.organisations import organisation_name
from engine.users import get_user
from web.privacy.context import log_refusal
from web.schema_form import field_labels, label_for
from web.services import me, now, reader, runtime, transaction

bp = Blueprint("cases", __name__)

#: How someone came to take part in a case, in words.
PARTICIPANT_REASONS = {
    "started": lazy_gettext("gestart"),
    "worked_on": lazy_gettext("werkte mee"),
    "added": lazy_gettext("toegevoegd"),
    "assigned": lazy_gettext("taak toegewezen"),
    "vervanging": lazy_gettext("vervanger"),
    "noodtoegang": lazy_gettext("noodtoegang"),
    "monitor": lazy_gettext("via bewaking"),
}


@bp.get("/zaken")
@login_required
def index() -> ResponseReturnValue:
    with reader() as session:
        instances = my_instances(session, me(), limit=200, at=now())
    return render_template("cases/index.html", instances=instances)


@bp.get("/zaken/<int:instance_id>")
@login_required
def case(instance_id: int) -> ResponseReturnValue:
    return _case_page(instance_id)


def _case_page(
    instance_id: int, *, typed: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None
) -> ResponseReturnValue:
    """The case page; with what a participant form held and why it was refused, when it was (422)."""
    user = me()
    try:
        with transaction() as session:
            view = case_view(session, runtime(), user=user, instance_id=instance_id)
            chain = case_chain(session, instance_id, user=user, at=now())
            record_read(session, user=user, instance_id=instance_id, object_type="case", at=now())
            may_add = may_manage_participants(session, user, instance_id, at=now())
    except NotFound as error:
        if not may_ask_emergency_access(user):
            raise
        log_refusal(error)
        # The same answer whether or not the case exists: only a reasoned, logged request tells.
        return render_template("cases/no_access.html", instance_id=instance_id, message=error.message), 404
    labels = {id(entry): field_labels(entry.form.resolved_schema) for entry in view.timeline if entry.form}
    return render_template(
        "cases/case.html",
        view=view,
        chain=chain,
        labels=labels,
        label_for=label_for,
        may_add=may_add,
        participant_reasons=PARTICIPANT_REASONS,
        organisation_name=organisation_name,
        now=now(),
        typed=typed or {},
        errors=errors or {},
    ), (422 if errors else 200)


@bp.get("/zaken/<int:instance_id>/diagram")
@login_required
def diagram(instance_id: int) -> ResponseReturnValue:
    """The diagram XML and which elements are done, current or waiting (for the bpmn-js viewer)."""
    with transaction() as session:
        view = case_view(session, runtime(), user=me(), instance_id=instance_id)
        record_read(session, user=me(), instance_id=instance_id, object_type="diagram", at=now())
    return jsonify(
        {
            "xml": view.diagram,
            "completed": view.completed_elements,
            "current": view.current_elements,
            "waiting": view.waiting_elements,
        }
    )


@bp.post("/zaken/<int:instance_id>/deelnemers")
@login_required
def add(instance_id: int) -> ResponseReturnValue:
    """Give a colleague access to the case (need-to-know, logged with the reason); a refusal keeps what was typed."""
    typed = {"collega": request.form.get("collega", "").strip(), "reden": request.form.get("reden", "")}
    try:
        with transaction() as session:
            colleague = get_user(session, typed["collega"])
            add_participant(
                session, instance_id=instance_id, actor=me(), user=colleague, reason=typed["reden"], at=now()
            )
    except NotFound:
        with reader() as session:
            visible_instance(session, me(), instance_id, at=now())  # 404 for a case the user may not see
        return _case_page(instance_id, typed=typed, errors={"collega": [_("Die collega bestaat niet.")]})
    except InvalidInput as refused:
        return _case_page(instance_id, typed=typed, errors=refused.fields or {"reden": [refused.message]})
    flash(_("%(naam)s neemt nu deel aan deze zaak.", naam=colleague.display_name), "success")
    return redirect(url_for("cases.case", instance_id=instance_id))


@bp.post("/zaken/<int:instance_id>/deelnemers/<int:user_id>/verwijderen")
@login_required
def remove(instance_id: int, user_id: int) -> ResponseReturnValue:
    """End a colleague's access to the case (need-to-know ended, logged with the reason)."""
    try:
        with transaction() as session:
            colleague = session.get(User, user_id)
            if colleague is None:
                raise NotFound(_("Die collega bestaat niet."))
            remove_participant(
                session,
                instance_id=instance_id,
                actor=me(),
                user=colleague,
                reason=request.form.get("reden", ""),
                at=now(),
            )
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        flash(_("%(naam)s neemt niet meer deel aan deze zaak.", naam=colleague.display_name), "success")
    return redirect(url_for("cases.case", instance_id=instance_id))


@bp.route("/zaken/<int:instance_id>/noodtoegang", methods=["GET", "POST"])
@login_required
def emergency(instance_id: int) -> ResponseReturnValue:
    """Noodtoegang: open a case one does not take part in after stating why (flagged for the FG)."""
    if not may_ask_emergency_access(me()):
        raise NotFound(_("Deze zaak bestaat niet of u heeft er geen toegang toe."))
    reason = request.form.get("reden", "")
    if request.method == "POST":
        try:
            with transaction() as session:
                emergency_access(session, instance_id=instance_id, actor=me(), reason=reason, at=now())
        except InvalidInput as error:
            return render_template(
                "cases/emergency.html", instance_id=instance_id, reason=reason, errors=error.fields
            ), 422
        flash(_("Noodtoegang is vastgelegd; u heeft 24 uur toegang tot deze zaak."), "success")
        return redirect(url_for("cases.case", instance_id=instance_id))
    return render_template("cases/emergency.html", instance_id=instance_id, reason=reason, errors={})
