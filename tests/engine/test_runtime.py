"""Starting, claiming and completing: roles from lanes, server-side validation, conflicts, errors and retries."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import ConfigurationError, Conflict, InvalidInput, PermissionDenied
from engine.inbox import InboxRow, list_tasks
from engine.models import AuditEvent, HumanTask, Instance, User
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, linear, process, user_task, write

BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "three-user-tasks"
NAAM_FORM = {
    "type": "object",
    "properties": {"naam": {"type": "string", "minLength": 2}, "gemeente": {"type": "string"}},
    "required": ["naam"],
}


def deploy(db: Database, path: Path, *, search_paths: list[Path] | None = None) -> None:
    with db.transaction() as session:
        deploy_file(session, path, actor="tester", search_paths=search_paths or [])


def start(db: Database, runtime: Runtime, key: str, actor: User, data: dict[str, Any] | None = None):
    with db.transaction() as session:
        return runtime.start_instance(session, process_key=key, actor=actor, data=data)


def complete(db: Database, runtime: Runtime, task_id: str, actor: User, data: dict[str, Any] | None = None, **kw: Any):
    with db.transaction() as session:
        return runtime.complete_task(session, task_id=task_id, actor=actor, data=data, **kw)


def open_tasks(db: Database, instance_id: int) -> list[HumanTask]:
    with db.reader() as session:
        return list_tasks(session, instance_id=instance_id).tasks


def audit_actions(db: Database, instance_id: int) -> list[str]:
    with db.reader() as session:
        query = select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(session.scalars(query))


def instance_row(db: Database, instance_id: int) -> Instance:
    with db.reader() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        return row


@pytest.fixture
def bench_process(db: Database, tmp_path: Path) -> str:
    for item in BENCH.iterdir():
        shutil.copy(item, tmp_path / item.name)
    deploy(db, tmp_path / "three_user_tasks.bpmn")
    return "Process_three_user_tasks"


LANES = {"Procesregisseur": ["S", "T1", "E"], "Manager": ["T2"]}


@pytest.fixture
def lane_process(db: Database, tmp_path: Path) -> str:
    write(tmp_path, "naam.json", NAAM_FORM)
    xml = linear(user_task("T1", "Leg naam vast", "naam"), user_task("T2", "Akkoord"), lanes=LANES, process_id="lanes")
    deploy(db, write(tmp_path, "lanes.bpmn", xml))
    return "lanes"


def test_start__runs_to_first_task_owned_by_the_starter(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    anna, bert = make_user("anna"), make_user("bert")

    outcome = start(db, runtime, bench_process, anna)

    assert outcome.instance.status == "running"
    assert outcome.instance.case_number == "ZVH-2026-00001"
    assert [(t.name, t.role) for t in outcome.next_tasks] == [("Form 1", None)]
    with db.reader() as session:
        assert list_tasks(session, user=anna).total == 1
        assert list_tasks(session, user=bert).total == 0, "a lane-less task belongs to the starter only"
    with pytest.raises(PermissionDenied):
        complete(db, runtime, outcome.next_tasks[0].id, bert, {"field1": "x"})
    assert audit_actions(db, outcome.instance.id) == ["start"]


def test_start__numbers_cases_per_year(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    anna = make_user("anna")

    numbers = [start(db, runtime, bench_process, anna).instance.case_number for _ in range(3)]

    assert numbers == ["ZVH-2026-00001", "ZVH-2026-00002", "ZVH-2026-00003"]


def test_start__refuses_data_when_the_process_has_no_start_form(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        start(db, runtime, bench_process, make_user("anna"), {"casusnummer": "ZVH-2020-00001"})

    assert "casusnummer" in caught.value.fields
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0


def test_start__only_roles_of_the_start_lane_may_start(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    with pytest.raises(PermissionDenied):
        start(db, runtime, lane_process, make_user("mila", "melder"))

    outcome = start(db, runtime, lane_process, make_user("pim", "procesregisseur"))
    assert outcome.next_tasks[0].role == "procesregisseur"


def test_complete__runs_the_bench_process_to_the_end(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    anna = make_user("anna")
    outcome = start(db, runtime, bench_process, anna)

    for field in ("field1", "field2", "field3"):
        outcome = complete(db, runtime, outcome.next_tasks[0].id, anna, {field: "waarde"})

    assert outcome.instance.status == "completed"
    assert outcome.instance.ended_at == START
    assert outcome.next_tasks == []
    assert open_tasks(db, outcome.instance.id) == []
    assert audit_actions(db, outcome.instance.id) == ["start", "complete", "complete", "complete"]


def test_complete__lane_decides_the_role(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim = make_user("pim", "procesregisseur")
    mila = make_user("mila", "melder")
    task = start(db, runtime, lane_process, pim).next_tasks[0]

    with pytest.raises(PermissionDenied):
        complete(db, runtime, task.id, mila, {"naam": "Jan"})
    outcome = complete(db, runtime, task.id, pim, {"naam": "Jan", "gemeente": "Breda"})

    assert outcome.next_tasks == [], "the next task is the manager's"
    assert [(t.name, t.role) for t in open_tasks(db, outcome.instance.id)] == [("Akkoord", "manager")]
    assert outcome.instance.gemeente == "Breda"


def test_complete__invalid_data_is_refused_per_field_and_nothing_is_stored(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim = make_user("pim", "procesregisseur")
    outcome = start(db, runtime, lane_process, pim)
    before = instance_row(db, outcome.instance.id)

    with pytest.raises(InvalidInput) as caught:
        complete(db, runtime, outcome.next_tasks[0].id, pim, {"naam": "J", "leeftijd": 4})

    assert caught.value.fields == {"leeftijd": ["Onbekend veld."], "naam": ["Vul minimaal 2 tekens in."]}
    after = instance_row(db, outcome.instance.id)
    assert (after.lock_version, after.state) == (before.lock_version, before.state)
    assert audit_actions(db, outcome.instance.id) == ["start"]
    assert len(open_tasks(db, outcome.instance.id)) == 1


def test_complete__a_stale_lock_version_is_a_conflict(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    anna = make_user("anna")
    outcome = start(db, runtime, bench_process, anna)
    stale = outcome.instance.lock_version - 1

    with pytest.raises(Conflict, match="gewijzigd sinds u deze taak opende"):
        complete(db, runtime, outcome.next_tasks[0].id, anna, {"field1": "x"}, lock_version=stale)

    complete(
        db,
        runtime,
        outcome.next_tasks[0].id,
        anna,
        {"field1": "x"},
        lock_version=outcome.instance.lock_version,
    )


def test_complete__a_completed_task_is_a_conflict_not_an_overwrite(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    anna = make_user("anna")
    task_id = start(db, runtime, bench_process, anna).next_tasks[0].id
    first = complete(db, runtime, task_id, anna, {"field1": "eerste"})

    with pytest.raises(Conflict, match="al afgerond door Anna"):
        complete(db, runtime, task_id, anna, {"field1": "tweede"})

    assert instance_row(db, first.instance.id).lock_version == first.instance.lock_version


def test_claim__reserves_the_task_for_one_colleague(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    task_id = start(db, runtime, lane_process, pim).next_tasks[0].id
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=pim)

    with pytest.raises(Conflict, match="al opgepakt door Pim"), db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=pia)
    with pytest.raises(Conflict, match="staat op naam van Pim"):
        complete(db, runtime, task_id, pia, {"naam": "Jan"})
    with db.reader() as session:
        assert [t.id for t in list_tasks(session, user=pia).tasks] == []
        assert [t.id for t in list_tasks(session, user=pim).tasks] == [task_id]

    with db.transaction() as session:
        runtime.unclaim_task(session, task_id=task_id, actor=pim)
    with db.transaction() as session:
        assert runtime.claim_task(session, task_id=task_id, actor=pia).assignee == "pia"


def test_reassign__needs_a_coordinator_a_reason_and_a_colleague_with_the_role(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    coen, mila = make_user("coen", "coordinator"), make_user("mila", "melder")
    task_id = start(db, runtime, lane_process, pim).next_tasks[0].id

    def reassign(actor: User, to: User, reason: str) -> InboxRow:
        with db.transaction() as session:
            return runtime.reassign_task(session, task_id=task_id, actor=actor, assignee=to, reason=reason)

    with pytest.raises(PermissionDenied):
        reassign(pim, pia, "vakantie")
    with pytest.raises(InvalidInput):
        reassign(coen, pia, "  ")
    with pytest.raises(InvalidInput):
        reassign(coen, mila, "vakantie")
    assert reassign(coen, pia, "afwezig wegens vakantie").assignee == "pia"
    with db.reader() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "reassign")).one()
    assert event.actor == "coen" and "afwezig wegens vakantie" in event.summary


def test_versioning__a_running_instance_finishes_on_its_own_version(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    anna = make_user("anna")
    path = write(tmp_path, "v.bpmn", linear(user_task("T1", "Oude stap"), process_id="versioned"))
    deploy(db, path)
    old = start(db, runtime, "versioned", anna)
    write(
        tmp_path,
        "v.bpmn",
        linear(user_task("T1", "Nieuwe stap"), user_task("T2", "Extra stap"), process_id="versioned"),
    )
    deploy(db, path)

    new = start(db, runtime, "versioned", anna)
    finished = complete(db, runtime, old.next_tasks[0].id, anna)

    assert old.next_tasks[0].name == "Oude stap"
    assert finished.instance.status == "completed"
    assert [t.name for t in new.next_tasks] == ["Nieuwe stap"]
    assert instance_row(db, new.instance.id).process_version.version == 2


SCRIPT_AFTER_TASK = linear(
    user_task("T1", "Geef deler", "deler"),
    '<bpmn:scriptTask id="T2" name="Deel"><bpmn:script>uitkomst = 10 / deler</bpmn:script></bpmn:scriptTask>',
    user_task("T3", "Bekijk uitkomst"),
    process_id="script_error",
)


def test_error__a_failing_script_keeps_the_completed_step_and_can_be_retried(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "deler.json", {"type": "object", "properties": {"deler": {"type": "integer"}}})
    deploy(db, write(tmp_path, "s.bpmn", SCRIPT_AFTER_TASK))
    anna, bea = make_user("anna"), make_user("bea", "beheerder")
    outcome = start(db, runtime, "script_error", anna)

    failed = complete(db, runtime, outcome.next_tasks[0].id, anna, {"deler": 0})

    assert failed.instance.status == "error"
    assert failed.instance.error_element == "T2"
    assert "division by zero" in (failed.instance.error_message or "")
    assert open_tasks(db, failed.instance.id) == []
    assert audit_actions(db, failed.instance.id) == ["start", "complete", "error"]
    with pytest.raises(PermissionDenied), db.transaction() as session:
        runtime.retry_instance(session, instance_id=failed.instance.id, actor=anna, data={"deler": 2})

    with db.transaction() as session:
        retried = runtime.retry_instance(session, instance_id=failed.instance.id, actor=bea, data={"deler": 2})

    assert retried.instance.status == "running"
    assert retried.instance.error_message is None
    assert [t.name for t in open_tasks(db, failed.instance.id)] == ["Bekijk uitkomst"]
    with db.reader() as session:
        data = runtime.load(session, failed.instance.id).current_data()
    assert data["uitkomst"] == 5


def test_error__a_gateway_without_a_matching_flow_stops_at_the_gateway(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "keuze.json", {"type": "object", "properties": {"keuze": {"type": "string"}}})
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Kies", "keuze")
        + '<bpmn:exclusiveGateway id="G"/>'
        + user_task("A", "Route A")
        + user_task("B", "Route B")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "G")
        + flow("FA", "G", "A", 'keuze == "a"')
        + flow("FB", "G", "B", 'keuze == "b"')
        + flow("F3", "A", "E1")
        + flow("F4", "B", "E2")
    )
    deploy(db, write(tmp_path, "g.bpmn", process(body, process_id="gateway")))
    anna, bea = make_user("anna"), make_user("bea", "beheerder")
    task_id = start(db, runtime, "gateway", anna).next_tasks[0].id

    failed = complete(db, runtime, task_id, anna, {"keuze": "c"})

    assert (failed.instance.status, failed.instance.error_element) == ("error", "G")
    with db.transaction() as session:
        runtime.retry_instance(session, instance_id=failed.instance.id, actor=bea, data={"keuze": "b"})
    assert [t.name for t in open_tasks(db, failed.instance.id)] == ["Route B"]


def test_sandbox__an_endless_loop_in_a_script_puts_the_instance_in_error(
    db: Database, make_user: UserFactory, tmp_path: Path, clock: FixedClock
) -> None:
    runtime = Runtime(clock=clock, script_time_budget=0.2)
    body = linear(
        user_task("T1", "Start"),
        '<bpmn:scriptTask id="T2" name="Oneindig"><bpmn:script>x = 0\nwhile True:\n    x = x + 1</bpmn:script>'
        "</bpmn:scriptTask>",
        process_id="endless",
    )
    deploy(db, write(tmp_path, "e.bpmn", body))
    anna = make_user("anna")
    task_id = start(db, runtime, "endless", anna).next_tasks[0].id

    failed = complete(db, runtime, task_id, anna)

    assert (failed.instance.status, failed.instance.error_element) == ("error", "T2")
    assert "Script stopped" in (failed.instance.error_message or "")
    with db.reader() as session:
        assert "x" not in runtime.load(session, failed.instance.id).current_data(), "no trace of the script"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the loop lives in the state, not the database
def test_loop__a_loop_marker_runs_500_rounds_without_stalling(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "ronde.json", {"type": "object", "properties": {"klaar": {"type": "boolean"}}})
    loop_task = user_task(
        "T1",
        "Monitoringsronde",
        "ronde",
        extra="<bpmn:standardLoopCharacteristics><bpmn:loopCondition>not klaar</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics>",
    )
    deploy(db, write(tmp_path, "loop.bpmn", linear(loop_task, process_id="loop")))
    anna = make_user("anna")
    outcome = start(db, runtime, "loop", anna)

    for round_number in range(500):
        assert len(outcome.next_tasks) == 1, f"stalled after {round_number} rounds"
        outcome = complete(db, runtime, outcome.next_tasks[0].id, anna, {"klaar": round_number == 499})

    assert outcome.instance.status == "completed"
    assert audit_actions(db, outcome.instance.id).count("complete") == 500


def test_loop__a_gateway_loop_that_outgrows_the_engine_is_an_error_not_a_silent_stall(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    body = (
        '<bpmn:startEvent id="S"/><bpmn:scriptTask id="Init"><bpmn:script>n = 0</bpmn:script></bpmn:scriptTask>'
        '<bpmn:scriptTask id="Inc" name="Tel"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:exclusiveGateway id="G" default="Back"/><bpmn:endEvent id="E"/>'
        + flow("F0", "S", "Init")
        + flow("F1", "Init", "Inc")
        + flow("F2", "Inc", "G")
        + flow("Done", "G", "E", "n >= 600")
        + flow("Back", "G", "Inc")
    )
    deploy(db, write(tmp_path, "stall.bpmn", process(body, process_id="stall")))

    outcome = start(db, runtime, "stall", make_user("anna"))

    assert outcome.instance.status == "error"
    assert outcome.instance.error_element == "Inc"
    assert "stopped advancing" in (outcome.instance.error_message or "")


def test_inbox__listing_never_restores_a_workflow(
    db: Database,
    runtime: Runtime,
    make_user: UserFactory,
    bench_process: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    anna = make_user("anna")
    for _ in range(3):
        start(db, runtime, bench_process, anna)

    def forbidden(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the inbox restored a workflow")

    monkeypatch.setattr("engine.runtime.restore_workflow", forbidden)
    monkeypatch.setattr("engine.spiff.restore_workflow", forbidden)
    with db.reader() as session:
        page = list_tasks(session, user=anna)

    assert page.total == 3 and [t.name for t in page.tasks] == ["Form 1"] * 3


def test_business_columns__follow_the_process_data(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    form = {
        "type": "object",
        "properties": {
            "gemeente": {"type": "string"},
            "betrokkenen": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"naam": {"type": "string"}, "rol": {"type": "string"}},
                },
            },
        },
    }
    write(tmp_path, "casus.json", form)
    deploy(
        db,
        write(
            tmp_path,
            "c.bpmn",
            linear(user_task("T1", "Casus", "casus"), user_task("T2", "Verder"), process_id="casus"),
        ),
    )
    anna = make_user("anna")
    task_id = start(db, runtime, "casus", anna).next_tasks[0].id

    outcome = complete(
        db,
        runtime,
        task_id,
        anna,
        {
            "gemeente": "Oosterhout",
            "betrokkenen": [
                {"naam": "Kees Systeemlid", "rol": "systeemlid"},
                {"naam": "Fenna Fictief", "rol": "hoofdbetrokkene"},
            ],
        },
    )

    assert (outcome.instance.gemeente, outcome.instance.subject_person) == ("Oosterhout", "Fenna Fictief")
    assert outcome.next_tasks[0].gemeente == "Oosterhout"


# --- the race: two processes complete the same task at the same moment ---------------------------------------


def _race_worker(url: str, username: str, tasks: Any, barrier: Any, results: Any) -> None:
    """Complete each task id that arrives, all at once with the other worker (the barrier); None ends the race."""
    from engine.users import get_user

    database = Database(url)
    runtime = Runtime(clock=FixedClock(START))
    with database.reader() as session:
        user = get_user(session, username)
    try:
        while (task_id := tasks.get(timeout=60)) is not None:
            barrier.wait()
            try:
                with database.transaction() as session:
                    runtime.complete_task(session, task_id=task_id, actor=user, data={"field1": username})
                results.put(("won", username))
            except Conflict as conflict:
                results.put(("conflict", conflict.message))
    finally:
        database.dispose()


def test_race__exactly_one_of_two_simultaneous_completions_wins(
    db: Database, database_url: str, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    users = [make_user("anna"), make_user("bert")]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    inboxes = [context.Queue() for _ in users]
    workers = [
        context.Process(target=_race_worker, args=(database_url, u.username, inbox, barrier, results))
        for u, inbox in zip(users, inboxes, strict=True)
    ]
    for worker in workers:  # started once: three rounds race in the same two processes
        worker.start()
    try:
        for round_number in range(3):
            outcome = start(db, runtime, bench_process, users[0])
            task_id = outcome.next_tasks[0].id
            with db.transaction() as session:  # lane-less: both may work on it once the owner hands it over
                shared = session.get(HumanTask, task_id)
                assert shared is not None
                shared.owner_id, shared.role = None, "melder"
                shared.assign(None)
            for inbox in inboxes:
                inbox.put(task_id)
            outcomes = sorted(results.get(timeout=60)[0] for _ in workers)

            assert outcomes == ["conflict", "won"], f"round {round_number}: {outcomes}"
            assert audit_actions(db, outcome.instance.id).count("complete") == 1
            assert [t.name for t in open_tasks(db, outcome.instance.id)] == ["Form 2"]
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join(timeout=60)


# --- hand-over: a follow-up process of the same case ---------------------------------------------------------

SENDER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_s" targetNamespace="http://t">'
    '<bpmn:message id="M_out" name="start_vervolg"/>'
    '<bpmn:process id="sender" isExecutable="true"><bpmn:startEvent id="S"/>'
    + user_task("T1", "Besluit", "besluit")
    + '<bpmn:endEvent id="E"><bpmn:messageEventDefinition messageRef="M_out"><bpmn:extensionElements>'
    '<spiffworkflow:messagePayload>{"besluit": besluit, "gemeente": "Zundert"}</spiffworkflow:messagePayload>'
    "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:endEvent>"
    + flow("F1", "S", "T1")
    + flow("F2", "T1", "E")
    + "</bpmn:process></bpmn:definitions>"
)
RECEIVER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D_r" targetNamespace="http://t">'
    '<bpmn:message id="M_in" name="start_vervolg"/>'
    '<bpmn:process id="receiver" name="Vervolg" isExecutable="true">'
    '<bpmn:laneSet id="LS"><bpmn:lane id="L1" name="Procesregisseur"><bpmn:flowNodeRef>T1</bpmn:flowNodeRef>'
    "</bpmn:lane></bpmn:laneSet>"
    '<bpmn:startEvent id="S"><bpmn:messageEventDefinition messageRef="M_in"/></bpmn:startEvent>'
    + user_task("T1", "Pak op")
    + '<bpmn:endEvent id="E"/>'
    + flow("F1", "S", "T1")
    + flow("F2", "T1", "E")
    + "</bpmn:process></bpmn:definitions>"
)


@pytest.fixture
def sender(db: Database, tmp_path: Path) -> str:
    write(tmp_path, "besluit.json", {"type": "object", "properties": {"besluit": {"type": "string"}}})
    deploy(db, write(tmp_path, "sender.bpmn", SENDER))
    return "sender"


def test_handover__starts_the_follow_up_process_for_the_same_case(
    db: Database, runtime: Runtime, make_user: UserFactory, sender: str, tmp_path: Path
) -> None:
    deploy(db, write(tmp_path, "receiver.bpmn", RECEIVER))
    anna = make_user("anna")
    first = start(db, runtime, sender, anna)

    done = complete(db, runtime, first.next_tasks[0].id, anna, {"besluit": "procesregie"})

    assert done.instance.status == "completed"
    with db.reader() as session:
        child = session.scalars(select(Instance).where(Instance.parent_instance_id == first.instance.id)).one()
        data = runtime.load(session, child.id).current_data()
    assert (child.process_key, child.case_number, child.status) == (
        "receiver",
        first.instance.case_number,
        "running",
    )
    assert (data["besluit"], child.gemeente) == ("procesregie", "Zundert")
    assert [(t.name, t.role) for t in open_tasks(db, child.id)] == [("Pak op", "procesregisseur")]
    assert audit_actions(db, first.instance.id)[-1] == "handover"


def test_handover__without_a_receiver_nothing_is_saved(
    db: Database, runtime: Runtime, make_user: UserFactory, sender: str
) -> None:
    anna = make_user("anna")
    first = start(db, runtime, sender, anna)

    with pytest.raises(ConfigurationError, match="geen uitgerold proces start bij bericht 'start_vervolg'"):
        complete(db, runtime, first.next_tasks[0].id, anna, {"besluit": "procesregie"})

    assert instance_row(db, first.instance.id).status == "running"
    assert len(open_tasks(db, first.instance.id)) == 1


def test_handover__a_message_started_process_cannot_be_started_by_hand(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy(db, write(tmp_path, "receiver.bpmn", RECEIVER))

    with pytest.raises(PermissionDenied, match="door een ander proces gestart"):
        start(db, runtime, "receiver", make_user("pim", "procesregisseur"))


def test_start_form__start_data_is_validated_with_the_start_events_form(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "definities.json", {"$defs": {"bsn": {"type": "string", "format": "bsn"}}})
    write(
        tmp_path,
        "melding.json",
        {"type": "object", "required": ["bsn"], "properties": {"bsn": {"$ref": "definities.json#/$defs/bsn"}}},
    )
    xml = linear(user_task("T1", "Behandel")).replace(
        '<bpmn:startEvent id="S"/>',
        '<bpmn:startEvent id="S"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="melding.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>",
    )
    deploy(db, write(tmp_path, "m.bpmn", xml))
    anna = make_user("anna")

    with pytest.raises(InvalidInput) as caught:
        start(db, runtime, "test_process", anna, {"bsn": "123456789"})
    outcome = start(db, runtime, "test_process", anna, {"bsn": "111222333"})

    assert caught.value.fields == {"bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."]}
    with db.reader() as session:
        assert runtime.load(session, outcome.instance.id).current_data()["bsn"] == "111222333"


def test_handover__a_process_with_both_start_events_starts_by_hand_or_by_message(
    db: Database, runtime: Runtime, make_user: UserFactory, sender: str, tmp_path: Path
) -> None:
    dual = RECEIVER.replace(
        '<bpmn:startEvent id="S">',
        '<bpmn:startEvent id="Hand"/>'
        + user_task("T0", "Eigen melding")
        + '<bpmn:endEvent id="E0"/>'
        + flow("H1", "Hand", "T0")
        + flow("H2", "T0", "E0")
        + '<bpmn:startEvent id="S">',
    ).replace(
        "<bpmn:flowNodeRef>T1</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>T1</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>Hand</bpmn:flowNodeRef><bpmn:flowNodeRef>T0</bpmn:flowNodeRef>",
    )
    deploy(db, write(tmp_path, "receiver.bpmn", dual))
    anna, pim = make_user("anna"), make_user("pim", "procesregisseur")

    by_hand = start(db, runtime, "receiver", pim)
    first = start(db, runtime, sender, anna)
    complete(db, runtime, first.next_tasks[0].id, anna, {"besluit": "procesregie"})

    assert [t.name for t in by_hand.next_tasks] == ["Eigen melding"]
    with db.reader() as session:
        child = session.scalars(select(Instance).where(Instance.parent_instance_id == first.instance.id)).one()
    assert [t.name for t in open_tasks(db, child.id)] == ["Pak op"]
    assert instance_row(db, by_hand.instance.id).next_timer_due_at is None


def test_starter_lane__tasks_go_to_the_person_who_started_the_case(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    xml = linear(
        user_task("T1", "Vul aanmelding aan"), process_id="eigen", lanes={"Melder": ["S"], "Starter": ["T1", "E"]}
    )
    deploy(db, write(tmp_path, "e.bpmn", xml))
    mila, max_ = make_user("mila", "melder"), make_user("max", "melder")

    outcome = start(db, runtime, "eigen", mila)

    assert [(t.name, t.role) for t in outcome.next_tasks] == [("Vul aanmelding aan", None)]
    with db.reader() as session:
        assert list_tasks(session, user=max_).total == 0, "another melder does not see it"


def test_gateway_properties__conditions_read_the_gateways_own_settings(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(tmp_path, "aantal.json", {"type": "object", "properties": {"aantal": {"type": "integer"}}})
    settings = (
        '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="grens" value="3"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Tel", "aantal")
        + f'<bpmn:exclusiveGateway id="G" default="Laag">{settings}</bpmn:exclusiveGateway>'
        + user_task("Hoog", "Veel")
        + user_task("Weinig", "Weinig")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "G")
        + flow("Boven", "G", "Hoog", "aantal > int(grens)")
        + flow("Laag", "G", "Weinig")
        + flow("F3", "Hoog", "E1")
        + flow("F4", "Weinig", "E2")
    )
    deploy(db, write(tmp_path, "g.bpmn", process(body, process_id="grens")))
    anna = make_user("anna")

    high = complete(db, runtime, start(db, runtime, "grens", anna).next_tasks[0].id, anna, {"aantal": 5})
    low = complete(db, runtime, start(db, runtime, "grens", anna).next_tasks[0].id, anna, {"aantal": 2})

    assert high.instance.error_message is None
    assert [t.name for t in high.next_tasks] == ["Veel"]
    assert [t.name for t in low.next_tasks] == ["Weinig"]


def test_start_form__also_in_a_process_that_can_start_by_message(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "melding.json",
        {"type": "object", "required": ["gemeente"], "properties": {"gemeente": {"type": "string"}}},
    )
    dual = RECEIVER.replace(
        '<bpmn:startEvent id="S">',
        '<bpmn:startEvent id="Hand"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="melding.json"/></spiffworkflow:properties>'
        "</bpmn:extensionElements></bpmn:startEvent>" + flow("H1", "Hand", "T1") + '<bpmn:startEvent id="S">',
    ).replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
    )
    deploy(db, write(tmp_path, "receiver.bpmn", dual))

    outcome = start(db, runtime, "receiver", make_user("pim", "procesregisseur"), {"gemeente": "Altena"})

    assert outcome.instance.gemeente == "Altena"


def test_drafts__go_when_their_task_is_completed(
    db: Database, runtime: Runtime, make_user: UserFactory, bench_process: str
) -> None:
    from engine.drafts import load_draft, save_draft
    from engine.models import Draft

    anna = make_user("anna")
    task_id = start(db, runtime, bench_process, anna).next_tasks[0].id
    with db.transaction() as session:
        save_draft(session, task_id=task_id, user=anna, data={"field1": "half"}, at=START)
    with db.reader() as session:
        assert load_draft(session, task_id=task_id, user=anna) is not None

    complete(db, runtime, task_id, anna, {"field1": "klaar"})

    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
