"""Task forms from JSON Schema: server-side rendering, parsing browser submissions back to JSON, repeatable rows.

The schema given to these functions is `Form.resolved_schema` (every `$ref` inlined). Input names are dotted paths
(`melder.email`, `betrokkenen.0.naam`), the same paths the engine uses for its validation messages, so an error can
be shown next to its field and linked from a summary with `field_id(path)`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flask import render_template
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from engine.forms import MAX_ROWS
from engine.i18n import translated
from engine.privacy.visibility import Redacted

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Free text (no `format`) that may be longer than this gets a textarea instead of a one-line input.
TEXTAREA_FROM_LENGTH = 200

ADD, REMOVE = "toevoegen", "verwijderen"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
_ID_UNSAFE = re.compile(r"[\s.]+")

Shape = Literal["object", "rows", "choices", "boolean", "scalar"]
Kind = Literal["text", "textarea", "select", "radio", "boolean", "checkbox", "checkboxes", "group", "rows"]


# --- names, ids and labels ----------------------------------------------------------------------------------------


def field_id(path: str) -> str:
    """The HTML id of the input (or fieldset) for the field at dotted `path`, e.g. `veld-betrokkenen-0-bsn`."""
    return "veld-" + _ID_UNSAFE.sub("-", path)


def field_labels(schema: dict[str, Any]) -> dict[str, str]:
    """Dotted path (`*` for an array index, e.g. `betrokkenen.*.bsn`) → the field's label, for every field."""
    labels: dict[str, str] = {}
    _collect_labels(schema, "", labels)
    return labels


def label_for(labels: Mapping[str, str], path: str) -> str:
    """A readable label for a concrete path: `betrokkenen.0.bsn` → "Betrokkenen 1 – BSN"."""
    parts: list[str] = []
    pattern: list[str] = []
    for segment in path.split("."):
        if segment.isdigit() and parts:
            parts[-1] = f"{parts[-1]} {int(segment) + 1}"
            pattern.append("*")
        else:
            pattern.append(segment)
            parts.append(labels.get(".".join(pattern), _readable(segment)))
    return " – ".join(parts)


def _collect_labels(schema: Mapping[str, Any], prefix: str, labels: dict[str, str]) -> None:
    for name, spec in _properties(schema).items():
        path = f"{prefix}{name}"
        labels[path] = _title(spec, name)
        shape = _shape(spec)
        if shape == "object":
            _collect_labels(spec, f"{path}.", labels)
        elif shape == "rows":
            items = _items(spec)
            if _shape(items) == "object":
                _collect_labels(items, f"{path}.*.", labels)


def _title(spec: Mapping[str, Any], name: str) -> str:
    title = spec.get("title")
    return title if isinstance(title, str) and title else _readable(name)


def _readable(value: str) -> str:
    """`procesregie_zvh` → "Procesregie zvh": a label for a name that has none (no translation is invented)."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


# --- reading the schema -------------------------------------------------------------------------------------------


def _properties(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields of an object schema, including those only defined in an `if`/`then`/`else` branch."""
    found = {name: spec for name, spec in _dict(schema.get("properties")).items() if isinstance(spec, dict)}
    for rule in _rules(schema):
        for name, spec in _dict(rule.branch.get("properties")).items():
            if isinstance(spec, dict) and name not in found:
                found[name] = spec
    return {name: spec for name, spec in found.items() if not name.startswith("_")}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type(spec: Mapping[str, Any]) -> str | None:
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


def _items(spec: Mapping[str, Any]) -> dict[str, Any]:
    return _dict(spec.get("items"))


