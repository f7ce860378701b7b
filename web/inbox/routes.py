"""Mijn taken: the inbox tabs, filters, claiming, reassigning (also many at once) and saved filters."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, PermissionDenied, ZvhError
from engine.inbox import (
    InboxQuery,
    delete_filter,
    inbox,
    list_tasks,
    may_see_team,
    save_filter,
    saved_filters,
    tab_counts,
)
from engine.models import ProcessVersion, User
from engine.privacy.accesslog import record_search
from engine.users import get_user
from web.services import me, now, reader, runtime, transaction

bp = Blueprint("inbox", __name__)

GEMEENTEN = (
    "Alphen-Chaam",
    "Altena",
    "Baarle-Nassau",
    "Breda",
    "Drimmelen",
    "Etten-Leur",
    "Geertruidenberg",
    "Oosterhout",
    "Zundert",
    "Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)",
)


def _back() -> str:
    target = request.form.get("terug") or ""
    # The monitor reassigns through this route too; only local pages, never an open redirect.
    return target if target.startswith(("/taken", "/bewaking")) else url_for("inbox.index")


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return redirect(url_for("inbox.index"))


@bp.get("/taken")
@login_required
def index() -> ResponseReturnValue:
    user = me()
    query = InboxQuery.from_dict(request.args.to_dict())
    if query.tab == "team" and not may_see_team(user):
        query = InboxQuery.from_dict({**request.args.to_dict(), "tab": "open"})
    with reader() as session:
        page = inbox(session, user=user, query=query, now=now())
        context = {
            "query": query,
            "page": page,
            "pages": max(1, -(-page.total // query.per_page)),
            "counts": tab_counts(session, user=user),
            "now": now(),
            "filters": saved_filters(session, user=user),
            "processes": session.execute(
                select(ProcessVersion.process_key, ProcessVersion.name).distinct().order_by(ProcessVersion.name)
            ).all(),
            "gemeenten": GEMEENTEN,
            "colleagues": session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
            if may_see_team(user)
            else [],
            "team": may_see_team(user),
        }
    if query.case_number:  # a search for one case; its number is not logged, only that it was searched for
        with transaction() as session:
            record_search(session, user=user, object_type="tasks", filters=query.as_dict(), at=now(), found=page.total)
    template = "inbox/_table.html" if request.headers.get("HX-Request") else "inbox/index.html"
    return render_template(template, **context)


def _visible_task(session: Session, user: User, task_id: str) -> None:
    """404 for a task outside the user's inbox (coordinators see the team's), whether it exists or not."""
    if list_tasks(session, user=None if may_see_team(user) else user, task_id=task_id, with_total=False).tasks:
        return
    raise NotFound(_("Deze taak bestaat niet (meer) of u heeft er geen toegang toe."))


@bp.post("/taken/<task_id>/oppakken")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    with transaction() as session:
        _visible_task(session, me(), task_id)
        runtime().claim_task(session, task_id=task_id, actor=me())
    flash(_("De taak staat nu op uw naam."), "success")
    return redirect(_back())


@bp.post("/taken/<task_id>/teruggeven")
@login_required
def unclaim(task_id: str) -> ResponseReturnValue:
    with transaction() as session:
        _visible_task(session, me(), task_id)
        runtime().unclaim_task(session, task_id=task_id, actor=me())
    flash(_("De taak staat weer open voor de rol."), "success")
    return redirect(_back())


@bp.post("/taken/toewijzen")
@login_required
def reassign() -> ResponseReturnValue:
    """(Coordinator) hand one or many tasks to a colleague, with a reason; all or nothing."""
    task_ids = request.form.getlist("taak")
    reason = request.form.get("reden", "").strip()
    username = request.form.get("collega", "")
    if not task_ids:
        flash(_("Kies eerst een of meer taken."), "error")
        return redirect(_back())
    try:
        with transaction() as session:
            colleague = get_user(session, username)
            receivers = {
                runtime()
                .reassign_task(session, task_id=task_id, actor=me(), assignee=colleague, reason=reason)
                .assignee
                for task_id in task_ids
            }
    except InvalidInput as refused:
        details = "; ".join(m for messages in refused.fields.values() for m in messages)
        flash(_("Niets is toegewezen: %(reden)s", reden=details or refused.message), "error")
        return redirect(_back())
    except PermissionDenied:
        raise  # a refusal is answered (403) and logged for the FG, never only flashed
    except ZvhError as refused:
        flash(_("Niets is toegewezen: %(reden)s", reden=refused.message), "error")
        return redirect(_back())
    if receivers != {colleague.username}:  # absence cover sent some or all of them to a substitute
        flash(_("%(naam)s is afwezig: de taken zijn naar de vervanger gegaan.", naam=colleague.display_name), "warning")
    flash(
        _("%(aantal)s taak/taken toegewezen aan %(naam)s.", aantal=len(task_ids), naam=colleague.display_name),
        "success",
    )
    return redirect(_back())


@bp.post("/taken/filters")
@login_required
def store_filter() -> ResponseReturnValue:
    query = InboxQuery.from_dict(request.form.to_dict())
    try:
        with transaction() as session:
            save_filter(session, user=me(), name=request.form.get("naam", ""), query=query, at=now())
    except InvalidInput:
        flash(_("Geef het filter een naam."), "error")
        return redirect(url_for("inbox.index", **query.as_dict()))
    flash(_("Filter bewaard."), "success")
    return redirect(url_for("inbox.index", **query.as_dict()))


@bp.post("/taken/filters/<int:filter_id>/verwijderen")
@login_required
def remove_filter(filter_id: int) -> ResponseReturnValue:
    with transaction() as session:
        delete_filter(session, user=me(), filter_id=filter_id)
    flash(_("Filter verwijderd."), "success")
    return redirect(url_for("inbox.index"))
