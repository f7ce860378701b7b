"""Meetings of an overleg type: who may plan and run them, planning (from the type's frequency or by hand), the
agenda (waiting cases, cases added by hand, open action points carried forward) and the per-case invitations.

Need-to-know: a member sees an agenda item only when invited for it — on the agenda, in the besluitenlijst, in the
invitation and in the API. The meeting's chair (`voorzitter`) and secretariaat, who prepare and run the agenda, are
invited for every item; the chair invites the other members per case. An invitation makes the member a participant
of the case (reason `casusoverleg`), so they can open it; withdrawing it ends that unless they take part otherwise.
Every invitation and withdrawal is audited on the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from engine.access import may_view, take_part
from engine.audit import record
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.i18n import N_
from engine.models import (
    ActionPoint,
    AgendaItem,
    HumanTask,
    Instance,
    ItemInvite,
    Meeting,
    MeetingMember,
    OverlegType,
    Participant,
    ProcessVersion,
    User,
    UserRole,
)
from engine.overleg.schedule import agenda_cutoff, meeting_moments
from engine.overleg.types import get_type, member_ids

#: The ZVH's administrative support for overleggen (agenda preparation, minutes), for every overleg type.
SECRETARIAAT = "secretariaat"
#: Who runs a meeting: its chair and its secretariaat (both see every agenda item).
RUNNERS = frozenset({"voorzitter", "secretariaat"})
#: The participant reason of an invitation for an agenda item.
INVITED = "casusoverleg"
STATUSES = ("gepland", "gehouden", "gesloten")

_NO_MEETING = N_("Dit overleg bestaat niet of u heeft er geen toegang toe.")
_NOT_PLANNER = N_("Alleen de voorzitter van dit soort overleg of het secretariaat kan een overleg plannen.")
_NOT_RUNNER = N_("Alleen de voorzitter of het secretariaat van dit overleg kan dit doen.")
_CLOSED = N_("Dit overleg is gesloten; de besluitenlijst is definitief.")
_TAKEN = N_("Op dit moment is al een overleg van dit soort gepland.")
_INACTIVE = N_("Dit soort overleg wordt niet meer gebruikt.")
_NO_MOMENT = N_("Dit soort overleg heeft geen vaste dag; geef het moment op.")
_PAST = N_("Een overleg kan niet in het verleden worden gepland.")
_NO_CASE = N_("Deze zaak bestaat niet of u heeft er geen toegang toe.")
_ON_AGENDA = N_("Deze zaak staat al op de agenda van dit overleg.")
_REASON = N_("Geef aan waarom deze zaak op de agenda komt.")
_CASE_NUMBER = N_("Vul een zaaknummer in.")
_NOT_ON_AGENDA = N_("Deze zaak staat niet op de agenda van dit overleg.")


def may_chair(user: User, kind: OverlegType) -> bool:
    """Whether `user` holds the type's chair role in its owning organisation (the ZVH's own: ZVH people)."""
    return kind.chair_role in user.role_keys and (user.organisation or "zvh") == kind.organisation


def may_plan(user: User, kind: OverlegType) -> bool:
    """Whether `user` may plan meetings of this type: its chair, or the ZVH's secretariaat."""
    return user.active and (may_chair(user, kind) or SECRETARIAAT in user.role_keys)


def _member_role(user: User, kind: OverlegType) -> str:
    if may_chair(user, kind):
        return "voorzitter"
    return "secretariaat" if SECRETARIAAT in user.role_keys else "lid"


def membership(session: Session, meeting_id: int, user_id: int) -> MeetingMember | None:
    """The user's membership of a meeting, if any."""
    return session.get(MeetingMember, (meeting_id, user_id))


def may_run(session: Session, user: User, meeting: Meeting) -> bool:
    """Whether `user` runs this meeting: a member as its chair or secretariaat."""
    member = membership(session, meeting.id, user.id)
    return member is not None and member.role in RUNNERS and user.active


