"""Compare two sets of process files element by element: what was added, removed or changed, and how.

Every BPMN element with an id that lives directly in a process, sub-process, lane set, collaboration or the
definitions is compared by a signature of what the engine reads: its type, name, attributes, the text of its scripts,
conditions and timers, its `spiffworkflow:` extensions (properties, instructions, scripts before and after, message
payloads) and its lane. Event definitions, conditions and scripts belong to their element. Diagram geometry (BPMNDI)
is compared on its own: an element that only moved is a layout change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from engine.bundles import BPMN_NS, FORM_PROPERTY, SPIFF_NS, UI_PROPERTY, parse_xml
from engine.modelling.drafts import draft_bundle, get_draft, live_version, version_by_number

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
Files = Mapping[str, Mapping[str, str]]

#: Elements whose children are compared as elements of their own.
_CONTAINERS = frozenset(
    {"definitions", "process", "subProcess", "transaction", "adHocSubProcess", "collaboration", "laneSet", "lane"}
)
#: Containers that are not elements to compare themselves (their lanes are).
_GROUPINGS = frozenset({"laneSet", "childLaneSet"})
#: Parts of their element even when they carry an id of their own (some modellers give them one).
_OWN_PARTS = frozenset(
    {
        "extensionElements",
        "documentation",
        "ioSpecification",
        "property",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "dataInputAssociation",
        "dataOutputAssociation",
    }
)
#: Children that repeat what the sequence flows and lanes already say.
_REDUNDANT = frozenset({"incoming", "outgoing", "flowNodeRef"})
#: Aspects that hold code: changing or adding one means new code will run.
CODE_ASPECTS = frozenset(
    {
        "script",
        "script vooraf",
        "script achteraf",
        "voorwaarde",
        "timer",
        "berichtinhoud",
        "aantal herhalingen",
        "stopvoorwaarde",
        "herhaalvoorwaarde",
    }
)
#: Aspects too long to quote: the detail only says that they changed.
_UNQUOTED_TEXT = frozenset({"script", "script vooraf", "script achteraf", "instructies", "documentatie"})
_QUOTED = frozenset({"naam", "timer", "voorwaarde", "berichtinhoud", "aantal herhalingen", "stopvoorwaarde"})
_LABELS = {
    "sourceRef": "van",
    "targetRef": "naar",
    "calledElement": "roept aan",
    "attachedToRef": "vast aan",
    "cancelActivity": "onderbreekt",
    "default": "standaardpad",
    "messageRef": "bericht",
    "errorRef": "fout",
    "signalRef": "signaal",
    "escalationRef": "escalatie",
    "processRef": "proces",
    "script": "script",
    "conditionExpression": "voorwaarde",
    "documentation": "documentatie",
    "loopCardinality": "aantal herhalingen",
    "completionCondition": "stopvoorwaarde",
    "loopCondition": "herhaalvoorwaarde",
    "preScript": "script vooraf",
    "postScript": "script achteraf",
    "instructionsForEndUser": "instructies",
    "messagePayload": "berichtinhoud",
    "messageVariable": "berichtvariabele",
    "calledDecisionId": "beslissing",
    FORM_PROPERTY: "formulier",
    UI_PROPERTY: "formulierindeling",
}
_TIMERS = frozenset({"timeDate", "timeDuration", "timeCycle"})


@dataclass
class ElementChange:
    """One element that differs between two versions, with what changed in words."""

    element_id: str
    element_type: str
    name: str
    change: str  # "added" | "removed" | "changed" | "layout"
    details: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    """The difference between two versions (or a draft and a version), element by element."""

    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]
    layout: list[ElementChange]
    #: a script, condition, timer, message payload or decision table changed or was added (four eyes under "auto")
    code_changed: bool
    forms_changed: list[str]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed or self.layout or self.forms_changed)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Element:
    element_id: str
    element_type: str
    name: str
    #: what the engine reads, by the Dutch label the details use
    aspects: dict[str, str]


@dataclass
class _Side:
    """One side of a comparison: its elements, lane names and diagram geometry."""

    elements: dict[str, _Element] = field(default_factory=dict)
    lane_names: dict[str, str] = field(default_factory=dict)
    layout: dict[str, tuple[str, str]] = field(default_factory=dict)


# --- entry points ------------------------------------------------------------------------------------------------


def compare_versions(session: Session, *, process_key: str, left: int, right: int) -> Comparison:
    """What changed from version `left` to version `right` of a process."""
    old = version_by_number(session, process_key=process_key, version=left)
    new = version_by_number(session, process_key=process_key, version=right)
    return compare_files(old.files, new.files, main_file=new.main_file)


def compare_draft(session: Session, *, draft_id: int, version: int | None = None) -> Comparison:
    """What publishing a draft would change, against the live version (or `version`)."""
    draft = get_draft(session, draft_id=draft_id)
    if version is None:
        against = live_version(session, draft.process_key)
    else:
        against = version_by_number(session, process_key=draft.process_key, version=version)
    old_files: Files = against.files if against is not None else {}
    return compare_files(old_files, draft_bundle(session, draft).as_files(), main_file=draft.main_file)


def compare_files(old_files: Files, new_files: Files, *, main_file: str) -> Comparison:
    """Compare two sets of files (`{"bpmn": …, "dmn": …, "forms": …}`); the main file's elements win id clashes."""
    old, new = _read_side(old_files, main_file), _read_side(new_files, main_file)
    added = [_listed(new.elements[i], "added") for i in new.elements.keys() - old.elements.keys()]
    removed = [_listed(old.elements[i], "removed") for i in old.elements.keys() - new.elements.keys()]
    changed = []
    code_changed = any(_code_added({}, new.elements[change.element_id].aspects) for change in added)
    for element_id in old.elements.keys() & new.elements.keys():
        before, after = old.elements[element_id], new.elements[element_id]
        if before.aspects != after.aspects:
            changed.append(_listed(after, "changed", _details(before, after, old, new)))
            code_changed |= _code_added(before.aspects, after.aspects)
    old_tables, new_tables = old_files.get("dmn", {}), new_files.get("dmn", {})
    for name in sorted(old_tables.keys() | new_tables.keys()):
        if old_tables.get(name) == new_tables.get(name):
            continue
        if name not in new_tables:
            removed.append(ElementChange(name, "dmn", name, "removed", ["beslistabel verwijderd"]))
            continue
        change = "changed" if name in old_tables else "added"
        (changed if name in old_tables else added).append(
            ElementChange(
                name, "dmn", name, change, [f"beslistabel {'gewijzigd' if name in old_tables else 'toegevoegd'}"]
            )
        )
        code_changed = True
    touched = {change.element_id for change in [*added, *removed, *changed]}
    layout = [
        ElementChange(element_id, kind, new.elements[element_id].name, "layout", [_moved(kind)])
        for element_id, (kind, geometry) in new.layout.items()
        if element_id in new.elements
        and element_id not in touched
        and old.layout.get(element_id, (kind, geometry))[1] != geometry
    ]
    old_forms, new_forms = old_files.get("forms", {}), new_files.get("forms", {})
    return Comparison(
        added=_ordered(added),
        removed=_ordered(removed),
        changed=_ordered(changed),
        layout=_ordered(layout),
        code_changed=code_changed,
        forms_changed=sorted(
            name for name in old_forms.keys() | new_forms.keys() if old_forms.get(name) != new_forms.get(name)
        ),
    )


