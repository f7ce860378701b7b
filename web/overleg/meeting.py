"""The meeting view ("tijdens het overleg"): one page that walks the agenda.

Per agenda item the viewer is invited for: the shared picture (the facts the waiting step's task page shows, through
engine.context, redacted for the viewer), the decisions and the attendance, the action points and the invitees. The
chair and the secretariaat (`Agenda.runs`) also get the editing controls: attendance and decisions save as they are
typed (web/assets/overleg.js posts JSON to `save_item`; a stale edit answers 409 with the stored version), the waiting
step's own form completes it (`record_outcome`, validated like the task page), action points, and the per-case
invitations. Every form also works as a plain POST without JavaScript.

The engine (engine.overleg) decides who may see and do what; a meeting or item the user may not see is a 404.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import may_view
from engine.assignment import may_work_on
from engine.audit import events_for_instance
from engine.context import TaskContext, in_form_order, submitted_values, task_context
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import Form
from engine.i18n import N_
from engine.instance import WorkflowInstance
from engine.models import AgendaItem, HumanTask, Instance, User
from engine.overleg import meetings as overleg_meetings
from engine.overleg import outcomes as overleg_outcomes
from engine.privacy.accesslog import record_read
from engine.privacy.organisations import ORGANISATIONS, organisation_name
from engine.privacy.visibility import case_classes, form_values, may_see_confidential, redact
from web.form_submission import parse_submission
from web.overleg import bp
from web.schema_form import field_id, field_labels, label_for, render_form_fields
from web.services import me, now, reader, runtime, transaction

#: Roles that only run the system: never offered as a participant of a case.
SYSTEM_ROLES = frozenset({"beheerder", "procesbeheerder"})
STATUS_LABELS = {"gepland": N_("Gepland"), "gehouden": N_("Gehouden"), "gesloten": N_("Gesloten")}
_NO_ITEM = N_("Dit agendapunt bestaat niet of u heeft er geen toegang toe.")
_ID_ATTRIBUTE = re.compile(r'(\s(?:id|for|aria-describedby|aria-labelledby|aria-controls)=")([^"]*)(")')
_ID_REFERENCE = re.compile(r"(^|\s)(veld-)")


# --- what the page shows ---------------------------------------------------------------------------------------


@dataclass
class ItemState:
    """What was typed (and refused) for one item, to show again."""

    outcome_values: dict[str, Any] | None = None
    outcome_errors: dict[str, list[str]] = field(default_factory=dict)
    outcome_message: str | None = None
    point_values: dict[str, str] = field(default_factory=dict)
    point_errors: dict[str, list[str]] = field(default_factory=dict)
    invite_message: str | None = None


@dataclass
class PageState:
    """What was typed (and refused) on the page-level forms."""

    items: dict[int, ItemState] = field(default_factory=dict)
    case_values: dict[str, str] = field(default_factory=dict)
    case_errors: dict[str, list[str]] = field(default_factory=dict)
    case_message: str | None = None

    def item(self, item_id: int) -> ItemState:
        return self.items.setdefault(item_id, ItemState())


@dataclass
class Outcome:
    """The waiting step's form of one item, rendered for the meeting."""

    fields: Markup
    lock_version: int
    summary: list[tuple[str, str, str]]
    empty: bool


@dataclass
class ItemPage:
    view: overleg_meetings.ItemView
    #: the viewer may open the case (and so sees its shared picture)
    may_open: bool
    sections: TaskContext | None
    outcome: Outcome | None
    #: why there is no outcome form (the step was decided, or none waits)
    outcome_note: str | None
    state: ItemState
    attendance: dict[str, bool]
    #: the step's form and the values the meeting completed it with (redacted for the viewer), once decided here
    decided: tuple[Form | None, dict[str, Any]] | None = None


def scoped_ids(html: str, item_id: int) -> Markup:
    """The form fields' HTML with every element id (and each reference to one) unique to the item: a meeting shows
    the same step's form once per case."""

    def scope(match: re.Match[str]) -> str:
        return match.group(1) + _ID_REFERENCE.sub(rf"\1punt{item_id}-\2", match.group(2)) + match.group(3)

    return Markup(_ID_ATTRIBUTE.sub(scope, str(html)))  # noqa: S704 - only rewrites ids of already escaped HTML


def item_field_id(item_id: int, path: str) -> str:
    return f"punt{item_id}-{field_id(path)}"


