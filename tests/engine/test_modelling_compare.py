"""Comparing versions element by element, in words, and the impact of a change on the cases that wait."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete

from engine.bundles import Bundle, collect_bundle
from engine.clock import FixedClock
from engine.db import Database
from engine.modelling import (
    Comparison,
    ElementChange,
    compare_draft,
    compare_files,
    compare_versions,
    impact,
    save_draft,
    start_draft,
)
from engine.models import HumanTask, Instance, User
from engine.registry import deploy_bundle
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.test_modelling_drafts import DATALEK, FORMS, MIWG, PROCESSES, deploy_process, edit
from tests.processes.test_datalek import MELDING

LIVE = collect_bundle(PROCESSES / "datalek.bpmn", search_paths=[FORMS])


def changed_to(xml: str, **files: dict[str, str]) -> Comparison:
    new = {**LIVE.as_files(), "bpmn": {"datalek.bpmn": xml}, **files}
    return compare_files(LIVE.as_files(), new, main_file="datalek.bpmn")


def only_change(comparison: Comparison) -> ElementChange:
    assert not comparison.added and not comparison.removed and not comparison.layout
    [change] = comparison.changed
    return change


def without_task_inperken(xml: str) -> str:
    """Task_inperken and everything that hangs on it gone, its flows rewired (start → risk assessment)."""
    xml = re.sub(r'\s*<bpmn:userTask id="Task_inperken".*?</bpmn:userTask>', "", xml, flags=re.S)
    xml = re.sub(r'\s*<bpmn:boundaryEvent id="Timer_inperken".*?</bpmn:boundaryEvent>', "", xml, flags=re.S)
    xml = edit(xml, "<bpmn:flowNodeRef>Task_inperken</bpmn:flowNodeRef>", "")
    xml = edit(
        xml,
        'sourceRef="Task_inperken" targetRef="Task_risico"',
        'sourceRef="Script_ap_termijn" targetRef="Task_risico"',
    )
    return edit(
        xml,
        'sourceRef="Script_ap_termijn" targetRef="Task_inperken"',
        'sourceRef="Script_ap_termijn" targetRef="End_geregistreerd"',
    )


# --- compare_files ---------------------------------------------------------------------------------------------


def test_compare__the_same_files_have_no_changes() -> None:
    comparison = changed_to(DATALEK)

    assert comparison.unchanged and not comparison.code_changed


def test_compare__a_new_name_is_said_in_words_and_is_no_code() -> None:
    change = only_change(changed_to(edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"')))

    assert (change.element_id, change.element_type, change.name) == ("Task_inperken", "userTask", "Incident beperken")
    assert change.details == ["naam: 'Incident inperken' → 'Incident beperken'"]


def test_compare__a_changed_script_is_code() -> None:
    comparison = changed_to(edit(DATALEK, "dagen = 0", "dagen = 1"))

    assert only_change(comparison).details == ["script gewijzigd"]
    assert comparison.code_changed


def test_compare__a_changed_post_script_is_code() -> None:
    comparison = changed_to(edit(DATALEK, "escalatie_al_gemeld = now()", "escalatie_al_gemeld = True or now()"))

    assert only_change(comparison).details == ["script achteraf gewijzigd"]
    assert comparison.code_changed


def test_compare__a_changed_timer_is_code() -> None:
    xml = edit(
        DATALEK,
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">ap_deadline</bpmn:timeDate>',
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P3D"</bpmn:timeDuration>',
    )

    comparison = changed_to(xml)

    change = only_change(comparison)
    assert change.element_id == "Timer_inperken"
    assert change.details == ["timer: 'ap_deadline' → '\"P3D\"'", "timersoort: timeDate → timeDuration"]
    assert comparison.code_changed


def test_compare__a_changed_condition_is_code() -> None:
    comparison = changed_to(edit(DATALEK, 'risico == "hoog_risico"', 'risico != "geen"'))

    assert only_change(comparison).details == ["voorwaarde: 'risico == \"hoog_risico\"' → 'risico != \"geen\"'"]
    assert comparison.code_changed


def test_compare__a_property_form_and_lane_are_named_and_are_no_code() -> None:
    xml = edit(
        DATALEK,
        '<spiffworkflow:property name="norm" value="PT24H"/>',
        '<spiffworkflow:property name="norm" value="PT48H"/>',
    )
    xml = edit(xml, 'value="datalek_inperking.json"', 'value="datalek_risico.json"')
    xml = edit(xml, "<bpmn:flowNodeRef>Task_inperken</bpmn:flowNodeRef>", "")
    xml = edit(
        xml,
        "<bpmn:flowNodeRef>End_escalatie</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>End_escalatie</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_inperken</bpmn:flowNodeRef>",
    )

    comparison = changed_to(xml)

    details = {change.element_id: change.details for change in comparison.changed}
    assert details == {
        "datalek": ["eigenschap norm: PT24H → PT48H"],
        "Task_inperken": [
            "baan: Privacyfunctionaris → Manager",
            "formulier: datalek_inperking.json → datalek_risico.json",
        ],
    }
    assert not comparison.code_changed


def test_compare__an_added_and_a_removed_task_are_listed_by_id() -> None:
    added_task = '<bpmn:userTask id="Task_nieuw" name="Nieuwe stap"><bpmn:script>x = 1</bpmn:script></bpmn:userTask>'
    xml = edit(without_task_inperken(DATALEK), "</bpmn:process>", f"{added_task}</bpmn:process>")

    comparison = changed_to(xml)

    assert [(c.element_id, c.element_type, c.name) for c in comparison.added] == [
        ("Task_nieuw", "userTask", "Nieuwe stap")
    ]
    assert {c.element_id for c in comparison.removed} == {"Task_inperken", "Timer_inperken"}
    assert {c.element_id: c.details for c in comparison.changed}["Flow_termijn"] == [
        "naar: Task_inperken → End_geregistreerd"
    ]


def test_compare__a_moved_shape_is_layout_only() -> None:
    shape = re.search(r'<bpmndi:BPMNShape id="Task_evaluatie_di"[^>]*>\s*<dc:Bounds x="(\d+)"', DATALEK)
    assert shape is not None
    moved = DATALEK[: shape.start(1)] + str(int(shape.group(1)) + 40) + DATALEK[shape.end(1) :]

    comparison = changed_to(moved)

    assert not (comparison.added or comparison.removed or comparison.changed or comparison.code_changed)
    assert [(c.element_id, c.change, c.details) for c in comparison.layout] == [
        ("Task_evaluatie", "layout", ["verplaatst of van grootte veranderd"])
    ]


def test_compare__lists_changed_forms_and_a_changed_decision_table_is_code() -> None:
    forms = {**LIVE.forms, "datalek_risico.json": LIVE.forms["datalek_risico.json"].replace("Risico", "Risiko")}

    comparison = changed_to(DATALEK, forms=forms, dmn={"besluit.dmn": "<definitions/>"})

    assert comparison.forms_changed == ["datalek_risico.json"]
    assert [(c.element_id, c.element_type, c.details) for c in comparison.added] == [
        ("besluit.dmn", "dmn", ["beslistabel toegevoegd"])
    ]
    assert comparison.code_changed


def test_compare__as_dict_is_json() -> None:
    comparison = changed_to(edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"'))

    data = json.loads(json.dumps(comparison.as_dict()))

    assert data["changed"][0]["element_id"] == "Task_inperken" and data["code_changed"] is False


# --- versions and drafts in the database -------------------------------------------------------------------------


@pytest.fixture
def anna(make_user: UserFactory) -> User:
    return make_user("anna", "procesbeheerder")


def test_compare_versions__two_versions_from_the_history(db: Database, clock: FixedClock) -> None:
    deploy_process(db)
    bundle = Bundle(
        main="datalek.bpmn", bpmn={"datalek.bpmn": edit(DATALEK, "dagen = 0", "dagen = 1")}, forms=LIVE.forms
    )
    with db.transaction() as session:
        deploy_bundle(session, bundle, actor="ontwikkelaar", clock=clock)

    with db.reader() as session:
        forward = compare_versions(session, process_key="datalek", left=1, right=2)
        same = compare_versions(session, process_key="datalek", left=2, right=2)

    assert [c.element_id for c in forward.changed] == ["Script_ap_termijn"] and forward.code_changed
    assert same.unchanged


def test_compare_draft__against_the_live_version(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    with db.transaction() as session:
        draft = start_draft(session, process_key="datalek", actor=anna, at=clock.now())
        save_draft(
            session,
            draft_id=draft.id,
            actor=anna,
            bpmn_xml=edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"'),
            revision=1,
            at=clock.now(),
        )

    with db.reader() as session:
        comparison = compare_draft(session, draft_id=draft.id)
        against_v1 = compare_draft(session, draft_id=draft.id, version=1)

    assert [c.element_id for c in comparison.changed] == ["Task_inperken"]
    assert comparison == against_v1 and comparison.forms_changed == []


# --- impact ------------------------------------------------------------------------------------------------------


def test_impact__counts_cases_waiting_at_changed_and_removed_elements(
    db: Database, make_user: UserFactory, clock: FixedClock, runtime: Runtime
) -> None:
    deploy_process(db)
    melder = make_user("mia", "ketenpartner")
    with db.transaction() as session:
        for _ in range(3):  # each waits at Task_inperken
            runtime.start_instance(session, process_key="datalek", actor=melder, data=MELDING)
        failed = runtime.start_instance(session, process_key="datalek", actor=melder, data=MELDING).instance
    with db.transaction() as session:
        row = session.get(Instance, failed.id)
        assert row is not None
        row.status, row.error_element = "error", "Task_risico"
        session.execute(delete(HumanTask).where(HumanTask.instance_id == failed.id))
    clock.advance(timedelta(days=1))
    removed = changed_to(
        edit(without_task_inperken(DATALEK), 'name="Risico voor betrokkenen beoordelen"', 'name="Risico"')
    )
    new_form = changed_to(edit(DATALEK, 'value="datalek_inperking.json"', 'value="datalek_risico.json"'))
    renamed = changed_to(edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"'))

    with db.reader() as session:
        after_removal = {i.element_id: i for i in impact(session, process_key="datalek", comparison=removed)}
        after_new_form = impact(session, process_key="datalek", comparison=new_form)
        after_rename = impact(session, process_key="datalek", comparison=renamed)

    assert (after_removal["Task_inperken"].change, after_removal["Task_inperken"].waiting) == ("removed", 3)
    assert after_removal["Task_inperken"].stranded == 3
    assert (after_removal["Task_risico"].waiting, after_removal["Task_risico"].stranded) == (1, 0)
    assert after_removal["Timer_inperken"].waiting == 0
    # A new form moves with the waiting cases (the migration keeps the task and gives it the new form).
    assert [(i.element_id, i.waiting, i.stranded) for i in after_new_form] == [("Task_inperken", 3, 0)]
    assert [(i.element_id, i.name, i.waiting, i.stranded) for i in after_rename] == [
        ("Task_inperken", "Incident beperken", 3, 0)
    ]


def test_impact__of_another_process_counts_nothing(db: Database, make_user: UserFactory, runtime: Runtime) -> None:
    deploy_process(db)
    melder = make_user("mia", "ketenpartner")
    with db.transaction() as session:
        runtime.start_instance(session, process_key="datalek", actor=melder, data=MELDING)

    with db.reader() as session:
        found = impact(session, process_key="aanmelding_triage", comparison=changed_to(without_task_inperken(DATALEK)))

    assert all(i.waiting == 0 for i in found)


def test_compare__every_miwg_file_equals_itself_and_is_all_new_against_nothing() -> None:
    for path in sorted(MIWG.glob("*.bpmn")):
        files = {"bpmn": {path.name: path.read_text(encoding="utf-8")}}

        assert compare_files(files, files, main_file=path.name).unchanged, path.name
        against_nothing = compare_files({}, files, main_file=path.name)
        assert not (against_nothing.removed or against_nothing.changed or against_nothing.layout), path.name
