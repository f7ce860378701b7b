"""Casusoverleg (engine.overleg): the schedule, the agenda rules, need-to-know per case, decisions that complete the
waiting step, action points and the meeting's life cycle — on SQLite and PostgreSQL, with the real triage process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.access import may_view
from engine.cases import case_view as cases_view
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.models import (
    ActionPoint,
    AgendaItem,
    AuditEvent,
    HumanTask,
    ItemInvite,
    Meeting,
    Notification,
    OverlegType,
    OverlegTypeMember,
    User,
)
from engine.overleg import meetings, outcomes
from engine.overleg.schedule import agenda_cutoff, meeting_moments
from engine.overleg.types import SEEDED_TYPES, get_type, seed_types
from engine.privacy.destruction import TOUCHED_TABLES, destroy_directly
from engine.registry import deploy_file
from engine.runtime import Runtime
from engine.users import create_user
from tests.conftest import START
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver
from tests.processes.test_aanmelding_triage import AANMELDING, screen, triage
from web.filters import action_label

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


#: The triage table after START (Monday 2 March 2026 09:00): Tuesday 3 March 10:00, cut-off Monday 2 March 12:00.
TRIAGE_1 = local(2026, 3, 3, 10, 0)
TRIAGE_2 = local(2026, 3, 10, 10, 0)
TRIAGE_3 = local(2026, 3, 17, 10, 0)


@dataclass
class World:
    db: Database
    clock: FixedClock
    runtime: Runtime
    driver: ProcessDriver
    chair: User
    secretary: User
    anna: User  # a default member (politie)
    bob: User  # a default member (ggz)
    outsider: User  # no member at all
    vt_coordinator: User  # chairs Veilig Thuis' own overleg

    def now(self) -> datetime:
        return self.clock.now()

    def user(self, username: str) -> User:
        with self.db.reader() as session:
            return session.scalars(select(User).where(User.username == username)).one()


@pytest.fixture
def world(db: Database, clock: FixedClock) -> World:
    return build_world(db, clock)


def build_world(db: Database, clock: FixedClock) -> World:
    """The triage process deployed, the seeded overleg types, and the people of the triage table."""
    with db.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])
        seed_types(session, at=clock.now())

        def make(username: str, *roles: str, organisation: str | None = None) -> User:
            return create_user(
                session, username=username, display_name=username.title(), roles=roles, organisation=organisation
            )

        users = {
            "chair": make("voorzitter", "triagetafel"),
            "secretary": make("secretaris", "secretariaat"),
            "anna": make("anna", "melder", organisation="politie"),
            "bob": make("bob", "melder", organisation="ggz"),
            "outsider": make("olaf", "melder", organisation="politie"),
            "vt_coordinator": make("vera", "coordinator", organisation="veilig_thuis"),
        }
        triagetafel = get_type(session, "triagetafel")
        for name in ("chair", "secretary", "anna", "bob"):
            session.add(OverlegTypeMember(type_id=triagetafel.id, user_id=users[name].id))
    runtime = Runtime(clock=clock, script_time_budget=1.0)
    return World(db=db, clock=clock, runtime=runtime, driver=ProcessDriver(db, runtime, clock), **users)


def waiting_referral(world: World, *, urgent: bool = False, name: str = "Jan Testman") -> int:
    """A screened referral: urgent, it waits at Task_triage at once; else from the next triage moment on."""
    changes: dict[str, Any] = {"spoed": True, "spoed_toelichting": "Dreigende uitzetting"} if urgent else {}
    betrokkenen = [{**AANMELDING["betrokkenen"][0], "naam": name}]
    instance = world.driver.start(
        "aanmelding_triage", {**AANMELDING, **changes, "betrokkenen": betrokkenen}, as_role="melder"
    )
    screen(world.driver, instance)
    return instance


def plan(world: World, at: datetime | None = TRIAGE_1, *, actor: User | None = None, kind: str = "triagetafel") -> int:
    with world.db.transaction() as session:
        return meetings.plan_meeting(
            session, type_key=kind, actor=actor or world.chair, at=None if at is None else utc(at), now=world.now()
        ).id


def view(world: World, meeting_id: int, viewer: User) -> meetings.Agenda:
    with world.db.reader() as session:
        return meetings.agenda(session, meeting_id=meeting_id, viewer=viewer)


def cases(world: World, meeting_id: int, viewer: User | None = None) -> dict[int, str]:
    """instance id -> source of the items `viewer` (default the chair) sees."""
    return {row.item.instance_id: row.item.source for row in view(world, meeting_id, viewer or world.chair).items}


def item_of(world: World, meeting_id: int, instance_id: int) -> AgendaItem:
    with world.db.reader() as session:
        return session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.instance_id == instance_id)
        ).one()


def invite(world: World, meeting_id: int, instance_id: int, user: User, actor: User | None = None) -> bool:
    with world.db.transaction() as session:
        return meetings.invite(
            session, meeting_id=meeting_id, case=instance_id, user=user, actor=actor or world.chair, at=world.now()
        )


def status(world: World, meeting_id: int, new: str, actor: User | None = None) -> None:
    with world.db.transaction() as session:
        outcomes.set_status(session, meeting_id=meeting_id, actor=actor or world.chair, status=new, at=world.now())


def upcoming(world: World, horizon: timedelta = timedelta(days=14)) -> list[Meeting]:
    with world.db.transaction() as session:
        return meetings.plan_upcoming(session, now=world.now(), horizon=horizon)


def audit_actions(world: World, instance_id: int) -> list[str]:
    with world.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            )
        )


#: A triage decision that hands over to no other process: a referral to a partner.
REFER = triage("doorverwijzen", doorverwijzing_toelichting="Wijkteam Breda-Noord.")


def decide(world: World, item_id: int, data: dict[str, Any] = REFER, actor: User | None = None) -> Any:
    with world.db.transaction() as session:
        return outcomes.record_outcome(
            session, world.runtime, item_id=item_id, actor=actor or world.chair, data=data, at=world.now()
        )


def process_properties(process_key: str, element_id: str) -> dict[str, str]:
    """The spiffworkflow properties of one element of a process in processes/."""
    from lxml import etree

    from engine.bundles import NS

    root = etree.parse(str(PROCESSES / f"{process_key}.bpmn")).getroot()
    found = root.xpath(
        f".//*[@id='{element_id}']/bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
        namespaces=NS,
    )
    return {str(p.get("name")): str(p.get("value")) for p in found}


# --- schedule ------------------------------------------------------------------------------------------------------


def agree_point(
    session: Session,
    world: World,
    item_id: int,
    description: str,
    organisation: str,
    owner: User | None,
    deadline: date,
) -> ActionPoint:
    """The chair agrees an action point for an agenda item, now."""
    return outcomes.add_action_point(
        session,
        item_id=item_id,
        actor=world.chair,
        description=description,
        owner_organisation=organisation,
        owner=owner,
        deadline=deadline,
        at=world.now(),
    )


def test_schedule__triage_on_tuesday_ten_with_a_monday_noon_cutoff_and_holidays_move_a_meeting(
    world: World,
) -> None:
    with world.db.reader() as session:
        triage_kind = get_type(session, "triagetafel")
        weegploeg = get_type(session, "weegploeg")
        monday_kind = get_type(session, "huiselijk_geweld")  # Mondays 13:00
        friday_kind = get_type(session, "kr8")  # Fridays 10:00
        by_hand = get_type(session, "leerplicht")

    assert meeting_moments(triage_kind, after=START, count=3) == [utc(TRIAGE_1), utc(TRIAGE_2), utc(TRIAGE_3)]
    assert agenda_cutoff(triage_kind, utc(TRIAGE_1)) == utc(local(2026, 3, 2, 12, 0))
    # Easter Monday (6 April) is off: the cut-off for Tuesday 7 April is the Friday before.
    assert agenda_cutoff(triage_kind, utc(local(2026, 4, 7, 10, 0))) == utc(local(2026, 4, 3, 12, 0))
    # A Monday meeting on Easter Monday and on King's Day moves to the Tuesday, at the same time.
    april = meeting_moments(monday_kind, after=utc(local(2026, 4, 1, 0, 0)), count=5)
    assert [m.astimezone(AMS) for m in april] == [
        local(2026, 4, 7, 13, 0),
        local(2026, 4, 13, 13, 0),
        local(2026, 4, 20, 13, 0),
        local(2026, 4, 28, 13, 0),
        local(2026, 5, 4, 13, 0),
    ]
    # Christmas Day 2026 is a Friday: KR8 meets on Monday 28 December (Boxing Day is a Saturday); New Year's Day
    # is a Friday too: then on Monday 4 January.
    christmas = meeting_moments(friday_kind, after=utc(local(2026, 12, 21, 0, 0)), count=3)
    assert [m.astimezone(AMS) for m in christmas] == [
        local(2026, 12, 28, 10, 0),
        local(2027, 1, 4, 10, 0),
        local(2027, 1, 8, 10, 0),
    ]
    # The Weegploeg meets every three weeks from its anchor, on the grid of its process (Tuesday 13 January 2026,
    # 13:30 local time in winter and in summer time): the step the process opens then is on that meeting.
    weeks = meeting_moments(weegploeg, after=START, count=4)
    assert [m.astimezone(AMS) for m in weeks] == [
        local(2026, 3, 17, 13, 30),
        local(2026, 4, 7, 13, 30),
        local(2026, 4, 28, 13, 30),
        local(2026, 5, 19, 13, 30),
    ]
    assert agenda_cutoff(weegploeg, weeks[1]) == utc(local(2026, 4, 3, 17, 0)), "Easter Monday is off"
    grid = process_properties("weegploeg_radicalisering", "Script_weging_plannen")
    first = date.fromisoformat(grid["eerste_overleg"])
    assert (weegploeg.anchor, weegploeg.start_time) == (first, grid["aanvangstijd"])
    assert weegploeg.interval_weeks * 7 == int(grid["interval_dagen"])
    assert all((m.astimezone(AMS).date() - first).days % 21 == 0 for m in weeks)
    assert meeting_moments(by_hand, after=START, count=3) == []


def test_seed_types__idempotent_and_a_changed_type_is_left_alone(world: World) -> None:
    with world.db.transaction() as session:
        kind = get_type(session, "mass")
        kind.name = "MaSS-overleg (aangepast)"
        assert seed_types(session, at=world.now()) == []
        session.delete(get_type(session, "kr8"))
        session.flush()
        assert [row.key for row in seed_types(session, at=world.now())] == ["kr8"]
    with world.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(OverlegType)) == len(SEEDED_TYPES) == 12
        assert get_type(session, "mass").name == "MaSS-overleg (aangepast)"
        assert {(k.key, k.secretariaat_hours) for k in session.scalars(select(OverlegType))} >= {
            ("mass", 8),
            ("huiselijk_geweld", 32),
            ("kr8", 11),
        }


# --- planning --------------------------------------------------------------------------------------------------------


def test_plan_meeting__chair_or_secretariaat_only_partners_plan_their_own_duplicates_and_the_past_refused(
    world: World,
) -> None:
    first = plan(world, None)  # the next regular moment
    with world.db.reader() as session:
        meeting = session.get_one(Meeting, first)
        assert (meeting.starts_at, meeting.by_hand, meeting.planned_by) == (utc(TRIAGE_1), False, "voorzitter")
    assert plan(world, None, actor=world.secretary) != first, "the next free regular moment"
    with world.db.reader() as session:
        assert session.get_one(Meeting, first + 1).starts_at == utc(TRIAGE_2)
    with pytest.raises(Conflict):
        plan(world, TRIAGE_1, actor=world.secretary)
    with pytest.raises(InvalidInput) as past:
        plan(world, local(2026, 3, 1, 10, 0))
    assert set(past.value.fields) == {"at"}
    for stranger in (world.anna, world.vt_coordinator):
        with pytest.raises(PermissionDenied):
            plan(world, TRIAGE_3, actor=stranger)
    # Veilig Thuis' coordinator plans their own overleg; a moment off the schedule is a meeting planned by hand.
    own = plan(world, local(2026, 3, 4, 15, 0), actor=world.vt_coordinator, kind="huiselijk_geweld")
    with world.db.reader() as session:
        assert session.get_one(Meeting, own).by_hand is True
    with pytest.raises(InvalidInput):
        plan(world, None, actor=world.secretary, kind="leerplicht")  # no regular day: the moment is needed
    with world.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 3
    assert [m.id for m, _ in world_meetings(world, world.anna)] == [first, first + 1]
    assert world_meetings(world, world.outsider) == []


def world_meetings(world: World, user: User) -> list[tuple[Meeting, OverlegType]]:
    with world.db.reader() as session:
        return meetings.meetings_for(session, user)


def test_plan_upcoming__plans_the_regular_meetings_of_the_horizon_once(world: World) -> None:
    planned = upcoming(world)
    keys = sorted((m.type_id, m.starts_at) for m in planned)
    with world.db.reader() as session:
        triage_id = get_type(session, "triagetafel").id
    assert [at for type_id, at in keys if type_id == triage_id] == [utc(TRIAGE_1), utc(TRIAGE_2)]
    assert all(m.starts_at <= world.now() + timedelta(days=14) for m in planned)
    assert upcoming(world) == [], "idempotent"
    with world.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == len(planned)
        # default members join; nobody plans a by-hand-only type
        assert {m.user_id for m in session.scalars(select(meetings.MeetingMember))} >= {world.anna.id, world.bob.id}
        assert session.scalar(select(func.count()).select_from(Meeting).where(Meeting.by_hand)) == 0


# --- the agenda ------------------------------------------------------------------------------------------------------


def test_agenda__a_step_waiting_before_the_cutoff_is_on_the_next_meeting_one_after_it_on_the_meeting_after(
    world: World,
) -> None:
    early = waiting_referral(world, urgent=True, name="Eerste Vroeg")  # waits at Task_triage from Monday 09:00
    world.clock.set(local(2026, 3, 2, 12, 1))
    late = waiting_referral(world, urgent=True, name="Tweede Laat")  # Monday 12:01: after the cut-off
    assert world.driver.open(late) == {"Task_triage"}

    first, second = plan(world, TRIAGE_1), plan(world, TRIAGE_2)

    assert cases(world, first) == {early: "wachtend"}
    assert cases(world, second) == {late: "wachtend"}
    item = item_of(world, first, early)
    assert item.position == 1 and item.step_name
    with world.db.reader() as session:
        assert item.task_id == session.scalars(select(HumanTask.id).where(HumanTask.instance_id == early)).one()


def test_agenda__a_referral_the_process_brings_to_triage_at_the_meeting_moment_is_on_that_meeting(
    world: World,
) -> None:
    """A regular referral screened before Monday noon waits (the process's own timer) for Tuesday 10:00; the step
    opens at the meeting's moment and the job that keeps agendas up to date puts it on that meeting."""
    regular = waiting_referral(world)
    world.clock.set(local(2026, 3, 2, 12, 30))
    after_cutoff = waiting_referral(world, name="Na Middag")  # the process waits for 10 March
    planned = upcoming(world)
    first = next(m.id for m in planned if m.starts_at == utc(TRIAGE_1))
    second = next(m.id for m in planned if m.starts_at == utc(TRIAGE_2))
    assert cases(world, first) == {}, "nothing waits at the triage step yet"

    world.driver.advance(TRIAGE_1 - world.now())
    assert world.driver.open(regular) == {"Task_triage"}
    upcoming(world)
    assert cases(world, first) == {regular: "wachtend"}
    assert cases(world, second) == {}

    world.driver.advance(TRIAGE_2 - world.now() + timedelta(seconds=30))
    assert world.driver.open(after_cutoff) == {"Task_triage"}
    upcoming(world)
    assert cases(world, second) == {after_cutoff: "wachtend"}


def test_agenda__an_undecided_step_comes_back_on_the_next_meeting_once_its_meeting_closed(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    first = plan(world, TRIAGE_1)
    second = plan(world, TRIAGE_2)
    assert (cases(world, first), cases(world, second)) == ({case: "wachtend"}, {})

    world.clock.set(TRIAGE_1 + timedelta(hours=2))
    status(world, first, "gehouden")
    upcoming(world)
    assert cases(world, second) == {}, "still the first meeting's until it is closed"
    status(world, first, "gesloten")
    upcoming(world)

    assert cases(world, second) == {case: "wachtend"}
    assert view(world, second, world.chair).items[0].waiting is True
    upcoming(world, timedelta(days=21))
    with world.db.reader() as session:
        third = session.scalars(select(Meeting.id).where(Meeting.starts_at == utc(TRIAGE_3))).one()
    assert cases(world, third) == {}, "a waiting step is on one open meeting of the type at a time"


def test_agenda__open_action_points_carry_the_case_forward_with_its_invitees_done_ones_do_not(world: World) -> None:
    kept = waiting_referral(world, urgent=True, name="Blijft Open")
    done = waiting_referral(world, urgent=True, name="Wordt Afgerond")
    first = plan(world, TRIAGE_1)
    for case in (kept, done):
        invite(world, first, case, world.anna)
    world.clock.set(TRIAGE_1)
    points = {}
    for case in (kept, done):
        item = item_of(world, first, case)
        decide(world, item.id)
        with world.db.transaction() as session:
            points[case] = agree_point(
                session, world, item.id, "Huisbezoek afleggen", "politie", world.anna, date(2026, 3, 20)
            ).id
    with world.db.transaction() as session:
        outcomes.complete_action_point(
            session, point_id=points[done], actor=world.anna, note="Huisbezoek gedaan.", at=world.now()
        )
    status(world, first, "gesloten")

    second = plan(world, TRIAGE_2)

    assert cases(world, second) == {kept: "actiepunten"}
    (row,) = view(world, second, world.chair).items
    assert {u.username for u in row.invitees} == {"voorzitter", "secretaris", "anna"}
    assert row.waiting is False and row.item.task_id is None
    assert [p.id for p in row.action_points] == [points[kept]], "the open point of the earlier meeting is shown"
    assert cases(world, second, world.anna) == {kept: "actiepunten"}


def test_agenda__a_case_in_two_overleggen_decided_in_one_is_no_longer_waiting_in_the_other(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    with world.db.transaction() as session:
        session.add(
            OverlegType(
                key="extra_triage",
                name="Extra triage",
                organisation="zvh",
                chair_role="triagetafel",
                weekday=None,
                start_time="14:00",
                duration_minutes=60,
                interval_weeks=1,
                cutoff_working_days=0,
                cutoff_time="09:00",
                feeds=["aanmelding_triage:Task_triage"],
                active=True,
                updated_at=world.now(),
                updated_by="tests",
            )
        )
    triage_meeting = plan(world, TRIAGE_1)
    extra = plan(world, local(2026, 3, 3, 14, 0), kind="extra_triage")
    assert cases(world, triage_meeting) == cases(world, extra) == {case: "wachtend"}
    assert view(world, extra, world.chair).items[0].waiting is True
    by_hand = plan(world, local(2026, 3, 3, 16, 0), kind="extra_triage")
    assert cases(world, by_hand) == {}, "the step is on an open meeting of this type already"
    with world.db.transaction() as session:
        added = meetings.add_case(
            session, meeting_id=by_hand, case=case, actor=world.chair, reason="Tweede bespreking", at=world.now()
        )
    assert (added.source, added.task_id) == ("handmatig", item_of(world, extra, case).task_id)
    assert view(world, by_hand, world.chair).items[0].waiting is True

    world.clock.set(TRIAGE_1)
    decide(world, item_of(world, triage_meeting, case).id)

    assert view(world, extra, world.chair).items[0].waiting is False
    assert view(world, by_hand, world.chair).items[0].waiting is False
    assert view(world, triage_meeting, world.chair).items[0].waiting is False
    with pytest.raises((Conflict, NotFound)):
        decide(world, item_of(world, extra, case).id)
    assert item_of(world, extra, case).outcome_at is None


def test_add_case__by_hand_with_a_reason_only_for_a_case_the_actor_sees(world: World) -> None:
    seen = waiting_referral(world, urgent=True)
    hidden = world.driver.start("aanmelding_triage", AANMELDING, as_role="melder")  # still being screened
    world.clock.set(local(2026, 3, 2, 14, 0))
    second = plan(world, TRIAGE_2)  # `seen` is on no agenda of the type yet: it waits since before this cut-off
    first = plan(world, TRIAGE_1)
    assert cases(world, second) == {seen: "wachtend"} and cases(world, first) == {}

    def add(case: int | str, reason: str, actor: User | None = None, meeting_id: int = first) -> AgendaItem:
        with world.db.transaction() as session:
            return meetings.add_case(
                session, meeting_id=meeting_id, case=case, actor=actor or world.chair, reason=reason, at=world.now()
            )

    with pytest.raises(InvalidInput) as no_reason:
        add(seen, "  ")
    assert set(no_reason.value.fields) == {"reden"}
    with pytest.raises(InvalidInput) as no_case:
        add(" ", "Graag bespreken")
    assert set(no_case.value.fields) == {"zaak"} and no_case.value.message == "Vul een zaaknummer in."
    with pytest.raises(NotFound):
        add(hidden, "Graag bespreken")
    with pytest.raises(NotFound):
        add("ZVH-2026-99999", "Graag bespreken")
    with pytest.raises(PermissionDenied):
        add(seen, "Graag bespreken", actor=world.anna)

    number = world.driver.instance(seen).case_number
    item = add(number, "Spoed: dreigende uitzetting")

    assert (item.source, item.reason, item.task_id is not None) == ("handmatig", "Spoed: dreigende uitzetting", True)
    assert cases(world, first) == {seen: "handmatig"}
    with pytest.raises(Conflict):
        add(seen, "Nog een keer")
    assert "overleg_case_added" in audit_actions(world, seen)


# --- need-to-know ----------------------------------------------------------------------------------------------------


def test_need_to_know__members_see_and_open_only_the_cases_they_are_invited_for(world: World) -> None:
    case_a = waiting_referral(world, urgent=True, name="Zaak A")
    case_b = waiting_referral(world, urgent=True, name="Zaak B")
    meeting = plan(world, TRIAGE_1)
    anna = world.anna

    def sees(user: User, case: int) -> bool:
        with world.db.reader() as session:
            return may_view(session, user, case, at=world.now())

    assert cases(world, meeting) == {case_a: "wachtend", case_b: "wachtend"}
    assert cases(world, meeting, anna) == {} and not sees(anna, case_a)
    with pytest.raises(PermissionDenied):
        invite(world, meeting, case_a, world.bob, actor=anna)

    assert invite(world, meeting, case_a, anna) is True
    assert invite(world, meeting, case_a, anna) is False, "invited already"
    invite(world, meeting, case_b, world.bob)

    assert cases(world, meeting, anna) == {case_a: "wachtend"}
    with world.db.reader() as session:
        listed = outcomes.decision_list(session, meeting_id=meeting, viewer=anna)
    assert [row.item.instance_id for row in listed.items] == [case_a]
    assert sees(anna, case_a) and not sees(anna, case_b)
    assert sees(world.bob, case_b) and not sees(world.bob, case_a)
    with pytest.raises(NotFound):
        view(world, meeting, world.outsider)

    with world.db.transaction() as session:
        assert meetings.uninvite(session, meeting_id=meeting, case=case_a, user=anna, actor=world.chair, at=world.now())
        assert not meetings.uninvite(
            session, meeting_id=meeting, case=case_a, user=anna, actor=world.chair, at=world.now()
        )
    assert cases(world, meeting, anna) == {} and not sees(anna, case_a)
    assert audit_actions(world, case_a).count("overleg_invited") == 3  # chair and secretariaat (running it), anna
    assert audit_actions(world, case_a).count("overleg_uninvited") == 1
    with world.db.reader() as session:
        invited = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == case_a, AuditEvent.action == "overleg_invited")
        ).all()
    assert {event.details["user_id"] for event in invited} == {world.chair.id, world.secretary.id, anna.id}

    # an invitation for the same case in another meeting keeps the access when one is withdrawn
    later = plan(world, TRIAGE_2)
    with world.db.transaction() as session:
        meetings.add_case(session, meeting_id=later, case=case_a, actor=world.chair, reason="Vervolg", at=world.now())
    invite(world, later, case_a, anna)
    invite(world, meeting, case_a, anna)
    with world.db.transaction() as session:
        meetings.uninvite(session, meeting_id=meeting, case=case_a, user=anna, actor=world.chair, at=world.now())
    assert sees(anna, case_a) and cases(world, later, anna) == {case_a: "handmatig"}


# --- during the meeting ----------------------------------------------------------------------------------------------


def test_save_item__a_stale_edit_is_refused_and_changes_nothing(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    invite(world, meeting, case, world.anna)
    item = item_of(world, meeting, case)

    def save(version: int, **changes: Any) -> AgendaItem:
        with world.db.transaction() as session:
            return outcomes.save_item(
                session, item_id=item.id, actor=world.chair, version=version, at=world.now(), **changes
            )

    saved = save(1, decision="  Doorverwijzen naar het wijkteam.  ", attendance={str(world.anna.id): True})
    assert (saved.version, saved.decision, saved.attendance) == (
        2,
        "Doorverwijzen naar het wijkteam.",
        {str(world.anna.id): True},
    )
    stale: list[outcomes.StaleEdit] = []
    with world.db.transaction() as session:
        try:
            outcomes.save_item(
                session, item_id=item.id, actor=world.secretary, version=1, at=world.now(), decision="Anders"
            )
        except outcomes.StaleEdit as refusal:  # what the page shows instead: the stored version
            assert (refusal.current.version, refusal.current.decision) == (2, "Doorverwijzen naar het wijkteam.")
            stale.append(refusal)
    assert len(stale) == 1 and "Voorzitter" in stale[0].message
    with pytest.raises(InvalidInput):
        save(2, attendance={str(world.outsider.id): True})
    with pytest.raises(PermissionDenied), world.db.transaction() as session:
        outcomes.save_item(session, item_id=item.id, actor=world.anna, version=2, at=world.now(), decision="x")
    stored = item_of(world, meeting, case)
    assert (stored.version, stored.decision) == (2, "Doorverwijzen naar het wijkteam.")
    assert audit_actions(world, case).count("overleg_item") == 1


def test_record_outcome__completes_the_triage_step_once_and_refuses_invalid_data_without_change(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    item = item_of(world, meeting, case)
    with world.db.reader() as session:
        form, values = outcomes.outcome_form(session, world.runtime, item_id=item.id, actor=world.chair)
    assert "triagebesluit" in form.fields and values["triagedatum"] == "2026-03-03"

    with pytest.raises(InvalidInput) as refused:
        decide(world, item.id, triage("doorverwijzen"))
    assert set(refused.value.fields) == {"doorverwijzing_toelichting"}
    unchanged = item_of(world, meeting, case)
    assert (unchanged.outcome_at, unchanged.version) == (None, 1)
    assert world.driver.open(case) == {"Task_triage"}
    with pytest.raises(PermissionDenied):
        decide(world, item.id, actor=world.anna)

    world.clock.set(TRIAGE_1 + timedelta(minutes=20))
    decide(world, item.id)

    assert world.driver.open(case) == {"Task_doorverwijzen", "Task_terugkoppeling"}
    assert world.driver.data(case)["triagebesluit"] == "doorverwijzen"
    decided = item_of(world, meeting, case)
    assert (decided.outcome_at, decided.outcome_by) == (utc(world.now()), "voorzitter")
    assert view(world, meeting, world.chair).items[0].waiting is False
    with pytest.raises(Conflict):
        decide(world, item.id)
    assert "overleg_outcome" in audit_actions(world, case)


def test_action_points__validated_notified_listed_for_their_owners_and_overdue(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    invite(world, meeting, case, world.bob)
    item = item_of(world, meeting, case)

    def add(**fields: Any) -> ActionPoint:
        values: dict[str, Any] = {
            "description": "Huisbezoek afleggen",
            "owner_organisation": "politie",
            "owner": world.anna,
            "deadline": date(2026, 3, 10),
        }
        with world.db.transaction() as session:
            return outcomes.add_action_point(
                session, item_id=item.id, actor=world.chair, at=world.now(), **{**values, **fields}
            )

    with pytest.raises(InvalidInput) as refused:
        add(description="x", owner_organisation="nergens", deadline=None)
    assert set(refused.value.fields) == {"description", "owner_organisation", "owner", "deadline"}
    with pytest.raises(InvalidInput) as early:
        add(owner=world.bob, deadline=date(2026, 3, 2))
    assert set(early.value.fields) == {"owner", "deadline"}

    personal = add()
    by_organisation = add(
        description="Behandelaar bellen", owner_organisation="ggz", owner=None, deadline=date(2026, 3, 20)
    )

    assert cases(world, meeting, world.anna) == {case: "wachtend"}, "the owner is invited for the case"
    with world.db.reader() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == "overleg")).all()
    assert {(n.user_id, n.key) for n in notes} >= {
        (world.anna.id, f"actiepunt:{personal.id}"),
        (world.bob.id, f"actiepunt:{by_organisation.id}"),
    }
    number = world.driver.instance(case).case_number
    assert all(number not in n.title and "Testman" not in n.title for n in notes)

    def mine(user: User) -> list[int]:
        with world.db.reader() as session:
            return [row.point.id for row in outcomes.my_action_points(session, user=user, at=world.now())]

    assert mine(world.anna) == [personal.id]
    assert mine(world.bob) == [by_organisation.id]
    assert mine(world.outsider) == []
    with world.db.reader() as session:
        assert outcomes.overdue_action_points(session, at=world.now()) == []

    world.clock.set(local(2026, 3, 11, 9, 0))
    with world.db.reader() as session:
        overdue = outcomes.overdue_action_points(session, at=world.now())
        (row,) = outcomes.my_action_points(session, user=world.anna, at=world.now())
    assert [(r.point.id, r.case_number, r.overleg, r.overdue) for r in overdue] == [
        (personal.id, number, "Triagetafel complexe casuïstiek", True)
    ]
    assert row.overdue is True

    with pytest.raises(NotFound), world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=personal.id, actor=world.outsider, note="x", at=world.now())
    with pytest.raises(PermissionDenied), world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=personal.id, actor=world.bob, note="x", at=world.now())
    with pytest.raises(InvalidInput), world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=personal.id, actor=world.anna, note=" ", at=world.now())
    with world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=personal.id, actor=world.anna, note="Gedaan.", at=world.now())
    with pytest.raises(Conflict), world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=personal.id, actor=world.chair, note="x", at=world.now())
    assert mine(world.anna) == []
    with world.db.reader() as session:
        assert outcomes.overdue_action_points(session, at=world.now()) == []
    assert audit_actions(world, case).count("overleg_action_point") == 2
    assert "overleg_action_done" in audit_actions(world, case)