def _outcome(
    session: Session,
    view: overleg_meetings.ItemView,
    state: ItemState,
    user: User,
    loaded: WorkflowInstance | None = None,
) -> Outcome:
    """The step's form with what the meeting knows (or what was typed), as the task page renders it."""
    item = view.item
    form, values = overleg_outcomes.outcome_form(session, runtime(), item_id=item.id, actor=user, loaded=loaded)
    if state.outcome_values is not None:
        kept = {key: values[key] for key in form.read_only_fields if key in values}
        values = {**state.outcome_values, **kept}
    values = form_values(form, values, user)
    html = render_form_fields(form.resolved_schema, form.ui_schema, values, state.outcome_errors)
    fields = scoped_ids(html, item.id)
    labels = field_labels(form.resolved_schema)

    def place(path: str) -> int:
        at = fields.find(f'id="{item_field_id(item.id, path)}"')
        return at if at >= 0 else len(fields)

    errors = state.outcome_errors
    summary = [(path, label_for(labels, path), text) for path in sorted(errors, key=place) for text in errors[path]]
    instance = session.get(Instance, item.instance_id)
    assert instance is not None
    return Outcome(fields=fields, lock_version=instance.lock_version, summary=summary, empty=not form.fields)


def _shared_picture(
    session: Session, view: overleg_meetings.ItemView, user: User, loaded: WorkflowInstance | None
) -> TaskContext | None:
    """The facts the waiting step's task page shows (engine.context), for a viewer who may see the case."""
    if loaded is None or view.item.task_id is None:
        return None
    spiff_task = loaded.find_task(view.item.task_id)
    if spiff_task is None:
        return None
    return task_context(session, loaded, spiff_task, user, now=now())


def decided_values(
    session: Session, view: overleg_meetings.ItemView, user: User
) -> tuple[Form | None, dict[str, Any]] | None:
    """What the meeting decided for the step (its completion's values, redacted for the viewer); the caller checks
    that the viewer may see the case (the besluitenlijst shows it too)."""
    item = view.item
    if item.outcome_at is None or item.task_id is None:
        return None
    loaded = runtime().load(session, item.instance_id)
    form, values = submitted_values(loaded, events_for_instance(session, item.instance_id)).get(
        item.task_id, (None, {})
    )
    if not values:
        return None
    shown = redact(form, values, user, classes=case_classes(session, user, loaded.row, at=now())) if form else values
    return form, in_form_order(form, shown) if form else shown


def _candidates(session: Session, members: list[tuple[User, Any]]) -> list[User]:
    """Whom the chair may invite: the meeting's members first, then the other active users of the ZVH's
    organisations, by name (never someone who only runs the system)."""
    member_ids = {user.id for user, _member in members}
    ordered = [user for user, _member in members if user.active and user.role_keys - SYSTEM_ROLES]
    others = session.scalars(select(User).where(User.active).order_by(User.display_name, User.username))
    for user in others:
        if user.id in member_ids or not (user.role_keys - SYSTEM_ROLES):
            continue
        if (user.organisation or "zvh") in ORGANISATIONS:
            ordered.append(user)
    return ordered


