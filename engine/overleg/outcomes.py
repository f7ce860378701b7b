"""What a meeting records per case: attendance and the decisions (saved field by field, a stale edit refused and
shown), the structured outcome that completes the waiting process step, and action points with an owner and a
deadline; then the meeting's status (held, closed) and its besluitenlijst.

An action point is work: it reaches its owner's inbox (the person, or the invited people of the owning organisation)
with its deadline, and the Bewaking when it is overdue. Invitations and new action points are notified in the bell
(kind `overleg`) and so in the e-mail digest: a title and a link, no case data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.dates import local_moment
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import Form, required_text
from engine.holidays import LOCAL
from engine.i18n import N_
from engine.models import (
    ActionPoint,
    AgendaItem,
    HumanTask,
    Instance,
    ItemInvite,
    Meeting,
    Notification,
    NotificationPreference,
    OverlegType,
    User,
)
from engine.overleg.meetings import Agenda, _invite, agenda, may_run, running_meeting, visible_meeting
from engine.privacy.organisations import ORGANISATIONS

if TYPE_CHECKING:  # engine.runtime imports the notification jobs (engine.notifications), which import this module
    from engine.instance import WorkflowInstance
    from engine.runtime import Outcome, Runtime

_STALE = N_(
    "%(naam)s heeft dit intussen gewijzigd; hun versie staat nu op het scherm. Uw wijziging is niet opgeslagen."
)
_NO_ITEM = N_("Dit agendapunt bestaat niet of u heeft er geen toegang toe.")
_NO_STEP = N_("Voor deze zaak wacht geen processtap op een besluit van dit overleg.")
_DECIDED = N_("Het besluit voor deze zaak is al vastgelegd.")
_POINT = N_("Het actiepunt is niet opgeslagen; verbeter de gemarkeerde velden.")
_NO_POINT = N_("Dit actiepunt bestaat niet of u heeft er geen toegang toe.")
_NOT_OWNER = N_("Alleen de eigenaar van het actiepunt, of de voorzitter of het secretariaat, kan het afronden.")
_POINT_DONE = N_("Dit actiepunt is al afgerond.")
_STATUS = N_("Dit overleg heeft al de status '%(status)s'.")
#: Form fields the meeting fills in when it completes a step (the forms keep working for a single case).
DATE_FIELDS = (
    "triagedatum",
    "overleg_gehouden_op",
    "vervolgoverleg_datum",
    "datum_overleg",
    "wegingsdatum",
    "besluitdatum",
)
#: The attendance and the action points, under the names the procesregie forms give them.
PARTICIPANT_FIELDS = ("deelnemers", "vervolg_deelnemers", "deelnemers_weging")
ACTION_POINT_FIELDS = ("actiepunten", "vervolg_actiepunten")


class StaleEdit(Conflict):
    """An edit based on an older version of the agenda item: nothing saved; `current` is what is stored now."""

    code = "stale"

    def __init__(self, current: AgendaItem, by: str) -> None:
        super().__init__(_STALE, naam=by)
        self.current = current


def _item(session: Session, actor: User, item_id: int) -> tuple[AgendaItem, Meeting]:
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_NO_ITEM)
    meeting = running_meeting(session, actor, item.meeting_id)
    return item, meeting


def _display_name(session: Session, username: str) -> str:
    return session.scalar(select(User.display_name).where(User.username == username)) or username


def save_item(
    session: Session,
    *,
    item_id: int,
    actor: User,
    version: int,
    at: datetime,
    decision: str | None = None,
    attendance: Mapping[str, bool] | None = None,
) -> AgendaItem:
    """Save the decisions text and/or the attendance of one case (the chair or secretariaat, while the meeting is
    open). `version` is the one the editor started from: an older one is refused with `StaleEdit`."""
    item, _ = _item(session, actor, item_id)
    if version != item.version:
        raise StaleEdit(item, _display_name(session, item.updated_by))
    changed = []
    if decision is not None:
        text = decision.strip()
        if len(text) > 20_000:
            raise InvalidInput(N_("De besluiten zijn te lang."), {"decision": [N_("Gebruik hoogstens 20000 tekens.")]})
        item.decision = text or None
        changed.append("decision")
    if attendance is not None:
        invited = {str(i) for i in session.scalars(select(ItemInvite.user_id).where(ItemInvite.item_id == item.id))}
        unknown = set(attendance) - invited
        if unknown:
            raise InvalidInput(
                N_("Alleen genodigden kunnen aanwezig zijn."), {"attendance": [N_("Onbekende deelnemer.")]}
            )
        item.attendance = {key: bool(value) for key, value in attendance.items()}
        changed.append("attendance")
    item.version += 1
    item.updated_at, item.updated_by = at, actor.username
    session.flush()
    record(
        session,
        actor=actor.username,
        action="overleg_item",
        at=at,
        instance_id=item.instance_id,
        summary=f"Verslag bijgewerkt in overleg {item.meeting_id}",
        object_type="overleg",
        object_id=str(item.meeting_id),
        details={"fields": changed},
    )
    return item


def form_organisation(key: str | None) -> str:
    """The value the forms' `organisatie` choice gives an organisation (a user's None: the ZVH)."""
    organisation = ORGANISATIONS.get(key or "zvh")
    return organisation.form_value if organisation and organisation.form_value else "Anders"


def outcome_form(
    session: Session, runtime: Runtime, *, item_id: int, actor: User, loaded: WorkflowInstance | None = None
) -> tuple[Form, dict[str, Any]]:
    """The form of the step this item decides and its values as the meeting fills them: the meeting's date, the
    invitees with their attendance, the decisions (one per line) and the action points. `loaded`: the item's case
    as the caller loaded it already (a meeting page shows many)."""
    item, meeting = _item(session, actor, item_id)
    task = session.get(HumanTask, item.task_id) if item.task_id else None
    if task is None:
        raise Conflict(_NO_STEP if item.outcome_at is None else _DECIDED)
    instance = loaded if loaded is not None and loaded.row.id == task.instance_id else None
    instance = instance or runtime.load(session, task.instance_id)
    spiff_task = instance.find_task(task.id)
    if spiff_task is None:
        raise Conflict(_DECIDED)
    form = instance.version.form_for(spiff_task.task_spec)
    values = {name: value for name, value in spiff_task.data.items() if name in form.fields}
    values.update(meeting_values(session, item, meeting, form))
    return form, values


def meeting_values(session: Session, item: AgendaItem, meeting: Meeting, form: Form) -> dict[str, Any]:
    """What the meeting knows for the fields `form` has."""
    values: dict[str, Any] = {}
    day = meeting.starts_at.astimezone(LOCAL).date().isoformat()
    for name in DATE_FIELDS:
        if name in form.fields:
            values[name] = day
    invitees = list(
        session.scalars(
            select(User)
            .join(ItemInvite, ItemInvite.user_id == User.id)
            .where(ItemInvite.item_id == item.id)
            .order_by(User.display_name)
        )
    )
    for name in PARTICIPANT_FIELDS:
        if name in form.fields and invitees:
            # only the parts the form's participant has (the Weegploeg's has no attendance)
            parts = set(((form.field_schema(name) or {}).get("items") or {}).get("properties") or {})
            rows = [
                {
                    "organisatie": form_organisation(user.organisation),
                    "naam": user.display_name,
                    "aanwezig": bool(item.attendance.get(str(user.id), False)),
                }
                for user in invitees
            ]
            values[name] = [{key: value for key, value in row.items() if key in parts} for row in rows]
    if "triagetafel" in form.fields:
        present = [user for user in invitees if item.attendance.get(str(user.id))]
        if present:
            values["triagetafel"] = sorted({form_organisation(user.organisation) for user in present})
    if "besluiten" in form.fields and item.decision:
        values["besluiten"] = [line.strip() for line in item.decision.splitlines() if line.strip()][:30]
    points = list(session.scalars(select(ActionPoint).where(ActionPoint.item_id == item.id).order_by(ActionPoint.id)))
    for name in ACTION_POINT_FIELDS:
        if name in form.fields and points:
            values[name] = [
                {
                    "omschrijving": point.description,
                    "eigenaar_org": form_organisation(point.owner_organisation),
                    "deadline": point.deadline.isoformat(),
                    "status": "open" if point.status == "open" else "afgerond",
                }
                for point in points
            ]
    return values


def record_outcome(
    session: Session,
    runtime: Runtime,
    *,
    item_id: int,
    actor: User,
    data: Mapping[str, Any],
    at: datetime,
    lock_version: int | None = None,
    locale: str = "nl",
) -> Outcome:
    """Complete the step this item decides with the structured outcome (validated by the step's own form, as the
    engine always does); the actor needs the step's role, like on the task page."""
    item, _ = _item(session, actor, item_id)
    if item.task_id is None:
        raise Conflict(_NO_STEP)
    if item.outcome_at is not None:
        raise Conflict(_DECIDED)
    outcome = runtime.complete_task(
        session, task_id=item.task_id, actor=actor, data=data, lock_version=lock_version, locale=locale
    )
    item.outcome_at, item.outcome_by = at, actor.username
    item.version += 1
    item.updated_at, item.updated_by = at, actor.username
    record(
        session,
        actor=actor.username,
        action="overleg_outcome",
        at=at,
        instance_id=item.instance_id,
        task_id=item.task_id,
        summary=f"Besluit vastgelegd in overleg {item.meeting_id}",
        object_type="overleg",
        object_id=str(item.meeting_id),
    )
    return outcome