def visible_meeting(session: Session, user: User, meeting_id: int) -> Meeting:
    """The meeting, when `user` is a member or may plan its type; else `NotFound` (its existence stays hidden)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_NO_MEETING)
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    if membership(session, meeting.id, user.id) is None and not may_plan(user, kind):
        raise NotFound(_NO_MEETING)
    return meeting


def running_meeting(session: Session, user: User, meeting_id: int, *, open_only: bool = True) -> Meeting:
    """The meeting for an action only its chair or secretariaat may take (and, `open_only`, not once closed)."""
    meeting = visible_meeting(session, user, meeting_id)
    if not may_run(session, user, meeting):
        raise PermissionDenied(_NOT_RUNNER)
    if open_only and meeting.status == "gesloten":
        raise Conflict(_CLOSED)
    return meeting


def _add_member(session: Session, meeting: Meeting, user: User, kind: OverlegType) -> MeetingMember:
    member = membership(session, meeting.id, user.id)
    if member is None:
        member = MeetingMember(meeting_id=meeting.id, user_id=user.id, role=_member_role(user, kind))
        session.add(member)
        session.flush()
    return member


def _create_meeting(
    session: Session, kind: OverlegType, *, starts_at: datetime, by_hand: bool, planner: User | None, at: datetime
) -> Meeting:
    if session.scalar(select(Meeting.id).where(Meeting.type_id == kind.id, Meeting.starts_at == starts_at)):
        raise Conflict(_TAKEN)
    actor = planner.username if planner else "system"
    meeting = Meeting(
        type_id=kind.id, starts_at=starts_at, status="gepland", by_hand=by_hand, planned_by=actor, planned_at=at
    )
    session.add(meeting)
    session.flush()
    ids = set(member_ids(session, kind.id)) | ({planner.id} if planner else set())
    if planner is None:
        # Planned by the job: when no default member may run it, its chairs do (someone must open the agenda).
        defaults = session.scalars(select(User).where(User.id.in_(ids), User.active))
        if not any(may_chair(user, kind) or SECRETARIAAT in user.role_keys for user in defaults):
            chairs = session.scalars(select(User).join(UserRole).where(UserRole.role == kind.chair_role, User.active))
            ids |= {user.id for user in chairs if may_chair(user, kind)}
    for user in session.scalars(select(User).where(User.id.in_(ids), User.active).order_by(User.username)):
        _add_member(session, meeting, user, kind)
    record(
        session,
        actor=actor,
        action="overleg_planned",
        at=at,
        summary=f"Overleg {kind.key} gepland op {starts_at.isoformat()}",
        object_type="overleg",
        object_id=str(meeting.id),
        details={"type": kind.key, "by_hand": by_hand},
    )
    refresh_agenda(session, meeting, at=at)
    return meeting


def plan_meeting(
    session: Session,
    *,
    type_key: str,
    actor: User,
    at: datetime | None,
    now: datetime,
    by_hand: bool = False,
) -> Meeting:
    """Plan a meeting of the type: at `at`, or (None) at its next regular moment that has no meeting yet. A moment
    that is not a regular one is a meeting planned by hand. Its members are the type's default members and the
    planner; its agenda is filled at once (`refresh_agenda`)."""
    kind = get_type(session, type_key)
    if not may_plan(actor, kind):
        raise PermissionDenied(_NOT_PLANNER)
    if not kind.active:
        raise Conflict(_INACTIVE)
    if at is None:
        planned = set(session.scalars(select(Meeting.starts_at).where(Meeting.type_id == kind.id)))
        candidates = [moment for moment in meeting_moments(kind, after=now, count=60) if moment not in planned]
        if not candidates:
            raise InvalidInput(_NO_MOMENT, {"at": [_NO_MOMENT]})
        at, by_hand = candidates[0], by_hand
    else:
        if at < now - timedelta(hours=12):
            raise InvalidInput(_PAST, {"at": [_PAST]})
        regular = meeting_moments(kind, after=at - timedelta(seconds=1), count=1)
        by_hand = by_hand or regular != [at]
    return _create_meeting(session, kind, starts_at=at, by_hand=by_hand, planner=actor, at=now)


def plan_upcoming(session: Session, *, now: datetime, horizon: timedelta = timedelta(days=14)) -> list[Meeting]:
    """(Job) plan every active type's regular meetings of the coming `horizon` that are not planned yet, and bring
    the agenda of every planned meeting still to come or in session up to date (`refresh_agenda`), the earliest
    first. Returns the meetings planned."""
    planned = []
    for kind in session.scalars(select(OverlegType).where(OverlegType.active, OverlegType.weekday.is_not(None))):
        existing = set(session.scalars(select(Meeting.starts_at).where(Meeting.type_id == kind.id)))
        for moment in meeting_moments(kind, after=now, count=8):
            if moment > now + horizon:
                break
            if moment not in existing:
                planned.append(_create_meeting(session, kind, starts_at=moment, by_hand=False, planner=None, at=now))
    # Also a meeting in session: a step its process opens at the meeting's moment belongs on it (`refresh_agenda`).
    upcoming = (
        select(Meeting)
        .where(Meeting.status == "gepland", Meeting.starts_at >= now - timedelta(minutes=_LONGEST_MINUTES))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    for meeting in session.scalars(upcoming):
        if _ends(session, meeting) >= now:
            refresh_agenda(session, meeting, at=now)
    return planned


#: The longest meeting a type may have (`types._RANGES`).
_LONGEST_MINUTES = 600


def _ends(session: Session, meeting: Meeting) -> datetime:
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    return meeting.starts_at + timedelta(minutes=kind.duration_minutes)


def update_agenda(session: Session, *, meeting_id: int, actor: User, at: datetime) -> list[AgendaItem]:
    """Bring a planned meeting's agenda up to date now (its chair or secretariaat; `refresh_agenda`)."""
    meeting = running_meeting(session, actor, meeting_id)
    return refresh_agenda(session, meeting, at=at)


