"""Validating a bundle before anything is stored: the BPMN/DMN schemas, supported elements, forms, norms, lane
scopes and retention rules, and sandbox compilation of every script and expression — each problem reported with its
file and element id (`DeploymentRefused`).
"""

from __future__ import annotations

import ast
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.bundles import BPMN_NS, FORM_PROPERTY, NS, SAFE_FILENAME, UI_PROPERTY, Bundle, called_processes, parse_xml
from engine.context import CONTEXT_PROPERTY, REPEAT_PROPERTY, parse_context, parse_repeat
from engine.errors import DeploymentRefused, Problem
from engine.forms import Form, check_schema
from engine.monitor.norms import parse_norm
from engine.privacy.bekendheid import PROPERTY as CHECK_PROPERTY
from engine.privacy.organisations import SCOPE_PROPERTY, Scope, parse_scope
from engine.privacy.retention_rules import parse_from_fields, parse_period
from engine.reports.facts import ReportMark, parse_mark
from engine.sandbox import Mode, check_compiles
from engine.spiff import ZvhParser, lane_role

#: Element ids SpiffWorkflow uses for its own task specs; a BPMN element with such an id breaks the spec.
RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})

#: BPMN elements the engine cannot run, with the reason shown to the process owner.
UNSUPPORTED_ELEMENTS = {
    "serviceTask": "service tasks call external systems and ZVH Regie has no connectors; use a user task",
    "sendTask": "send tasks are not supported; use a message end or throw event",
    "receiveTask": "receive tasks are not supported; use a message catch event",
    "complexGateway": "complex gateways are not supported; use exclusive, inclusive or parallel gateways",
    "adHocSubProcess": "ad-hoc sub-processes are not supported",
    "transaction": "transaction sub-processes are not supported",
    "dataStoreReference": "data stores are not supported; keep data in the process",
    "compensateEventDefinition": "compensation events are not supported",
    "linkEventDefinition": "link events are not supported; draw the sequence flow",
    "conditionalEventDefinition": "conditional events are not supported; use a gateway or a timer",
    "choreography": "choreographies cannot be executed",
    "callChoreography": "choreographies cannot be executed",
}
_VALIDATION_LOCK = threading.Lock()
_JINJA = SandboxedEnvironment(autoescape=True)


# --- validation ----------------------------------------------------------------------------------------------


@dataclass
class ValidatedBundle:
    """A bundle that passed every check, with its parsed specs and forms."""

    bundle: Bundle
    process_key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, Form]
    #: the `spiffworkflow:properties` of every process element, by process id (process-level settings)
    process_properties: dict[str, dict[str, str]] = field(default_factory=dict)
    #: who sees a lane's tasks, by role (the lane property `zichtbaarheid`, see engine.privacy.organisations)
    lane_scopes: dict[str, Scope] = field(default_factory=dict)
    #: the elements that count for the management reports, by element id (engine.reports.facts)
    report_marks: dict[str, ReportMark] = field(default_factory=dict)


def _element_id_at(root: etree._Element, path: str | None, line: int | None) -> str | None:
    """The id of the element an XSD error points at (by its XPath, else by its line)."""
    candidates: list[Any] = []
    if path:
        try:
            prefixes = {prefix: uri for prefix, uri in root.nsmap.items() if prefix}
            candidates = root.getroottree().xpath(path, namespaces=prefixes)
        except etree.XPathError:
            candidates = []
    if not candidates and line is not None:
        candidates = [e for e in root.iter() if e.sourceline == line and isinstance(e.tag, str)]
    for element in candidates:
        if isinstance(element, etree._Element):
            return _owner_id(element) or _local(element)
    return None


