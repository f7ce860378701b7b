"""Moving running cases to a newer version: the dry run, refusals that name the element, all-or-nothing per case."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.drafts import load_draft, save_draft
from engine.errors import InvalidInput, NotFound
from engine.modelling.migrate import MigrationStep, instances_waiting_at, migrate_instances
from engine.models import AuditEvent, HumanTask, Instance, User
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, process, user_task, write

KEY = "migreer"
SECOND = user_task("T2", "Tweede stap")


def chain(*tasks: tuple[str, str], extra: str = "", lanes: dict[str, list[str]] | None = None) -> str:
    """start → the given (id, name) user tasks in order → end, as process `migreer` (with `lanes`, if given)."""
    ids = ["S", *(task_id for task_id, _ in tasks), "E"]
    flows = "".join(flow(f"F_{a}_{b}", a, b) for a, b in pairwise(ids))
    body = "".join(user_task(task_id, name) for task_id, name in tasks)
    xml = f'<bpmn:startEvent id="S"/>{body}<bpmn:endEvent id="E"/>{flows}{extra}'
    return process(xml, process_id=KEY, lanes=lanes)


V1 = chain(("T1", "Eerste stap"), ("T2", "Tweede stap"))


def deploy(db: Database, folder: Path, xml: str) -> None:
    with db.transaction() as session:
        deploy_file(session, write(folder, f"{KEY}.bpmn", xml), actor="tester")


def start(db: Database, runtime: Runtime, actor: User) -> int:
    with db.transaction() as session:
        return runtime.start_instance(session, process_key=KEY, actor=actor).instance.id


def open_task(db: Database, instance_id: int) -> HumanTask:
    with db.reader() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()


def complete_open_task(db: Database, runtime: Runtime, instance_id: int, actor: User) -> None:
    task_id = open_task(db, instance_id).id
    with db.transaction() as session:
        runtime.complete_task(session, task_id=task_id, actor=actor, data={})


def migrate(
    db: Database, runtime: Runtime, owner: User, ids: list[int], to: int, *, dry_run: bool = False
) -> list[MigrationStep]:
    with db.transaction() as session:
        return migrate_instances(
            session, runtime, instance_ids=ids, to_version=to, actor=owner, at=runtime.clock.now(), dry_run=dry_run
        )


def snapshot(db: Database, instance_id: int) -> tuple[Any, ...]:
    with db.reader() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return row.state, row.lock_version, row.process_version_id, row.status


def migrate_events(db: Database, instance_id: int) -> list[AuditEvent]:
    with db.reader() as session:
        query = select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.action == "migrate")
        return list(session.scalars(query))


def version_of(db: Database, instance_id: int) -> int:
    with db.reader() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return row.process_version.version


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("pieter", "procesbeheerder")


@pytest.fixture
def anna(make_user: UserFactory) -> User:
    return make_user("anna")


@pytest.fixture
def v1(db: Database, tmp_path: Path) -> Path:
    deploy(db, tmp_path, V1)
    return tmp_path


def test_migrate__dry_run_shows_where_it_waits_and_changes_nothing(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    first, second = start(db, runtime, anna), start(db, runtime, anna)
    deploy(db, v1, chain(("T1", "Eerste stap (nieuw)"), ("T2", "Tweede stap")))
    before = [snapshot(db, first), snapshot(db, second)]

    steps = migrate(db, runtime, owner, [first, second], 2, dry_run=True)

    assert [s.as_dict() for s in steps] == [
        {
            "instance_id": instance,
            "case_number": f"ZVH-2026-0000{n}",
            "from_version": 1,
            "to_version": 2,
            "waits_now": ["T1"],
            "will_wait": ["T1"],
            "ok": True,
            "reason": None,
            "migrated": False,
        }
        for n, instance in enumerate([first, second], start=1)
    ]
    assert [snapshot(db, first), snapshot(db, second)] == before
    assert migrate_events(db, first) == []
    assert open_task(db, first).name == "Eerste stap"


def test_migrate__a_renamed_task_keeps_its_row_assignee_and_draft_and_takes_the_new_name(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    instance = start(db, runtime, anna)
    task = open_task(db, instance)
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task.id, actor=anna)
        save_draft(session, user=anna, data={"opmerking": "half af"}, at=START, task_id=task.id)
    deploy(db, v1, chain(("T1", "Eerste stap (nieuw)"), ("T2", "Tweede stap")))

    [step] = migrate(db, runtime, owner, [instance], 2)

    assert (step.ok, step.migrated, step.will_wait) == (True, True, ["T1"])
    moved = open_task(db, instance)
    assert (moved.id, moved.assignee_id, moved.name) == (task.id, anna.id, "Eerste stap (nieuw)")
    with db.reader() as session:
        draft = load_draft(session, user=anna, task_id=task.id)
        assert draft is not None and draft.data == {"opmerking": "half af"}
    assert version_of(db, instance) == 2


def test_migrate__a_task_moved_into_a_gemeente_lane_reaches_only_that_gemeente(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path, make_user: UserFactory
) -> None:
    instance = start(db, runtime, anna)
    deploy(db, v1, chain(("T1", "Eerste stap"), ("T2", "Tweede stap"), lanes={"Gemeente": ["T1"]}))

    [step] = migrate(db, runtime, owner, [instance], 2)

    moved = open_task(db, instance)
    assert step.migrated and (moved.role, moved.scope) == ("gemeente", "gm:onbekend")
    assert moved.audience == "role:gemeente|gm:onbekend", "a partner lane's safe default, not the whole queue"


def test_migrate__continues_on_the_new_path_with_an_inserted_task(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    instance = start(db, runtime, anna)
    lock_before = snapshot(db, instance)[1]
    deploy(db, v1, chain(("T1", "Eerste stap"), ("T1b", "Ingevoegde stap"), ("T2", "Tweede stap")))

    [step] = migrate(db, runtime, owner, [instance], 2)

    assert (step.ok, step.migrated, step.waits_now, step.will_wait) == (True, True, ["T1"], ["T1"])
    [event] = migrate_events(db, instance)
    assert event.actor == "pieter"
    assert event.details == {"from_version": 1, "to_version": 2, "waits_now": ["T1"], "will_wait": ["T1"]}
    assert snapshot(db, instance)[1] == lock_before + 1
    complete_open_task(db, runtime, instance, anna)
    assert open_task(db, instance).element_id == "T1b"
    complete_open_task(db, runtime, instance, anna)
    assert open_task(db, instance).element_id == "T2"


def test_migrate__refuses_an_instance_waiting_at_a_removed_task_and_names_it(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    instance = start(db, runtime, anna)
    deploy(db, v1, chain(("T2", "Tweede stap")))
    before = snapshot(db, instance)

    [dry] = migrate(db, runtime, owner, [instance], 2, dry_run=True)
    [real] = migrate(db, runtime, owner, [instance], 2)

    for step in (dry, real):
        assert (step.ok, step.migrated, step.waits_now) == (False, False, ["T1"])
        assert step.reason == "Wacht bij 'T1' (Eerste stap), dat in versie 2 niet meer bestaat"
    assert snapshot(db, instance) == before
    assert migrate_events(db, instance) == []


def test_migrate__refuses_a_task_that_became_another_kind_of_element(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    instance = start(db, runtime, anna)
    manual = process(
        '<bpmn:startEvent id="S"/><bpmn:manualTask id="T1" name="Eerste stap"/>'
        + SECOND
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E"),
        process_id=KEY,
    )
    deploy(db, v1, manual)

    [step] = migrate(db, runtime, owner, [instance], 2)

    assert not step.ok
    assert step.reason is not None and step.reason.startswith("Wacht bij 'T1' (Eerste stap), dat in versie 2 een ander")


def test_migrate__a_batch_is_all_or_nothing_per_instance(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    at_first, at_second = start(db, runtime, anna), start(db, runtime, anna)
    complete_open_task(db, runtime, at_second, anna)
    deploy(db, v1, chain(("T1", "Eerste stap")))  # T2 is gone
    refused_before = snapshot(db, at_second)

    steps = migrate(db, runtime, owner, [at_first, at_second], 2)

    assert [(s.instance_id, s.ok, s.migrated) for s in steps] == [(at_first, True, True), (at_second, False, False)]
    assert steps[1].reason == "Wacht bij 'T2' (Tweede stap), dat in versie 2 niet meer bestaat"
    assert version_of(db, at_first) == 2 and len(migrate_events(db, at_first)) == 1
    assert snapshot(db, at_second) == refused_before
    complete_open_task(db, runtime, at_first, anna)
    assert snapshot(db, at_first)[3] == "completed"


def test_migrate__a_step_already_passed_may_be_removed(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    instance = start(db, runtime, anna)
    complete_open_task(db, runtime, instance, anna)
    deploy(db, v1, chain(("T2", "Tweede stap")))  # T1, already done, is gone

    [step] = migrate(db, runtime, owner, [instance], 2)

    assert (step.ok, step.waits_now, step.will_wait) == (True, ["T2"], ["T2"])
    complete_open_task(db, runtime, instance, anna)
    assert snapshot(db, instance)[3] == "completed"


def test_migrate__a_waiting_timer_keeps_its_due_date(
    db: Database, clock: FixedClock, runtime: Runtime, owner: User, anna: User, tmp_path: Path
) -> None:
    def with_deadline(name: str) -> str:
        boundary = (
            '<bpmn:boundaryEvent id="Termijn" attachedToRef="T1" cancelActivity="false">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent><bpmn:endEvent id="E2"/>' + flow("F_T", "Termijn", "E2")
        )
        return chain(("T1", name), ("T2", "Tweede stap"), extra=boundary)

    deploy(db, tmp_path, with_deadline("Eerste stap"))
    instance = start(db, runtime, anna)
    clock.advance(timedelta(days=2))
    deploy(db, tmp_path, with_deadline("Eerste stap (nieuw)"))

    [step] = migrate(db, runtime, owner, [instance], 2)

    assert (step.ok, step.waits_now, step.will_wait) == (True, ["T1", "Termijn"], ["T1", "Termijn"])
    with db.reader() as session:
        row = session.get(Instance, instance)
        assert row is not None and row.next_timer_due_at == START.astimezone(UTC) + timedelta(days=5)


def test_migrate__only_active_instances_of_newer_versions_by_process_owners(
    db: Database, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    done = start(db, runtime, anna)
    complete_open_task(db, runtime, done, anna)
    complete_open_task(db, runtime, done, anna)
    deploy(db, v1, chain(("T1", "Eerste stap (nieuw)"), ("T2", "Tweede stap")))

    [step] = migrate(db, runtime, owner, [done], 2)
    assert (step.ok, step.reason) == (
        False,
        "De zaak is afgerond; alleen lopende zaken gaan over naar een nieuwe versie.",
    )
    with pytest.raises(NotFound):
        migrate(db, runtime, anna, [done], 2)
    with pytest.raises(InvalidInput):
        migrate(db, runtime, owner, [done], 1)
    with pytest.raises(InvalidInput):
        migrate(db, runtime, owner, [done], 3)
    with pytest.raises(NotFound):
        migrate(db, runtime, owner, [done, 999], 2)


def test_instances_waiting_at__reads_the_inbox_projection(db: Database, runtime: Runtime, anna: User, v1: Path) -> None:
    at_first, at_second = start(db, runtime, anna), start(db, runtime, anna)
    complete_open_task(db, runtime, at_second, anna)
    deploy(db, v1, chain(("T1", "Eerste stap (nieuw)"), ("T2", "Tweede stap")))
    on_v2 = start(db, runtime, anna)
    done = start(db, runtime, anna)
    complete_open_task(db, runtime, done, anna)
    complete_open_task(db, runtime, done, anna)

    with db.reader() as session:
        assert instances_waiting_at(session, process_key=KEY) == [at_first, at_second, on_v2]
        assert instances_waiting_at(session, process_key=KEY, element_id="T1") == [at_first, on_v2]
        assert instances_waiting_at(session, process_key=KEY, element_id="T1", version=1) == [at_first]
        assert instances_waiting_at(session, process_key=KEY, version=1) == [at_first, at_second]
        assert instances_waiting_at(session, process_key="anders") == []


def test_cli__migrate_dry_run_then_real_with_exit_status(
    db: Database, database_url: str, runtime: Runtime, owner: User, anna: User, v1: Path
) -> None:
    ok, refused = start(db, runtime, anna), start(db, runtime, anna)
    complete_open_task(db, runtime, refused, anna)
    deploy(db, v1, chain(("T1", "Eerste stap")))
    env = {"ZVH_DATABASE_URL": database_url, "ZVH_INSTANCE_PATH": str(v1 / "instance")}

    def zvh(*args: str) -> Any:
        return CliRunner().invoke(main, ["migrate", *args], env=env, catch_exceptions=False)

    dry = zvh(str(ok), "--to-version", "2", "--as", "pieter", "--dry-run", "--json")
    assert dry.exit_code == 0
    assert [(s["instance_id"], s["ok"], s["migrated"], s["will_wait"]) for s in json.loads(dry.stdout)] == [
        (ok, True, False, ["T1"])
    ]
    assert version_of(db, ok) == 1

    mixed = zvh(str(ok), str(refused), "--to-version", "2", "--as", "pieter")
    assert mixed.exit_code == 1
    assert f"Instance {ok} (ZVH-2026-00001) v1 → v2: migrated; waits at T1, then at T1" in mixed.stdout
    assert "refused — Wacht bij 'T2' (Tweede stap), dat in versie 2 niet meer bestaat" in mixed.stdout
    assert (version_of(db, ok), version_of(db, refused)) == (2, 1)

    not_owner = zvh(str(refused), "--to-version", "2", "--as", "anna", "--json")
    assert not_owner.exit_code == 1 and json.loads(not_owner.stdout)["error"] == "not_found"