def _runner_ids(session: Session, meeting_id: int) -> list[int]:
    return list(
        session.scalars(
            select(MeetingMember.user_id).where(MeetingMember.meeting_id == meeting_id, MeetingMember.role.in_(RUNNERS))
        )
    )


def _invite(session: Session, item: AgendaItem, user_id: int, *, actor: str, at: datetime) -> bool:
    """Invite a user for one item; every invitee is a member of the meeting (a carried-forward item's invitees and an
    action point's owner too), so they can open it."""
    if session.get(ItemInvite, (item.id, user_id)) is not None:
        return False
    if membership(session, item.meeting_id, user_id) is None:
        meeting, user = session.get(Meeting, item.meeting_id), session.get(User, user_id)
        assert meeting is not None and user is not None
        kind = session.get(OverlegType, meeting.type_id)
        assert kind is not None
        _add_member(session, meeting, user, kind)
    session.add(ItemInvite(item_id=item.id, user_id=user_id, invited_by=actor, invited_at=at))
    take_part(session, instance_id=item.instance_id, user_id=user_id, reason=INVITED, at=at)
    record(
        session,
        actor=actor,
        action="overleg_invited",
        at=at,
        instance_id=item.instance_id,
        summary=f"Uitgenodigd voor overleg {item.meeting_id}",
        object_type="overleg",
        object_id=str(item.meeting_id),
        details={"user_id": user_id},
    )
    return True


def _new_item(
    session: Session,
    meeting: Meeting,
    *,
    instance_id: int,
    source: str,
    actor: str,
    at: datetime,
    task: HumanTask | None = None,
    reason: str | None = None,
    invitees: Iterable[int] = (),
) -> AgendaItem:
    position = session.scalar(
        select(func.coalesce(func.max(AgendaItem.position), 0)).where(AgendaItem.meeting_id == meeting.id)
    )
    item = AgendaItem(
        meeting_id=meeting.id,
        instance_id=instance_id,
        source=source,
        reason=reason,
        task_id=task.id if task else None,
        step_name=task.name if task else None,
        position=int(position or 0) + 1,
        added_by=actor,
        added_at=at,
        attendance={},
        version=1,
        updated_at=at,
        updated_by=actor,
    )
    session.add(item)
    session.flush()
    record(
        session,
        actor=actor,
        action="overleg_case_added",
        at=at,
        instance_id=instance_id,
        summary=f"Op de agenda van overleg {meeting.id}",
        object_type="overleg",
        object_id=str(meeting.id),
        details={"source": source},
    )
    for user_id in dict.fromkeys([*_runner_ids(session, meeting.id), *invitees]):
        _invite(session, item, user_id, actor=actor, at=at)
    return item


