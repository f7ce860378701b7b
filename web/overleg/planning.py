"""Overleggen: the list of one's meetings and planning one; the besluitenlijst (as a print-friendly page and as a
PDF); and one's open action points with completing one. Also what other pages show of the overleggen: the menu
entry, the inbox's "Actiepunten" block and the Bewaking's overdue action points.

The engine (engine.overleg) decides who may plan, see and complete what; these routes translate requests, keep what
was typed when something is refused, and log every read of case content (the besluitenlijst, per case shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import may_view
from engine.dates import typed_moment
from engine.errors import Conflict, InvalidInput, PermissionDenied
from engine.holidays import LOCAL
from engine.models import AgendaItem, Instance, ItemInvite, MeetingMember, OverlegType, User
from engine.overleg import outcomes
from engine.overleg.meetings import Agenda, may_plan, meetings_for, plan_meeting
from engine.overleg.outcomes import ActionPointRow, my_action_points, overdue_action_points
from engine.overleg.types import list_types
from engine.privacy.accesslog import record_read
from engine.privacy.organisations import organisation_name
from web.overleg import bp
from web.overleg.meeting import decided_values
from web.schema_form import field_labels, label_for
from web.services import me, now, reader, transaction

#: How far back the overview lists meetings that were held.
RECENT = timedelta(weeks=4)


# --- what other pages show: the menu entry, the inbox block, the Bewaking's overdue action points --------------


@dataclass(frozen=True)
class ActionSummary:
    """The signed-in user's open action points in brief (the inbox block)."""

    count: int
    earliest: date
    overdue: int


def _my_points() -> list[ActionPointRow]:
    """The signed-in user's open action points, read once per request (one query)."""
    if "_zvh_action_points" not in g:
        with reader() as session:
            g._zvh_action_points = my_action_points(session, user=me(), at=now())
    rows: list[ActionPointRow] = g._zvh_action_points
    return rows


@bp.app_template_global("overleg_action_summary")
def overleg_action_summary() -> ActionSummary | None:
    """How many open action points the signed-in user has, the earliest deadline and how many are overdue (None:
    none)."""
    if not current_user.is_authenticated:
        return None
    rows = _my_points()
    if not rows:
        return None
    return ActionSummary(
        count=len(rows),
        earliest=min(row.point.deadline for row in rows),
        overdue=sum(1 for row in rows if row.overdue),
    )


@bp.app_template_global("overleg_in_menu")
def overleg_in_menu() -> bool:
    """Whether the menu offers "Overleggen": to who may plan a type, is a member of a meeting, or has open action
    points (asked once per request; the cheapest question first)."""
    if not current_user.is_authenticated:
        return False
    if "_zvh_overleg_menu" not in g:
        user = me()
        with reader() as session:
            shown = any(may_plan(user, kind) for kind in session.scalars(select(OverlegType).where(OverlegType.active)))
            if not shown:
                shown = session.scalar(
                    select(MeetingMember.meeting_id).where(MeetingMember.user_id == user.id).limit(1)
                )
                shown = shown is not None
        g._zvh_overleg_menu = shown or bool(_my_points())
    return bool(g._zvh_overleg_menu)


@dataclass(frozen=True)
class OverduePoint:
    """An overdue action point as the Bewaking shows it: no description (the Bewaking shows no case content)."""

    case_number: str
    overleg: str
    organisation: str
    deadline: date
    days_late: int


def overdue_for_monitor(session: Session, *, at: datetime) -> list[OverduePoint]:
    """Every overdue open action point, the longest overdue first."""
    today = at.astimezone(LOCAL).date()
    return [
        OverduePoint(
            case_number=row.case_number,
            overleg=row.overleg,
            organisation=organisation_name(row.point.owner_organisation),
            deadline=row.point.deadline,
            days_late=(today - row.point.deadline).days,
        )
        for row in overdue_action_points(session, at=at)
    ]


# --- the overview and planning ------------------------------------------------------------------------------------


def _visible_counts(session: Session, user: User, meeting_ids: list[int]) -> dict[int, int]:
    """Per meeting, how many agenda items `user` is invited for (one query)."""
    if not meeting_ids:
        return {}
    rows = session.execute(
        select(AgendaItem.meeting_id, func.count(AgendaItem.id))
        .join(ItemInvite, (ItemInvite.item_id == AgendaItem.id) & (ItemInvite.user_id == user.id))
        .join(Instance, Instance.id == AgendaItem.instance_id)
        .where(AgendaItem.meeting_id.in_(meeting_ids), Instance.destroyed_at.is_(None))
        .group_by(AgendaItem.meeting_id)
    ).tuples()
    return dict(rows.all())


def _index_page(values: Mapping[str, str], errors: Mapping[str, list[str]], status: int = 200) -> tuple[str, int]:
    user, moment = me(), now()
    with reader() as session:
        meetings = meetings_for(session, user, since=moment - RECENT, limit=200)
        counts = _visible_counts(session, user, [meeting.id for meeting, _kind in meetings])
        plannable = [kind for kind in list_types(session, active_only=True) if may_plan(user, kind)]
    upcoming, recent = [], []
    for meeting, kind in meetings:
        row = {"meeting": meeting, "kind": kind, "items": counts.get(meeting.id, 0)}
        ends = meeting.starts_at + timedelta(minutes=kind.duration_minutes or 0)
        (upcoming if ends >= moment and meeting.status == "gepland" else recent).append(row)
    recent.reverse()  # the latest first
    page = render_template(
        "overleg/index.html",
        upcoming=upcoming,
        recent=recent,
        plannable=plannable,
        values=values,
        errors=errors,
    )
    return page, status


