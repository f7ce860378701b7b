"""The case facts a task needs (engine.context): chosen steps and fields, the previous round, timers, escalations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.context import TaskContext, parse_context, parse_repeat, task_context, waiting_timers
from engine.db import Database
from engine.errors import DeploymentRefused
from engine.models import User
from engine.privacy.visibility import REDACTED
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.engine.bpmn import flow, process, user_task, write
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver, days
from tests.processes.test_aanmelding_triage import AANMELDING, TERUGKOPPELING, to_triage, triage
from tests.processes.test_bij import MELDING as BIJ_MELDING


@pytest.fixture
def driver(db: Database, runtime: Runtime, clock: FixedClock) -> ProcessDriver:
    with db.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])
    return ProcessDriver(db, runtime, clock)


def context_of(driver: ProcessDriver, instance: int, element: str, viewer: User) -> tuple[TaskContext, Any]:
    task_id = driver.task(instance, element).id
    with driver.db.reader() as session:
        loaded = driver.runtime.load(session, instance)
        task = loaded.find_task(task_id)
        return task_context(session, loaded, task, viewer, now=driver.clock.now()), task


def test_parse__steps_and_fields_and_what_is_refused() -> None:
    items = parse_context("Start_aanmelding, Task_verrijken ,veld:aanvulrondes")

    assert [(i.kind, i.ref) for i in items] == [
        ("step", "Start_aanmelding"),
        ("step", "Task_verrijken"),
        ("field", "aanvulrondes"),
    ]
    for malformed in ("Task_a,,Task_b", "veld:", "veld:a b", "Task a", "<script>"):
        with pytest.raises(ValueError, match="context"):
            parse_context(malformed)
    assert parse_repeat(None) == "leeg" and parse_repeat("vooringevuld") == "vooringevuld"
    with pytest.raises(ValueError, match="herhaling"):
        parse_repeat("ja")


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ('<spiffworkflow:property name="context" value="Task_bestaat_niet"/>', "Task_bestaat_niet"),
        ('<spiffworkflow:property name="context" value="veld:onbekend"/>', "veld:onbekend"),
        ('<spiffworkflow:property name="context" value="T1,,T1"/>', "empty entry"),
        ('<spiffworkflow:property name="herhaling" value="soms"/>', "herhaling"),
    ],
)
def test_deploy__an_unknown_step_or_field_or_a_malformed_value_is_refused_on_its_element(
    tmp_path: Path, db: Database, properties: str, problem: str
) -> None:
    write(tmp_path, "f.json", {"type": "object", "properties": {"besluit": {"type": "string", "title": "Besluit"}}})
    second = user_task("T2", "Tweede", "f").replace(
        "</spiffworkflow:properties>", f"{properties}</spiffworkflow:properties>"
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Eerste", "f")
        + second
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E")
    )
    path = write(tmp_path, "p.bpmn", process(body, process_id="p"))

    with db.transaction() as session, pytest.raises(DeploymentRefused) as refused:
        deploy_file(session, path, actor="tests", search_paths=[FORMS])

    assert [(p.element, problem in p.message) for p in refused.value.problems] == [("T2", True)]


def test_deploy__a_valid_context_deploys(tmp_path: Path, db: Database) -> None:
    write(tmp_path, "f.json", {"type": "object", "properties": {"besluit": {"type": "string", "title": "Besluit"}}})
    second = user_task("T2", "Tweede", "f").replace(
        "</spiffworkflow:properties>",
        '<spiffworkflow:property name="context" value="S, T1, veld:besluit"/></spiffworkflow:properties>',
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Eerste", "f")
        + second
        + '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E")
    )
    with db.transaction() as session:
        assert deploy_file(session, write(tmp_path, "p.bpmn", process(body, process_id="p")), actor="t").created


def test_context__the_completeness_check_shows_the_referral_and_the_second_round_the_previous_decision(
    driver: ProcessDriver,
) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screener = driver.user("screener")

    first, task = context_of(driver, instance, "Task_volledigheid", screener)

    referral = first.steps[0]
    assert (referral.element_id, referral.name, referral.actor) == (
        "Start_aanmelding",
        "Aanmelding ingediend",
        "Test melder",
    )
    assert referral.values["aanleiding"] == AANMELDING["aanleiding"] and referral.at is not None
    assert first.previous_round is None and first.escalation is None
    assert "context" not in task.data, "the property is no process data"

    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."})
    driver.clock.advance(timedelta(hours=2))
    driver.complete(instance, "Task_aanvullen", {**AANMELDING, "doel_casusoverleg": "Aangevuld."})
    second, _ = context_of(driver, instance, "Task_volledigheid", screener)
    assert not {"context", "herhaling"} & set(driver.data(instance)), "a postScript on the task keeps them out of data"

    assert [step.name for step in second.steps] == ["Aanmelding ingediend", "Aanmelding aanvullen"]
    assert second.steps[1].values["doel_casusoverleg"] == "Aangevuld." and second.steps[1].actor == "Test melder"
    previous = second.previous_round
    assert previous is not None and previous.actor == "Test screener"
    assert previous.values == {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."}


def test_context__every_round_shows_what_was_submitted_also_the_same_value_again(driver: ProcessDriver) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    decision = {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."}
    for _ in range(2):
        driver.complete(instance, "Task_volledigheid", decision)
        driver.complete(instance, "Task_aanvullen", AANMELDING)
    driver.complete(instance, "Task_volledigheid", decision)

    context, _ = context_of(driver, instance, "Task_afwijzen_onvolledig", driver.user("screener"))

    checks = [step for step in context.steps if step.element_id == "Task_volledigheid"]
    assert [step.values for step in checks] == [decision, decision, decision]
    additions = [step for step in context.steps if step.element_id == "Task_aanvullen"]
    assert [step.values["aanleiding"] for step in additions] == [AANMELDING["aanleiding"]] * 2


def test_context__classified_values_are_shown_as_afgeschermd_to_a_viewer_without_the_class(
    driver: ProcessDriver, make_user: Any
) -> None:
    with driver.db.transaction() as session:
        deploy_file(session, PROCESSES / "bij.bpmn", actor="tests", search_paths=[FORMS])
    instance = driver.start("bij", BIJ_MELDING, as_role="re_integratiecoordinator")
    gemeente = make_user("gerda", "reclassering", organisation="gemeente", gemeenten=("breda",))
    justice = make_user("rik", "reclassering", organisation="reclassering")

    hidden, _ = context_of(driver, instance, "Task_reclasseringsinput", gemeente)
    shown, _ = context_of(driver, instance, "Task_reclasseringsinput", justice)

    assert hidden.steps[0].values["delictcategorie"] == REDACTED
    assert shown.steps[0].values["delictcategorie"] == BIJ_MELDING["delictcategorie"]
    assert hidden.steps[0].values["gemeente"] == BIJ_MELDING["gemeente"], "only the classified field is hidden"


def test_timers__the_case_waits_for_the_feedback_deadline_guarding_its_step(driver: ProcessDriver) -> None:
    instance = to_triage(driver)
    driver.complete(instance, "Task_triage", triage("afwijzen_advies", advies="Eerst het wijkteam."))

    with driver.db.reader() as session:
        timers = waiting_timers(driver.runtime.load(session, instance))

    assert [(t.element_id, t.name, t.guards) for t in timers] == [
        ("Timer_terugkoppeling", "Termijn verstreken", "Terugkoppelen aan melder")
    ]
    assert timers[0].due_at is not None and timers[0].due_at > driver.clock.now()


def test_escalation__says_what_is_late_since_when_and_who_holds_it(driver: ProcessDriver) -> None:
    instance = to_triage(driver)
    driver.complete(instance, "Task_triage", triage("afwijzen_advies", advies="Eerst het wijkteam."))
    driver.advance(days(8))
    fired_at = driver.clock.now()

    context, _ = context_of(driver, instance, "Task_escalatie_terugkoppeling", driver.user("manager"))

    escalation = context.escalation
    assert escalation is not None
    assert escalation.late_step == "Terugkoppelen aan melder" and escalation.since == fired_at
    assert [(t.name, t.role) for t in escalation.late_tasks] == [("Terugkoppelen aan melder", "screener")]
    assert [step.name for step in context.steps] == ["Triage en besluit"]
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)


def test_names__a_loop_marker_step_is_named_by_its_name_not_its_id() -> None:
    from types import SimpleNamespace

    from engine.bundles import collect_bundle
    from engine.context import element_names
    from engine.registry import _loaded_from
    from engine.validation import validate_bundle

    bundle = collect_bundle(PROCESSES / "mensenhandel_zorgcoordinatie.bpmn", search_paths=[FORMS])
    loaded: Any = SimpleNamespace(version=_loaded_from(validate_bundle(bundle)))

    assert element_names(loaded)["Task_monitoring"] == "Monitoren en evalueren"