def _feeds(kind: OverlegType) -> list[tuple[str, str]]:
    return [tuple(feed.split(":", 1)) for feed in kind.feeds if ":" in feed]  # type: ignore[misc]


def refresh_agenda(session: Session, meeting: Meeting, *, at: datetime) -> list[AgendaItem]:
    """Put on a planned meeting's agenda what belongs there and is not yet: every case whose process waits at a step
    that feeds this type since before the agenda's cut-off, or since a moment during the meeting (a process that waits
    for the meeting by its own timer opens the step then), a waiting step on one open meeting of the type at a time
    (a step left undecided when its meeting closed comes back on the next); and every case with an open action point
    from an earlier meeting of this type (with the same invitees)."""
    if meeting.status != "gepland":
        return []
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    on_agenda = set(session.scalars(select(AgendaItem.instance_id).where(AgendaItem.meeting_id == meeting.id)))
    added: list[AgendaItem] = []
    feeds = _feeds(kind)
    if feeds:
        taken = (
            select(AgendaItem.task_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(Meeting.type_id == kind.id, Meeting.status != "gesloten", AgendaItem.task_id.is_not(None))
        )
        waiting = session.scalars(
            select(HumanTask)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .where(
                tuple_(HumanTask.process_key, HumanTask.element_id).in_(feeds),
                # waiting since before the cut-off, or opened while the meeting is in session: a process that
                # waits for the meeting's moment by its own timer (the triage referral) opens the step then
                or_(
                    HumanTask.created_at <= agenda_cutoff(kind, meeting.starts_at),
                    HumanTask.created_at.between(meeting.starts_at, _ends(session, meeting)),
                ),
                HumanTask.id.not_in(taken),
                Instance.destroyed_at.is_(None),
            )
            .order_by(HumanTask.created_at, HumanTask.instance_id, HumanTask.id)
        )
        # a step goes on the earliest meeting it is in time for: an earlier one still to come takes it first
        earlier = [
            (agenda_cutoff(kind, other.starts_at), other.starts_at, _ends(session, other))
            for other in session.scalars(
                select(Meeting).where(
                    Meeting.type_id == kind.id, Meeting.status == "gepland", Meeting.starts_at < meeting.starts_at
                )
            )
            if _ends(session, other) >= at
        ]
        for task in waiting:
            if task.instance_id in on_agenda:
                continue
            if any(task.created_at <= cutoff or start <= task.created_at <= end for cutoff, start, end in earlier):
                continue
            added.append(
                _new_item(
                    session, meeting, instance_id=task.instance_id, source="wachtend", actor="system", at=at, task=task
                )
            )
            on_agenda.add(task.instance_id)
    carried = session.execute(
        select(ActionPoint.instance_id, func.max(ActionPoint.item_id))
        .join(AgendaItem, AgendaItem.id == ActionPoint.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(ActionPoint.status == "open", Meeting.type_id == kind.id, Meeting.starts_at < meeting.starts_at)
        .group_by(ActionPoint.instance_id)
        .order_by(ActionPoint.instance_id)
    ).tuples()
    for instance_id, item_id in carried:
        if instance_id in on_agenda:
            continue
        invitees = session.scalars(select(ItemInvite.user_id).where(ItemInvite.item_id == item_id))
        added.append(
            _new_item(
                session,
                meeting,
                instance_id=instance_id,
                source="actiepunten",
                actor="system",
                at=at,
                invitees=list(invitees),
            )
        )
        on_agenda.add(instance_id)
    return added


def _case(session: Session, case: str | int) -> Instance | None:
    text = str(case).strip()
    if text.isdigit():
        return session.get(Instance, int(text))
    return session.scalar(select(Instance).where(Instance.case_number == text).order_by(Instance.id.desc()))


def add_case(
    session: Session, *, meeting_id: int, case: str | int, actor: User, reason: str, at: datetime
) -> AgendaItem:
    """Put a case on the agenda by hand, with a reason; the actor must see the case. When its process waits at a
    step that feeds this type, the meeting decides that step."""
    meeting = running_meeting(session, actor, meeting_id)
    required_text(str(case), field="zaak", message=_CASE_NUMBER)
    text = required_text(reason, field="reden", message=_REASON)
    instance = _case(session, case)
    if instance is None or instance.destroyed_at is not None or not may_view(session, actor, instance.id, at=at):
        raise NotFound(_NO_CASE)
    if session.scalar(
        select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id, AgendaItem.instance_id == instance.id)
    ):
        raise Conflict(_ON_AGENDA)
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    feeds = _feeds(kind)
    task = None
    if feeds:
        task = session.scalar(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id, tuple_(HumanTask.process_key, HumanTask.element_id).in_(feeds)
            )
        )
    return _new_item(
        session,
        meeting,
        instance_id=instance.id,
        source="handmatig",
        actor=actor.username,
        at=at,
        task=task,
        reason=text,
        invitees=[actor.id],
    )