# --- reading one side ----------------------------------------------------------------------------------------------


def _read_side(files: Files, main_file: str) -> _Side:
    side = _Side()
    bpmn = files.get("bpmn", {})
    for filename in sorted(bpmn, key=lambda name: name != main_file, reverse=True):  # main file last: it wins
        root = parse_xml(bpmn[filename].encode("utf-8"), filename)
        lanes = _lane_of(root)
        for element in _compared_elements(root):
            element_id = str(element.get("id"))
            aspects = _aspects(element)
            if element_id in lanes:
                aspects["baan"] = lanes[element_id]
            name = _name(element)
            side.elements[element_id] = _Element(element_id, _local(element), name, aspects)
            if _local(element) == "lane":
                side.lane_names[element_id] = name or element_id
        side.layout.update(_geometry(root))
    return side


def _compared_elements(container: etree._Element) -> Iterator[etree._Element]:
    """Elements with an id directly inside a container, and recursively inside the containers among them."""
    for child in container:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
            continue
        if _compared_on_its_own(child):
            yield child
        if _local(child) in _CONTAINERS or _local(child) in _GROUPINGS:
            yield from _compared_elements(child)


def _compared_on_its_own(element: etree._Element) -> bool:
    parent = element.getparent()
    return (
        bool(element.get("id"))
        and etree.QName(element).namespace == BPMN_NS
        and _local(element) not in _GROUPINGS | _OWN_PARTS
        and parent is not None
        and _local(parent) in _CONTAINERS | _GROUPINGS
    )


