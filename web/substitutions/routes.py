"""Vervanging: absence cover set by a user or a coordinator, and moving assigned tasks to the substitute."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.dates import AMSTERDAM, typed_moment
from engine.errors import Conflict, InvalidInput
from engine.inbox import may_see_team
from engine.models import User
from engine.substitutions import (
    may_manage,
    move_assigned_tasks,
    set_substitution,
    substitutions_for,
    withdraw_substitution,
)
from engine.users import get_user
from web.services import me, now, reader, transaction

bp = Blueprint("substitutions", __name__)


def _colleagues(session: Session, user: User) -> list[User]:
    """Who may be chosen: every active user for a coordinator, else the colleagues who share one of my roles."""
    everyone = session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
    if may_see_team(user):
        return list(everyone)
    return [colleague for colleague in everyone if colleague.role_keys & user.role_keys and colleague.id != user.id]


def _page(values: Mapping[str, str], errors: Mapping[str, list[str]], status: int = 200) -> ResponseReturnValue:
    user = me()
    with reader() as session:
        substitutions = substitutions_for(session, user=user, at=now())
        colleagues = _colleagues(session, user)
    page = render_template(
        "substitutions/index.html",
        substitutions=substitutions,
        colleagues=colleagues,
        coordinator=may_see_team(user),
        may_manage=may_manage,
        values=values,
        errors=errors,
        now=now(),
    )
    return page, status


@bp.get("/vervanging")
@login_required
def index() -> ResponseReturnValue:
    today = now().astimezone(AMSTERDAM)
    defaults = {"begin_datum": today.date().isoformat(), "begin_tijd": today.strftime("%H:%M"), "eind_tijd": "09:00"}
    return _page(defaults, {})


@bp.post("/vervanging")
@login_required
def store() -> ResponseReturnValue:
    """Set a cover for myself, or (coordinator) for a colleague; errors re-render the form with what was typed."""
    form = request.form
    user = me()
    try:
        with transaction() as session:
            absent_name = form.get("afwezige", "").strip()
            absent = get_user(session, absent_name) if absent_name else user
            chosen = form.get("vervanger", "").strip()
            substitute = session.scalar(select(User).where(User.username == chosen)) if chosen else None
            substitution = set_substitution(
                session,
                actor=user,
                absent=absent,
                substitute=substitute,
                starts_at=typed_moment(form.get("begin_datum", ""), form.get("begin_tijd", "")),
                ends_at=typed_moment(form.get("eind_datum", ""), form.get("eind_tijd", "")),
                reason=form.get("reden", ""),
                at=now(),
            )
            names = {"vervanger": substitution.substitute.display_name, "afwezige": substitution.absent.display_name}
    except InvalidInput as refused:
        return _page(form.to_dict(), refused.fields, status=422)
    flash(_("Vervanging geregeld: %(vervanger)s neemt het werk van %(afwezige)s waar.", **names), "success")
    return redirect(url_for("substitutions.index"))


@bp.post("/vervanging/<int:substitution_id>/intrekken")
@login_required
def withdraw(substitution_id: int) -> ResponseReturnValue:
    try:
        with transaction() as session:
            withdraw_substitution(session, actor=me(), substitution_id=substitution_id, at=now())
    except Conflict:
        flash(_("Deze vervanging is al ingetrokken of afgelopen."), "error")
    else:
        flash(_("De vervanging is ingetrokken."), "success")
    return redirect(url_for("substitutions.index"))


@bp.post("/vervanging/<int:substitution_id>/taken-verplaatsen")
@login_required
def move_tasks(substitution_id: int) -> ResponseReturnValue:
    """Move every open task on the absent person's name to the substitute, with a reason for the audit log."""
    try:
        with transaction() as session:
            moved = move_assigned_tasks(
                session,
                actor=me(),
                substitution_id=substitution_id,
                reason=request.form.get("reden", ""),
                at=now(),
            )
    except InvalidInput:
        flash(_("Geef de reden om de taken te verplaatsen."), "error")
    except Conflict as refused:
        flash(_("Niets is verplaatst: %(reden)s", reden=refused.message), "error")
    else:
        flash(ngettext("%(num)s taak verplaatst.", "%(num)s taken verplaatst.", moved), "success")
    return redirect(url_for("substitutions.index"))