def _page(meeting_id: int, state: PageState | None = None, status: int = 200) -> ResponseReturnValue:
    """The meeting page for the signed-in user (logged as a read of each case shown)."""
    state = state or PageState()
    user = me()
    at = now()
    with transaction() as session:
        agenda = overleg_meetings.agenda(session, meeting_id=meeting_id, viewer=user)
        editable = agenda.runs and agenda.meeting.status != "gesloten"
        items = []
        for view in agenda.items:
            instance = session.get(Instance, view.item.instance_id)
            assert instance is not None
            opens = may_view(session, user, instance.id, at=at) and may_see_confidential(session, user, instance, at=at)
            # the case's workflow, loaded once for its shared picture and the step's form
            loaded = runtime().load(session, instance.id) if view.waiting and opens else None
            sections = _shared_picture(session, view, user, loaded)
            decided = decided_values(session, view, user) if opens else None
            if opens:
                record_read(
                    session,
                    user=user,
                    instance_id=instance.id,
                    object_type="overleg",
                    object_id=str(agenda.meeting.id),
                    at=at,
                )
            item_state = state.item(view.item.id)
            outcome, note = None, None
            task = session.get(HumanTask, view.item.task_id) if view.item.task_id else None
            if editable and task is not None and view.item.outcome_at is None:
                if not may_work_on(user, task):
                    note = _("Alleen wie deze stap mag afronden, kan hier het besluit vastleggen.")
                else:
                    try:
                        outcome = _outcome(session, view, item_state, user, loaded)
                    except Conflict as problem:
                        note = problem.message
            items.append(
                ItemPage(
                    view=view,
                    may_open=opens,
                    sections=sections,
                    outcome=outcome,
                    outcome_note=note,
                    state=item_state,
                    attendance={str(k): bool(v) for k, v in (view.item.attendance or {}).items()},
                    decided=decided,
                )
            )
        candidates = _candidates(session, agenda.members) if editable else []
        owner_ids = {p.owner_user_id for v in agenda.items for p in v.action_points if p.owner_user_id}
        people = {user.id: user for user, _member in agenda.members}
        people.update({u.id: u for v in agenda.items for u in v.invitees})
        missing = owner_ids - set(people)
        if missing:
            people.update({u.id: u for u in session.scalars(select(User).where(User.id.in_(missing)))})
        page = render_template(
            "overleg/meeting.html",
            agenda=agenda,
            meeting=agenda.meeting,
            kind=agenda.kind,
            items=items,
            runs=agenda.runs,
            editable=editable,
            candidates=candidates,
            organisations=[(key, organisation_name(key)) for key in ORGANISATIONS],
            organisation_name=organisation_name,
            status_label=_(STATUS_LABELS.get(agenda.meeting.status, agenda.meeting.status)),
            state=state,
            item_field_id=item_field_id,
            form_organisation=overleg_outcomes.form_organisation,
            field_labels=field_labels,
            label_for=label_for,
            people=people,
            has_decision_list="overleg.decision_list" in current_app.view_functions,
        )
    return page, status


def _meeting_item(session: Session, meeting_id: int, item_id: int) -> AgendaItem:
    """The item, when it belongs to this meeting and the user runs it (its chair or secretariaat, while it is open):
    `NotFound` when the meeting is not theirs to see or the item not on it, `PermissionDenied` for a member who does
    not run it, `Conflict` once it is closed — before any input is read."""
    overleg_meetings.running_meeting(session, me(), meeting_id)
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise NotFound(_NO_ITEM)
    return item


def _back(meeting_id: int, item_id: int | None = None) -> ResponseReturnValue:
    anchor = f"item-{item_id}" if item_id is not None else None
    return redirect(url_for("overleg.meeting", meeting_id=meeting_id, _anchor=anchor))


# --- the page ----------------------------------------------------------------------------------------------------


@bp.get("/overleggen/<int:meeting_id>")
@login_required
def meeting(meeting_id: int) -> ResponseReturnValue:
    return _page(meeting_id)


# --- autosave: decisions and attendance --------------------------------------------------------------------------


def _item_json(item: AgendaItem, session: Session) -> dict[str, Any]:
    by = session.scalar(select(User.display_name).where(User.username == item.updated_by)) or item.updated_by
    return {
        "version": item.version,
        "decision": item.decision or "",
        "attendance": {str(k): bool(v) for k, v in (item.attendance or {}).items()},
        "updated_by": by,
        "saved_at": item.updated_at.isoformat() if item.updated_at else None,
    }


