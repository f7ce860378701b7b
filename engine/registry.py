"""Read, validate and deploy process versions (BPMN + DMN + forms), and load them for the runtime.

A deployment is all-or-nothing: every file is checked (safe XML, the BPMN/DMN schemas, supported elements,
forms, sandbox compilation of every script and expression) before anything is stored, and every problem is
reported with its file and element id. A version is immutable and keyed by process id + content hash.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.audit import record
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import Conflict, DeploymentRefused, NotFound, Problem
from engine.forms import CONFIRMATION, Form, check_schema
from engine.models import ProcessVersion
from engine.monitor.norms import Norm, parse_norm
from engine.privacy.organisations import ALL, SCOPE_PROPERTY, Scope, default_scope, parse_scope
from engine.privacy.retention_rules import RetentionRules, parse_from_fields, parse_period, retention_rules
from engine.sandbox import Mode, check_compiles
from engine.spiff import ZvhParser, role_key

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

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

_XML_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}
_VALIDATION_LOCK = threading.Lock()
_JINJA = SandboxedEnvironment(autoescape=True)


# --- reading files -------------------------------------------------------------------------------------------


def parse_xml(raw: bytes, filename: str) -> etree._Element:
    """Parse XML with DTDs, entities and network access off; refuse any DOCTYPE outright."""
    head = raw[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in raw.upper():
        raise DeploymentRefused(
            [Problem(filename, None, "DOCTYPE and entity declarations are not allowed (XXE protection)")]
        )
    try:
        root = etree.fromstring(raw, etree.XMLParser(**_XML_PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        raise DeploymentRefused([Problem(filename, None, f"not well-formed XML: {error}")]) from None
    if root.getroottree().docinfo.doctype:
        raise DeploymentRefused([Problem(filename, None, "DOCTYPE declarations are not allowed")])
    return root


def _decode(raw: bytes, filename: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DeploymentRefused([Problem(filename, None, "the file must be UTF-8 encoded")]) from None


@dataclass
class Bundle:
    """The files of one deployment: the main BPMN file plus the BPMN, DMN and forms it refers to."""

    main: str
    bpmn: dict[str, str] = field(default_factory=dict)
    dmn: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)

    def content_hash(self) -> str:
        canonical = json.dumps(
            {"main": self.main, "bpmn": self.bpmn, "dmn": self.dmn, "forms": self.forms},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def as_files(self) -> dict[str, dict[str, str]]:
        return {"bpmn": dict(self.bpmn), "dmn": dict(self.dmn), "forms": dict(self.forms)}


def _ids_defined(root: etree._Element, xpath: str) -> set[str]:
    return {str(element.get("id")) for element in root.xpath(xpath, namespaces=NS)}


def _referenced_forms(root: etree._Element) -> set[str]:
    names = root.xpath(
        f".//spiffworkflow:property[@name='{FORM_PROPERTY}' or @name='{UI_PROPERTY}']/@value", namespaces=NS
    )
    return {str(name) for name in names}


def _called_processes(root: etree._Element) -> set[str]:
    return {str(ref) for ref in root.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS)}


def _called_decisions(root: etree._Element) -> set[str]:
    refs = root.xpath(".//bpmn:businessRuleTask//spiffworkflow:calledDecisionId/text()", namespaces=NS)
    return {str(ref).strip() for ref in refs}


def _decision_ids(root: etree._Element) -> set[str]:
    return {str(d.get("id")) for d in root.iter() if etree.QName(d).localname == "decision"}


def collect_bundle(path: Path, *, search_paths: Sequence[Path] = ()) -> Bundle:
    """Read a BPMN file and gather what it refers to from its own folder, then from `search_paths`."""
    folders = [path.parent, *search_paths]
    bundle = Bundle(main=path.name)
    pending, seen = [path], set()
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        raw = current.read_bytes()
        bundle.bpmn[current.name] = _decode(raw, current.name)
        root = parse_xml(raw, current.name)
        for form_name in _referenced_forms(root):
            _collect_form(bundle, form_name, folders)
        defined = _ids_defined(root, ".//bpmn:process")
        for process_id in _called_processes(root) - defined:
            provider = _find_definition(process_id, folders, "*.bpmn", ".//bpmn:process")
            if provider is not None:
                pending.append(provider)
        for decision_id in _called_decisions(root):
            provider = _find_definition(decision_id, folders, "*.dmn", None)
            if provider is not None and provider.name not in bundle.dmn:
                bundle.dmn[provider.name] = _decode(provider.read_bytes(), provider.name)
    return bundle


def _collect_form(bundle: Bundle, name: str, folders: Sequence[Path]) -> None:
    """Add a form file and, transitively, the schema files its `$ref`s name."""
    pending = [name]
    while pending:
        current = pending.pop()
        found = None if current in bundle.forms else _find_file(current, folders)
        if found is None:
            continue
        bundle.forms[current] = _decode(found.read_bytes(), current)
        pending.extend(_schema_files_referenced(bundle.forms[current]))


def _schema_files_referenced(text: str) -> set[str]:
    """File names in the `$ref`s of a JSON document (`definities.json#/$defs/bsn` names `definities.json`)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return set()
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.split("#", 1)[0]:
                found.add(ref.split("#", 1)[0])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _find_file(name: str, folders: Iterable[Path]) -> Path | None:
    if not _SAFE_FILENAME.match(name):
        return None
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _find_definition(element_id: str, folders: Iterable[Path], pattern: str, xpath: str | None) -> Path | None:
    for folder in folders:
        for candidate in sorted(folder.glob(pattern)):
            try:
                root = parse_xml(candidate.read_bytes(), candidate.name)
            except DeploymentRefused:
                continue
            ids = _ids_defined(root, xpath) if xpath else _decision_ids(root)
            if element_id in ids:
                return candidate
    return None


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
            value = _element_properties(lane).get(SCOPE_PROPERTY)
            role = role_key(lane.get("name"))
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
                if not _SAFE_FILENAME.match(name):
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
    called = set().union(*(_called_processes(r) for r in roots.values()))
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
    for filename, root in roots.items():
        problems += _structure_problems(root, filename)
        problems += _instruction_problems(root, filename)
        problems += _norm_problems(root, filename)
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


