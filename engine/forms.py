"""JSON Schema (draft 2020-12) task forms: loading, checking, and server-side validation with Dutch formats."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from engine.errors import InvalidInput

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_POSTCODE = re.compile(r"^[1-9][0-9]{3} (?!SA|SD|SS)[A-Z]{2}$")
_DUTCH_PHONE = re.compile(r"^(?:\+31|0031|0)[1-9][0-9]{8}$")
_INTERNATIONAL_PHONE = re.compile(r"^\+(?!31)[1-9][0-9]{7,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def is_valid_bsn(value: str) -> bool:
    """True for a nine-digit BSN that passes the elfproef (weights 9..2 and -1)."""
    if not re.fullmatch(r"[0-9]{9}", value) or value == "000000000":
        return False
    digits = [int(c) for c in value]
    total = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0


def is_valid_postcode(value: str) -> bool:
    """True for a Dutch postcode written as `1234 AB`."""
    return bool(_POSTCODE.match(value))


def is_valid_phone(value: str) -> bool:
    """True for a Dutch (06 12345678, +31 76 1234567) or international (+32 ...) phone number."""
    compact = re.sub(r"[\s()-]", "", value)
    return bool(_DUTCH_PHONE.match(compact) or _INTERNATIONAL_PHONE.match(compact))


def _is_date(value: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and _parses(date.fromisoformat, value)


def _is_datetime(value: str) -> bool:
    if not _parses(datetime.fromisoformat, value):
        return False
    return datetime.fromisoformat(value).tzinfo is not None


def _parses(parser: Any, value: str) -> bool:
    try:
        parser(value)
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checks = {
        "bsn": is_valid_bsn,
        "postcode": is_valid_postcode,
        "telefoon": is_valid_phone,
        "email": lambda v: bool(_EMAIL.match(v)),
        "date": _is_date,
        "date-time": _is_datetime,
    }
    for name, check in checks.items():
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return checker


FORMAT_CHECKER = _format_checker()

_MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "required": "Dit veld is verplicht.",
        "unknown": "Onbekend veld.",
        "type": "Verwachte invoer: {expected}.",
        "enum": "Kies een van de toegestane waarden.",
        "const": "Deze waarde is hier niet toegestaan.",
        "minLength": "Vul minimaal {limit} tekens in.",
        "maxLength": "Vul maximaal {limit} tekens in.",
        "minimum": "De waarde moet minimaal {limit} zijn.",
        "maximum": "De waarde mag maximaal {limit} zijn.",
        "exclusiveMinimum": "De waarde moet groter zijn dan {limit}.",
        "exclusiveMaximum": "De waarde moet kleiner zijn dan {limit}.",
        "minItems": "Vul minimaal {limit} in.",
        "maxItems": "Vul maximaal {limit} in.",
        "uniqueItems": "Elke waarde mag maar één keer voorkomen.",
        "pattern": "De invoer heeft niet de juiste vorm.",
        "format:bsn": "Geen geldig BSN: negen cijfers die voldoen aan de elfproef.",
        "format:postcode": "Vul een postcode in als 1234 AB.",
        "format:telefoon": "Geen geldig telefoonnummer (bijvoorbeeld 076 123 4567 of +31 6 12345678).",
        "format:email": "Geen geldig e-mailadres.",
        "format:date": "Vul een geldige datum in (jjjj-mm-dd).",
        "format:date-time": "Vul een geldige datum en tijd in.",
        "invalid": "Ongeldige waarde.",
        "control": "De tekst bevat ongeldige (onzichtbare) tekens.",
        "summary": "Het formulier bevat {count} fout(en).",
        "string": "tekst",
        "integer": "een geheel getal",
        "number": "een getal",
        "boolean": "ja of nee",
        "array": "een lijst",
        "object": "een groep velden",
        "null": "leeg",
    },
    "en": {
        "required": "This field is required.",
        "unknown": "Unknown field.",
        "type": "Expected {expected}.",
        "enum": "Choose one of the allowed values.",
        "const": "This value is not allowed here.",
        "minLength": "Enter at least {limit} characters.",
        "maxLength": "Enter at most {limit} characters.",
        "minimum": "The value must be at least {limit}.",
        "maximum": "The value must be at most {limit}.",
        "exclusiveMinimum": "The value must be greater than {limit}.",
        "exclusiveMaximum": "The value must be less than {limit}.",
        "minItems": "Enter at least {limit}.",
        "maxItems": "Enter at most {limit}.",
        "uniqueItems": "Each value may occur only once.",
        "pattern": "The input does not have the right form.",
        "format:bsn": "Not a valid BSN: nine digits that pass the elfproef.",
        "format:postcode": "Enter a postcode like 1234 AB.",
        "format:telefoon": "Not a valid phone number (for example 076 123 4567 or +31 6 12345678).",
        "format:email": "Not a valid e-mail address.",
        "format:date": "Enter a valid date (yyyy-mm-dd).",
        "format:date-time": "Enter a valid date and time.",
        "invalid": "Invalid value.",
        "control": "The text contains invalid (invisible) characters.",
        "summary": "The form has {count} error(s).",
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "yes or no",
        "array": "a list",
        "object": "a group of fields",
        "null": "empty",
    },
}


_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _control_characters(value: Any, path: str = "") -> Iterator[str]:
    """Paths of text values with control characters (a NUL byte cannot even be stored by PostgreSQL)."""
    if isinstance(value, str):
        if any((ord(c) < 32 and c not in _ALLOWED_CONTROLS) or c == "\x7f" for c in value):
            yield path or "_form"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _control_characters(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _control_characters(item, f"{path}.{index}" if path else str(index))


def _field_path(parts: Any) -> str:
    return ".".join(str(part) for part in parts) or "_form"


def _message(error: ValidationError, catalog: Mapping[str, str]) -> str:
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        return custom
    keyword = str(error.validator)
    if keyword == "format":
        return catalog.get(f"format:{error.validator_value}", catalog["invalid"])
    if keyword == "type":
        expected = error.validator_value
        names = [catalog.get(t, t) for t in (expected if isinstance(expected, list) else [expected])]
        return catalog["type"].format(expected=" / ".join(names))
    template = catalog.get(keyword)
    return template.format(limit=error.validator_value) if template else catalog["invalid"]


def _collect(errors: Any, catalog: Mapping[str, str], fields: dict[str, list[str]]) -> None:
    for error in errors:
        if error.validator in ("anyOf", "oneOf", "allOf", "if", "then", "else") and error.context:
            _collect(error.context, catalog, fields)
            continue
        path = list(error.absolute_path)
        if error.validator == "required":
            for missing in error.validator_value:
                if isinstance(error.instance, dict) and missing not in error.instance:
                    _add(fields, _field_path([*path, missing]), catalog["required"])
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - allowed):
                _add(fields, _field_path([*path, extra]), catalog["unknown"])
            continue
        _add(fields, _field_path(path), _message(error, catalog))


def _add(fields: dict[str, list[str]], path: str, message: str) -> None:
    messages = fields.setdefault(path, [])
    if message not in messages:
        messages.append(message)


def check_schema(
    schema: object, *, name: str = "", form: bool = True, resources: Mapping[str, Any] | None = None
) -> str | None:
    """Why `schema` is not a usable draft 2020-12 schema, or None when it is.

    A form must be an object schema; a definitions file (only used through `$ref`) need not be. Every `$ref`
    must resolve inside the deployment: schemas are never fetched from elsewhere.
    """
    if not isinstance(schema, dict):
        return "a form schema must be a JSON object"
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != DRAFT_2020_12:
        return f"$schema must be {DRAFT_2020_12} (found {declared})"
    if form and schema.get("type", "object") != "object":
        return 'the top level of a form schema must have "type": "object"'
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        return f"not a valid JSON Schema at {location}: {error.message}"
    try:
        _inline(schema, _registry({**(resources or {}), name: schema}).resolver(name))
    except Unresolvable as error:
        return f"$ref {error} does not resolve to a schema in this deployment"
    return None


def _registry(resources: Mapping[str, Any]) -> Registry[Any]:
    return Registry().with_resources(
        (name, Resource.from_contents(contents, default_specification=DRAFT202012))
        for name, contents in resources.items()
    )


def _inline(node: Any, resolver: Any, depth: int = 0) -> Any:
    """`node` with every `$ref` replaced by what it points at (siblings of `$ref` win), for rendering."""
    if depth > 32:
        raise Unresolvable("(nested too deeply)")
    if isinstance(node, list):
        return [_inline(item, resolver, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver, depth + 1)
        siblings = {k: _inline(v, resolver, depth) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings} if isinstance(target, dict) else target
    return {key: _inline(value, resolver, depth) for key, value in node.items()}


@dataclass(frozen=True)
class Form:
    """A task form: its JSON Schema, optional UI schema, and the schemas it may `$ref` (by file name)."""

    name: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _registry(self) -> Registry[Any]:
        return _registry({**self.resources, self.name: self.schema})

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema, format_checker=FORMAT_CHECKER, registry=self._registry)

    @cached_property
    def resolved_schema(self) -> dict[str, Any]:
        """The schema with all `$ref`s inlined: what a form renderer walks."""
        return dict(_inline(self.schema, self._registry.resolver(self.name)))

    @property
    def title(self) -> str:
        return str(self.schema.get("title", self.name))

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.resolved_schema.get("properties", {}))

    @property
    def read_only_fields(self) -> frozenset[str]:
        properties = self.resolved_schema.get("properties", {})
        return frozenset(name for name, spec in properties.items() if spec.get("readOnly"))

    def validate(self, data: Mapping[str, Any], *, locale: str = "nl") -> dict[str, Any]:
        """Return the submitted values to store, or raise `InvalidInput` with messages per field."""
        catalog = _MESSAGES.get(locale, _MESSAGES["nl"])
        fields: dict[str, list[str]] = {}
        for key in data:
            if key not in self.fields:
                _add(fields, key, catalog["unknown"])
        submitted = {key: value for key, value in data.items() if key not in self.read_only_fields}
        for path in _control_characters(submitted):
            _add(fields, path, catalog["control"])
        _collect(self._validator.iter_errors(submitted), catalog, fields)
        if fields:
            raise InvalidInput(catalog["summary"].format(count=sum(map(len, fields.values()))), fields)
        return submitted


CONFIRMATION = Form(name="", schema={"type": "object", "properties": {}, "additionalProperties": False})
"""The implicit form of a user task without a form: a plain confirmation that takes no data."""
