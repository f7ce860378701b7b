"""Task forms from JSON Schema, rendered on the server (reading the schema: web/form_schema.py; parsing a
submission and the row buttons: web/form_submission.py).

The schema given to these functions is `Form.resolved_schema` (every `$ref` inlined). Input names are dotted paths
(`melder.email`, `betrokkenen.0.naam`), the same paths the engine uses for its validation messages, so an error can
be shown next to its field and linked from a summary with `field_id(path)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flask import render_template
from markupsafe import Markup

from engine.dates import AMSTERDAM
from engine.privacy.visibility import Redacted
from web.form_schema import (
    ADD,
    REMOVE,
    any_holds,
    as_dict,
    as_list,
    choices_of,
    condition_json,
    conditionals_of,
    empty_item,
    form_text,
    is_read_only,
    items_of,
    limits_of,
    properties_of,
    readable,
    shape_of,
    type_of,
)

#: Free text (no `format`) that may be longer than this gets a textarea instead of a one-line input.
TEXTAREA_FROM_LENGTH = 200

_ID_UNSAFE = re.compile(r"[\s.]+")

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
            parts.append(labels.get(".".join(pattern), readable(segment)))
    return " – ".join(parts)


def _collect_labels(schema: Mapping[str, Any], prefix: str, labels: dict[str, str]) -> None:
    for name, spec in properties_of(schema).items():
        path = f"{prefix}{name}"
        labels[path] = _title(spec, name)
        shape = shape_of(spec)
        if shape == "object":
            _collect_labels(spec, f"{path}.", labels)
        elif shape == "rows":
            items = items_of(spec)
            if shape_of(items) == "object":
                _collect_labels(items, f"{path}.*.", labels)


def _title(spec: Mapping[str, Any], name: str) -> str:
    title = spec.get("title")
    return title if isinstance(title, str) and title else readable(name)


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
        schema, as_dict(ui_schema), values, prefix="", chain_required=True, read_only=read_only
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
        properties = properties_of(schema)
        conditional = conditionals_of(schema)
        required = set(as_list(schema.get("required")))
        views = []
        for name in _ordered(list(properties), ui.get("ui:order")):
            spec, field_ui = properties[name], as_dict(ui.get(name))
            if field_ui.get("ui:widget") == "hidden":
                continue
            path = f"{prefix}{name}"
            field_read_only = read_only or is_read_only(spec, field_ui)
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
                    name in conditional.required and any_holds(conditional.required[name], values)
                )
                view.required_attribute = chain_required and always_required
                if name in conditional.shown:
                    view.shown_when = condition_json(conditional.shown[name], prefix)
                if name in conditional.required:
                    view.required_when = condition_json(conditional.required[name], prefix)
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
        shape = shape_of(spec)
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
            choices = choices_of(items_of(spec)) or []
            view.selected = [form_text(v) for v in (value if isinstance(value, list) else [])]
            view.choices = _with_unknown([Choice(form_text(v), label) for v, label in choices], view.selected)
            chosen = {c.value: c.label for c in view.choices}
            view.display = ", ".join(chosen[v] for v in view.selected)
        elif shape == "boolean":
            view.kind = "checkbox" if ui.get("ui:widget") == "checkbox" else "boolean"
            view.value = form_text(value)
        else:
            self._scalar(view, spec, ui, value)
        return view

    def _scalar(self, view: FieldView, spec: Mapping[str, Any], ui: Mapping[str, Any], value: Any) -> None:
        choices = choices_of(spec)
        placeholder = ui.get("ui:placeholder")
        view.placeholder = str(placeholder) if placeholder else None
        if choices is not None:
            view.kind = "radio" if ui.get("ui:widget") == "radio" else "select"
            view.value = form_text(value)
            view.choices = _with_unknown([Choice(form_text(v), label) for v, label in choices], [view.value])
            view.display = next((c.label for c in view.choices if c.value == view.value), view.value)
            return
        kind, text_format = type_of(spec), spec.get("format")
        max_length = spec.get("maxLength")
        long_text = isinstance(max_length, int) and max_length > TEXTAREA_FROM_LENGTH and text_format is None
        view.kind = "textarea" if ui.get("ui:widget") == "textarea" or long_text else "text"
        view.input_type = {"email": "email", "telefoon": "tel", "date": "date", "date-time": "datetime-local"}.get(
            str(text_format), "text"
        )
        view.inputmode = {"integer": "numeric", "number": "decimal"}.get(str(kind))
        if text_format == "bsn":
            view.inputmode = "numeric"
        view.value = _local_datetime(value) if text_format == "date-time" else form_text(value)
        view.display = _dutch_date(view.value, str(text_format)) if text_format in ("date", "date-time") else view.value

    def _rows(
        self, view: FieldView, spec: Mapping[str, Any], ui: Mapping[str, Any], value: Any, *, chain_required: bool
    ) -> None:
        view.kind = "rows"
        items, items_ui = items_of(spec), as_dict(ui.get("items"))
        present = list(value) if isinstance(value, list) else []
        minimum, maximum = limits_of(spec)
        if not view.read_only:
            present += [empty_item(items)] * (minimum - len(present))
        item_title = items.get("title") if isinstance(items.get("title"), str) else view.label
        for index, row_value in enumerate(present):
            row_path = f"{view.path}.{index}"
            row_required = chain_required and index < minimum
            if shape_of(items) == "object":
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
    text = form_text(value)
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
