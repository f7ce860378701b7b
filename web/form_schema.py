"""Reading a task form's JSON Schema (`Form.resolved_schema`, every `$ref` inlined): its fields, their types and
choices, how a value travels in a browser form, row limits, and the conditional fields of `if`/`then`/`else`.

Shared by rendering (web/schema_form.py) and parsing a submission (web/form_submission.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from engine.forms import MAX_ROWS
from engine.i18n import translated

#: The values of a repeatable group's add and remove buttons (`toevoegen:<path>`, `verwijderen:<path>.<index>`).
ADD, REMOVE = "toevoegen", "verwijderen"

Shape = Literal["object", "rows", "choices", "boolean", "scalar"]


# --- reading the schema -------------------------------------------------------------------------------------------


def properties_of(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields of an object schema, including those only defined in an `if`/`then`/`else` branch."""
    found = {name: spec for name, spec in as_dict(schema.get("properties")).items() if isinstance(spec, dict)}
    for rule in rules_of(schema):
        for name, spec in as_dict(rule.branch.get("properties")).items():
            if isinstance(spec, dict) and name not in found:
                found[name] = spec
    return {name: spec for name, spec in found.items() if not name.startswith("_")}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def type_of(spec: Mapping[str, Any]) -> str | None:
    declared = spec.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if "properties" in spec:
        return "object"
    if "items" in spec:
        return "array"
    return None


def items_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    return as_dict(spec.get("items"))


def choices_of(spec: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) pairs of an enum, labelled from `oneOf`/`anyOf: [{const, title}]` when present."""
    if isinstance(spec.get("enum"), list):
        return [(value, readable(form_text(value))) for value in spec["enum"]]
    for keyword in ("oneOf", "anyOf"):
        options = spec.get(keyword)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            # a written label the catalogue knows (the catch-all gemeente "Overig (…)") in the page's language
            return [(o["const"], translated(str(o.get("title") or readable(form_text(o["const"]))))) for o in options]
    return None


def shape_of(spec: Mapping[str, Any]) -> Shape:
    """How a value of this schema travels in a form, independent of the widget that shows it."""
    kind = type_of(spec)
    if kind == "object":
        return "object"
    if kind == "array":
        return "choices" if choices_of(items_of(spec)) is not None else "rows"
    if kind == "boolean":
        return "boolean"
    return "scalar"


def is_read_only(spec: Mapping[str, Any], ui: Mapping[str, Any]) -> bool:
    return spec.get("readOnly") is True or ui.get("ui:readonly") is True


def form_text(value: Any) -> str:
    """A JSON value as the browser sends it back: booleans as `true`/`false`, numbers as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


# --- conditional fields (if/then/else) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """`name` has one of `texts` (in form text); `allows_missing` when the `if` does not require the field."""

    name: str
    texts: tuple[str, ...]
    allows_missing: bool
    negated: bool = False

    def holds(self, values: Mapping[str, Any]) -> bool:
        if self.name not in values:
            result = self.allows_missing
        else:
            value = values[self.name]
            result = any(form_text(item) in self.texts for item in (value if isinstance(value, list) else [value]))
        return result != self.negated

    def as_json(self, prefix: str) -> dict[str, Any]:
        return {
            "veld": f"{prefix}{self.name}",
            "waarden": list(self.texts),
            "ookLeeg": self.allows_missing,
            "niet": self.negated,
        }


#: Alternatives of conjunctions: the condition holds when every clause of at least one alternative holds.
Condition = tuple[tuple[Clause, ...], ...]


@dataclass(frozen=True)
class Rule:
    condition: Condition
    branch: dict[str, Any]


def rules_of(schema: Mapping[str, Any]) -> Iterator[Rule]:
    """The supported `if`/`then`/`else` rules of an object, also inside `allOf`; anything else is ignored here."""
    candidates = [schema, *(part for part in as_list(schema.get("allOf")) if isinstance(part, dict))]
    for candidate in candidates:
        clauses = _if_clauses(candidate.get("if"))
        if clauses is None:
            continue
        if isinstance(candidate.get("then"), dict):
            yield Rule((clauses,), candidate["then"])
        if isinstance(candidate.get("else"), dict):
            negated = tuple((Clause(c.name, c.texts, c.allows_missing, negated=True),) for c in clauses)
            yield Rule(negated, candidate["else"])


def _if_clauses(condition: Any) -> tuple[Clause, ...] | None:
    """Clauses of `{"properties": {x: {"const": v} | {"enum": [...]} | {"contains": …}}, "required": [x]}`."""
    if not isinstance(condition, dict) or set(condition) - {"properties", "required", "type"}:
        return None
    required = condition.get("required", [])
    properties = condition.get("properties")
    if not isinstance(properties, dict) or not properties or not isinstance(required, list):
        return None
    if not set(required) <= set(properties):
        return None
    clauses = []
    for name, test in properties.items():
        values = _allowed_values(test)
        if values is None:
            return None
        clauses.append(Clause(name, tuple(form_text(v) for v in values), allows_missing=name not in required))
    return tuple(clauses)


def _allowed_values(test: Any) -> list[Any] | None:
    if not isinstance(test, dict):
        return None
    if isinstance(test.get("contains"), dict):
        test = test["contains"]
    if set(test) - {"const", "enum", "type"}:
        return None
    if "const" in test:
        return [test["const"]]
    return test["enum"] if isinstance(test.get("enum"), list) else None


def any_holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    return any(all(clause.holds(values) for clause in alternative) for alternative in condition)


def condition_json(condition: Condition, prefix: str) -> str:
    return json.dumps([[c.as_json(prefix) for c in alternative] for alternative in condition], ensure_ascii=False)


@dataclass(frozen=True)
class Conditional:
    """When a field is shown and when it is required, for the fields of one object that depend on a condition."""

    shown: dict[str, Condition]
    required: dict[str, Condition]


def conditionals_of(schema: Mapping[str, Any]) -> Conditional:
    base = set(as_dict(schema.get("properties")))
    always_required = set(as_list(schema.get("required")))
    shown: dict[str, Condition] = {}
    required: dict[str, Condition] = {}
    for rule in rules_of(schema):
        for name in as_list(rule.branch.get("required")):
            if isinstance(name, str) and name not in always_required:
                required[name] = required.get(name, ()) + rule.condition
                shown[name] = shown.get(name, ()) + rule.condition
        for name in as_dict(rule.branch.get("properties")):
            if name not in base:
                shown[name] = shown.get(name, ()) + rule.condition
    return Conditional(shown, required)


def readable(value: str) -> str:
    """`procesregie_zvh` → "Procesregie zvh": a label for a name that has none (no translation is invented)."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def limits_of(spec: Mapping[str, Any]) -> tuple[int, int]:
    """Least and most rows of a group: its `minItems` and `maxItems`, at most `MAX_ROWS` either way."""
    minimum, maximum = spec.get("minItems"), spec.get("maxItems")
    return (
        min(minimum, MAX_ROWS) if isinstance(minimum, int) else 0,
        min(maximum, MAX_ROWS) if isinstance(maximum, int) else MAX_ROWS,
    )


def empty_item(items: Mapping[str, Any]) -> Any:
    return {} if shape_of(items) == "object" else ""
