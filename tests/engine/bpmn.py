"""Small BPMN documents for engine tests, written as XML so each test shows exactly what it deploys."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_{pid}" targetNamespace="http://zvh-regie.test/bpmn">\n'
)


def flow(flow_id: str, source: str, target: str, condition: str | None = None, name: str = "") -> str:
    """A sequence flow, optionally with a condition expression."""
    name_attr = f' name="{name}"' if name else ""
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"{name_attr}/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"{name_attr}>'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def user_task(task_id: str, name: str, form: str | None = None, *, extra: str = "") -> str:
    """A user task, with a form reference when `form` is given (ui schema `<form>-ui.json` if written)."""
    props = ""
    if form:
        props = (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}.json"/>'
            "</spiffworkflow:properties></bpmn:extensionElements>"
        )
    return f'<bpmn:userTask id="{task_id}" name="{name}">{props}{extra}</bpmn:userTask>'


def process(
    body: str,
    *,
    process_id: str = "test_process",
    name: str = "Testproces",
    lanes: dict[str, list[str]] | None = None,
    executable: bool = True,
) -> str:
    """A BPMN document with one process; `lanes` maps a lane name to the ids of its flow nodes."""
    lane_xml = ""
    if lanes:
        lane_xml = (
            '<bpmn:laneSet id="LaneSet_1">'
            + "".join(
                f'<bpmn:lane id="Lane_{index}" name="{lane}">'
                + "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in nodes)
                + "</bpmn:lane>"
                for index, (lane, nodes) in enumerate(lanes.items())
            )
            + "</bpmn:laneSet>"
        )
    return (
        HEADER.format(pid=process_id)
        + f'<bpmn:process id="{process_id}" name="{name}" isExecutable="{str(executable).lower()}">'
        + lane_xml
        + body
        + "</bpmn:process></bpmn:definitions>\n"
    )


def write(folder: Path, filename: str, content: str | dict[str, Any]) -> Path:
    """Write a BPMN/DMN text or a JSON form into `folder`."""
    path = folder / filename
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def linear(
    *tasks: str,
    process_id: str = "test_process",
    lanes: dict[str, list[str]] | None = None,
    extra: str = "",
    name: str = "Testproces",
) -> str:
    """start → the given task XML elements in order (their ids must be T1, T2, ...) → end."""
    ids = [f"T{i}" for i in range(1, len(tasks) + 1)]
    nodes = ["S", *ids, "E"]
    flows = "".join(flow(f"F{i}", a, b) for i, (a, b) in enumerate(pairwise(nodes)))
    return process(
        '<bpmn:startEvent id="S"/>' + "".join(tasks) + '<bpmn:endEvent id="E"/>' + flows + extra,
        process_id=process_id,
        lanes=lanes,
        name=name,
    )
