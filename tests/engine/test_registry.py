"""Deploying process versions: content-hash versioning, and every refusal with file + element + reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import Database
from engine.errors import DeploymentRefused
from engine.models import AuditEvent, ProcessVersion
from engine.registry import deploy_file, list_processes
from tests.engine.bpmn import flow, linear, process, user_task, write

MIWG = Path(__file__).resolve().parents[1] / "fixtures" / "miwg"
FORM = {"type": "object", "properties": {"naam": {"type": "string", "title": "Naam"}}, "required": ["naam"]}


def _deploy(db: Database, path: Path):
    with db.transaction() as session:
        return deploy_file(session, path, actor="tester")


def _refusal(db: Database, path: Path) -> DeploymentRefused:
    with pytest.raises(DeploymentRefused) as caught:
        _deploy(db, path)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 0, "nothing may be stored"
    return caught.value


def test_deploy__stores_version_one_with_its_form(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "naam.json", FORM)
    path = write(tmp_path, "p.bpmn", linear(user_task("T1", "Vul naam in", "naam")))

    deployment = _deploy(db, path)

    assert deployment.created
    assert (deployment.version.process_key, deployment.version.version) == ("test_process", 1)
    assert set(deployment.version.files["forms"]) == {"naam.json"}
    with db.reader() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["deploy"]


def test_deploy__identical_content_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "p.bpmn", linear(user_task("T1", "Stap")))
    first = _deploy(db, path)

    again = _deploy(db, path)

    assert not again.created
    assert again.version.id == first.version.id
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 1


def test_deploy__changed_form_makes_version_two(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "naam.json", FORM)
    path = write(tmp_path, "p.bpmn", linear(user_task("T1", "Vul naam in", "naam")))
    _deploy(db, path)
    write(tmp_path, "naam.json", {**FORM, "required": []})

    second = _deploy(db, path)

    assert second.created and second.version.version == 2
    with db.reader() as session:
        assert [v.version for v in list_processes(session)] == [2]


def test_deploy__finds_forms_in_the_forms_folder(db: Database, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    write(forms, "naam.json", FORM)
    path = write(tmp_path, "p.bpmn", linear(user_task("T1", "Vul naam in", "naam")))

    with db.transaction() as session:
        deployment = deploy_file(session, path, actor="tester", search_paths=[forms])

    assert "naam.json" in deployment.version.files["forms"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("this is not xml", "not well-formed XML"),
        ("<html><body/></html>", "not a BPMN 2.0 file"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>',
            "DOCTYPE and entity declarations are not allowed",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>',
            "DOCTYPE and entity declarations are not allowed",
        ),
    ],
    ids=["not-xml", "not-bpmn", "xxe", "billion-laughs"],
)
def test_deploy__refuses_unreadable_or_unsafe_xml(db: Database, tmp_path: Path, content: str, expected: str) -> None:
    refusal = _refusal(db, write(tmp_path, "bad.bpmn", content))

    assert expected in refusal.message
    assert refusal.problems[0].file == "bad.bpmn"


def test_deploy__refuses_xsd_invalid_bpmn_naming_the_element(db: Database, tmp_path: Path) -> None:
    body = '<bpmn:startEvent id="S"/><bpmn:userTask id="T1" name="Stap" bogus="1"/><bpmn:endEvent id="E"/>'
    body += flow("F1", "S", "T1") + flow("F2", "T1", "E")

    refusal = _refusal(db, write(tmp_path, "p.bpmn", process(body)))

    assert "not valid against the schema" in refusal.message
    assert refusal.problems[0].element == "T1"


def test_deploy__refuses_a_file_without_executable_process(db: Database, tmp_path: Path) -> None:
    xml = linear(user_task("T1", "Stap")).replace('isExecutable="true"', 'isExecutable="false"')

    refusal = _refusal(db, write(tmp_path, "p.bpmn", xml))

    assert "no executable process" in refusal.message


def test_deploy__refuses_a_missing_form_file(db: Database, tmp_path: Path) -> None:
    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(user_task("T1", "Stap", "ontbreekt"))))

    assert refusal.problems[0].element == "T1"
    assert "form file 'ontbreekt.json' not found" in refusal.message


@pytest.mark.parametrize(
    ("form_text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "object", "properties": {"x": {"type": "strin"}}}', "not a valid JSON Schema"),
        ('{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}', "$schema must be"),
        ('["a list"]', "must be a JSON object"),
    ],
    ids=["not-json", "bad-type", "old-draft", "not-object"],
)
def test_deploy__refuses_an_invalid_form(db: Database, tmp_path: Path, form_text: str, expected: str) -> None:
    write(tmp_path, "f.json", form_text)

    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(user_task("T1", "Stap", "f"))))

    assert expected in refusal.message
    assert refusal.problems[0].file == "f.json" and refusal.problems[0].element == "T1"


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            '<bpmn:scriptTask id="T1" name="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
            "import is not allowed",
        ),
        (
            '<bpmn:scriptTask id="T1" name="x"><bpmn:script>x = open("/etc/passwd")</bpmn:script></bpmn:scriptTask>',
            '"open" is not allowed',
        ),
        (
            '<bpmn:scriptTask id="T1" name="x"><bpmn:script>x = ().__class__</bpmn:script></bpmn:scriptTask>',
            'starts with "_"',
        ),
        (
            '<bpmn:scriptTask id="T1" name="x"><bpmn:script>x = (</bpmn:script></bpmn:scriptTask>',
            "SyntaxError",
        ),
    ],
    ids=["import", "open", "dunder", "syntax"],
)
def test_deploy__refuses_scripts_that_do_not_compile_in_the_sandbox(
    db: Database, tmp_path: Path, element: str, expected: str
) -> None:
    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(element)))

    assert refusal.problems[0].element == "T1"
    assert expected in refusal.message


def test_deploy__refuses_a_gateway_condition_that_does_not_compile(db: Database, tmp_path: Path) -> None:
    body = (
        '<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G" default="F3"/><bpmn:endEvent id="E1"/>'
        '<bpmn:endEvent id="E2"/>' + flow("F1", "S", "G") + flow("F2", "G", "E1", "globals()") + flow("F3", "G", "E2")
    )

    refusal = _refusal(db, write(tmp_path, "p.bpmn", process(body)))

    assert refusal.problems[0].element == "F2"
    assert '"globals" is not allowed' in refusal.message


def test_deploy__refuses_a_timer_expression_that_does_not_compile(db: Database, tmp_path: Path) -> None:
    timer = (
        '<bpmn:intermediateCatchEvent id="T1" name="Wacht"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>__import__('os')</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )

    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(timer)))

    assert refusal.problems[0].element == "T1"


def test_deploy__refuses_a_dmn_cell_that_does_not_compile(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "besluit.dmn", DMN.replace("&gt;= 18", "getattr(leeftijd, 'x')"))
    rule_task = (
        '<bpmn:businessRuleTask id="T1" name="Bepaal"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>Besluit_volwassen</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )

    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(rule_task)))

    assert refusal.problems[0].file == "besluit.dmn"
    assert '"getattr" is not allowed' in refusal.message


@pytest.mark.parametrize(
    ("element", "element_id"),
    [
        ('<bpmn:serviceTask id="T1" name="Bel systeem"/>', "T1"),
        ('<bpmn:complexGateway id="T1"/>', "T1"),
        (
            '<bpmn:intermediateThrowEvent id="T1"><bpmn:linkEventDefinition id="L1" name="x"/>'
            "</bpmn:intermediateThrowEvent>",
            "L1",
        ),
    ],
    ids=["service-task", "complex-gateway", "link-event"],
)
def test_deploy__refuses_unsupported_elements(db: Database, tmp_path: Path, element: str, element_id: str) -> None:
    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(element)))

    assert refusal.problems[0].element == element_id
    assert "not supported" in refusal.message or "no connectors" in refusal.message


def test_deploy__refuses_an_element_id_the_engine_reserves(db: Database, tmp_path: Path) -> None:
    xml = linear(user_task("T1", "Stap")).replace('id="S"', 'id="Start"').replace('sourceRef="S"', 'sourceRef="Start"')

    refusal = _refusal(db, write(tmp_path, "p.bpmn", xml))

    assert refusal.problems[0].element == "Start"


def test_deploy__reports_all_problems_at_once(db: Database, tmp_path: Path) -> None:
    xml = linear(
        user_task("T1", "Stap", "ontbreekt"),
        '<bpmn:scriptTask id="T2" name="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
    )

    refusal = _refusal(db, write(tmp_path, "p.bpmn", xml))

    assert {p.element for p in refusal.problems} == {"T1", "T2"}


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="http://zvh">
  <decision id="Besluit_volwassen" name="Volwassen">
    <decisionTable id="Tabel">
      <input id="I1" label="Leeftijd"><inputExpression id="IE1" typeRef="integer"><text>leeftijd</text>
      </inputExpression></input>
      <output id="O1" label="Volwassen" name="volwassen" typeRef="boolean"/>
      <rule id="R1"><inputEntry id="E1"><text>&gt;= 18</text></inputEntry><outputEntry id="U1"><text>True</text>
      </outputEntry></rule>
      <rule id="R2"><inputEntry id="E2"><text>&lt; 18</text></inputEntry><outputEntry id="U2"><text>False</text>
      </outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")), ids=lambda p: p.name)
def test_deploy__miwg_reference_files_deploy_or_are_refused_with_a_reason(
    db: Database, path: Path, tmp_path: Path
) -> None:
    """The MIWG interchange files are drawn in other tools: each one must deploy or be refused cleanly."""
    try:
        deployment = _deploy(db, path)
    except DeploymentRefused as refusal:
        assert refusal.problems and all(p.file and p.message for p in refusal.problems)
    else:
        assert deployment.created


DEFINITIONS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "bsn": {"type": "string", "format": "bsn", "title": "BSN"},
        "persoon": {"type": "object", "properties": {"bsn": {"$ref": "#/$defs/bsn"}}},
    },
}


def test_deploy__forms_may_share_definitions_through_ref(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "definities.json", DEFINITIONS)
    write(
        tmp_path, "persoon.json", {"type": "object", "properties": {"wie": {"$ref": "definities.json#/$defs/persoon"}}}
    )

    deployment = _deploy(db, write(tmp_path, "p.bpmn", linear(user_task("T1", "Persoon", "persoon"))))

    assert set(deployment.version.files["forms"]) == {"persoon.json", "definities.json"}


def test_deploy__refuses_a_ref_that_does_not_resolve(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "persoon.json", {"type": "object", "properties": {"bsn": {"$ref": "elders.json#/$defs/bsn"}}})

    refusal = _refusal(db, write(tmp_path, "p.bpmn", linear(user_task("T1", "Persoon", "persoon"))))

    assert "does not resolve" in refusal.message
    assert refusal.problems[0].element == "T1"
