"""Reading process files: safe XML, and the bundle of a BPMN file with the DMN and form files it names.

XML is parsed with entity expansion, network access and DTDs off. A bundle is what one deployment stores: the
main BPMN file, the DMN decisions and called processes it uses, and its forms with the schema files they `$ref`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from engine.errors import DeploymentRefused, Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_XML_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}


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


def referenced_forms(root: etree._Element) -> set[str]:
    names = root.xpath(
        f".//spiffworkflow:property[@name='{FORM_PROPERTY}' or @name='{UI_PROPERTY}']/@value", namespaces=NS
    )
    return {str(name) for name in names}


def called_processes(root: etree._Element) -> set[str]:
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
        for form_name in referenced_forms(root):
            _collect_form(bundle, form_name, folders)
        defined = _ids_defined(root, ".//bpmn:process")
        for process_id in called_processes(root) - defined:
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
        found = None if current in bundle.forms else find_file(current, folders)
        if found is None:
            continue
        bundle.forms[current] = _decode(found.read_bytes(), current)
        pending.extend(schema_files_referenced(bundle.forms[current]))


def schema_files_referenced(text: str) -> set[str]:
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


def find_file(name: str, folders: Iterable[Path]) -> Path | None:
    if not SAFE_FILENAME.match(name):
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
