"""Norms, deadlines from sub-processes, and the stalled / overdue / incident scan — from indexed columns only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.access import may_view
from engine.bundles import collect_bundle
from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import DeploymentRefused, InvalidInput, PermissionDenied
from engine.models import AuditEvent, HumanTask, Instance
from engine.monitor import MonitorFilter, Norm, add_working_days, monitor_counts, monitor_rows, parse_norm
from engine.monitor.actions import add_note, escalate, open_case
from engine.registry import _loaded_from
from engine.runtime import Runtime
from engine.validation import validate_bundle
from tests.conftest import AMSTERDAM, START, UserFactory
from tests.engine.bpmn import flow, linear, process, user_task, write
from tests.engine.test_runtime import complete, deploy, open_tasks, start

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
FORMS = Path(__file__).resolve().parents[2] / "forms"


def with_process_norm(xml: str, **properties: str) -> str:
    """Put `spiffworkflow:properties` on the process element (process-level settings come first in it)."""
    props = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in properties.items())
    extension = (
        f"<bpmn:extensionElements><spiffworkflow:properties>{props}</spiffworkflow:properties></bpmn:extensionElements>"
    )
    return xml.replace('isExecutable="true">', f'isExecutable="true">{extension}', 1)


def normed_task(task_id: str, name: str, **properties: str) -> str:
    """A user task with `spiffworkflow:properties` (its norm)."""
    props = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in properties.items())
    extension = (
        f"<bpmn:extensionElements><spiffworkflow:properties>{props}</spiffworkflow:properties></bpmn:extensionElements>"
    )
    return user_task(task_id, name, extra=extension)


# --- norms ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({}, None),
        ({"norm": "P5D"}, Norm(duration="P5D")),
        ({"norm": "pt4h"}, Norm(duration="PT4H")),
        ({"norm_werkdagen": "3"}, Norm(working_days=3)),
        ({"norm": "P2W", "norm_werkdagen": "ja"}, Norm(working_days=10)),
    ],
)
def test_parse_norm__reads_durations_and_working_days(properties: dict[str, str], expected: Norm | None) -> None:
    assert parse_norm(properties) == expected


@pytest.mark.parametrize(
    "properties",
    [{"norm": "5 dagen"}, {"norm": "P5X"}, {"norm_werkdagen": "soms"}, {"norm": "PT4H", "norm_werkdagen": "ja"}],
)
def test_parse_norm__refuses_what_it_cannot_read(properties: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="norm"):
        parse_norm(properties)


def test_working_days__skip_weekends_and_dutch_public_holidays() -> None:
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=AMSTERDAM)
    assert add_working_days(friday, 1) == datetime(2026, 3, 9, 16, 0, tzinfo=AMSTERDAM)
    # Thursday 2 April 2026 + 2 working days: Good Friday is a working day, Easter Monday (6 April) is not.
    assert add_working_days(datetime(2026, 4, 2, 9, 0, tzinfo=AMSTERDAM), 2) == datetime(
        2026, 4, 7, 9, 0, tzinfo=AMSTERDAM
    )
    # King's Day 2026 is Monday 27 April; Christmas 25 and 26 December.
    assert add_working_days(datetime(2026, 4, 24, 9, 0, tzinfo=AMSTERDAM), 1) == datetime(
        2026, 4, 28, 9, 0, tzinfo=AMSTERDAM
    )
    assert add_working_days(datetime(2025, 12, 24, 9, 0, tzinfo=AMSTERDAM), 1) == datetime(
        2025, 12, 29, 9, 0, tzinfo=AMSTERDAM
    )


def test_deploy__refuses_a_malformed_norm_on_its_element(db: Database, tmp_path: Path) -> None:
    xml = linear(normed_task("T1", "Beoordelen", norm="vijf dagen"), process_id="kapot")
    with pytest.raises(DeploymentRefused) as refused:
        deploy(db, write(tmp_path, "kapot.bpmn", xml))
    assert [(p.element, "ISO 8601" in p.message) for p in refused.value.problems] == [("T1", True)]


def test_zvh_processes__carry_norms_where_the_seed_gives_them() -> None:
    def norms(key: str) -> tuple[Any, dict[str, str]]:
        loaded = _loaded_from(validate_bundle(collect_bundle(PROCESSES / f"{key}.bpmn", search_paths=[FORMS])))
        return loaded.process_norm, {task: norm.label for (_, task), norm in loaded.step_norms.items()}

    triage_norm, triage_steps = norms("aanmelding_triage")
    assert triage_norm == Norm(duration="P7D")  # weekly triage table
    assert triage_steps["Task_terugkoppeling"] == "5 werkdagen"  # feedback to the melder
    assert triage_steps["Task_volledigheid"] == "P7D"  # the process default
    _, procesregie_steps = norms("procesregie")
    assert procesregie_steps["Task_voorbereiden"] == "P3W"  # first overleg within 2-4 weeks
    assert procesregie_steps["Task_escalatie_eerste_overleg"] == "P2D"  # escalations have a norm of their own
    _, datalek_steps = norms("datalek")
    assert datalek_steps["Task_risico"] == "PT24H"  # the 72-hour reporting window


# --- the projection carries norms and deadlines -----------------------------------------------------------


@pytest.fixture
def normed_process(db: Database, tmp_path: Path) -> str:
    xml = with_process_norm(
        linear(
            normed_task("T1", "Intake", norm="PT4H"),
            user_task("T2", "Beoordelen"),
            normed_task("T3", "Terugkoppelen", norm_werkdagen="2"),
            process_id="genormeerd",
        ),
        norm="P5D",
    )
    deploy(db, write(tmp_path, "genormeerd.bpmn", xml))
    return "genormeerd"


def test_projection__a_task_gets_its_own_norm_or_the_process_default(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str
) -> None:
    mila = make_user("mila")
    instance = start(db, runtime, normed_process, mila).instance.id
    [t1] = open_tasks(db, instance)

    complete(db, runtime, t1.id, mila)
    clock.set(datetime(2026, 3, 6, 15, 0, tzinfo=AMSTERDAM))  # a Friday
    [t2] = open_tasks(db, instance)
    complete(db, runtime, t2.id, mila)
    [t3] = open_tasks(db, instance)

    with db.reader() as session:
        rows = {row.element_id: row for row in session.scalars(select(HumanTask))}
        stored = session.get(Instance, instance)
        assert stored is not None
        assert stored.stall_at == datetime(2026, 3, 11, 15, 0, tzinfo=AMSTERDAM)  # last progress + P5D
    assert rows["T3"].norm == "2 werkdagen"
    assert rows["T3"].norm_due_at == datetime(2026, 3, 10, 15, 0, tzinfo=AMSTERDAM)
    assert t3.element_id == "T3"


def test_projection__a_deadline_on_a_sub_process_is_the_due_date_of_the_tasks_inside(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    inner = (
        '<bpmn:startEvent id="SS"/>'
        + user_task("A", "Stap binnen")
        + '<bpmn:endEvent id="SE"/>'
        + flow("SF1", "SS", "A")
        + flow("SF2", "A", "SE")
    )
    body = (
        '<bpmn:startEvent id="S"/>'
        f'<bpmn:subProcess id="Sub" name="Fase">{inner}</bpmn:subProcess>'
        '<bpmn:boundaryEvent id="Deadline" attachedToRef="Sub" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        "</bpmn:boundaryEvent>"
        + user_task("Esc", "Fase te laat")
        + '<bpmn:endEvent id="E"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "Sub")
        + flow("F2", "Sub", "E")
        + flow("F3", "Deadline", "Esc")
        + flow("F4", "Esc", "E2")
    )
    deploy(db, write(tmp_path, "fase.bpmn", process(body, process_id="fase")))
    instance = start(db, runtime, "fase", make_user("mila")).instance.id

    [task] = open_tasks(db, instance)

    assert task.element_id == "A"
    assert task.due_at == START.astimezone(UTC) + timedelta(days=3)


# --- the scan ---------------------------------------------------------------------------------------------


def test_scan__lists_tasks_past_their_norm_and_deadlines_within_the_window(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str, tmp_path: Path
) -> None:
    mila = make_user("mila")
    instance = start(db, runtime, normed_process, mila, {}).instance.id

    with db.reader() as session:
        assert monitor_rows(session, now=clock.now() + timedelta(hours=3)) == []
        [row] = monitor_rows(session, now=clock.now() + timedelta(hours=5))
        counts = monitor_counts(session, now=clock.now() + timedelta(hours=5))

    assert (row.category, row.reason, row.instance_id, row.element_id, row.step) == (
        "stalled",
        "task_norm",
        instance,
        "T1",
        "Intake",
    )
    assert row.norm == "PT4H"
    assert row.waiting_since == START.astimezone(UTC)
    assert row.assignee is None and row.role is None
    assert counts.by_category == {"stalled": 1}
    assert counts.by_step == {("genormeerd", "T1"): 1}
    assert counts.step_names == {("genormeerd", "T1"): "Intake"}


def test_scan__an_instance_with_no_task_and_no_timer_past_its_norm_is_stalled(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Vastleggen")
        + '<bpmn:intermediateCatchEvent id="Wacht" name="Bericht afwachten">'
        '<bpmn:messageEventDefinition messageRef="Bericht"/></bpmn:intermediateCatchEvent>'
        '<bpmn:endEvent id="E"/>' + flow("F1", "S", "T1") + flow("F2", "T1", "Wacht") + flow("F3", "Wacht", "E")
    )
    xml = with_process_norm(process(body, process_id="wachten"), norm="P10D").replace(
        "<bpmn:process ", '<bpmn:message id="Bericht" name="bericht"/><bpmn:process ', 1
    )
    deploy(db, write(tmp_path, "wachten.bpmn", xml))
    mila = make_user("mila")
    instance = start(db, runtime, "wachten", mila).instance.id
    [task] = open_tasks(db, instance)
    complete(db, runtime, task.id, mila)

    with db.reader() as session:
        before = monitor_rows(session, now=clock.now() + timedelta(days=9))
        after = monitor_rows(session, now=clock.now() + timedelta(days=11))

    assert before == []
    assert [(r.category, r.reason, r.instance_id, r.step) for r in after] == [
        ("stalled", "instance_norm", instance, None)
    ]


def test_scan__overdue_near_and_passed_deadlines_and_a_timer_nobody_fired(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Besluiten")
        + '<bpmn:boundaryEvent id="Termijn" attachedToRef="T1" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        "</bpmn:boundaryEvent>"
        + user_task("Esc", "Besluit te laat")
        + '<bpmn:endEvent id="E"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "E")
        + flow("F3", "Termijn", "Esc")
        + flow("F4", "Esc", "E2")
    )
    deploy(db, write(tmp_path, "termijn.bpmn", process(body, process_id="termijn")))
    instance = start(db, runtime, "termijn", make_user("mila")).instance.id
    due = START.astimezone(UTC) + timedelta(days=5)

    with db.reader() as session:
        soon = monitor_rows(session, now=due - timedelta(days=1), filters=MonitorFilter(category="overdue"))
        late = monitor_rows(session, now=due + timedelta(minutes=10), filters=MonitorFilter(category="overdue"))

    assert [(r.reason, r.due_at) for r in soon] == [("deadline_near", due)]
    # Past due and the timer job did not run: the task is late, and so is the timer.
    assert sorted((r.reason, r.instance_id) for r in late) == [
        ("deadline_passed", instance),
        ("timer_not_fired", instance),
    ]


def test_scan__incidents_carry_the_element_and_message(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    script = '<bpmn:scriptTask id="T2" name="Rekenen"><bpmn:script>uitkomst = 1 / 0</bpmn:script></bpmn:scriptTask>'
    deploy(db, write(tmp_path, "fout.bpmn", linear(user_task("T1", "Invoeren"), script, process_id="fout")))
    mila = make_user("mila")
    instance = start(db, runtime, "fout", mila).instance.id
    [task] = open_tasks(db, instance)
    complete(db, runtime, task.id, mila)

    with db.reader() as session:
        [row] = monitor_rows(session, now=clock.now(), filters=MonitorFilter(category="incident"))

    assert (row.reason, row.instance_id, row.element_id) == ("error", instance, "T2")
    assert "division by zero" in (row.message or "")


def test_scan__filters_by_process_gemeente_and_role(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str, tmp_path: Path
) -> None:
    mila = make_user("mila")
    start(db, runtime, normed_process, mila)
    later = clock.now() + timedelta(days=30)

    with db.reader() as session:
        assert len(monitor_rows(session, now=later, filters=MonitorFilter(process="genormeerd"))) == 1
        assert monitor_rows(session, now=later, filters=MonitorFilter(process="ander_proces")) == []
        assert monitor_rows(session, now=later, filters=MonitorFilter(gemeente="Zundert")) == []
        assert monitor_rows(session, now=later, filters=MonitorFilter(role="manager")) == []


def test_filter__from_untrusted_input_falls_back_to_all() -> None:
    filters = MonitorFilter.from_dict({"categorie": "alles", "proces": "x\x00y", "sorteer": "willekeurig"})
    assert (filters.category, filters.process, filters.sort) == (None, None, "since")


# --- actions ----------------------------------------------------------------------------------------------


def test_actions__only_for_managers_and_coordinators(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str
) -> None:
    mila = make_user("mila")
    instance = start(db, runtime, normed_process, mila).instance.id

    with pytest.raises(PermissionDenied), db.transaction() as session:
        add_note(session, instance_id=instance, actor=mila, text="Mag niet", at=clock.now())


def test_actions__note_and_open_case_are_logged_and_give_need_to_know(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str
) -> None:
    mila, manon = make_user("mila"), make_user("manon", "manager")
    instance = start(db, runtime, normed_process, mila).instance.id

    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        open_case(session, instance_id=instance, actor=manon, reason="   ", at=clock.now())
    assert refused.value.fields == {"reden": ["Dit veld is verplicht."]}
    with db.transaction() as session:
        assert not may_view(session, manon, instance)
        add_note(session, instance_id=instance, actor=manon, text="Gebeld met de screener.", at=clock.now())
        open_case(session, instance_id=instance, actor=manon, reason="Stagnatie onderzoeken", at=clock.now())
    with db.reader() as session:
        assert may_view(session, manon, instance, at=clock.now())
        assert not may_view(session, manon, instance, at=clock.now() + timedelta(days=1, seconds=1)), "for a day"
        events = session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.instance_id == instance)
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events][-2:] == [("note", "manon"), ("noodtoegang", "manon")]


def test_escalate__starts_a_task_for_the_procesregisseur_in_the_same_case(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, normed_process: str
) -> None:
    deploy(db, PROCESSES / "bewaking_escalatie.bpmn", search_paths=[FORMS])
    mila, manon, pia = make_user("mila"), make_user("manon", "manager"), make_user("pia", "procesregisseur")
    case = start(db, runtime, normed_process, mila).instance

    with db.transaction() as session:
        escalation = escalate(
            session, runtime, instance_id=case.id, actor=manon, reason="Ligt al een week stil", step="Intake"
        )
        escalation_id = escalation.id

    [task] = open_tasks(db, escalation_id)
    assert (task.element_id, task.role, task.case_number) == ("Task_vlottrekken", "procesregisseur", case.case_number)
    with db.reader() as session:
        row = session.get(HumanTask, task.id)
        assert row is not None and row.norm == "P2D"
        child = session.get(Instance, escalation_id)
        assert child is not None and child.parent_instance_id == case.id
    complete(db, runtime, task.id, pia, {"genomen_actie": "Screener gebeld; intake vandaag afgerond."})
    assert open_tasks(db, escalation_id) == []


def test_cli_monitor__prints_the_rows_as_json(
    db: Database,
    runtime: Runtime,
    clock: FixedClock,
    make_user: UserFactory,
    normed_process: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = start(db, runtime, normed_process, make_user("mila")).instance.id
    monkeypatch.setenv("ZVH_DATABASE_URL", str(db.engine.url.render_as_string(hide_password=False)))

    result = CliRunner().invoke(main, ["monitor", "--now", "2026-03-02T14:00:00+01:00", "--json"])
    quiet = CliRunner().invoke(main, ["monitor", "--now", "2026-03-02T12:00:00+01:00"])
    bad = CliRunner().invoke(main, ["monitor", "--now", "gisteren"])

    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["instance_id"], row["element_id"], row["reason"], row["norm"]) == (instance, "T1", "task_norm", "PT4H")
    assert quiet.output.strip() == "Nothing stalled, overdue or failing."
    assert bad.exit_code == 1