def _notify(session: Session, *, user_id: int, key: str, title: str, link: str, at: datetime) -> None:
    """A bell notification of kind `overleg`, once per (user, key), unless the user switched the kind off."""
    switched_off = session.scalar(
        select(NotificationPreference.in_app).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == "overleg"
        )
    )
    if switched_off is False:
        return
    # imported here: the notification jobs (engine.notifications) import this module for their reminders
    from engine.notifications.bell import DIALECT_INSERTS

    statement = DIALECT_INSERTS[session.get_bind().dialect.name](Notification).on_conflict_do_nothing(
        index_elements=["user_id", "key"]
    )
    session.execute(
        statement,
        {
            "user_id": user_id,
            "kind": "overleg",
            "key": key[:160],
            "title": title[:255],
            "link": link,
            "instance_id": None,
            "created_at": at,
        },
    )


def add_action_point(
    session: Session,
    *,
    item_id: int,
    actor: User,
    description: str,
    owner_organisation: str,
    owner: User | None,
    deadline: date | None,
    at: datetime,
) -> ActionPoint:
    """Agree an action point for a case: owned by an organisation, optionally one of its people (who is then
    invited for the case, if they were not); the deadline lies on or after the meeting's day."""
    item, meeting = _item(session, actor, item_id)
    problems: dict[str, list[str]] = {}
    text = description.strip()
    if not 3 <= len(text) <= 1000:
        problems["description"] = [N_("Beschrijf het actiepunt in 3 tot 1000 tekens.")]
    if owner_organisation not in ORGANISATIONS:
        problems["owner_organisation"] = [N_("Kies de organisatie die eigenaar is.")]
    if owner is not None and (not owner.active or (owner.organisation or "zvh") != owner_organisation):
        problems["owner"] = [N_("Kies een actieve medewerker van de eigenaar-organisatie.")]
    if deadline is None:
        problems["deadline"] = [N_("Vul een datum in.")]
    elif deadline < meeting.starts_at.astimezone(LOCAL).date():
        problems["deadline"] = [N_("De deadline ligt niet vóór het overleg.")]
    if problems:
        raise InvalidInput(_POINT, problems)
    assert deadline is not None
    point = ActionPoint(
        item_id=item.id,
        instance_id=item.instance_id,
        description=text,
        owner_organisation=owner_organisation,
        owner_user_id=owner.id if owner else None,
        deadline=deadline,
        status="open",
        created_by=actor.username,
        created_at=at,
    )
    session.add(point)
    session.flush()
    if owner is not None:
        _invite(session, item, owner.id, actor=actor.username, at=at)
    record(
        session,
        actor=actor.username,
        action="overleg_action_point",
        at=at,
        instance_id=item.instance_id,
        summary=f"Actiepunt {point.id} afgesproken in overleg {meeting.id}",
        object_type="actiepunt",
        object_id=str(point.id),
        details={"owner_organisation": owner_organisation, "deadline": deadline.isoformat()},
    )
    for user_id in _owners(session, point):
        _notify(
            session,
            user_id=user_id,
            key=f"actiepunt:{point.id}",
            title=f"Nieuw actiepunt, deadline {deadline:%d-%m-%Y}",
            link="/overleggen/actiepunten",
            at=at,
        )
    return point