def _choices(spec: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) pairs of an enum, labelled from `oneOf`/`anyOf: [{const, title}]` when present."""
    if isinstance(spec.get("enum"), list):
        return [(value, _readable(_form_text(value))) for value in spec["enum"]]
    for keyword in ("oneOf", "anyOf"):
        options = spec.get(keyword)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            # a written label the catalogue knows (the catch-all gemeente "Overig (…)") in the page's language
            return [(o["const"], translated(str(o.get("title") or _readable(_form_text(o["const"]))))) for o in options]
    return None


def _shape(spec: Mapping[str, Any]) -> Shape:
    """How a value of this schema travels in a form, independent of the widget that shows it."""
    kind = _type(spec)
    if kind == "object":
        return "object"
    if kind == "array":
        return "choices" if _choices(_items(spec)) is not None else "rows"
    if kind == "boolean":
        return "boolean"
    return "scalar"


def _is_read_only(spec: Mapping[str, Any], ui: Mapping[str, Any]) -> bool:
    return spec.get("readOnly") is True or ui.get("ui:readonly") is True


def _form_text(value: Any) -> str:
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
class _Clause:
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
            result = any(_form_text(item) in self.texts for item in (value if isinstance(value, list) else [value]))
        return result != self.negated

    def as_json(self, prefix: str) -> dict[str, Any]:
        return {
            "veld": f"{prefix}{self.name}",
            "waarden": list(self.texts),
            "ookLeeg": self.allows_missing,
            "niet": self.negated,
        }


#: Alternatives of conjunctions: the condition holds when every clause of at least one alternative holds.
Condition = tuple[tuple[_Clause, ...], ...]


@dataclass(frozen=True)
class _Rule:
    condition: Condition
    branch: dict[str, Any]


def _rules(schema: Mapping[str, Any]) -> Iterator[_Rule]:
    """The supported `if`/`then`/`else` rules of an object, also inside `allOf`; anything else is ignored here."""
    candidates = [schema, *(part for part in _list(schema.get("allOf")) if isinstance(part, dict))]
    for candidate in candidates:
        clauses = _if_clauses(candidate.get("if"))
        if clauses is None:
            continue
        if isinstance(candidate.get("then"), dict):
            yield _Rule((clauses,), candidate["then"])
        if isinstance(candidate.get("else"), dict):
            negated = tuple((_Clause(c.name, c.texts, c.allows_missing, negated=True),) for c in clauses)
            yield _Rule(negated, candidate["else"])


def _if_clauses(condition: Any) -> tuple[_Clause, ...] | None:
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
        clauses.append(_Clause(name, tuple(_form_text(v) for v in values), allows_missing=name not in required))
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


def _any_holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    return any(all(clause.holds(values) for clause in alternative) for alternative in condition)


def _condition_json(condition: Condition, prefix: str) -> str:
    return json.dumps([[c.as_json(prefix) for c in alternative] for alternative in condition], ensure_ascii=False)


@dataclass(frozen=True)
class _Conditional:
    """When a field is shown and when it is required, for the fields of one object that depend on a condition."""

    shown: dict[str, Condition]
    required: dict[str, Condition]


def _conditionals(schema: Mapping[str, Any]) -> _Conditional:
    base = set(_dict(schema.get("properties")))
    always_required = set(_list(schema.get("required")))
    shown: dict[str, Condition] = {}
    required: dict[str, Condition] = {}
    for rule in _rules(schema):
        for name in _list(rule.branch.get("required")):
            if isinstance(name, str) and name not in always_required:
                required[name] = required.get(name, ()) + rule.condition
                shown[name] = shown.get(name, ()) + rule.condition
        for name in _dict(rule.branch.get("properties")):
            if name not in base:
                shown[name] = shown.get(name, ()) + rule.condition
    return _Conditional(shown, required)


# --- rendering ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of a select, a radio group or a checkbox group; `value` is its form text."""

    value: str
    label: str


@dataclass
class FieldView:
    """Everything a template needs to render one field; templates decide markup, not meaning."""

    kind: Kind
    path: str
    label: str
    read_only: bool
    help: str | None = None
    errors: Sequence[str] = ()
    required: bool = False
    required_attribute: bool = False
    shown_when: str | None = None
    required_when: str | None = None
    value: str = ""
    display: str = ""
    selected: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    input_type: str = "text"
    inputmode: str | None = None
    placeholder: str | None = None
    children: list[FieldView] = field(default_factory=list)
    rows: list[RowView] = field(default_factory=list)
    add_action: str | None = None
    add_label: str | None = None
    #: the value is hidden from this user (a field class they lack): shown read-only as "afgeschermd"
    redacted: bool = False

    @property
    def id(self) -> str:
        return field_id(self.path)

    @property
    def help_id(self) -> str:
        return f"{self.id}--uitleg"

    @property
    def error_id(self) -> str:
        return f"{self.id}--fout"

    @property
    def described_by(self) -> str | None:
        ids = [self.help_id] if self.help else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids) or None