def _schema_problems(root: etree._Element, filename: str, schema: Any) -> list[Problem]:
    with _VALIDATION_LOCK:
        if schema.validate(root):
            return []
        return [
            Problem(
                filename,
                _element_id_at(root, entry.path, entry.line),
                f"not valid against the schema: {entry.message}",
            )
            for entry in schema.error_log
        ][:20]


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _owner_id(element: etree._Element) -> str | None:
    """The id of the nearest enclosing element that has one (the element a script or timer belongs to)."""
    node: etree._Element | None = element
    while node is not None:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def _code_items(root: etree._Element) -> Iterable[tuple[etree._Element, str, Mode]]:
    """Every piece of code in a BPMN document, with the mode it is compiled in."""
    for script in root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        yield script, script.text or "", "exec"
    for script in root.xpath(".//spiffworkflow:preScript | .//spiffworkflow:postScript", namespaces=NS):
        yield script, script.text or "", "exec"
    expressions = (
        ".//bpmn:sequenceFlow/bpmn:conditionExpression | .//bpmn:timeDate | .//bpmn:timeDuration"
        " | .//bpmn:timeCycle | .//bpmn:loopCardinality | .//bpmn:completionCondition"
        " | .//bpmn:loopCondition | .//spiffworkflow:messagePayload"
    )
    for expression in root.xpath(expressions, namespaces=NS):
        yield expression, expression.text or "", "eval"


def _dmn_code_items(root: etree._Element) -> Iterable[tuple[etree._Element, str]]:
    """Every DMN cell as the expression SpiffWorkflow's DMN engine will evaluate."""
    for table in (e for e in root.iter() if isinstance(e.tag, str) and _local(e) == "decisionTable"):
        inputs = [
            (i.findtext("{*}inputExpression/{*}text") or "").strip()
            for i in table
            if isinstance(i.tag, str) and _local(i) == "input"
        ]
        for rule in (r for r in table if isinstance(r.tag, str) and _local(r) == "rule"):
            entries = [e for e in rule if isinstance(e.tag, str) and _local(e) == "inputEntry"]
            for input_expression, entry in zip(inputs, entries, strict=False):
                text = (entry.findtext("{*}text") or "").strip()
                if text and text != "-":
                    yield entry, _dmn_match_expression(input_expression, text)
            for output in (o for o in rule if isinstance(o.tag, str) and _local(o) == "outputEntry"):
                text = (output.findtext("{*}text") or "").strip()
                if text:
                    yield output, text
        for input_expression in inputs:
            if input_expression:
                yield table, input_expression


def _dmn_match_expression(input_expression: str, text: str) -> str:
    if "?" in text:
        return text.replace("?", f"({input_expression})")
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return f"({input_expression}) {text}"
    return f"({input_expression}) == ({text})"


def _structure_problems(root: etree._Element, filename: str) -> list[Problem]:
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        element_id = element.get("id")
        if element_id in RESERVED_IDS or (element_id and "." in element_id):
            problems.append(Problem(filename, element_id, "this id is reserved by the engine; rename the element"))
        if etree.QName(element).namespace == BPMN_NS and _local(element) in UNSUPPORTED_ELEMENTS:
            problems.append(Problem(filename, _owner_id(element), UNSUPPORTED_ELEMENTS[_local(element)]))
    return problems


def _instruction_problems(root: etree._Element, filename: str) -> list[Problem]:
    problems = []
    for node in root.xpath(".//spiffworkflow:instructionsForEndUser", namespaces=NS):
        try:
            _JINJA.parse(node.text or "")
        except TemplateSyntaxError as error:
            problems.append(Problem(filename, _owner_id(node), f"instructions template: {error.message}"))
    return problems


def _lane_scopes(roots: Iterable[etree._Element]) -> tuple[dict[str, Scope], list[tuple[str | None, str]]]:
    """The `zichtbaarheid` of every lane that sets one, by role; and (lane id, problem) for malformed ones."""
    scopes: dict[str, Scope] = {}
    problems: list[tuple[str | None, str]] = []
    for root in roots:
        for lane in root.xpath(".//bpmn:lane", namespaces=NS):
            properties = _element_properties(lane)
            value = properties.get(SCOPE_PROPERTY)
            role = lane_role(lane.get("name"), properties)
            if value is None or role is None:
                continue
            scope = parse_scope(value)
            if scope is None:
                problems.append(
                    (lane.get("id"), f"zichtbaarheid '{value}': use alle, gemeente or organisatie:<veldnaam>")
                )
            elif scopes.setdefault(role, scope) != scope:
                problems.append((lane.get("id"), f"lanes of role {role} disagree on zichtbaarheid"))
    return scopes, problems