def _owners(session: Session, point: ActionPoint) -> list[int]:
    """Who carries out an action point: its person, else the invited people of its organisation."""
    if point.owner_user_id is not None:
        return [point.owner_user_id]
    return list(
        session.scalars(
            select(User.id)
            .join(ItemInvite, ItemInvite.user_id == User.id)
            .where(
                ItemInvite.item_id == point.item_id,
                # ZVH people have no organisation of their own: None is the ZVH (as `may_chair` reads it)
                func.coalesce(User.organisation, "zvh") == point.owner_organisation,
                User.active,
            )
        )
    )


def complete_action_point(session: Session, *, point_id: int, actor: User, note: str, at: datetime) -> ActionPoint:
    """Mark an action point done, with a note (its owner, or the meeting's chair or secretariaat)."""
    point = session.get(ActionPoint, point_id)
    if point is None:
        raise NotFound(_NO_POINT)
    item = session.get(AgendaItem, point.item_id)
    assert item is not None
    owners = _owners(session, point)
    if actor.id not in owners:
        invited = session.get(ItemInvite, (item.id, actor.id)) is not None
        if not invited:
            raise NotFound(_NO_POINT)
        meeting = session.get(Meeting, item.meeting_id)
        assert meeting is not None
        if not may_run(session, actor, meeting):
            raise PermissionDenied(_NOT_OWNER)
    if point.status != "open":
        raise Conflict(_POINT_DONE)
    text = required_text(note, field="note", message=N_("Beschrijf kort wat er is gedaan."))
    point.status, point.done_at, point.done_by, point.done_note = "gereed", at, actor.username, text
    record(
        session,
        actor=actor.username,
        action="overleg_action_done",
        at=at,
        instance_id=point.instance_id,
        summary=f"Actiepunt {point.id} afgerond",
        object_type="actiepunt",
        object_id=str(point.id),
    )
    return point