def item_for(session: Session, meeting: Meeting, case: str | int) -> AgendaItem:
    """The meeting's agenda item of a case (case number or instance id)."""
    instance = _case(session, case)
    item = None
    if instance is not None:
        item = session.scalar(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.instance_id == instance.id)
        )
    if item is None:
        raise NotFound(_NOT_ON_AGENDA)
    return item


def invite(session: Session, *, meeting_id: int, case: str | int, user: User, actor: User, at: datetime) -> bool:
    """Invite `user` for one case on the agenda (the chair's need-to-know choice; they become a member of the
    meeting if they were not). False when they were invited already."""
    meeting = running_meeting(session, actor, meeting_id)
    item = item_for(session, meeting, case)
    if not user.active:
        raise InvalidInput(N_("Deze gebruiker is niet actief."), {"user": [N_("Deze gebruiker is niet actief.")]})
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    _add_member(session, meeting, user, kind)
    return _invite(session, item, user.id, actor=actor.username, at=at)


def uninvite(session: Session, *, meeting_id: int, case: str | int, user: User, actor: User, at: datetime) -> bool:
    """Withdraw an invitation for one case; the user stops being a participant of the case unless another
    invitation or their own work on it keeps them one. False when they were not invited."""
    meeting = running_meeting(session, actor, meeting_id)
    item = item_for(session, meeting, case)
    invitation = session.get(ItemInvite, (item.id, user.id))
    if invitation is None:
        return False
    session.delete(invitation)
    session.flush()
    others = session.scalar(
        select(func.count())
        .select_from(ItemInvite)
        .join(AgendaItem, AgendaItem.id == ItemInvite.item_id)
        .where(AgendaItem.instance_id == item.instance_id, ItemInvite.user_id == user.id)
    )
    if not others:
        session.execute(
            delete(Participant).where(
                Participant.instance_id == item.instance_id,
                Participant.user_id == user.id,
                Participant.reason == INVITED,
            )
        )
    record(
        session,
        actor=actor.username,
        action="overleg_uninvited",
        at=at,
        instance_id=item.instance_id,
        summary=f"Uitnodiging voor overleg {meeting.id} ingetrokken",
        object_type="overleg",
        object_id=str(meeting.id),
        details={"user_id": user.id},
    )
    return True


@dataclass(frozen=True)
class ItemView:
    """An agenda item as a member who is invited for it sees it."""

    item: AgendaItem
    case_number: str
    process_name: str
    #: the step it decides is still waiting (False: decided, here or elsewhere)
    waiting: bool
    invitees: list[User] = field(default_factory=list)
    action_points: list[ActionPoint] = field(default_factory=list)


