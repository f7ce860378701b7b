"""Vervanging: covers for a period, redirected and moved tasks, need-to-know that ends with the period, the log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import may_view, my_instances, participants, take_part
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, InvalidInput, PermissionDenied
from engine.inbox import list_tasks
from engine.models import AuditEvent, HumanTask, Participant, Substitution, User
from engine.registry import deploy_file
from engine.runtime import Runtime
from engine.substitutions import (
    active_substitute,
    move_assigned_tasks,
    set_substitution,
    substitutions_for,
    withdraw_substitution,
)
from tests.conftest import START, UserFactory
from tests.engine.bpmn import linear, user_task, write

WEEK = timedelta(days=7)


@pytest.fixture
def processes(db: Database, tmp_path: Path) -> None:
    """`regie`: a procesregisseur step, then a manager step; `eigen`: two steps of the person who starts it."""
    lanes = {"Procesregisseur": ["S", "T1", "E"], "Manager": ["T2"]}
    documents = {
        "regie.bpmn": linear(
            user_task("T1", "Regie voeren"), user_task("T2", "Akkoord"), process_id="regie", lanes=lanes
        ),
        "eigen.bpmn": linear(user_task("T1", "Aanvullen"), user_task("T2", "Nalezen"), process_id="eigen"),
    }
    with db.transaction() as session:
        for name, xml in documents.items():
            deploy_file(session, write(tmp_path, name, xml), actor="tester", search_paths=[])


def start(db: Database, runtime: Runtime, key: str, actor: User) -> tuple[int, str]:
    """Start a process; the instance id and the id of its first open task."""
    with db.transaction() as session:
        outcome = runtime.start_instance(session, process_key=key, actor=actor)
        first = list_tasks(session, instance_id=outcome.instance.id).tasks[0]
        return outcome.instance.id, first.id


def claim(db: Database, runtime: Runtime, task_id: str, actor: User) -> None:
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=actor)


def complete(db: Database, runtime: Runtime, task_id: str, actor: User) -> None:
    with db.transaction() as session:
        runtime.complete_task(session, task_id=task_id, actor=actor, data={})


def cover(db: Database, *, actor: User, absent: User, substitute: User | None, **changes: Any) -> Substitution:
    arguments: dict[str, Any] = {
        "starts_at": START,
        "ends_at": START + WEEK,
        "reason": "Vakantie",
        "at": START,
        **changes,
    }
    with db.transaction() as session:
        return set_substitution(session, actor=actor, absent=absent, substitute=substitute, **arguments)


def move(db: Database, substitution: Substitution, actor: User, reason: str = "Vakantie", *, at: Any = START) -> int:
    with db.transaction() as session:
        return move_assigned_tasks(session, actor=actor, substitution_id=substitution.id, reason=reason, at=at)


def task(db: Database, task_id: str) -> HumanTask:
    with db.reader() as session:
        row = session.get(HumanTask, task_id)
        assert row is not None
        return row


def open_rows(db: Database, instance_id: int | None = None) -> list[HumanTask]:
    with db.reader() as session:
        rows = session.scalars(select(HumanTask).order_by(HumanTask.created_at, HumanTask.id))
        return [row for row in rows if instance_id is None or row.instance_id == instance_id]


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.reader() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def sees(db: Database, user: User, instance_id: int, clock: FixedClock) -> bool:
    with db.reader() as session:
        return may_view(session, user, instance_id, at=clock.now())


def test_set__a_user_arranges_cover_for_themselves_and_it_is_logged(db: Database, make_user: UserFactory) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")

    substitution = cover(db, actor=pim, absent=pim, substitute=pia, reason="  Vakantie  ")

    assert (substitution.absent_id, substitution.substitute_id, substitution.reason) == (pim.id, pia.id, "Vakantie")
    assert (substitution.starts_at, substitution.ends_at, substitution.created_by_id) == (START, START + WEEK, pim.id)
    [event] = events(db, "substitution_set")
    assert event.actor == "pim" and event.instance_id is None
    assert event.details is not None and event.details["substitute"] == "pia"


def test_set__for_a_colleague_only_by_a_coordinator(db: Database, make_user: UserFactory) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    coen = make_user("coen", "coordinator")

    with pytest.raises(PermissionDenied):
        cover(db, actor=pia, absent=pim, substitute=pia)
    assert cover(db, actor=coen, absent=pim, substitute=pia).created_by_id == coen.id


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": " "}, "reason", "Geef de reden"),
        ({"ends_at": START - timedelta(hours=1)}, "ends_at", "na het begin"),
        ({"starts_at": START - WEEK, "ends_at": START - timedelta(days=1)}, "ends_at", "in het verleden"),
        ({"starts_at": None}, "starts_at", "begindatum"),
        ({"substitute": None}, "substitute", "Kies een vervanger"),
        ({"substitute": "pim"}, "substitute", "andere collega"),
        ({"substitute": "mila"}, "substitute", "geen van de rollen"),
    ],
)
def test_set__refuses_invalid_input_per_field(
    db: Database, make_user: UserFactory, changes: dict[str, Any], field: str, message: str
) -> None:
    people = {
        "pim": make_user("pim", "procesregisseur"),
        "pia": make_user("pia", "procesregisseur"),
        "mila": make_user("mila", "melder"),
    }
    arguments = {**changes, "substitute": people.get(changes.get("substitute", "pia"))}

    with pytest.raises(InvalidInput) as refused:
        cover(db, actor=people["pim"], absent=people["pim"], **arguments)

    assert list(refused.value.fields) == [field]
    assert message in refused.value.fields[field][0]
    assert events(db, "substitution_set") == []


def test_set__an_inactive_substitute_and_an_overlapping_period_are_refused(
    db: Database, make_user: UserFactory
) -> None:
    pim, pia, piet = (make_user(name, "procesregisseur") for name in ("pim", "pia", "piet"))
    cover(db, actor=pim, absent=pim, substitute=pia)
    with db.transaction() as session:
        inactive = session.get(User, piet.id)
        assert inactive is not None
        inactive.active = False

    with pytest.raises(InvalidInput) as overlapping:
        cover(db, actor=pim, absent=pim, substitute=pia, starts_at=START + timedelta(days=6), ends_at=START + 2 * WEEK)
    with pytest.raises(InvalidInput) as gone, db.transaction() as session:
        set_substitution(
            session,
            actor=pim,
            absent=pim,
            substitute=session.get(User, piet.id),
            starts_at=START + WEEK,
            ends_at=START + 2 * WEEK,
            reason="Cursus",
            at=START,
        )

    assert "al vervanging geregeld door Pia" in overlapping.value.fields["starts_at"][0]
    assert "niet meer actief" in gone.value.fields["substitute"][0]
    assert cover(db, actor=pim, absent=pim, substitute=pia, starts_at=START + WEEK, ends_at=START + 2 * WEEK)


def test_set__a_start_in_the_past_starts_now(db: Database, make_user: UserFactory) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")

    substitution = cover(db, actor=pim, absent=pim, substitute=pia, starts_at=START - timedelta(days=2))

    assert substitution.starts_at == START


def test_active_substitute__only_within_the_period_and_until_withdrawn(db: Database, make_user: UserFactory) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    substitution = cover(db, actor=pim, absent=pim, substitute=pia, starts_at=START + timedelta(days=1))

    def substitute(at_offset: timedelta) -> str | None:
        with db.reader() as session:
            found = active_substitute(session, user_id=pim.id, at=START + at_offset)
            return found.username if found else None

    assert [substitute(timedelta(0)), substitute(timedelta(days=2)), substitute(WEEK)] == [None, "pia", None]
    with db.transaction() as session:
        withdraw_substitution(session, actor=pim, substitution_id=substitution.id, at=START + timedelta(days=2))
    assert substitute(timedelta(days=3)) is None
    assert [e.actor for e in events(db, "substitution_withdraw")] == ["pim"]
    with pytest.raises(Conflict), db.transaction() as session:
        withdraw_substitution(session, actor=pim, substitution_id=substitution.id, at=START + timedelta(days=3))


def test_reassign__to_an_absent_person_lands_with_the_substitute(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    coen, piet = make_user("coen", "coordinator"), make_user("piet", "procesregisseur")
    instance_id, task_id = start(db, runtime, "regie", piet)
    substitution = cover(db, actor=coen, absent=pim, substitute=pia)

    with db.transaction() as session:
        row = runtime.reassign_task(session, task_id=task_id, actor=coen, assignee=pim, reason="Werkverdeling")

    assert row.assignee == "pia"
    [event] = events(db, "reassign")
    assert "to pia (covering for pim): Werkverdeling" in event.summary
    assert event.details is not None
    assert (event.details["substitution_id"], event.details["covering_for"]) == (substitution.id, "pim")
    with db.reader() as session:
        assert session.get(Participant, (instance_id, pim.id)) is None, "the absent person gets nothing"


def test_reassign__refused_when_the_substitute_lacks_the_tasks_role(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim = make_user("pim", "procesregisseur", "manager")
    pia, coen = make_user("pia", "procesregisseur"), make_user("coen", "coordinator")
    _, first = start(db, runtime, "regie", pim)
    complete(db, runtime, first, pim)
    [manager_task] = [t for t in open_rows(db) if t.role == "manager"]
    cover(db, actor=pim, absent=pim, substitute=pia)

    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        runtime.reassign_task(session, task_id=manager_task.id, actor=coen, assignee=pim, reason="Werkverdeling")

    assert "afwezig en vervanger Pia heeft niet de rol Manager" in refused.value.fields["assignee"][0]


def test_move__every_task_on_the_absent_persons_name_goes_to_the_substitute_with_the_reason(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    coen, piet = make_user("coen", "coordinator"), make_user("piet", "procesregisseur")
    claimed = [start(db, runtime, "regie", piet) for _ in range(2)]
    for _, task_id in claimed:
        claim(db, runtime, task_id, pim)
    own_instance, own_task = start(db, runtime, "eigen", pim)
    _, unrelated = start(db, runtime, "regie", piet)
    substitution = cover(db, actor=coen, absent=pim, substitute=pia)

    moved = move(db, substitution, coen, "Vakantie tot 9 maart")

    assert moved == 3
    assert [task(db, t).audience for _, t in [*claimed, (own_instance, own_task)]] == [f"user:{pia.id}"] * 3
    assert task(db, unrelated).assignee_id is None
    logged = events(db, "substitute")
    assert [e.actor for e in logged] == ["coen"] * 3
    assert {e.task_id for e in logged} == {claimed[0][1], claimed[1][1], own_task}
    assert all(e.details and e.details["reason"] == "Vakantie tot 9 maart" for e in logged)
    with db.reader() as session:
        rows = [session.get(Participant, (i, pia.id)) for i in (claimed[0][0], claimed[1][0], own_instance)]
    assert [(r.reason, r.expires_at) for r in rows if r] == [("vervanging", START + WEEK)] * 3


def test_move__a_task_of_a_role_the_substitute_lacks_goes_back_to_its_queue(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim = make_user("pim", "procesregisseur", "manager")
    pia = make_user("pia", "procesregisseur")
    _, first = start(db, runtime, "regie", pim)
    complete(db, runtime, first, pim)
    [manager_task] = [t for t in open_rows(db) if t.role == "manager"]
    claim(db, runtime, manager_task.id, pim)
    substitution = cover(db, actor=pim, absent=pim, substitute=pia)

    assert move(db, substitution, pim) == 1

    assert task(db, manager_task.id).audience == "role:manager"
    [event] = events(db, "substitute")
    assert "to the manager queue" in event.summary and "pia does not hold the role" in event.summary


def test_move__needs_a_reason_a_running_cover_and_someone_who_may_manage_it(
    db: Database, make_user: UserFactory
) -> None:
    pim, pia, piet = (make_user(name, "procesregisseur") for name in ("pim", "pia", "piet"))
    substitution = cover(db, actor=pim, absent=pim, substitute=pia)

    with pytest.raises(InvalidInput):
        move(db, substitution, pim, " ")
    with pytest.raises(PermissionDenied):
        move(db, substitution, piet)
    with pytest.raises(Conflict):
        move(db, substitution, pim, at=START + WEEK)


def test_new_owner_task__of_an_absent_starter_goes_to_the_substitute(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    instance_id, first = start(db, runtime, "eigen", pim)
    substitution = cover(db, actor=pim, absent=pim, substitute=pia)
    move(db, substitution, pim)

    complete(db, runtime, first, pia)

    [second] = open_rows(db, instance_id)
    assert (second.name, second.owner_id, second.audience) == ("Nalezen", pim.id, f"user:{pia.id}")
    redirected = [e for e in events(db, "substitute") if e.task_id == second.id]
    assert redirected and redirected[0].actor == "system" and "covering for pim" in redirected[0].summary


def test_need_to_know__of_the_substitute_ends_with_the_period(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    instance_id, first = start(db, runtime, "regie", pim)
    claim(db, runtime, first, pim)
    move(db, cover(db, actor=pim, absent=pim, substitute=pia), pim)
    complete(db, runtime, first, pia)  # the next step is the manager's: pia keeps no task in the case

    assert sees(db, pia, instance_id, clock)
    clock.set(START + WEEK)

    assert not sees(db, pia, instance_id, clock)
    assert sees(db, pim, instance_id, clock)
    with db.reader() as session:
        assert [u.username for u, _ in participants(session, instance_id, at=clock.now())] == ["pim"]
        assert my_instances(session, pia, at=clock.now()) == []


def test_withdraw__ends_the_access_the_cover_gave(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    instance_id, first = start(db, runtime, "regie", pim)
    claim(db, runtime, first, pim)
    substitution = cover(db, actor=pim, absent=pim, substitute=pia)
    move(db, substitution, pim)
    complete(db, runtime, first, pia)
    clock.advance(timedelta(days=2))

    with db.transaction() as session:
        withdraw_substitution(session, actor=pim, substitution_id=substitution.id, at=clock.now())

    assert not sees(db, pia, instance_id, clock)


def test_take_part__longer_access_replaces_access_that_ends(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    instance_id, _ = start(db, runtime, "regie", pim)
    with db.transaction() as session:
        take_part(session, instance_id=instance_id, user_id=pia.id, reason="vervanging", at=START, expires_at=START)
        take_part(
            session, instance_id=instance_id, user_id=pia.id, reason="vervanging", at=START, expires_at=START + WEEK
        )
        extended = session.get(Participant, (instance_id, pia.id))
        assert extended is not None
        session.refresh(extended)
        assert extended.expires_at == START + WEEK
        take_part(session, instance_id=instance_id, user_id=pia.id, reason="claimed", at=START)
        session.refresh(extended)
        assert (extended.reason, extended.expires_at) == ("claimed", None)
        take_part(session, instance_id=instance_id, user_id=pia.id, reason="vervanging", at=START, expires_at=START)
        session.refresh(extended)
        assert (extended.reason, extended.expires_at) == ("claimed", None), "access that ends never shortens access"


def test_substitutions_for__own_covers_or_everyones_for_a_coordinator(db: Database, make_user: UserFactory) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    sven, sanne = make_user("sven", "screener"), make_user("sanne", "screener")
    coen = make_user("coen", "coordinator")
    cover(db, actor=pim, absent=pim, substitute=pia)
    cover(db, actor=sven, absent=sven, substitute=sanne, starts_at=START + WEEK, ends_at=START + 2 * WEEK)
    cover(db, actor=coen, absent=pia, substitute=pim, ends_at=START + timedelta(hours=1))

    def listed(user: User, at_offset: timedelta = timedelta(hours=2)) -> list[str]:
        with db.reader() as session:
            found = substitutions_for(session, user=user, at=START + at_offset)
            return [f"{s.absent.username}>{s.substitute.username}" for s in found]

    assert listed(pia) == ["pim>pia"], "the cover that ended is gone"
    assert listed(coen) == ["pim>pia", "sven>sanne"]
    assert listed(sanne) == ["sven>sanne"]
    assert listed(coen, timedelta(0)) == ["pim>pia", "pia>pim", "sven>sanne"]


def test_new_owner_task__stays_with_an_absent_starter_who_does_the_step_themselves(
    db: Database, runtime: Runtime, make_user: UserFactory, processes: None
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    instance_id, first = start(db, runtime, "eigen", pim)
    cover(db, actor=pim, absent=pim, substitute=pia)

    complete(db, runtime, first, pim)  # working during the absence: their own next step is theirs

    [second] = open_rows(db, instance_id)
    assert (second.name, second.owner_id, second.audience) == ("Nalezen", pim.id, f"owner:{pim.id}")