def _lane_of(root: etree._Element) -> dict[str, str]:
    """The innermost lane of every flow node, by node id."""
    lanes: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):  # document order: nested lanes come after their parent
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = str(lane.get("id"))
    return lanes


def _aspects(element: etree._Element) -> dict[str, str]:
    """What the engine reads from an element, except the elements compared on their own."""
    aspects = {"soort": _local(element), "naam": _name(element)}
    _attributes(element, aspects, prefix="")
    for child in element:
        if (
            isinstance(child.tag, str)
            and _local(child) not in _REDUNDANT | _GROUPINGS
            and not _compared_on_its_own(child)
        ):
            _describe(child, aspects)
    return aspects


def _attributes(element: etree._Element, aspects: dict[str, str], *, prefix: str) -> None:
    for attribute, value in element.attrib.items():
        local = etree.QName(attribute).localname
        if local not in ("id", "name"):
            aspects[prefix + _LABELS.get(local, local)] = str(value)


def _describe(child: etree._Element, aspects: dict[str, str]) -> None:
    local = _local(child)
    if local == "extensionElements":
        for extension in child:
            if isinstance(extension.tag, str):
                _describe_extension(extension, aspects)
    elif local.endswith("EventDefinition"):
        aspects["gebeurtenis"] = _joined(aspects.get("gebeurtenis"), local)
        _attributes(child, aspects, prefix="")
        for part in child:
            if not isinstance(part.tag, str):
                continue
            if _local(part) in _TIMERS:
                aspects["timer"], aspects["timersoort"] = _code(part), _local(part)
            else:
                _describe(part, aspects)
    elif local in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
        aspects["herhaling"] = local
        _attributes(child, aspects, prefix="herhaling ")
        for part in child:
            if isinstance(part.tag, str):
                _describe(part, aspects)
    elif local in _LABELS:
        aspects[_LABELS[local]] = _code(child)
    else:
        aspects[local] = _joined(aspects.get(local), _canonical(child))


def _describe_extension(extension: etree._Element, aspects: dict[str, str]) -> None:
    local = _local(extension)
    if etree.QName(extension).namespace == SPIFF_NS and local == "properties":
        for prop in extension:
            if isinstance(prop.tag, str):
                name = str(prop.get("name"))
                aspects[_LABELS.get(name, f"eigenschap {name}")] = str(prop.get("value", ""))
    elif etree.QName(extension).namespace == SPIFF_NS and local in _LABELS:
        aspects[_LABELS[local]] = _code(extension)
    else:
        aspects[local] = _joined(aspects.get(local), _canonical(extension))