def test_set_status__held_then_closed_and_a_closed_meeting_refuses_every_edit(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    item = item_of(world, meeting, case)
    with pytest.raises(PermissionDenied):
        status(world, meeting, "gehouden", actor=world.anna)
    with pytest.raises(Conflict):
        status(world, meeting, "gepland")
    world.clock.set(TRIAGE_1 + timedelta(hours=1))
    status(world, meeting, "gehouden")
    with pytest.raises(Conflict):
        status(world, meeting, "gehouden")
    status(world, meeting, "gesloten")
    with world.db.reader() as session:
        closed = session.get_one(Meeting, meeting)
        assert (closed.status, closed.held_at, closed.closed_by) == ("gesloten", utc(world.now()), "voorzitter")
    with pytest.raises(Conflict):
        status(world, meeting, "gehouden")

    with pytest.raises(Conflict):
        invite(world, meeting, case, world.anna)
    with pytest.raises(Conflict), world.db.transaction() as session:
        outcomes.save_item(session, item_id=item.id, actor=world.chair, version=1, at=world.now(), decision="x")
    with pytest.raises(Conflict):
        decide(world, item.id)
    with pytest.raises(Conflict), world.db.transaction() as session:
        agree_point(session, world, item.id, "Te laat", "zvh", None, date(2026, 3, 20))
    with pytest.raises(Conflict), world.db.transaction() as session:
        meetings.add_case(session, meeting_id=meeting, case=case, actor=world.chair, reason="x", at=world.now())
    assert world.driver.open(case) == {"Task_triage"}
    assert cases(world, meeting) == {case: "wachtend"}, "the besluitenlijst stays readable"


# --- destruction -----------------------------------------------------------------------------------------------------


def test_destroy__a_destroyed_case_leaves_no_overleg_data_and_the_meeting_stays(world: World) -> None:
    gone = waiting_referral(world, urgent=True, name="Wordt Vernietigd")
    kept = waiting_referral(world, urgent=True, name="Blijft Bestaan")
    meeting = plan(world, TRIAGE_1)
    for case in (gone, kept):
        invite(world, meeting, case, world.anna)
        item = item_of(world, meeting, case)
        with world.db.transaction() as session:
            outcomes.save_item(
                session, item_id=item.id, actor=world.chair, version=1, at=world.now(), decision="Besluit over Jan"
            )
            agree_point(session, world, item.id, "Jan bellen", "politie", world.anna, date(2026, 3, 20))
    with world.db.transaction() as session:
        fg = create_user(session, username="fenna", display_name="Fenna", roles=["privacyfunctionaris"])
        number = world.driver.instance(gone).case_number
        (destroyed,) = destroy_directly(session, case=number, actor=fg, reason="Verzoek betrokkene", at=world.now())

    assert destroyed.removed["overleg_items"] == 1 and destroyed.removed["overleg_action_points"] == 1
    assert {"overleg_items", "overleg_item_invites", "overleg_action_points"} <= set(TOUCHED_TABLES)
    with world.db.reader() as session:
        assert session.scalars(select(AgendaItem.instance_id)).all() == [kept]
        assert session.scalars(select(ActionPoint.instance_id)).all() == [kept]
        assert {session.get_one(AgendaItem, i).instance_id for i in session.scalars(select(ItemInvite.item_id))} == {
            kept
        }
        assert session.get(Meeting, meeting) is not None
    assert cases(world, meeting) == {kept: "wachtend"}
    with world.db.reader() as session:
        assert [r.point.instance_id for r in outcomes.my_action_points(session, user=world.anna, at=world.now())] == [
            kept
        ]


# --- the case timeline -----------------------------------------------------------------------------------------------

OVERLEG_ACTIONS = (
    "overleg_case_added",
    "overleg_invited",
    "overleg_uninvited",
    "overleg_item",
    "overleg_outcome",
    "overleg_action_point",
    "overleg_action_done",
)


def test_timeline__the_case_shows_what_the_overleg_did_with_it_with_dutch_labels(
    world: World, database_url: str
) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    invite(world, meeting, case, world.anna)
    item = item_of(world, meeting, case)
    with world.db.transaction() as session:
        meetings.uninvite(session, meeting_id=meeting, case=case, user=world.anna, actor=world.chair, at=world.now())
        outcomes.save_item(session, item_id=item.id, actor=world.chair, version=1, at=world.now(), decision="Verwijzen")
        point = agree_point(session, world, item.id, "Wijkteam informeren", "zvh", world.chair, date(2026, 3, 6))
        outcomes.complete_action_point(session, point_id=point.id, actor=world.chair, note="Gebeld.", at=world.now())
    decide(world, item.id)
    with world.db.reader() as session:
        timeline = cases_view(session, world.runtime, user=world.chair, instance_id=case).timeline
    shown = {entry.action for entry in timeline}
    assert set(OVERLEG_ACTIONS) - {"overleg_item"} <= shown
    assert "overleg_item" not in shown, "autosaves of the minutes are audited, not each a timeline row"

    from web import create_app

    app = create_app({"ZVH_DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test"})
    with app.test_request_context():
        dutch = {action: action_label(action) for action in OVERLEG_ACTIONS}
    app.extensions["zvh"].db.dispose()
    assert dutch["overleg_invited"] == "Uitgenodigd voor casusoverleg"
    assert all(label != action for action, label in dutch.items()), "every action has a Dutch label"
    assert len(set(dutch.values())) == len(OVERLEG_ACTIONS)


# --- the job ---------------------------------------------------------------------------------------------------------


def test_job__beat_and_the_embedded_loop_plan_the_coming_meetings_and_a_failure_is_retried(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from engine import jobs
    from engine.config import Settings

    settings = Settings(database_url=database_url, redis_url=None, instance_path=tmp_path)
    conf = jobs.make_celery(settings).conf
    assert conf.beat_schedule["plan-overleggen"] == {"task": "zvh.plan_overleggen", "schedule": 3600.0}
    assert "zvh.plan_overleggen" in jobs.celery_app.tasks
    loop = jobs.EmbeddedJobLoop(world.db, world.runtime, settings)
    regular = waiting_referral(world)

    def broken(*_: Any, **__: Any) -> list[Meeting]:
        raise RuntimeError("database away")

    monkeypatch.setattr(jobs, "plan_upcoming", broken)
    loop.run_once()
    assert "planning overleggen failed" in caplog.text
    with world.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0
    monkeypatch.undo()

    loop.run_once()
    with world.db.reader() as session:
        triage_id = get_type(session, "triagetafel").id
        planned = session.scalars(select(Meeting).where(Meeting.type_id == triage_id)).all()
        total = session.scalar(select(func.count()).select_from(Meeting))
    assert sorted(m.starts_at for m in planned) == [utc(TRIAGE_1), utc(TRIAGE_2)]
    assert jobs.plan_overleggen(world.db, now=world.now()) == 0, "a second run plans nothing"

    world.clock.set(TRIAGE_1 + timedelta(minutes=1))
    loop.run_once()  # fires the triage timer, then brings the meeting in session up to date
    first = next(m.id for m in planned if m.starts_at == utc(TRIAGE_1))
    assert world.driver.open(regular) == {"Task_triage"}
    assert cases(world, first) == {regular: "wachtend"}
    with world.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) >= total


def test_action_points__owned_by_the_zvh_reach_its_invited_people_and_invitations_name_no_case(world: World) -> None:
    """ZVH people have no organisation of their own (None is the ZVH): an action point of the ZVH without a person
    goes to the ZVH people invited for the case, like a partner's goes to theirs."""
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    invite(world, meeting, case, world.anna)
    item = item_of(world, meeting, case)
    with world.db.transaction() as session:
        point = agree_point(session, world, item.id, "Terugkoppelen aan de melder", "zvh", None, date(2026, 3, 6))
        sent = outcomes.send_invitations(session, meeting_id=meeting, actor=world.secretary, at=world.now())
    with world.db.reader() as session:
        told = {
            n.user_id for n in session.scalars(select(Notification).where(Notification.key == f"actiepunt:{point.id}"))
        }
        invitations = session.scalars(select(Notification).where(Notification.key.endswith(":uitnodiging"))).all()
        mine = [r.point.id for r in outcomes.my_action_points(session, user=world.secretary, at=world.now())]
    assert told == {world.chair.id, world.secretary.id}
    assert mine == [point.id]
    assert sent == 3 and {n.user_id for n in invitations} == {world.chair.id, world.secretary.id, world.anna.id}
    number = world.driver.instance(case).case_number
    assert all(n.link == f"/overleggen/{meeting}" and number not in n.title for n in invitations)
    with world.db.transaction() as session:
        outcomes.complete_action_point(
            session, point_id=point.id, actor=world.secretary, note="Gebeld.", at=world.now()
        )


def test_agenda__the_weegploeg_weighs_the_signal_its_process_brings_to_the_meeting(world: World) -> None:
    from tests.processes.test_weegploeg_radicalisering import TOETSING, WEGING, start_signal

    with world.db.transaction() as session:
        deploy_file(session, PROCESSES / "weegploeg_radicalisering.bpmn", actor="tests", search_paths=[FORMS])
        chair = create_user(session, username="wilma", display_name="Wilma", roles=["weegploeg"])
        session.add(OverlegTypeMember(type_id=get_type(session, "weegploeg").id, user_id=chair.id))
    signal = start_signal(world.driver)
    world.driver.complete(signal, "Task_signaal_toetsen", TOETSING)
    upcoming(world, timedelta(days=21))
    with world.db.reader() as session:
        meeting = session.scalars(select(Meeting.id).where(Meeting.type_id == get_type(session, "weegploeg").id)).one()
    assert cases(world, meeting, chair) == {}

    world.driver.advance(local(2026, 3, 17, 13, 30) - world.now())
    assert world.driver.open(signal) == {"Task_wegen"}
    upcoming(world)
    (row,) = view(world, meeting, chair).items
    assert (row.item.instance_id, row.item.source, row.waiting) == (signal, "wachtend", True)

    decide(world, row.item.id, {**WEGING, "wegingsbesluit": "geen_actie"}, actor=chair)
    assert world.driver.open(signal) == {"Task_melder_informeren"}
    assert view(world, meeting, chair).items[0].waiting is False


def test_reminders__the_owner_is_reminded_before_the_deadline_and_once_more_after_it(world: World) -> None:
    case = waiting_referral(world, urgent=True)
    meeting = plan(world, TRIAGE_1)
    item = item_of(world, meeting, case)
    with world.db.transaction() as session:
        point = agree_point(session, world, item.id, "Huisbezoek afleggen", "politie", world.anna, date(2026, 3, 10))

    def reminders(at: datetime) -> list[str]:
        with world.db.transaction() as session:
            outcomes.remind_action_points(session, now=at)
        with world.db.reader() as session:
            keys = session.scalars(
                select(Notification.key)
                .where(Notification.user_id == world.anna.id, Notification.key.like(f"actiepunt:{point.id}:%"))
                .order_by(Notification.key)
            )
            return list(keys)

    assert reminders(utc(local(2026, 3, 7, 9))) == [], "three days before: nothing yet"
    assert reminders(utc(local(2026, 3, 8, 9))) == [f"actiepunt:{point.id}:nadert"]
    assert reminders(utc(local(2026, 3, 9, 9))) == [f"actiepunt:{point.id}:nadert"], "reminded once"
    assert reminders(utc(local(2026, 3, 11, 9))) == [f"actiepunt:{point.id}:nadert", f"actiepunt:{point.id}:verlopen"]
    with world.db.transaction() as session:
        outcomes.complete_action_point(session, point_id=point.id, actor=world.anna, note="Gedaan.", at=world.now())
        session.execute(delete(Notification).where(Notification.user_id == world.anna.id))
    assert reminders(utc(local(2026, 3, 12, 9))) == [], "a done action point is not reminded"