def _posted_item_edit() -> tuple[int | None, str | None, dict[str, bool] | None]:
    """The version, decisions and attendance of a JSON call, or of the plain form (without JavaScript)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, None, None
        version = body.get("version")
        decision = body.get("decision")
        attendance = body.get("attendance")
        if isinstance(attendance, Mapping):
            attendance = {str(key): bool(value) for key, value in attendance.items()}
        else:
            attendance = None
        return (
            version if isinstance(version, int) and not isinstance(version, bool) else None,
            decision if isinstance(decision, str) else None,
            attendance,
        )
    form = request.form
    version = form.get("version", type=int)
    present = set(form.getlist("aanwezig"))
    attendance = {key: key in present for key in form.getlist("genodigde")} if "genodigde" in form else None
    return version, form.get("decision"), attendance


@bp.post("/overleggen/<int:meeting_id>/punten/<int:item_id>/opslaan")
@login_required
def save_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    """Save the decisions and/or attendance: JSON {version, saved_at}, a stale edit 409 with the stored version."""
    version, decision, attendance = _posted_item_edit()
    as_json = request.is_json
    try:
        with transaction() as session:
            _meeting_item(session, meeting_id, item_id)
            if version is None:
                message = _("Het verzoek klopt niet.")
                raise InvalidInput(message, {"version": [message]})
            item = overleg_outcomes.save_item(
                session,
                item_id=item_id,
                actor=me(),
                version=version,
                at=now(),
                decision=decision,
                attendance=attendance,
            )
            answer = _item_json(item, session)
    except overleg_outcomes.StaleEdit as stale:
        with reader() as session:
            current = session.get(AgendaItem, item_id)
            assert current is not None
            stored = _item_json(current, session)
        if as_json:
            return jsonify({"error": "stale", "message": stale.message, **stored}), 409
        flash(stale.message, "warning")
        return _back(meeting_id, item_id)
    except InvalidInput as invalid:
        if as_json:
            return jsonify({"error": "invalid", "message": invalid.message, "fields": invalid.fields}), 422
        flash(invalid.message, "error")
        return _back(meeting_id, item_id)
    if as_json:
        return jsonify({"version": answer["version"], "saved_at": answer["saved_at"]})
    flash(_("Opgeslagen"), "success")
    return _back(meeting_id, item_id)


# --- the structured outcome ---------------------------------------------------------------------------------------


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "nl")


@bp.post("/overleggen/<int:meeting_id>/punten/<int:item_id>/besluit")
@login_required
def record_outcome(meeting_id: int, item_id: int) -> ResponseReturnValue:
    """Complete the waiting step with its own form; refused input shows the page again with what was typed."""
    user = me()
    with reader() as session:
        _meeting_item(session, meeting_id, item_id)
        form: Form = overleg_outcomes.outcome_form(session, runtime(), item_id=item_id, actor=user)[0]
    values = parse_submission(form.resolved_schema, request.form)
    lock_version = request.form.get("_lock_version", type=int)
    state = PageState()
    try:
        with transaction() as session:
            outcome = overleg_outcomes.record_outcome(
                session,
                runtime(),
                item_id=item_id,
                actor=user,
                data=values,
                at=now(),
                lock_version=lock_version,
                locale=_locale(),
            )
            case_number = outcome.instance.case_number
    except InvalidInput as invalid:
        state.item(item_id).outcome_values = values
        state.item(item_id).outcome_errors = dict(invalid.fields)
        state.item(item_id).outcome_message = invalid.message
        return _page(meeting_id, state, status=422)
    except (Conflict, PermissionDenied) as problem:
        state.item(item_id).outcome_values = values
        state.item(item_id).outcome_message = problem.message
        flash(problem.message, "error")
        return _page(meeting_id, state, status=409 if isinstance(problem, Conflict) else 403)
    flash(_("Besluit voor zaak %(nummer)s vastgelegd.", nummer=case_number), "success")
    return _back(meeting_id, item_id)


# --- invitations per case -----------------------------------------------------------------------------------------


def _posted_user(session: Session) -> User:
    text = (request.form.get("user") or "").strip()
    found = None
    if text.isdigit():
        found = session.get(User, int(text))
    elif text:
        found = session.scalar(select(User).where(User.username == text))
    if found is None:
        message = _("Kies een medewerker.")
        raise InvalidInput(message, {"user": [message]})
    return found


def _change_invitation(meeting_id: int, item_id: int, *, withdraw: bool) -> ResponseReturnValue:
    state = PageState()
    try:
        with transaction() as session:
            item = _meeting_item(session, meeting_id, item_id)
            invitee = _posted_user(session)
            change = overleg_meetings.uninvite if withdraw else overleg_meetings.invite
            changed = change(session, meeting_id=meeting_id, case=item.instance_id, user=invitee, actor=me(), at=now())
            name = invitee.display_name
    except InvalidInput as invalid:
        state.item(item_id).invite_message = invalid.message
        return _page(meeting_id, state, status=422)
    if withdraw:
        message = _("Uitnodiging van %(naam)s ingetrokken.", naam=name) if changed else _("Niet uitgenodigd.")
    else:
        message = _("%(naam)s uitgenodigd.", naam=name) if changed else _("%(naam)s was al uitgenodigd.", naam=name)
    flash(message, "success")
    return _back(meeting_id, item_id)


@bp.post("/overleggen/<int:meeting_id>/punten/<int:item_id>/uitnodigen")
@login_required
def invite(meeting_id: int, item_id: int) -> ResponseReturnValue:
    return _change_invitation(meeting_id, item_id, withdraw=False)


@bp.post("/overleggen/<int:meeting_id>/punten/<int:item_id>/intrekken")
@login_required
def uninvite(meeting_id: int, item_id: int) -> ResponseReturnValue:
    return _change_invitation(meeting_id, item_id, withdraw=True)


# --- action points --------------------------------------------------------------------------------------------------


def _typed_date(text: str) -> date | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return "invalid"


@bp.post("/overleggen/<int:meeting_id>/punten/<int:item_id>/actiepunten")
@login_required
def add_action_point(meeting_id: int, item_id: int) -> ResponseReturnValue:
    form = request.form
    typed = {key: form.get(key, "") for key in ("description", "owner_organisation", "owner", "deadline")}
    state = PageState()
    try:
        with transaction() as session:
            _meeting_item(session, meeting_id, item_id)
            deadline = _typed_date(typed["deadline"])
            if deadline == "invalid":
                message = _("Vul een geldige datum in.")
                raise InvalidInput(message, {"deadline": [message]})
            owner = None
            if typed["owner"].strip():
                owner = session.get(User, int(typed["owner"])) if typed["owner"].strip().isdigit() else None
                if owner is None:
                    message = _("Kies een actieve medewerker van de eigenaar-organisatie.")
                    raise InvalidInput(message, {"owner": [message]})
            overleg_outcomes.add_action_point(
                session,
                item_id=item_id,
                actor=me(),
                description=typed["description"],
                owner_organisation=typed["owner_organisation"],
                owner=owner,
                deadline=deadline if isinstance(deadline, date) else None,
                at=now(),
            )
    except InvalidInput as invalid:
        state.item(item_id).point_values = typed
        state.item(item_id).point_errors = dict(invalid.fields) or {"description": [invalid.message]}
        return _page(meeting_id, state, status=422)
    flash(_("Actiepunt toegevoegd."), "success")
    return _back(meeting_id, item_id)


# --- the meeting as a whole ---------------------------------------------------------------------------------------


_CASE_FIELDS = {"zaak": "case", "reden": "reason"}


@bp.post("/overleggen/<int:meeting_id>/agenda")
@login_required
def add_case(meeting_id: int) -> ResponseReturnValue:
    """Put a case on the agenda by hand, with a reason."""
    typed = {key: request.form.get(key, "") for key in ("case", "reason")}
    state = PageState(case_values=typed)
    try:
        with transaction() as session:
            item = overleg_meetings.add_case(
                session, meeting_id=meeting_id, case=typed["case"], actor=me(), reason=typed["reason"], at=now()
            )
            item_id = item.id
    except InvalidInput as invalid:
        # the engine names the fields in Dutch, the form in English
        state.case_errors = {_CASE_FIELDS.get(key, key): value for key, value in invalid.fields.items()}
        state.case_message = invalid.message
        return _page(meeting_id, state, status=422)
    except NotFound as missing:
        # the meeting itself must exist and be the user's; only then is "no such case" a message on the page
        with reader() as session:
            overleg_meetings.running_meeting(session, me(), meeting_id)
        state.case_errors = {"case": [missing.message]}
        state.case_message = missing.message
        return _page(meeting_id, state, status=404)
    except Conflict as problem:
        state.case_errors = {"case": [problem.message]}
        state.case_message = problem.message
        return _page(meeting_id, state, status=409)
    flash(_("Zaak op de agenda gezet."), "success")
    return _back(meeting_id, item_id)


@bp.post("/overleggen/<int:meeting_id>/status")
@login_required
def set_status(meeting_id: int) -> ResponseReturnValue:
    status = request.form.get("status", "")
    with transaction() as session:
        overleg_outcomes.set_status(session, meeting_id=meeting_id, actor=me(), status=status, at=now())
    flash(_("Overleg gesloten.") if status == "gesloten" else _("Overleg gehouden."), "success")
    return _back(meeting_id)


@bp.post("/overleggen/<int:meeting_id>/uitnodigingen")
@login_required
def send_invitations(meeting_id: int) -> ResponseReturnValue:
    with transaction() as session:
        count = overleg_outcomes.send_invitations(session, meeting_id=meeting_id, actor=me(), at=now())
    flash(_("Uitnodigingen verstuurd aan %(aantal)s deelnemers.", aantal=count), "success")
    return _back(meeting_id)


@bp.post("/overleggen/<int:meeting_id>/agenda/bijwerken")
@login_required
def update_agenda(meeting_id: int) -> ResponseReturnValue:
    """Put on the agenda what has come to wait at a feeding step since (the job does this every hour too)."""
    with transaction() as session:
        added = overleg_meetings.update_agenda(session, meeting_id=meeting_id, actor=me(), at=now())
    flash(_("Agenda bijgewerkt: %(aantal)s zaken toegevoegd.", aantal=len(added)), "success")
    return _back(meeting_id)