def _norm_problems(root: etree._Element, filename: str) -> list[Problem]:
    problems = []
    for element in root.xpath(".//bpmn:process | .//bpmn:userTask | .//bpmn:manualTask", namespaces=NS):
        try:
            parse_norm(_element_properties(element))
        except ValueError as error:
            problems.append(Problem(filename, element.get("id"), str(error)))
    for element in root.xpath(".//bpmn:process | .//bpmn:endEvent", namespaces=NS):
        try:
            parse_period(_element_properties(element))
            parse_from_fields(_element_properties(element))
        except ValueError as error:
            problems.append(Problem(filename, element.get("id"), str(error)))
    return problems


_MARKED = (
    ".//bpmn:*[bpmn:extensionElements/spiffworkflow:properties"
    "/spiffworkflow:property[starts-with(@name, 'rapportage')]]"
)


def _mark_problems(root: etree._Element, filename: str) -> list[Problem]:
    problems = []
    for element in root.xpath(_MARKED, namespaces=NS):
        try:
            parse_mark(_element_properties(element))
        except ValueError as error:
            problems.append(Problem(filename, element.get("id"), str(error)))
    return problems


def _report_marks(roots: Iterable[etree._Element]) -> dict[str, ReportMark]:
    """Every element marked with `rapportage`, by id (checked by `_mark_problems` before)."""
    return {
        str(element.get("id")): mark
        for root in roots
        for element in root.xpath(_MARKED, namespaces=NS)
        if (mark := parse_mark(_element_properties(element))) is not None
    }


def _context_problems(roots: dict[str, etree._Element], documents: dict[str, Any]) -> list[Problem]:
    """A task's `context` must name steps of the process (user/manual tasks, start events) and fields of its forms."""
    steps = {
        str(element.get("id"))
        for root in roots.values()
        for element in root.xpath(_FORM_ELEMENTS, namespaces=NS)
        if element.get("id")
    }
    fields = {
        str(key)
        for document in documents.values()
        if isinstance(document, dict) and isinstance(document.get("properties"), dict)
        for key in document["properties"]
    }
    problems = []
    for filename, root in roots.items():
        for element in root.xpath(".//bpmn:userTask | .//bpmn:manualTask", namespaces=NS):
            properties = _element_properties(element)
            try:
                parse_repeat(properties.get(REPEAT_PROPERTY))
                items = parse_context(properties.get(CONTEXT_PROPERTY))
            except ValueError as error:
                problems.append(Problem(filename, element.get("id"), str(error)))
                continue
            for item in items:
                if item.kind == "step" and item.ref not in steps:
                    reason = f"context: '{item.ref}' is not a user task, manual task or start event of this process"
                    problems.append(Problem(filename, element.get("id"), reason))
                elif item.kind == "field" and item.ref not in fields:
                    reason = f"context: veld:{item.ref} is not a field of any form of this process"
                    problems.append(Problem(filename, element.get("id"), reason))
    return problems


def _check_property_problems(roots: dict[str, etree._Element], documents: dict[str, Any]) -> list[Problem]:
    """A task's `bekendheidscheck` must name a field of the process's forms (the list of persons to check)."""
    fields = {
        str(key)
        for document in documents.values()
        if isinstance(document, dict) and isinstance(document.get("properties"), dict)
        for key in document["properties"]
    }
    return [
        Problem(filename, element.get("id"), f"bekendheidscheck: '{field}' is not a field of any form of this process")
        for filename, root in roots.items()
        for element in root.xpath(".//bpmn:userTask", namespaces=NS)
        if (field := _element_properties(element).get(CHECK_PROPERTY)) is not None and field.strip() not in fields
    ]


