"""Browser form submissions back to the JSON the engine validates, and adding or removing repeatable rows
without JavaScript. Input names are the dotted paths of web/schema_form.py (`betrokkenen.0.naam`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.dates import AMSTERDAM
from web.form_schema import (
    ADD,
    REMOVE,
    choices_of,
    empty_item,
    form_text,
    items_of,
    limits_of,
    properties_of,
    shape_of,
    type_of,
)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")


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
    shape = shape_of(spec)
    form = submission.form
    if shape == "object":
        return _parse_object(spec, submission, f"{path}.")
    if shape == "rows":
        items = items_of(spec)
        read = limits_of(spec)[1] + 1
        rows = [_parse(items, submission, f"{path}.{index}") for index in submission.rows.get(path, [])[:read]]
        return [row for row in rows if row is not None] or None
    texts = [text for text in (_clean(raw) for raw in form.getlist(path)) if text]
    if shape == "choices":
        return [_scalar(items_of(spec), text) for text in texts] or None
    if shape == "boolean":
        if "true" in texts:
            return True
        return False if "false" in texts else (texts[-1] if texts else None)
    return _scalar(spec, texts[0]) if texts else None


def _parse_object(schema: Mapping[str, Any], submission: _Submission, prefix: str) -> dict[str, Any] | None:
    parsed = {}
    for name, spec in properties_of(schema).items():
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
    choices = choices_of(spec)
    if choices is not None:
        match = next((value for value, _label in choices if form_text(value) == text), None)
        if match is not None:
            return match
    kind = type_of(spec)
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
    rows += [empty_item(items)] * (minimum - len(rows))
    if index is None and len(rows) < maximum:
        rows.append(empty_item(items))
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
        shape = shape_of(spec)
        if shape == "object" and segment in properties_of(spec):
            container = _descend(holder, slot, {})
            if not isinstance(container, dict):
                return None
            spec, holder, slot = properties_of(spec)[segment], container, segment
        elif shape == "rows" and segment.isdigit() and segment.isascii():
            container = _descend(holder, slot, [])
            if not isinstance(container, list):
                return None
            container += [empty_item(items_of(spec))] * (limits_of(spec)[0] - len(container))
            if int(segment) >= len(container):
                return None
            spec, holder, slot = items_of(spec), container, int(segment)
        else:
            return None
        if spec.get("readOnly") is True:
            return None
    if shape_of(spec) != "rows":
        return None
    rows = _descend(holder, slot, [])
    return (rows, items_of(spec), limits_of(spec)) if isinstance(rows, list) else None


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
