"""The modeller's JavaScript, checked with node: the bpmnlint configuration the browser bundles (recommended rules +
the ZVH rules that mirror tests/processes/test_diagrams.py) and the BPMN round trip through bpmn-moddle with the
spiffworkflow descriptor (every processes/ file and the MIWG suite keep their element ids and engine extensions)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.bundles import SPIFF_NS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROCESS_FILES = sorted((ROOT / "processes").glob("*.bpmn"))
MIWG_FILES = sorted((ROOT / "tests" / "fixtures" / "miwg").glob("*.bpmn"))
ZVH_RULES = ("zvh/user-task-in-lane", "zvh/gateway-branches-named", "zvh/deadline-reaches-person", "zvh/activity-named")
DESCRIPTOR = json.loads((ROOT / "web" / "assets" / "modeller" / "spiffworkflow-moddle.json").read_text("utf-8"))


def run_node(script: str, *args: str) -> Any:
    """Run one of the node checks from the repository root (so node_modules resolves) and parse its JSON output."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the modeller checks need node 20+ (and `npm ci` for node_modules)")
    if not (ROOT / "node_modules" / "bpmnlint").is_dir():
        pytest.fail("node_modules lacks the modeller packages: run `npm ci` in the repository root")
    result = subprocess.run(
        [node, str(HERE / script), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"node {script} failed:\n{result.stderr}"
    return json.loads(result.stdout)


# --- lint -------------------------------------------------------------------------------------------------------

BAD_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_slecht"
    targetNamespace="https://example.org/slecht">
  <bpmn:process id="slecht" name="Slecht proces" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_medewerker" name="Medewerker">
        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_beoordelen</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_besluit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Timer_termijn</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_stil</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_klaar</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_beoordelen" name="Beoordelen">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_termijn" attachedToRef="Task_beoordelen">
      <bpmn:outgoing>Flow_timer</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TED_1"><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="End_stil"><bpmn:incoming>Flow_timer</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="Gateway_besluit" name="Akkoord?" default="Flow_nee">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_ja</bpmn:outgoing><bpmn:outgoing>Flow_nee</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="Task_buiten_lane" name="Nazorg">
      <bpmn:incoming>Flow_ja</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:task id="Task_zonder_naam">
      <bpmn:incoming>Flow_nee</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
    </bpmn:task>
    <bpmn:endEvent id="End_klaar">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:incoming>Flow_4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_beoordelen"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_beoordelen" targetRef="Gateway_besluit"/>
    <bpmn:sequenceFlow id="Flow_timer" sourceRef="Timer_termijn" targetRef="End_stil"/>
    <bpmn:sequenceFlow id="Flow_ja" name="Ja" sourceRef="Gateway_besluit" targetRef="Task_buiten_lane">
      <bpmn:conditionExpression>akkoord</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_nee" sourceRef="Gateway_besluit" targetRef="Task_zonder_naam"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_buiten_lane" targetRef="End_klaar"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_zonder_naam" targetRef="End_klaar"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def lint_results() -> dict[str, dict[str, Any]]:
    return {Path(r["file"]).stem: r for r in run_node("lint.mjs")}


def test_lint__runs_on_every_process(lint_results: dict[str, dict[str, Any]]) -> None:
    assert sorted(lint_results) == sorted(p.stem for p in PROCESS_FILES)
    assert {name: r["error"] for name, r in lint_results.items() if r["error"]} == {}


def test_lint__shipped_processes_pass_the_engine_rules(lint_results: dict[str, dict[str, Any]]) -> None:
    engine_reports = {
        name: [(r["rule"], r["id"], r["message"]) for r in result["reports"] if r["rule"] in ZVH_RULES]
        for name, result in lint_results.items()
    }
    assert {name: reports for name, reports in engine_reports.items() if reports} == {}


def test_lint__shipped_processes_have_no_lint_errors(lint_results: dict[str, dict[str, Any]]) -> None:
    """The recommended rules that stay on do not fight the shipped diagrams: opening one shows no error markers."""
    errors = {
        name: [(r["rule"], r["id"]) for r in result["reports"] if r["category"] == "error"]
        for name, result in lint_results.items()
    }
    assert {name: reports for name, reports in errors.items() if reports} == {}


def test_lint__a_bad_diagram_is_reported_by_each_engine_rule(tmp_path: Path) -> None:
    bad = tmp_path / "slecht.bpmn"
    bad.write_text(BAD_DIAGRAM, encoding="utf-8")
    [result] = run_node("lint.mjs", str(bad))
    assert result["error"] is None
    found = {(r["rule"], r["id"]) for r in result["reports"]}
    assert ("zvh/user-task-in-lane", "Task_buiten_lane") in found
    assert ("zvh/gateway-branches-named", "Flow_nee") in found
    assert ("zvh/gateway-branches-named", "Flow_ja") not in found
    assert ("zvh/deadline-reaches-person", "Timer_termijn") in found
    assert ("zvh/activity-named", "Task_zonder_naam") in found
    assert ("zvh/user-task-in-lane", "Task_beoordelen") not in found
    assert all(r["category"] == "error" for r in result["reports"] if r["rule"] in ZVH_RULES)
    # the recommended rules still run, and speak Dutch: the diagram has no DI
    no_di = [r["message"] for r in result["reports"] if r["rule"] == "no-bpmndi"]
    assert no_di
    assert set(no_di) == {"Element is niet getekend (BPMN DI ontbreekt)"}


def test_lint__a_deadline_reaching_a_person_passes(tmp_path: Path) -> None:
    good = BAD_DIAGRAM.replace('targetRef="End_stil"', 'targetRef="Task_beoordelen"')
    path = tmp_path / "timer.bpmn"
    path.write_text(good, encoding="utf-8")
    [result] = run_node("lint.mjs", str(path))
    assert ("zvh/deadline-reaches-person", "Timer_termijn") not in {(r["rule"], r["id"]) for r in result["reports"]}


# --- round trip ---------------------------------------------------------------------------------------------------


def owner_id(element: etree._Element) -> str | None:
    node: etree._Element | None = element
    while node is not None:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def ids(root: etree._Element) -> Counter[str]:
    return Counter(str(e.get("id")) for e in root.iter() if isinstance(e.tag, str) and e.get("id") is not None)


def spiff_values(root: etree._Element) -> Counter[tuple[str | None, str, str, str]]:
    """Every spiffworkflow: extension with its owner: properties as (owner, "property", name, value), the others as
    (owner, tag, "", text)."""
    values: Counter[tuple[str | None, str, str, str]] = Counter()
    for element in root.iter(f"{{{SPIFF_NS}}}*"):
        tag = etree.QName(element).localname
        if tag == "property":
            values[(owner_id(element), tag, str(element.get("name")), str(element.get("value")))] += 1
        elif tag != "properties":
            values[(owner_id(element), tag, "", (element.text or "").strip())] += 1
    return values


@pytest.fixture(scope="module")
def round_trips() -> dict[str, dict[str, Any]]:
    return {r["file"]: r for r in run_node("roundtrip.mjs")}


def test_round_trip__covers_processes_and_the_miwg_suite(round_trips: dict[str, dict[str, Any]]) -> None:
    expected = {str(p.relative_to(ROOT)) for p in [*PROCESS_FILES, *MIWG_FILES]}
    assert set(round_trips) == expected
    assert MIWG_FILES, "tests/fixtures/miwg holds no BPMN file"
    assert {file: r["error"] for file, r in round_trips.items() if r["error"]} == {}


@pytest.mark.parametrize(
    "path", [*PROCESS_FILES, *MIWG_FILES], ids=[str(p.relative_to(ROOT)) for p in [*PROCESS_FILES, *MIWG_FILES]]
)
def test_round_trip__keeps_ids_and_extensions(path: Path, round_trips: dict[str, dict[str, Any]]) -> None:
    result = round_trips[str(path.relative_to(ROOT))]
    original = etree.parse(str(path)).getroot()
    exported = etree.fromstring(result["xml"].encode("utf-8"))
    lost = ids(original) - ids(exported)
    added = ids(exported) - ids(original)
    assert (lost, added) == (Counter(), Counter())
    assert spiff_values(exported) == spiff_values(original)


def test_round_trip__the_descriptor_knows_every_extension_the_processes_use(
    round_trips: dict[str, dict[str, Any]],
) -> None:
    """Elements of the namespace the descriptor does not describe survive as generic elements, but the properties
    panel cannot edit them: every spiffworkflow: element in processes/ must be read as a typed element."""
    known = {f"spiffworkflow:{t['name']}" for t in DESCRIPTOR["types"]}
    untyped = {
        file: sorted(set(r["spiff_types"]) - known) for file, r in round_trips.items() if file.startswith("processes/")
    }
    assert {file: types for file, types in untyped.items() if types} == {}
    used = Counter[str]()
    for file, r in round_trips.items():
        if file.startswith("processes/"):
            used.update(r["spiff_types"])
    assert used["spiffworkflow:Property"] > 0
    assert used["spiffworkflow:InstructionsForEndUser"] > 0
