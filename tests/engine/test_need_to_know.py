"""Need-to-know that fits the ZVH: role queues scoped to the case's gemeente or the partner asked, explicit
participants added and removed with a reason, noodtoegang, and the pseudonymous person index."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import add_participant, emergency_access, may_view, remove_participant, visible_instance
from engine.clock import FixedClock
from engine.db import Database, session_keys
from engine.errors import DeploymentRefused, InvalidInput, NotFound, PermissionDenied
from engine.inbox import InboxQuery, inbox, list_tasks
from engine.models import AuditEvent, HumanTask, Instance, InstancePerson, Notification
from engine.notifications import scan_notifications
from engine.privacy.persons import person_key
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import complete, deploy, start

BSN = "999990019"
MELDING = {
    "type": "object",
    "properties": {
        "gemeente": {"type": "string"},
        "partner": {"type": "string"},
        "vertrouwelijkheid": {"type": "string"},
        "betrokkenen": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"naam": {"type": "string"}, "bsn": {"type": "string"}, "rol": {"type": "string"}},
            },
        },
    },
}


def _scoped_process(db: Database, tmp_path: Path, *, partner_scope: str = "organisatie:partner") -> str:
    """Starter fills in the melding → a Gemeente task (default scope) → a Ketenpartner task (scope by field)."""
    write(tmp_path, "melding.json", MELDING)
    lane_property = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="zichtbaarheid" value="{partner_scope}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T0", "Melding", "melding")
        + user_task("T1", "Gemeentelijke toets")
        + user_task("T2", "Informatie aanvullen")
        + '<bpmn:endEvent id="E"/>'
        + flow("F0", "S", "T0")
        + flow("F1", "T0", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E")
    )
    xml = process(body, process_id="scoped", lanes={"Gemeente": ["T1"], "Ketenpartner": ["T2"]})
    xml = xml.replace('name="Ketenpartner">', f'name="Ketenpartner">{lane_property}')
    deploy(db, write(tmp_path, "scoped.bpmn", xml))
    return "scoped"


@pytest.fixture
def scoped(db: Database, tmp_path: Path) -> str:
    return _scoped_process(db, tmp_path)


def _open(db: Database, instance_id: int) -> HumanTask:
    with db.reader() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()


def _melding(gemeente: str = "Breda", partner: str = "Politie") -> dict[str, object]:
    return {
        "gemeente": gemeente,
        "partner": partner,
        "betrokkenen": [{"naam": "Xander Voorbeeld", "bsn": BSN, "rol": "hoofdbetrokkene"}],
    }


def test_gemeente_task__reaches_only_the_case_gemeente_and_follows_it(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str
) -> None:
    mila = make_user("mila", "melder")
    breda = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    zundert = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    started = start(db, runtime, scoped, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, _melding("Breda"))
    task = _open(db, started.instance.id)

    assert (task.role, task.scope, task.audience) == ("gemeente", "gm:breda", "role:gemeente|gm:breda")
    with db.reader() as session:
        assert [t.id for t in list_tasks(session, user=breda).tasks] == [task.id]
        assert list_tasks(session, user=zundert).total == 0, "Zundert never sees Breda's tasks"
        assert may_view(session, breda, started.instance.id)
        assert not may_view(session, zundert, started.instance.id)
    with pytest.raises(PermissionDenied), db.transaction() as session:
        runtime.claim_task(session, task_id=task.id, actor=zundert)


def test_partner_task__reaches_only_the_organisation_named_in_the_case(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str
) -> None:
    mila = make_user("mila", "melder")
    gijs = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    politie = make_user("piet", "ketenpartner", organisation="politie", gemeenten=("breda",))
    ggz = make_user("gea", "ketenpartner", organisation="ggz", gemeenten=("breda",))
    started = start(db, runtime, scoped, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, _melding(partner="Politie"))
    complete(db, runtime, _open(db, started.instance.id).id, gijs)

    task = _open(db, started.instance.id)
    assert (task.role, task.scope) == ("ketenpartner", "org:politie")
    with db.reader() as session:
        assert list_tasks(session, user=politie).total == 1
        assert list_tasks(session, user=ggz).total == 0, "a partner not asked for input does not see the referral"
        assert not may_view(session, ggz, started.instance.id)


def test_partner_task__for_an_unknown_organisation_reaches_no_partner_but_the_team_view(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila, coen = make_user("mila", "melder"), make_user("coen", "coordinator", organisation="zvh")
    gijs = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    anyone = make_user("kees", "ketenpartner", organisation="politie", gemeenten=("breda",))
    started = start(db, runtime, scoped, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, _melding(partner="Onbekende stichting"))
    complete(db, runtime, _open(db, started.instance.id).id, gijs)

    assert _open(db, started.instance.id).scope == "org:onbekend"
    with db.reader() as session:
        assert list_tasks(session, user=anyone).total == 0
        team = inbox(session, user=coen, query=InboxQuery(tab="team"), now=clock.now())
        assert [row.name for row in team.tasks] == ["Informatie aanvullen"], "the coordinator can assign it"


def test_notifications__of_a_scoped_task_go_to_its_holders_only(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    breda = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    zundert = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    started = start(db, runtime, scoped, mila)
    clock.advance(timedelta(minutes=1))
    complete(db, runtime, started.next_tasks[0].id, mila, _melding("Breda"))
    clock.advance(timedelta(minutes=1))

    with db.transaction() as session:
        scan_notifications(session, now=clock.now())

    with db.reader() as session:
        notified = set(session.scalars(select(Notification.user_id).where(Notification.kind == "new_task")))
    assert breda.id in notified
    assert zundert.id not in notified


def test_notifications__of_a_secret_case_reach_only_those_who_may_see_it(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    breda = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    started = start(db, runtime, scoped, mila)
    clock.advance(timedelta(minutes=1))
    complete(db, runtime, started.next_tasks[0].id, mila, {**_melding("Breda"), "vertrouwelijkheid": "geheim"})
    clock.advance(timedelta(minutes=1))

    with db.transaction() as session:
        scan_notifications(session, now=clock.now())

    with db.reader() as session:
        notified = set(session.scalars(select(Notification.user_id).where(Notification.kind == "new_task")))
    assert breda.id not in notified, "a secret case's task is not announced to the whole queue"


def test_lane_scope__malformed_is_refused_at_deploy(db: Database, tmp_path: Path) -> None:
    with pytest.raises(DeploymentRefused) as refused:
        _scoped_process(db, tmp_path, partner_scope="organisatie:")
    assert "zichtbaarheid" in str(refused.value.problems)


def test_participants__added_and_removed_with_a_reason_logged(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    pim = make_user("pim", "procesregisseur", organisation="zvh")
    rosa = make_user("rosa", "reclassering", organisation="reclassering")
    started = start(db, runtime, scoped, mila)
    instance_id = started.instance.id
    with pytest.raises(PermissionDenied), db.transaction() as session:
        add_participant(session, instance_id=instance_id, actor=mila, user=rosa, reason="x", at=clock.now())
    with pytest.raises(NotFound), db.transaction() as session:  # not yet taking part: not even the case exists
        add_participant(session, instance_id=instance_id, actor=pim, user=rosa, reason="x", at=clock.now())

    with db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=pim, reason="Overdracht", at=clock.now())
    with pytest.raises(InvalidInput), db.transaction() as session:
        add_participant(session, instance_id=instance_id, actor=pim, user=rosa, reason="  ", at=clock.now())
    with db.transaction() as session:
        add_participant(session, instance_id=instance_id, actor=pim, user=rosa, reason="Toezicht loopt", at=clock.now())
    with db.reader() as session:
        assert may_view(session, rosa, instance_id)
    with db.transaction() as session:
        remove_participant(
            session, instance_id=instance_id, actor=pim, user=rosa, reason="Toezicht beëindigd", at=clock.now()
        )

    with db.reader() as session:
        assert not may_view(session, rosa, instance_id)
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        ).all()
    reasons = [(e.action, (e.details or {}).get("reason")) for e in events if "participant" in e.action]
    assert reasons == [("participant", "Toezicht loopt"), ("participant_removed", "Toezicht beëindigd")]


def test_noodtoegang__needs_a_reason_is_flagged_and_ends_after_a_day(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    pim = make_user("pim", "procesregisseur", organisation="zvh")
    partner = make_user("piet", "politie", organisation="politie", gemeenten=("breda",))
    instance_id = start(db, runtime, scoped, mila).instance.id

    with pytest.raises(NotFound), db.reader() as session:
        visible_instance(session, pim, instance_id, at=clock.now())
    with pytest.raises(InvalidInput), db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=pim, reason=" ", at=clock.now())
    with pytest.raises(PermissionDenied), db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=partner, reason="Ik wil kijken", at=clock.now())
    with pytest.raises(InvalidInput), db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=pim, reason="Acute\x00dreiging", at=clock.now())
    with db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=pim, reason="Acute dreiging", at=clock.now())

    with db.reader() as session:
        assert visible_instance(session, pim, instance_id, at=clock.now()).id == instance_id
        flagged = session.scalars(select(AuditEvent).where(AuditEvent.action == "noodtoegang")).one()
        assert (flagged.actor, flagged.details["reason"]) == ("pim", "Acute dreiging")
    clock.advance(timedelta(hours=24, seconds=1))
    with db.reader() as session:
        assert not may_view(session, pim, instance_id, at=clock.now()), "noodtoegang lasts a day"


def test_person_index__holds_keys_not_bsns_and_follows_a_correction(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str
) -> None:
    mila = make_user("mila", "melder")
    started = start(db, runtime, scoped, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, _melding())

    with db.reader() as session:
        secret = session_keys(session).pseudonym
        keys = set(session.scalars(select(InstancePerson.person_key)))
        instance = session.get_one(Instance, started.instance.id)
    expected = person_key(secret, bsn=BSN)
    assert keys == {expected}
    assert instance.person_key == expected
    assert BSN not in expected and len(expected) == 64


def test_destroyed_case__is_not_found_for_anyone(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    instance_id = start(db, runtime, scoped, mila).instance.id
    with db.transaction() as session:
        session.get_one(Instance, instance_id).destroyed_at = clock.now()

    with pytest.raises(NotFound, match="vernietigd"), db.reader() as session:
        visible_instance(session, mila, instance_id, at=clock.now())


def test_secret__an_open_task_leaves_the_queue_when_its_case_becomes_secret(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path, scoped: str
) -> None:
    mila = make_user("mila", "melder")
    breda = make_user("gijs", "gemeente", organisation="gemeente", gemeenten=("breda",))
    started = start(db, runtime, scoped, mila)
    complete(db, runtime, started.next_tasks[0].id, mila, _melding("Breda"))
    with db.reader() as session:
        assert list_tasks(session, user=breda).total == 1
        assert session.scalars(select(HumanTask.secret)).one() is False

    # A later save of the case (e.g. a parallel branch that records the level) makes it secret; the open
    # gemeente task stays open and must leave the queue at once.
    with db.transaction() as session:
        loaded = runtime.load(session, started.instance.id)
        for spiff_task in loaded.ready_human_tasks:
            spiff_task.data["vertrouwelijkheid"] = "geheim"
        runtime.save(session, loaded, actor=None, failure=None, progressed=False)

    with db.reader() as session:
        assert session.scalars(select(HumanTask.secret)).one() is True
        assert list_tasks(session, user=breda).total == 0, "a secret case's task is not for the whole queue"


def test_reasons__may_run_over_several_lines_but_not_hold_invisible_characters(
    db: Database, runtime: Runtime, make_user: UserFactory, scoped: str, clock: FixedClock
) -> None:
    mila = make_user("mila", "melder")
    pim = make_user("pim", "procesregisseur", organisation="zvh")
    instance_id = start(db, runtime, scoped, mila).instance.id
    reason = "Acute dreiging gemeld.\nOverleg vanmiddag om 14:00."

    with db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=pim, reason=reason, at=clock.now())
    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        add_participant(session, instance_id=instance_id, actor=pim, user=mila, reason="x\x07y", at=clock.now())

    assert refused.value.fields == {"reden": ["De tekst bevat ongeldige (onzichtbare) tekens."]}
    with db.reader() as session:
        flagged = session.scalars(select(AuditEvent).where(AuditEvent.action == "noodtoegang")).one()
    assert flagged.details["reason"] == reason