@bp.get("/overleggen")
@login_required
def index() -> ResponseReturnValue:
    return _index_page({}, {})


@bp.post("/overleggen/plannen")
@login_required
def plan() -> ResponseReturnValue:
    """Plan a meeting of a type the user may plan: at the typed date and time, or (both empty) at the type's next
    regular moment. Input errors show the form again with what was typed (422; a taken moment: 409)."""
    user, form = me(), request.form
    typed = {key: form.get(key, "").strip() for key in ("type_key", "datum", "tijd")}
    with reader() as session:
        plannable = [kind.key for kind in list_types(session, active_only=True) if may_plan(user, kind)]
    if not plannable:
        raise PermissionDenied(
            _("Alleen de voorzitter van een soort overleg of het secretariaat kan een overleg plannen.")
        )
    errors: dict[str, list[str]] = {}
    if not typed["type_key"]:
        errors["type_key"] = [_("Kies een soort overleg.")]
    at = None
    if typed["datum"] or typed["tijd"]:
        at = typed_moment(typed["datum"], typed["tijd"])
        if at is None:
            errors["at"] = [_("Vul een geldige datum en tijd in, of laat beide leeg voor het volgende vaste moment.")]
    if errors:
        return _index_page(typed, errors, status=422)
    try:
        with transaction() as session:
            meeting = plan_meeting(session, type_key=typed["type_key"], actor=user, at=at, now=now())
            meeting_id = meeting.id
    except InvalidInput as refused:
        return _index_page(typed, dict(refused.fields) or {"at": [refused.message]}, status=422)
    except Conflict as refused:
        return _index_page(typed, {"at": [refused.message]}, status=409)
    flash(_("Het overleg is gepland."), "success")
    return redirect(url_for("overleg.meeting", meeting_id=meeting_id))


# --- the besluitenlijst -------------------------------------------------------------------------------------------


def _decision_list(meeting_id: int) -> dict[str, Any]:
    """The besluitenlijst's content for the signed-in user (only the items they are invited for); every item shown
    is logged as a read of its case."""
    user, moment = me(), now()
    with transaction() as session:
        found: Agenda = outcomes.decision_list(session, meeting_id=meeting_id, viewer=user)
        owner_ids = {p.owner_user_id for view in found.items for p in view.action_points if p.owner_user_id}
        owners = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(owner_ids))).tuples().all())
        for view in found.items:
            record_read(
                session,
                user=user,
                instance_id=view.item.instance_id,
                object_type="besluitenlijst",
                object_id=str(meeting_id),
                at=moment,
            )
        # the structured outcome recorded in this meeting, for the cases the viewer may open
        decided = {
            view.item.id: shown
            for view in found.items
            if view.item.outcome_at is not None
            and may_view(session, user, view.item.instance_id, at=moment)
            and (shown := decided_values(session, view, user)) is not None
        }
        members = [(member_user.display_name, member) for member_user, member in found.members]
        content = {
            "agenda": found,
            "chairs": [name for name, member in members if member.role == "voorzitter"],
            "owners": owners,
            "organisation_name": organisation_name,
            "decided": decided,
            "field_labels": field_labels,
            "label_for": label_for,
        }
    return content


@bp.get("/overleggen/<int:meeting_id>/besluitenlijst")
@login_required
def decision_list(meeting_id: int) -> ResponseReturnValue:
    return render_template("overleg/decision_list.html", **_decision_list(meeting_id))


@bp.get("/overleggen/<int:meeting_id>/besluitenlijst.pdf")
@login_required
def decision_list_pdf(meeting_id: int) -> ResponseReturnValue:
    """The same besluitenlijst as a PDF (WeasyPrint, as the inzagepakket; the document names no outside resource)."""
    from engine.privacy.inzage_documents import render_pdf

    html = render_template("overleg/decision_list.html", pdf=True, **_decision_list(meeting_id))
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="besluitenlijst-{meeting_id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- my action points ---------------------------------------------------------------------------------------------


def _points_page(problem: Mapping[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    with reader() as session:
        rows = my_action_points(session, user=me(), at=now())
    return render_template("overleg/action_points.html", rows=rows, problem=problem or {}), status


@bp.get("/overleggen/actiepunten")
@login_required
def action_points() -> ResponseReturnValue:
    return _points_page()


@bp.post("/overleggen/actiepunten/<int:point_id>/afronden")
@login_required
def complete_action_point(point_id: int) -> ResponseReturnValue:
    """Mark one of my action points done with a note; an empty note shows the list again with the error (422)."""
    typed = request.form.get("toelichting", "")
    try:
        with transaction() as session:
            outcomes.complete_action_point(session, point_id=point_id, actor=me(), note=typed, at=now())
    except InvalidInput as refused:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
        return _points_page({"point_id": point_id, "typed": typed, "messages": messages}, status=422)
    except Conflict as refused:  # done already (by a colleague)
        flash(refused.message, "warning")
        return redirect(url_for("overleg.action_points"))
    flash(_("Actiepunt afgerond."), "success")
    return redirect(url_for("overleg.action_points"))
