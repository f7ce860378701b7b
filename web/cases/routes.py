"""Mijn zaken and the case page: header, timeline, open tasks, participants and the diagram."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.access import PARTICIPANT_MANAGERS, add_participant, my_instances, visible_instance
from engine.audit import record_view
from engine.cases import case_view
from engine.errors import InvalidInput, NotFound
from engine.users import get_user
from web.schema_form import field_labels, label_for
from web.services import me, now, reader, runtime, transaction

bp = Blueprint("cases", __name__)


@bp.get("/zaken")
@login_required
def index() -> ResponseReturnValue:
    with reader() as session:
        instances = my_instances(session, me(), limit=200, at=now())
    return render_template("cases/index.html", instances=instances)


@bp.get("/zaken/<int:instance_id>")
@login_required
def case(instance_id: int) -> ResponseReturnValue:
    user = me()
    with transaction() as session:
        view = case_view(session, runtime(), user=user, instance_id=instance_id)
        record_view(session, actor=user.username, instance_id=instance_id, what="case", at=now())
    labels = {id(entry): field_labels(entry.form.resolved_schema) for entry in view.timeline if entry.form}
    return render_template(
        "cases/case.html",
        view=view,
        labels=labels,
        label_for=label_for,
        may_add=bool(user.role_keys & PARTICIPANT_MANAGERS),
        now=now(),
    )


@bp.get("/zaken/<int:instance_id>/diagram")
@login_required
def diagram(instance_id: int) -> ResponseReturnValue:
    """The diagram XML and which elements are done, current or waiting (for the bpmn-js viewer)."""
    with reader() as session:
        view = case_view(session, runtime(), user=me(), instance_id=instance_id)
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
    """Give a colleague access to the case (need-to-know, logged with the reason)."""
    try:
        with transaction() as session:
            colleague = get_user(session, request.form.get("collega", "").strip())
            add_participant(
                session,
                instance_id=instance_id,
                actor=me(),
                user=colleague,
                reason=request.form.get("reden", ""),
                at=now(),
            )
    except NotFound:
        with reader() as session:
            visible_instance(session, me(), instance_id, at=now())  # 404 for a case the user may not see
        flash(_("Die collega bestaat niet."), "error")
    except InvalidInput:
        flash(_("Geef de reden waarom deze collega toegang nodig heeft."), "error")
    else:
        flash(_("%(naam)s neemt nu deel aan deze zaak.", naam=colleague.display_name), "success")
    return redirect(url_for("cases.case", instance_id=instance_id))