_FORM_ELEMENTS = ".//bpmn:userTask | .//bpmn:manualTask | .//bpmn:startEvent"


def _element_properties(element: etree._Element) -> dict[str, str]:
    return {
        str(p.get("name")): str(p.get("value"))
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
        )
    }


def _parse_form_files(bundle: Bundle) -> tuple[dict[str, str], dict[str, Any]]:
    """The form files as JSON documents, and why the others are not JSON."""
    broken: dict[str, str] = {}
    documents: dict[str, Any] = {}
    for name, text in bundle.forms.items():
        try:
            documents[name] = json.loads(text)
        except json.JSONDecodeError as error:
            broken[name] = f"not valid JSON: {error}"
    return broken, documents


def _form_problems(
    roots: dict[str, etree._Element], broken: dict[str, str], documents: dict[str, Any]
) -> list[Problem]:
    """Problems with the forms that tasks and start events name, and with the schema files they `$ref`."""
    problems: list[Problem] = []
    used_as_form: set[str] = set()
    for filename, root in roots.items():
        for element in root.xpath(_FORM_ELEMENTS, namespaces=NS):
            properties = _element_properties(element)
            for prop in (FORM_PROPERTY, UI_PROPERTY):
                name = properties.get(prop)
                if name is None:
                    continue
                if not SAFE_FILENAME.match(name):
                    problems.append(
                        Problem(filename, element.get("id"), f"form file name '{name}' is not a plain name")
                    )
                elif name in broken:
                    problems.append(Problem(name, element.get("id"), broken.pop(name)))
                elif name not in documents:
                    problems.append(
                        Problem(
                            filename,
                            element.get("id"),
                            f"form file '{name}' not found beside the BPMN file or in forms/",
                        )
                    )
                elif prop == FORM_PROPERTY:
                    used_as_form.add(name)
                    if reason := check_schema(documents[name], name=name, resources=documents):
                        problems.append(Problem(name, element.get("id"), reason))
                elif not isinstance(documents[name], dict):
                    problems.append(Problem(name, element.get("id"), "a UI schema must be a JSON object"))
    ui_names = {
        _element_properties(e).get(UI_PROPERTY) for r in roots.values() for e in r.xpath(_FORM_ELEMENTS, namespaces=NS)
    }
    for name in set(documents) - used_as_form - ui_names:
        if reason := check_schema(documents[name], name=name, form=False, resources=documents):
            problems.append(Problem(name, None, reason))
    problems += [Problem(name, None, reason) for name, reason in broken.items()]
    return problems