@dataclass
class RowView:
    """One row of a repeatable group: a fieldset with a numbered legend and, when allowed, a remove button."""

    path: str
    legend: str
    children: list[FieldView]
    errors: Sequence[str] = ()
    remove_action: str | None = None

    @property
    def id(self) -> str:
        return field_id(self.path)

    @property
    def error_id(self) -> str:
        return f"{self.id}--fout"


def render_form_fields(
    schema: dict[str, Any],
    ui_schema: dict[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    *,
    read_only: bool = False,
) -> Markup:
    """The HTML of every field of the form (the page supplies the <form> element and its buttons)."""
    context = _RenderContext(errors=errors)
    fields = context.object_fields(
        schema, _dict(ui_schema), values, prefix="", chain_required=True, read_only=read_only
    )
    # The template autoescapes every value; its output is HTML.
    return Markup(render_template("schema_form/fields.html", fields=fields))  # noqa: S704


@dataclass(frozen=True)
class _RenderContext:
    errors: Mapping[str, Sequence[str]]

    def object_fields(
        self,
        schema: Mapping[str, Any],
        ui: Mapping[str, Any],
        values: Any,
        *,
        prefix: str,
        chain_required: bool,
        read_only: bool,
    ) -> list[FieldView]:
        values = values if isinstance(values, Mapping) else {}
        properties = _properties(schema)
        conditional = _conditionals(schema)
        required = set(_list(schema.get("required")))
        views = []
        for name in _ordered(list(properties), ui.get("ui:order")):
            spec, field_ui = properties[name], _dict(ui.get(name))
            if field_ui.get("ui:widget") == "hidden":
                continue
            path = f"{prefix}{name}"
            field_read_only = read_only or _is_read_only(spec, field_ui)
            # A default suggests input; read-only views and fields the engine called missing show what is there.
            suggest = not field_read_only and name not in values and path not in self.errors
            value = spec.get("default") if suggest else values.get(name)
            always_required = name in required and name not in conditional.shown
            view = self.field(
                spec,
                field_ui,
                value,
                path=path,
                read_only=field_read_only,
                chain_required=chain_required and always_required,
            )
            if view is None:
                continue
            if not field_read_only:
                view.required = always_required or (
                    name in conditional.required and _any_holds(conditional.required[name], values)
                )
                view.required_attribute = chain_required and always_required
                if name in conditional.shown:
                    view.shown_when = _condition_json(conditional.shown[name], prefix)
                if name in conditional.required:
                    view.required_when = _condition_json(conditional.required[name], prefix)
            views.append(view)
        return views

    def field(
        self,
        spec: Mapping[str, Any],
        ui: Mapping[str, Any],
        value: Any,
        *,
        path: str,
        read_only: bool,
        chain_required: bool,
    ) -> FieldView | None:
        label = ui.get("ui:title") or _title(spec, path.rsplit(".", 1)[-1])
        help_text = ui.get("ui:help") or spec.get("description")
        view = FieldView(
            kind="text",
            path=path,
            label=str(label),
            read_only=read_only,
            help=str(help_text) if help_text else None,
            errors=self.errors.get(path, ()),
        )
        if isinstance(value, Redacted):
            view.read_only = view.redacted = True
            return view
        shape = _shape(spec)
        if shape == "object":
            view.kind = "group"
            view.children = self.object_fields(
                spec, ui, value, prefix=f"{path}.", chain_required=chain_required, read_only=read_only
            )
            return view if view.children else None
        if shape == "rows":
            self._rows(view, spec, ui, value, chain_required=chain_required)
        elif shape == "choices":
            view.kind = "checkboxes"
            choices = _choices(_items(spec)) or []
            view.selected = [_form_text(v) for v in (value if isinstance(value, list) else [])]
            view.choices = _with_unknown([Choice(_form_text(v), label) for v, label in choices], view.selected)
            chosen = {c.value: c.label for c in view.choices}
            view.display = ", ".join(chosen[v] for v in view.selected)
        elif shape == "boolean":
            view.kind = "checkbox" if ui.get("ui:widget") == "checkbox" else "boolean"
            view.value = _form_text(value)
        else:
            self._scalar(view, spec, ui, value)
        return view

    def _scalar(self, view: FieldView, spec: Mapping[str, Any], ui: Mapping[str, Any], value: Any) -> None:
        choices = _choices(spec)
        placeholder = ui.get("ui:placeholder")
        view.placeholder = str(placeholder) if placeholder else None
        if choices is not None:
            view.kind = "radio" if ui.get("ui:widget") == "radio" else "select"
            view.value = _form_text(value)
            view.choices = _with_unknown([Choice(_form_text(v), label) for v, label in choices], [view.value])
            view.display = next((c.label for c in view.choices if c.value == view.value), view.value)
            return
        kind, text_format = _type(spec), spec.get("format")
        max_length = spec.get("maxLength")
        long_text = isinstance(max_length, int) and max_length > TEXTAREA_FROM_LENGTH and text_format is None
        view.kind = "textarea" if ui.get("ui:widget") == "textarea" or long_text else "text"
        view.input_type = {"email": "email", "telefoon": "tel", "date": "date", "date-time": "datetime-local"}.get(
            str(text_format), "text"
        )
        view.inputmode = {"integer": "numeric", "number": "decimal"}.get(str(kind))
        if text_format == "bsn":
            view.inputmode = "numeric"
        view.value = _local_datetime(value) if text_format == "date-time" else _form_text(value)
        view.display = _dutch_date(view.value, str(text_format)) if text_format in ("date", "date-time") else view.value

    def _rows(
        self, view: FieldView, spec: Mapping[str, Any], ui: Mapping[str, Any], value: Any, *, chain_required: bool
    ) -> None:
        view.kind = "rows"
        items, items_ui = _items(spec), _dict(ui.get("items"))
        present = list(value) if isinstance(value, list) else []
        minimum, maximum = _limits(spec)
        if not view.read_only:
            present += [_empty_item(items)] * (minimum - len(present))
        item_title = items.get("title") if isinstance(items.get("title"), str) else view.label
        for index, row_value in enumerate(present):
            row_path = f"{view.path}.{index}"
            row_required = chain_required and index < minimum
            if _shape(items) == "object":
                children = self.object_fields(
                    items,
                    items_ui,
                    row_value,
                    prefix=f"{row_path}.",
                    chain_required=row_required,
                    read_only=view.read_only,
                )
            else:
                child = self.field(
                    items, items_ui, row_value, path=row_path, read_only=view.read_only, chain_required=row_required
                )
                children = [child] if child else []
                for only in children:
                    only.label = f"{item_title} {index + 1}"
            removable = not view.read_only and len(present) > minimum
            view.rows.append(
                RowView(
                    path=row_path,
                    legend=f"{item_title} {index + 1}",
                    children=children,
                    errors=self.errors.get(row_path, ()),
                    remove_action=f"{REMOVE}:{row_path}" if removable else None,
                )
            )
        if not view.read_only and len(present) < maximum:
            view.add_action = f"{ADD}:{view.path}"
            add_label = ui.get("ui:addLabel")
            view.add_label = str(add_label) if add_label else None


def _ordered(names: list[str], order: Any) -> list[str]:
    """`ui:order` first (`*` stands for the fields it does not name), then the rest in schema order."""
    if not isinstance(order, list):
        return names
    named = [name for name in order if name in names]
    rest = [name for name in names if name not in named]
    if "*" not in order:
        return named + rest
    star = order.index("*")
    before = [name for name in order[:star] if name in names]
    after = [name for name in order[star + 1 :] if name in names]
    return before + rest + after


def _with_unknown(choices: list[Choice], current: list[str]) -> list[Choice]:
    """The options plus any submitted value that is not one of them, so what was sent is shown again."""
    known = {choice.value for choice in choices}
    return choices + [Choice(value, value) for value in dict.fromkeys(current) if value and value not in known]


def _local_datetime(value: Any) -> str:
    """An ISO 8601 date-time with offset as a `datetime-local` value in Dutch time; anything else unchanged."""
    text = _form_text(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    try:
        local = moment.astimezone(AMSTERDAM)
    except OverflowError:  # year 1 or 9999 near the edge of the calendar: show it as typed
        return text
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def _dutch_date(text: str, text_format: str) -> str:
    """A date (`2026-03-02`) or local date-time (`2026-03-02T09:00`) as Dutch people write it: `02-03-2026`,
    `02-03-2026 09:00`; anything that is not one is shown as typed."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if text_format == "date":
        return moment.strftime("%d-%m-%Y") if len(text) == 10 else text
    return moment.strftime("%d-%m-%Y %H:%M:%S" if moment.second else "%d-%m-%Y %H:%M")


def _limits(spec: Mapping[str, Any]) -> tuple[int, int]:
    """Least and most rows of a group: its `minItems` and `maxItems`, at most `MAX_ROWS` either way."""
    minimum, maximum = spec.get("minItems"), spec.get("maxItems")
    return (
        min(minimum, MAX_ROWS) if isinstance(minimum, int) else 0,
        min(maximum, MAX_ROWS) if isinstance(maximum, int) else MAX_ROWS,
    )


def _empty_item(items: Mapping[str, Any]) -> Any:
    return {} if _shape(items) == "object" else ""


# --- parsing a submission -----------------------------------------------------------------------------------------


def parse_submission(schema: dict[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """Browser form data as the JSON the engine validates; what does not parse is kept as typed.

    Rows beyond a group's `maxItems` (and beyond `MAX_ROWS`) are not read: one more than allowed is kept, so
    validation says there are too many, without reading, checking and showing again thousands of them.
    """
    parsed = _parse_object(schema, _Submission(form, _row_indexes(form)), "")
    return parsed if isinstance(parsed, dict) else {}


@dataclass(frozen=True)
class _Submission:
    form: MultiDict[str, str]
    rows: Mapping[str, list[int]]


def _parse(spec: Mapping[str, Any], submission: _Submission, path: str) -> Any:
    """The value at `path`, or None when nothing was filled in (empty values and rows are left out)."""
    shape = _shape(spec)
    form = submission.form
    if shape == "object":
        return _parse_object(spec, submission, f"{path}.")
    if shape == "rows":
        items = _items(spec)
        read = _limits(spec)[1] + 1
        rows = [_parse(items, submission, f"{path}.{index}") for index in submission.rows.get(path, [])[:read]]
        return [row for row in rows if row is not None] or None
    texts = [text for text in (_clean(raw) for raw in form.getlist(path)) if text]
    if shape == "choices":
        return [_scalar(_items(spec), text) for text in texts] or None
    if shape == "boolean":
        if "true" in texts:
            return True
        return False if "false" in texts else (texts[-1] if texts else None)
    return _scalar(spec, texts[0]) if texts else None


def _parse_object(schema: Mapping[str, Any], submission: _Submission, prefix: str) -> dict[str, Any] | None:
    parsed = {}
    for name, spec in _properties(schema).items():
        if spec.get("readOnly") is True:
            continue
        value = _parse(spec, submission, f"{prefix}{name}")
        if value is not None:
            parsed[name] = value
    return parsed or None


#: Dots in an input name the parser looks at; deeper names match no form (schemas nest far less deeply).
_MAX_NAME_DEPTH = 64


def _row_indexes(form: MultiDict[str, str]) -> dict[str, list[int]]:
    """Array path → indexes of its rows present in the form, in order (rows may be missing or out of order).

    One pass over the names, so a submission with many rows (or many nested groups) costs linear time.
    """
    found: dict[str, set[int]] = {}
    for key in form:
        if key.count(".") > _MAX_NAME_DEPTH:
            continue
        parts = key.split(".")
        for position in range(1, len(parts)):
            index = parts[position]
            # Longer numbers are no row a browser sends (and Python refuses to convert thousands of digits).
            if index.isdigit() and index.isascii() and len(index) <= 9:
                found.setdefault(".".join(parts[:position]), set()).add(int(index))
    return {path: sorted(indexes) for path, indexes in found.items()}


def _clean(raw: str) -> str:
    """Surrounding whitespace removed and browser line ends (CRLF) made plain newlines."""
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()


def _scalar(spec: Mapping[str, Any], text: str) -> Any:
    """`text` as the schema's type when it parses as one: an enum member, a number, a date-time with offset."""
    choices = _choices(spec)
    if choices is not None:
        match = next((value for value, _label in choices if _form_text(value) == text), None)
        if match is not None:
            return match
    kind = _type(spec)
    if kind == "integer" and _INTEGER.fullmatch(text):
        return _int(text)
    if kind == "number" and _NUMBER.fullmatch(text):
        return _number(text)
    if kind in ("string", None) and spec.get("format") == "date-time":
        return _with_offset(text)
    return text


def _int(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return text


def _number(text: str) -> int | float | str:
    # A Dutch decimal comma is accepted; an integer stays an integer.
    normalized = text.replace(",", ".")
    if _INTEGER.fullmatch(normalized):
        return _int(normalized)
    number = float(normalized)
    return number if number not in (float("inf"), float("-inf")) else text


def _with_offset(text: str) -> str:
    """A `datetime-local` value is Dutch local time; the engine stores date-times with their offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        return text
    return moment.replace(tzinfo=AMSTERDAM).isoformat()


# --- adding and removing rows without JavaScript ------------------------------------------------------------------


def apply_row_action(schema: dict[str, Any], values: dict[str, Any], action: str) -> dict[str, Any]:
    """`values` after `toevoegen:<array path>` or `verwijderen:<array path>.<index>`; unchanged when not valid."""
    changed = copy.deepcopy(values)
    verb, _sep, target = action.partition(":")
    segments = target.split(".")
    if verb == REMOVE and len(segments) > 1 and segments[-1].isdigit() and segments[-1].isascii():
        index: int | None = int(segments.pop())
    elif verb == ADD:
        index = None
    else:
        return copy.deepcopy(values)
    located = _locate_rows(schema, changed, segments)
    if located is None:
        return copy.deepcopy(values)
    rows, items, (minimum, maximum) = located
    rows += [_empty_item(items)] * (minimum - len(rows))
    if index is None and len(rows) < maximum:
        rows.append(_empty_item(items))
    elif index is not None and index < len(rows):
        del rows[index]
    else:
        return copy.deepcopy(values)
    return changed


def _locate_rows(
    schema: Mapping[str, Any], values: dict[str, Any], segments: list[str]
) -> tuple[list[Any], dict[str, Any], tuple[int, int]] | None:
    """The (created if missing) row list at `segments` inside `values`, its item schema and limits; None if invalid."""
    spec: Mapping[str, Any] = schema
    holder: dict[str, Any] | list[Any] = values
    slot: str | int | None = None
    for segment in segments:
        shape = _shape(spec)
        if shape == "object" and segment in _properties(spec):
            container = _descend(holder, slot, {})
            if not isinstance(container, dict):
                return None
            spec, holder, slot = _properties(spec)[segment], container, segment
        elif shape == "rows" and segment.isdigit() and segment.isascii():
            container = _descend(holder, slot, [])
            if not isinstance(container, list):
                return None
            container += [_empty_item(_items(spec))] * (_limits(spec)[0] - len(container))
            if int(segment) >= len(container):
                return None
            spec, holder, slot = _items(spec), container, int(segment)
        else:
            return None
        if spec.get("readOnly") is True:
            return None
    if _shape(spec) != "rows":
        return None
    rows = _descend(holder, slot, [])
    return (rows, _items(spec), _limits(spec)) if isinstance(rows, list) else None


def _descend(holder: dict[str, Any] | list[Any], slot: str | int | None, empty: Any) -> Any:
    """The value in `holder` at `slot` (the top level itself for None), set to `empty` when missing."""
    if slot is None:
        return holder
    if isinstance(holder, dict) and isinstance(slot, str):
        return holder.setdefault(slot, empty)
    if isinstance(holder, list) and isinstance(slot, int):
        if holder[slot] in ("", None):
            holder[slot] = empty
        return holder[slot]
    return None
