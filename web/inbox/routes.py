"""Mijn taken: the inbox tabs, filters, claiming, reassigning (also many at once) and saved filters."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ZvhError
from engine.inbox import (
    InboxQuery,
    InboxRow,
    audiences,
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
from engine.privacy.organisations import role_queues
from web.navigation import keep_reassign_typed
from web.privacy.context import log_refusal
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
    return _inbox_page(request.args.to_dict())


def _back_query() -> dict[str, str]:
    """The filters of the inbox page a form was sent from (its `terug` field), to show that page again."""
    back = urlsplit(_back())
    if back.path != url_for("inbox.index"):
        return {}
    return {key: values[0] for key, values in parse_qs(back.query).items() if values}


def reassign_candidates(session: Session, tasks: Sequence[InboxRow]) -> list[User]:
    """The active colleagues who hold the role (in its gemeente or organisation) of one of these tasks: whom a
    coordinator may hand them to. Which tasks are chosen is not known yet, so the server checks each chosen task
    again when they are handed over, and says which one a colleague cannot take."""
    queues = {task.queue for task in tasks if task.queue is not None}
    colleagues = session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
    return [colleague for colleague in colleagues if queues & set(role_queues(colleague))]


def count_label(total: int, capped: bool = False) -> str:
    """A task count as the tabs and the table show it: "1.000+" when there are more than the count reads."""
    return format_decimal(total) + ("+" if capped else "")


def _inbox_page(args: dict[str, str], *, status: int = 200) -> ResponseReturnValue:
    user = me()
    query = InboxQuery.from_dict(args)
    if query.tab == "team" and not may_see_team(user):
        query = InboxQuery.from_dict({**args, "tab": "open"})
    with reader() as session:
        page = inbox(session, user=user, query=query, now=now())
        context = {
            "query": query,
            "page": page,
            "count_label": count_label,
            "counts": tab_counts(session, user=user),
            "now": now(),
            "filters": saved_filters(session, user=user),
            "processes": session.execute(
                select(ProcessVersion.process_key, ProcessVersion.name).distinct().order_by(ProcessVersion.name)
            ).all(),
            "gemeenten": GEMEENTEN,
            "colleagues": reassign_candidates(session, page.tasks) if may_see_team(user) else [],
            "team": may_see_team(user),
            "claimable": frozenset(audiences(user)),
        }
    if query.case_number:  # a search for one case; its number is not logged, only that it was searched for
        with transaction() as session:
            record_search(session, user=user, object_type="tasks", filters=query.as_dict(), at=now(), found=page.total)
    template = "inbox/_table.html" if request.headers.get("HX-Request") else "inbox/index.html"
    return render_template(template, **context), status


def _visible_task(session: Session, user: User, task_id: str) -> None:
    """404 for a task outside the user's inbox (coordinators see the team's), whether it exists or not."""
    if list_tasks(session, user=None if may_see_team(user) else user, task_id=task_id, with_total=False).tasks:
        return
    raise NotFound(_("Deze taak bestaat niet (meer) of u heeft er geen toegang toe."))


@bp.post("/taken/<task_id>/oppakken")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    try:
        with transaction() as session:
            _visible_task(session, me(), task_id)
            runtime().claim_task(session, task_id=task_id, actor=me())
    except PermissionDenied as refused:
        # A coordinator sees the team's tasks but picks up only those of their own roles: the refusal is logged and
        # answered (403) in the page they came from, in their language.
        log_refusal(refused)
        flash(refused.message, "error")
        return _inbox_page(_back_query(), status=403)
    except Conflict as lost:  # a colleague was quicker
        flash(lost.message, "error")
        return redirect(_back())
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
    """(Coordinator) hand one or many tasks to a colleague who holds their roles, with a reason; all or nothing."""
    task_ids = request.form.getlist("taak")
    reason = request.form.get("reden", "").strip()
    typed = request.form.get("collega", "").strip()

    def refuse(message: str) -> ResponseReturnValue:
        keep_reassign_typed(collega=typed, reden=reason, taken=task_ids, fout=message)
        flash(_("Niets is toegewezen: %(reden)s", reden=message), "error")
        return redirect(_back())

    if not task_ids:
        return refuse(_("Kies eerst een of meer taken."))
    try:
        with transaction() as session:
            colleague = _colleague(session, typed)
            if colleague is None:
                return refuse(_("Kies een collega uit de lijst."))
            receivers = {
                runtime()
                .reassign_task(session, task_id=task_id, actor=me(), assignee=colleague, reason=reason)
                .assignee
                for task_id in task_ids
            }
    except InvalidInput as refused:
        return refuse("; ".join(m for messages in refused.fields.values() for m in messages) or refused.message)
    except PermissionDenied:
        raise  # a refusal is answered (403) and logged for the FG, never only flashed
    except ZvhError as refused:
        return refuse(refused.message)
    if receivers != {colleague.username}:  # absence cover sent some or all of them to a substitute
        flash(_("%(naam)s is afwezig: de taken zijn naar de vervanger gegaan.", naam=colleague.display_name), "warning")
    flash(
        ngettext(
            "%(num)d taak toegewezen aan %(naam)s.",
            "%(num)d taken toegewezen aan %(naam)s.",
            len(task_ids),
            naam=colleague.display_name,
        ),
        "success",
    )
    return redirect(_back())


def _colleague(session: Session, typed: str) -> User | None:
    """The active colleague typed or picked: by username (what the list sends) or by their full name."""
    if not typed:
        return None
    found = session.scalar(select(User).where(User.username == typed, User.active))
    if found is not None:
        return found
    named = session.scalars(select(User).where(func.lower(User.display_name) == typed.lower(), User.active)).all()
    return named[0] if len(named) == 1 else None


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