def validate_bundle(bundle: Bundle) -> ValidatedBundle:
    """Check every file of `bundle`; raise `DeploymentRefused` listing all problems, or return the parsed specs."""
    problems: list[Problem] = []
    roots: dict[str, etree._Element] = {}
    for filename, text in bundle.bpmn.items():
        root = parse_xml(text.encode("utf-8"), filename)
        if root.tag != f"{{{BPMN_NS}}}definitions":
            raise DeploymentRefused([Problem(filename, None, f"not a BPMN 2.0 file (root element {root.tag})")])
        VALIDATOR.preprocess(root)
        problems += _schema_problems(root, filename, VALIDATOR.validator)
        roots[filename] = root
    dmn_roots: dict[str, etree._Element] = {}
    for filename, text in bundle.dmn.items():
        root = parse_xml(text.encode("utf-8"), filename)
        schema_path = DMN_SCHEMAS.get(etree.QName(root).namespace or "")
        if schema_path is None or _local(root) != "definitions":
            problems.append(Problem(filename, None, "not a DMN 1.1-1.3 file"))
            continue
        problems += _schema_problems(root, filename, _dmn_schema(schema_path))
        dmn_roots[filename] = root
    if problems:
        raise DeploymentRefused(problems)

    main_root = roots[bundle.main]
    called = set().union(*(called_processes(r) for r in roots.values()))
    executable = [
        p for p in main_root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NS) if p.get("id") not in called
    ]
    if not executable:
        raise DeploymentRefused(
            [Problem(bundle.main, None, 'no executable process: set isExecutable="true" on the process')]
        )
    if len(executable) > 1:
        ids = ", ".join(str(p.get("id")) for p in executable)
        raise DeploymentRefused(
            [
                Problem(
                    bundle.main,
                    None,
                    f"more than one executable process ({ids}); deploy one process per file",
                )
            ]
        )
    process_key = str(executable[0].get("id"))
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,127}", process_key):
        problems.append(
            Problem(
                bundle.main,
                process_key,
                "the process id must be a letter followed by letters, digits, '_' or '-' (it is the process key)",
            )
        )

    broken, documents = _parse_form_files(bundle)
    problems += _form_problems(roots, broken, documents)
    problems += _context_problems(roots, documents)
    problems += _check_property_problems(roots, documents)
    for filename, root in roots.items():
        problems += _structure_problems(root, filename)
        problems += _instruction_problems(root, filename)
        problems += _norm_problems(root, filename)
        problems += _mark_problems(root, filename)
        problems += [Problem(filename, lane, problem) for lane, problem in _lane_scopes([root])[1]]
        for element, code, mode in _code_items(root):
            if code.strip() and (reason := check_compiles(code, mode)):
                problems.append(Problem(filename, _owner_id(element), f"{_local(element)}: {reason}"))
    for filename, root in dmn_roots.items():
        for element, code in _dmn_code_items(root):
            if reason := check_compiles(code, "eval"):
                problems.append(Problem(filename, _owner_id(element), f"DMN expression '{code}': {reason}"))
    if problems:
        raise DeploymentRefused(problems)

    spec, subprocess_specs = _parse_specs(bundle, roots, dmn_roots, process_key)
    return ValidatedBundle(
        bundle=bundle,
        process_key=process_key,
        name=str(executable[0].get("name") or process_key),
        spec=spec,
        subprocess_specs=subprocess_specs,
        forms=_build_forms(roots, documents),
        process_properties={
            str(process.get("id")): _element_properties(process)
            for root in roots.values()
            for process in root.xpath("./bpmn:process", namespaces=NS)
        },
        lane_scopes=_lane_scopes(roots.values())[0],
        report_marks=_report_marks(roots.values()),
    )


_DMN_SCHEMA_CACHE: dict[str, Any] = {}


def _dmn_schema(path: str) -> Any:
    if path not in _DMN_SCHEMA_CACHE:
        _DMN_SCHEMA_CACHE[path] = etree.XMLSchema(etree.parse(path))
    return _DMN_SCHEMA_CACHE[path]


def _parse_specs(
    bundle: Bundle, roots: dict[str, etree._Element], dmn_roots: dict[str, etree._Element], process_key: str
) -> tuple[Any, dict[str, Any]]:
    parser = ZvhParser()
    try:
        for filename, root in dmn_roots.items():
            parser.add_dmn_xml(root, filename=filename)
        for filename, root in roots.items():
            parser.add_bpmn_xml(root, filename=filename)
        return parser.get_spec(process_key), parser.get_subprocess_specs(process_key)
    except ValidationException as error:
        problem = Problem(error.file_name or bundle.main, error.id or None, str(error).split("\n")[0])
        raise DeploymentRefused([problem]) from None
    except Exception as error:
        raise DeploymentRefused([Problem(bundle.main, None, f"cannot be parsed: {error}")]) from None


def _build_forms(roots: dict[str, etree._Element], documents: dict[str, Any]) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    for root in roots.values():
        for element in root.xpath(_FORM_ELEMENTS, namespaces=NS):
            properties = _element_properties(element)
            name, ui_name = properties.get(FORM_PROPERTY), properties.get(UI_PROPERTY)
            if name:
                ui_schema = documents.get(ui_name, {}) if ui_name else {}
                forms[name] = Form(name=name, schema=documents[name], ui_schema=ui_schema, resources=documents)
    return forms