@dataclass(frozen=True)
class ActionPointRow:
    """An open action point as an inbox or the Bewaking lists it."""

    point: ActionPoint
    case_number: str
    overleg: str
    meeting_id: int
    overdue: bool


def _point_rows(session: Session, query: Any, today: date) -> list[ActionPointRow]:
    rows = session.execute(
        query.join(AgendaItem, AgendaItem.id == ActionPoint.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(OverlegType, OverlegType.id == Meeting.type_id)
        .join(Instance, Instance.id == ActionPoint.instance_id)
        .where(ActionPoint.status == "open", Instance.destroyed_at.is_(None))
        .order_by(ActionPoint.deadline, ActionPoint.id)
    ).tuples()
    return [
        ActionPointRow(
            point=point, case_number=number, overleg=name, meeting_id=meeting_id, overdue=point.deadline < today
        )
        for point, number, name, meeting_id in rows
    ]


def my_action_points(session: Session, *, user: User, at: datetime) -> list[ActionPointRow]:
    """The open action points `user` carries out, the earliest deadline first."""
    mine_by_org = select(ItemInvite.item_id).where(ItemInvite.user_id == user.id)
    query = select(ActionPoint, Instance.case_number, OverlegType.name, Meeting.id).where(
        or_(
            ActionPoint.owner_user_id == user.id,
            (ActionPoint.owner_user_id.is_(None))
            & (ActionPoint.owner_organisation == (user.organisation or "zvh"))
            & ActionPoint.item_id.in_(mine_by_org),
        )
    )
    return _point_rows(session, query, at.astimezone(LOCAL).date())


def overdue_action_points(session: Session, *, at: datetime, limit: int = 500) -> list[ActionPointRow]:
    """Every open action point past its deadline (for the Bewaking: case number, overleg, owner, deadline)."""
    today = at.astimezone(LOCAL).date()
    query = (
        select(ActionPoint, Instance.case_number, OverlegType.name, Meeting.id)
        .where(ActionPoint.deadline < today)
        .limit(limit)
    )
    return _point_rows(session, query, today)


def set_status(session: Session, *, meeting_id: int, actor: User, status: str, at: datetime) -> Meeting:
    """Mark a meeting held (`gehouden`) or close it (`gesloten`: the besluitenlijst is final, nothing changes)."""
    meeting = running_meeting(session, actor, meeting_id)
    order = {"gepland": 0, "gehouden": 1, "gesloten": 2}
    if status not in order or order[status] <= order[meeting.status]:
        raise Conflict(_STATUS, status=meeting.status)
    if status == "gehouden" or meeting.held_at is None:
        meeting.held_at = at
    if status == "gesloten":
        meeting.closed_at, meeting.closed_by = at, actor.username
    meeting.status = status
    record(
        session,
        actor=actor.username,
        action="overleg_status",
        at=at,
        summary=f"Overleg {meeting.id}: {status}",
        object_type="overleg",
        object_id=str(meeting.id),
        details={"status": status},
    )
    return meeting


def send_invitations(session: Session, *, meeting_id: int, actor: User, at: datetime) -> int:
    """Notify every member invited for at least one case (bell and e-mail digest: the overleg, its moment and a
    link; no case numbers or names). Returns how many members were notified."""
    meeting = running_meeting(session, actor, meeting_id)
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    invited = set(
        session.scalars(
            select(ItemInvite.user_id)
            .join(AgendaItem, AgendaItem.id == ItemInvite.item_id)
            .where(AgendaItem.meeting_id == meeting.id)
        )
    )
    title = f"Uitnodiging: {kind.name}, {local_moment(meeting.starts_at)}"
    for user_id in sorted(invited):
        _notify(
            session,
            user_id=user_id,
            key=f"overleg:{meeting.id}:uitnodiging",
            title=title,
            link=f"/overleggen/{meeting.id}",
            at=at,
        )
    record(
        session,
        actor=actor.username,
        action="overleg_invitations",
        at=at,
        summary=f"Uitnodigingen verstuurd voor overleg {meeting.id}",
        object_type="overleg",
        object_id=str(meeting.id),
        details={"count": len(invited)},
    )
    return len(invited)


def decision_list(session: Session, *, meeting_id: int, viewer: User) -> Agenda:
    """The besluitenlijst: per case the viewer is invited for, the decisions, whether the step was decided here,
    and the action points (the same need-to-know as the agenda)."""
    visible_meeting(session, viewer, meeting_id)
    return agenda(session, meeting_id=meeting_id, viewer=viewer)


#: An action point's owners are reminded this many days before its deadline (and once more when it has passed).
REMIND_DAYS_BEFORE = 2


def remind_action_points(session: Session, *, now: datetime) -> int:
    """(Job) remind the owners of open action points whose deadline is near (`REMIND_DAYS_BEFORE` days) and, once
    more, when it has passed: a bell notification (and so the e-mail digest) without case data. Idempotent per
    point and kind of reminder; returns how many notifications were created or kept."""
    today = now.astimezone(LOCAL).date()
    soon = today.toordinal() + REMIND_DAYS_BEFORE
    points = session.scalars(
        select(ActionPoint)
        .join(Instance, Instance.id == ActionPoint.instance_id)
        .where(ActionPoint.status == "open", Instance.destroyed_at.is_(None))
        .where(ActionPoint.deadline <= date.fromordinal(soon))
    )
    count = 0
    for point in points:
        passed = point.deadline < today
        key = f"actiepunt:{point.id}:{'verlopen' if passed else 'nadert'}"
        title = (
            f"Actiepunt over de deadline ({point.deadline:%d-%m-%Y})"
            if passed
            else f"Deadline actiepunt nadert ({point.deadline:%d-%m-%Y})"
        )
        for user_id in _owners(session, point):
            _notify(session, user_id=user_id, key=key, title=title, link="/overleggen/actiepunten", at=now)
            count += 1
    return count