# --- deployment and loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """The outcome of a deploy: the version, and whether it was new."""

    version: ProcessVersion
    created: bool


def deploy_bundle(
    session: Session,
    bundle: Bundle,
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
    change_note: str | None = None,
    approved_by: str | None = None,
) -> Deployment:
    """Validate and store `bundle` as the next version of its process; identical content changes nothing.

    `change_note` (why) and `approved_by` (the second process owner, under four eyes) are kept on the version and
    in the audit event.
    """
    validated = validate_bundle(bundle)
    content_hash = bundle.content_hash()
    existing = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_key == validated.process_key, ProcessVersion.content_hash == content_hash
        )
    )
    if existing is not None:
        return Deployment(existing, created=False)
    latest = session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == validated.process_key)
    )
    version = ProcessVersion(
        process_key=validated.process_key,
        version=(latest or 0) + 1,
        name=validated.name,
        content_hash=content_hash,
        files=bundle.as_files(),
        main_file=bundle.main,
        deployed_by=actor,
        deployed_at=clock.now(),
        change_note=change_note,
        approved_by=approved_by,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Another deployment of this process happened at the same time; try again.") from None
    _LOADED.setdefault((version.process_key, content_hash), _loaded_from(validated))
    record(
        session,
        actor=actor,
        action="deploy",
        at=version.deployed_at,
        process_version_id=version.id,
        summary=f"Deployed {version.process_key} version {version.version} ({bundle.main})",
        details={
            "hash": content_hash,
            "files": sorted([*bundle.bpmn, *bundle.dmn, *bundle.forms]),
            **({"change_note": change_note} if change_note is not None else {}),
            **({"approved_by": approved_by} if approved_by is not None else {}),
        },
    )
    return Deployment(version, created=True)


def deploy_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    search_paths: Sequence[Path] = (),
    clock: Clock = SYSTEM_CLOCK,
) -> Deployment:
    """Collect a BPMN file with its DMN and form files and deploy it."""
    return deploy_bundle(session, collect_bundle(path, search_paths=search_paths), actor=actor, clock=clock)