@dataclass(frozen=True)
class Agenda:
    """A meeting with the agenda items the viewer may see."""

    meeting: Meeting
    kind: OverlegType
    members: list[tuple[User, MeetingMember]]
    items: list[ItemView]
    runs: bool
    cutoff: datetime


def agenda(session: Session, *, meeting_id: int, viewer: User) -> Agenda:
    """The meeting and the items `viewer` is invited for (the chair and secretariaat: every item)."""
    meeting = visible_meeting(session, viewer, meeting_id)
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    mine = select(ItemInvite.item_id).where(ItemInvite.user_id == viewer.id)
    rows = (
        session.execute(
            select(AgendaItem, Instance.case_number, ProcessVersion.name)
            .join(Instance, Instance.id == AgendaItem.instance_id)
            .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
            .where(AgendaItem.meeting_id == meeting.id, AgendaItem.id.in_(mine), Instance.destroyed_at.is_(None))
            .order_by(AgendaItem.position)
        )
        .tuples()
        .all()
    )
    item_ids = [item.id for item, _, _ in rows]
    open_tasks = set(
        session.scalars(
            select(HumanTask.id).where(HumanTask.id.in_([item.task_id for item, _, _ in rows if item.task_id]))
        )
    )
    invitees: dict[int, list[User]] = {}
    for item_id, user in session.execute(
        select(ItemInvite.item_id, User)
        .join(User, User.id == ItemInvite.user_id)
        .where(ItemInvite.item_id.in_(item_ids))
        .order_by(User.display_name)
    ).tuples():
        invitees.setdefault(item_id, []).append(user)
    points: dict[int, list[ActionPoint]] = {}
    instance_ids = [item.instance_id for item, _, _ in rows]
    for point in session.scalars(
        select(ActionPoint)
        .where(ActionPoint.instance_id.in_(instance_ids))
        .order_by(ActionPoint.deadline, ActionPoint.id)
    ):
        points.setdefault(point.instance_id, []).append(point)
    items = [
        ItemView(
            item=item,
            case_number=case_number,
            process_name=process_name,
            waiting=bool(item.task_id and item.task_id in open_tasks),
            invitees=invitees.get(item.id, []),
            action_points=[p for p in points.get(item.instance_id, []) if p.item_id == item.id or p.status == "open"],
        )
        for item, case_number, process_name in rows
    ]
    members = list(
        session.execute(
            select(User, MeetingMember)
            .join(MeetingMember, MeetingMember.user_id == User.id)
            .where(MeetingMember.meeting_id == meeting.id)
            .order_by(User.display_name)
        ).tuples()
    )
    return Agenda(
        meeting=meeting,
        kind=kind,
        members=members,
        items=items,
        runs=may_run(session, viewer, meeting),
        cutoff=agenda_cutoff(kind, meeting.starts_at),
    )


def meetings_for(
    session: Session, user: User, *, since: datetime | None = None, limit: int = 100
) -> list[tuple[Meeting, OverlegType]]:
    """The meetings `user` is a member of or may plan, the soonest first (from `since`, None: all)."""
    member_of = select(MeetingMember.meeting_id).where(MeetingMember.user_id == user.id)
    plannable = [kind.id for kind in session.scalars(select(OverlegType)) if may_plan(user, kind)]
    query = (
        select(Meeting, OverlegType)
        .join(OverlegType, OverlegType.id == Meeting.type_id)
        .where(Meeting.id.in_(member_of) | Meeting.type_id.in_(plannable))
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    return list(session.execute(query).tuples())


def add_member(session: Session, *, meeting_id: int, user: User, actor: User, at: datetime) -> MeetingMember:
    """Add a member to a meeting (a chair or secretariaat joins as such, and is invited for every item)."""
    meeting = running_meeting(session, actor, meeting_id)
    kind = session.get(OverlegType, meeting.type_id)
    assert kind is not None
    member = _add_member(session, meeting, user, kind)
    if member.role in RUNNERS:
        for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)):
            _invite(session, item, user.id, actor=actor.username, at=at)
    return member