def _geometry(root: etree._Element) -> dict[str, tuple[str, str]]:
    """Every diagram element's shape or edge, by the id of the BPMN element it draws."""
    found: dict[str, tuple[str, str]] = {}
    for kind in ("BPMNShape", "BPMNEdge"):
        for drawn in root.iter(f"{{{DI_NS}}}{kind}"):
            element_id = str(drawn.get("bpmnElement"))
            numbers = [
                f"{etree.QName(part).localname}:{','.join(_number(part.get(a)) for a in ('x', 'y', 'width', 'height'))}"
                for part in drawn.iter()
                if isinstance(part.tag, str) and etree.QName(part).localname in ("Bounds", "waypoint")
            ]
            flags = [f"{a}={drawn.get(a)}" for a in ("isExpanded", "isHorizontal", "isMarkerVisible") if drawn.get(a)]
            previous = found.get(element_id, (kind, ""))[1]
            found[element_id] = (kind, "|".join([previous, *flags, *numbers]))
    return found


# --- describing a change -------------------------------------------------------------------------------------------


def _details(before: _Element, after: _Element, old: _Side, new: _Side) -> list[str]:
    details = []
    for label in sorted(before.aspects.keys() | after.aspects.keys(), key=_detail_order):
        was, now = before.aspects.get(label), after.aspects.get(label)
        if was == now:
            continue
        if label == "baan":
            was = old.lane_names.get(was or "", was)
            now = new.lane_names.get(now or "", now)
        details.append(_detail(label, was, now))
    return details


def _detail(label: str, was: str | None, now: str | None) -> str:
    if label in _UNQUOTED_TEXT or (label not in _QUOTED and (_long(was, now) or _structure(was, now))):
        if was is None:
            return f"{label} toegevoegd"
        return f"{label} verwijderd" if now is None else f"{label} gewijzigd"
    if label in _QUOTED:
        return f"{label}: {_quoted(was)} → {_quoted(now)}"
    return f"{label}: {was if was is not None else '(geen)'} → {now if now is not None else '(geen)'}"


def _detail_order(label: str) -> tuple[int, str]:
    first = ("soort", "naam", "baan", "formulier", "formulierindeling")
    return (first.index(label), "") if label in first else (len(first), label)


def _quoted(value: str | None) -> str:
    if value is None:
        return "(geen)"
    return f"'{value if len(value) <= 60 else value[:57] + '…'}'"


def _long(*values: str | None) -> bool:
    return any(value is not None and (len(value) > 60 or "\n" in value) for value in values)


def _structure(*values: str | None) -> bool:
    """Whether a value is the canonical text of an element (`_canonical`): only "changed" says anything about it."""
    return any(value is not None and value.startswith("<") and value.endswith("</>") for value in values)


def _code_added(before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    return any(after.get(label) not in (None, before.get(label)) for label in CODE_ASPECTS)


def _listed(element: _Element, change: str, details: list[str] | None = None) -> ElementChange:
    return ElementChange(element.element_id, element.element_type, element.name, change, details or [])


def _ordered(changes: list[ElementChange]) -> list[ElementChange]:
    return sorted(
        changes, key=lambda change: (change.element_type == "lane", change.name.casefold(), change.element_id)
    )


def _moved(kind: str) -> str:
    return "lijn verlegd" if kind == "BPMNEdge" else "verplaatst of van grootte veranderd"


# --- small readers -------------------------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _name(element: etree._Element) -> str:
    return str(element.get("name") or "")


def _code(element: etree._Element) -> str:
    """An element's text as code: line endings normalised, outer blank space dropped."""
    return (element.text or "").replace("\r\n", "\n").strip()


def _canonical(element: etree._Element) -> str:
    """A stable text for any other element: tag, sorted attributes, text and children."""
    attributes = ",".join(f"{key}={value}" for key, value in sorted(element.attrib.items()))
    children = "".join(_canonical(child) for child in element if isinstance(child.tag, str))
    return f"<{_local(element)} {attributes}>{(element.text or '').strip()}{children}</>"


def _joined(existing: str | None, value: str) -> str:
    return value if existing is None else f"{existing}; {value}"


def _number(value: str | None) -> str:
    try:
        return f"{float(value):g}" if value is not None else ""
    except ValueError:
        return value or ""