@dataclass(frozen=True)
class LoadedVersion:
    """The parsed content of a process version: specs (shared, never mutated), forms and roles."""

    process_key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, Form]
    start_roles: frozenset[str]
    roles: frozenset[str]
    #: names of the messages that start this process (a hand-over from another process)
    start_messages: frozenset[str]
    #: whether a person can start it (it has a start event without a trigger)
    user_startable: bool
    #: the form of the plain start event (what a person fills in to start it), or the confirmation form
    start_form: Form
    #: the norm of each human task, by (process spec name, task spec name): its own, else its process's
    step_norms: dict[tuple[str, str], Norm]
    #: how long an instance may go without progress before it counts as stalled
    process_norm: Norm | None
    #: who sees a lane's tasks, by role; roles not in it take their default (engine.privacy.organisations)
    lane_scopes: dict[str, Scope] = field(default_factory=dict)
    #: how long a case's data is kept, per end state (engine.privacy.retention_rules)
    retention: RetentionRules = field(default_factory=RetentionRules)

    def scope_of(self, role: str | None) -> Scope:
        """Which holders of `role` see its tasks in this process."""
        if role is None:
            return ALL
        return self.lane_scopes.get(role) or default_scope(role)

    def norm_of(self, task: Any) -> Norm | None:
        """The norm of a READY human task (its own, or the default of the process it runs in)."""
        return self.step_norms.get((task.workflow.spec.name, task.task_spec.name))

    def may_be_started_by(self, role_keys: frozenset[str]) -> bool:
        """Whether someone with these roles may start the process by hand (the lane of its plain start event)."""
        return self.user_startable and (not self.start_roles or bool(self.start_roles & role_keys))

    def form_for(self, task_spec: Any) -> Form:
        """The form of a user task (or start event), or the confirmation form when it has none."""
        return _form_of(task_spec, self.forms)


def _form_of(task_spec: Any, forms: dict[str, Form]) -> Form:
    properties = getattr(task_spec, "extensions", {}).get("properties", {})
    name = properties.get(FORM_PROPERTY)
    return forms[name] if name else CONFIRMATION


# Keyed by content, not by row id: identical content parses to identical specs, whichever database it is in.
_LOADED: dict[tuple[str, str], LoadedVersion] = {}
_LOAD_LOCK = threading.Lock()


def _loaded_from(validated: ValidatedBundle) -> LoadedVersion:
    start_events = [spec for spec in validated.spec.task_specs.values() if isinstance(spec, StartEvent)]
    plain_starts = [spec for spec in start_events if isinstance(spec.event_definition, NoneEventDefinition)]
    start_lanes = {role_key(spec.lane) for spec in plain_starts}
    return LoadedVersion(
        process_key=validated.process_key,
        name=validated.name,
        spec=validated.spec,
        subprocess_specs=validated.subprocess_specs,
        forms=validated.forms,
        start_roles=frozenset(role for role in start_lanes if role),
        roles=frozenset(
            role
            for spec in [validated.spec, *validated.subprocess_specs.values()]
            for task_spec in spec.task_specs.values()
            if (role := role_key(getattr(task_spec, "lane", None)))
        ),
        start_messages=frozenset(
            spec.event_definition.name
            for spec in start_events
            if isinstance(spec.event_definition, MessageEventDefinition)
        ),
        user_startable=bool(plain_starts),
        start_form=next(
            (form for spec in plain_starts if (form := _form_of(spec, validated.forms)).name), CONFIRMATION
        ),
        step_norms=_step_norms(validated),
        process_norm=parse_norm(validated.process_properties.get(validated.process_key, {})),
        lane_scopes=validated.lane_scopes,
        retention=retention_rules(validated.process_key, validated.spec, validated.process_properties),
    )


def _step_norms(validated: ValidatedBundle) -> dict[tuple[str, str], Norm]:
    """Every human task's norm: its own, else that of its (sub-)process, else that of the main process."""
    main_default = parse_norm(validated.process_properties.get(validated.process_key, {}))
    norms = {}
    for spec in [validated.spec, *validated.subprocess_specs.values()]:
        default = parse_norm(validated.process_properties.get(spec.name, {})) or main_default
        for task_spec in spec.task_specs.values():
            if not getattr(task_spec, "manual", False):
                continue
            norm = parse_norm(getattr(task_spec, "extensions", {}).get("properties", {})) or default
            if norm is not None:
                norms[(spec.name, task_spec.name)] = norm
    return norms


def load_version(version: ProcessVersion) -> LoadedVersion:
    """The parsed form of a stored version; parsed once per process and cached (versions never change)."""
    key = (version.process_key, version.content_hash)
    loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _loaded_from(validate_bundle(Bundle(main=version.main_file, **version.files)))
        return _LOADED[key]


def latest_version(session: Session, process_key: str) -> ProcessVersion:
    """The newest deployed version of a process."""
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"No process with key '{process_key}' is deployed.")
    return version


def list_processes(session: Session) -> list[ProcessVersion]:
    """The newest version of every deployed process, by key."""
    newest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessVersion)
            .join(
                newest,
                (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version),
            )
            .order_by(ProcessVersion.process_key)
        )
    )
