"""JSON Schema (draft 2020-12) task forms: loading, checking, and server-side validation with Dutch formats."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from engine.errors import InvalidInput
from engine.privacy.visibility import classified_fields, visibility_problem

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


_LOOSE_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")
_MOBILE = re.compile(r"^(\+31|0031|0)6([0-9]{8})$")


def normalise_postcode(value: str) -> str:
    """`4811ab` or ` 4811 ab ` as `4811 AB`; anything else stays as typed (the check then says what is wrong)."""
    match = _LOOSE_POSTCODE.match(value)
    return f"{match[1]} {match[2].upper()}" if match else value


def normalise_phone(value: str) -> str:
    """A Dutch mobile number as `06 12345678` (`+31 6 12345678` when given internationally); other numbers keep
    their digits with single spaces where the writer separated them, `0031` written as `+31`."""
    compact = re.sub(r"[\s().-]", "", value)
    mobile = _MOBILE.match(compact)
    if mobile:
        return f"06 {mobile[2]}" if mobile[1] == "0" else f"+31 6 {mobile[2]}"
    spaced = " ".join(part for part in re.split(r"[\s().-]+", value.strip()) if part)
    return "+31" + spaced[4:] if spaced.startswith("0031") else spaced


_NORMALISE = {"postcode": normalise_postcode, "telefoon": normalise_phone}


def is_valid_phone(value: str) -> bool:
    """True for a Dutch (06 12345678, +31 76 1234567) or international (+32 ...) phone number."""
    compact = re.sub(r"[\s()-]", "", value)
    return bool(_DUTCH_PHONE.match(compact) or _INTERNATIONAL_PHONE.match(compact))


#: Dates outside these years are typing errors in case work, and near the ends of Python's calendar (0001, 9999)
#: a date-time cannot even be converted to Dutch time.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _is_date(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) or not _parses(date.fromisoformat, value):
        return False
    return FIRST_YEAR <= date.fromisoformat(value).year <= LAST_YEAR


def _is_datetime(value: str) -> bool:
    if not _parses(datetime.fromisoformat, value):
        return False
    moment = datetime.fromisoformat(value)
    return moment.tzinfo is not None and FIRST_YEAR <= moment.year <= LAST_YEAR


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


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the modeller, not written to stderr
    return options


_RE2_OPTIONS = _re2_options()


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    """A form pattern compiled by RE2, which matches in linear time: no pattern can make a submission slow."""
    return re2.compile(pattern, _RE2_OPTIONS)


def _pattern_problem(pattern: str) -> str | None:
    try:
        _compiled(pattern)
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        return f"pattern {pattern!r} cannot be used (only patterns without backreferences or lookaround): {reason}"
    return None


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = _compiled(pattern).search(instance) is not None
    except UnicodeEncodeError:  # a lone surrogate: reported as unstorable text already
        matched = False
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with `pattern` evaluated by RE2; `patternProperties` (Python's `re`) is refused at deploy.
FormValidator = validators.extend(Draft202012Validator, {"pattern": _re2_pattern})

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
        "format:date": "Vul een geldige datum in (jjjj-mm-dd) tussen 1900 en 2200.",
        "format:date-time": "Vul een geldige datum en tijd in tussen 1900 en 2200.",
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
        "format:date": "Enter a valid date (yyyy-mm-dd) between 1900 and 2200.",
        "format:date-time": "Enter a valid date and time between 1900 and 2200.",
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


#: Text that cannot be stored or shown: control characters other than tab and line ends (PostgreSQL cannot store
#: a NUL), C1 controls, lone surrogates (no UTF-8 encoding: a page that shows one fails) and the non-characters.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def required_text(value: str, *, field: str, message: str, limit: int = 2000) -> str:
    """A required free text typed outside a form (a reason, a note): stripped, not empty, not too long, storable
    (line breaks are fine, invisible control characters are not)."""
    text = value.strip()
    if not text:
        raise InvalidInput(message, {field: [_MESSAGES["nl"]["required"]]})
    if len(text) > limit:
        raise InvalidInput(message, {field: [f"Gebruik hoogstens {limit} tekens."]})
    if _UNSTORABLE.search(text):
        raise InvalidInput(message, {field: [_MESSAGES["nl"]["control"]]})
    return text


def storable(value: Any) -> Any:
    """`value` with every character that cannot be stored or shown replaced by U+FFFD (drafts keep what was typed)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _unstorable_text(value: Any, path: str = "") -> Iterator[str]:
    """Paths of text values (and of object keys) with characters that cannot be stored or shown."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            yield path or "_form"
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = _field_path([path, key] if path else [key])
            if isinstance(key, str) and _UNSTORABLE.search(key):
                yield inner
            else:
                yield from _unstorable_text(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_text(item, f"{path}.{index}" if path else str(index))


#: Items any list in a submission may have, whatever the schema's `maxItems`: a browser never sends more, and
#: validating, storing and showing tens of thousands of rows would tie up a server process.
MAX_ROWS = 500


def _overlong_lists(value: Any, path: str = "") -> Iterator[str]:
    """Paths of lists with more than `MAX_ROWS` items."""
    if isinstance(value, list):
        if len(value) > MAX_ROWS:
            yield path or "_form"
            return
        for index, item in enumerate(value):
            yield from _overlong_lists(item, f"{path}.{index}" if path else str(index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _overlong_lists(item, _field_path([path, key] if path else [key]))


def _field_path(parts: Any) -> str:
    """The dotted path of a field; a submitted key that cannot be encoded is written with escapes."""
    path = ".".join(str(part) for part in parts) or "_form"
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


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
        if error.validator in ("oneOf", "anyOf") and _options(error.schema) is not None:
            _add(fields, _field_path(list(error.absolute_path)), _message_for_choice(error, catalog))
            continue
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


def _message_for_choice(error: ValidationError, catalog: Mapping[str, str]) -> str:
    """A value outside a list of options is "choose one of the allowed values", not one error per option."""
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    return custom if isinstance(custom, str) else catalog["enum"]


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
    if reason := _pattern_problems(schema) or visibility_problem(schema):
        return reason
    try:
        _inline(schema, _registry({**(resources or {}), name: schema}).resolver(name), budget=_Budget())
    except Unresolvable as error:
        return f"$ref {error} does not resolve to a schema in this deployment"
    except SchemaTooLarge:
        return (
            f"the schema is too large once every $ref is resolved (more than {MAX_RESOLVED_NODES} parts); "
            "a $ref used many times inside another may not double again and again"
        )
    return None


#: Literal values, where a key called "pattern" is data and not a keyword.
_LITERALS = frozenset({"const", "enum", "default", "examples"})


def _pattern_problems(node: Any) -> str | None:
    """Why a `pattern` (or `patternProperties`) in `node` cannot be evaluated without backtracking."""
    if isinstance(node, list):
        return next((reason for item in node if (reason := _pattern_problems(item))), None)
    if not isinstance(node, dict):
        return None
    if "patternProperties" in node:
        return "patternProperties is not supported in forms: name the fields under properties"
    if isinstance(node.get("pattern"), str) and (reason := _pattern_problem(node["pattern"])):
        return reason
    return next(
        (reason for key, item in node.items() if key not in _LITERALS and (reason := _pattern_problems(item))), None
    )


#: Parts (objects) a form schema may have with every `$ref` inlined; the largest form today has a few hundred.
MAX_RESOLVED_NODES = 20_000


class SchemaTooLarge(Exception):
    """Resolving the `$ref`s of a schema would make it larger than `MAX_RESOLVED_NODES`."""


@dataclass
class _Budget:
    left: int = MAX_RESOLVED_NODES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SchemaTooLarge


def _registry(resources: Mapping[str, Any]) -> Registry[Any]:
    return Registry().with_resources(
        (name, Resource.from_contents(contents, default_specification=DRAFT202012))
        for name, contents in resources.items()
    )


def _inline(node: Any, resolver: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """`node` with every `$ref` replaced by what it points at (siblings of `$ref` win), for rendering.

    With a `budget` (at deploy) a schema whose resolved form would be too large is refused; deployed forms
    passed that check, so rendering needs none.
    """
    if depth > 32:
        raise Unresolvable("(nested too deeply)")
    if isinstance(node, list):
        return [_inline(item, resolver, depth, budget) for item in node]
    if not isinstance(node, dict):
        return node
    if budget is not None:
        budget.spend()
    if isinstance(node.get("$ref"), str):
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver, depth + 1, budget)
        siblings = {k: _inline(v, resolver, depth, budget) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings} if isinstance(target, dict) else target
    return {key: _inline(value, resolver, depth, budget) for key, value in node.items()}


def _is_read_only(spec: Any, ui: Any) -> bool:
    return (isinstance(spec, dict) and spec.get("readOnly") is True) or (
        isinstance(ui, dict) and ui.get("ui:readonly") is True
    )


def _editable(schema: Any, ui: Any, value: Any) -> Any:
    """`value` as it is stored: without the parts the form shows read-only (those keep what the process has), and
    every postcode and phone number written one way, at any depth."""
    schema, ui = (schema if isinstance(schema, dict) else {}), (ui if isinstance(ui, dict) else {})
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        return {
            key: _editable(properties.get(key), ui.get(key), item)
            for key, item in value.items()
            if not _is_read_only(properties.get(key), ui.get(key))
        }
    if isinstance(value, list):
        return [_editable(schema.get("items"), ui.get("items"), item) for item in value]
    normalise = _NORMALISE.get(str(schema.get("format")))
    return normalise(value) if normalise is not None and isinstance(value, str) else value


# --- choices and their labels --------------------------------------------------------------------------------------


def _options(spec: Any) -> list[dict[str, Any]] | None:
    """The options of a choice written as `oneOf`/`anyOf: [{"const": key, "title": label}, ...]`, or None."""
    if not isinstance(spec, dict):
        return None
    for keyword in ("oneOf", "anyOf"):
        options = spec.get(keyword)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return options
    return None


def choice_options(spec: Any) -> list[tuple[Any, str]] | None:
    """(key, label) of the options of a choice (of a list of choices: of its items), or None when `spec` offers
    none. Options are `oneOf: [{"const": key, "title": label}]`; a bare `enum` has no labels and shows its keys."""
    if not isinstance(spec, dict):
        return None
    if (options := _options(spec)) is not None:
        return [(o["const"], str(o.get("title") or o["const"])) for o in options]
    if isinstance(spec.get("enum"), list):
        return [(value, str(value)) for value in spec["enum"]]
    if isinstance(spec.get("items"), dict):
        return choice_options(spec["items"])
    return None


def _label(options: list[tuple[Any, str]], value: Any) -> str | None:
    """The label of `value` among `options` (`True` is not the option `1`)."""
    return next((label for key, label in options if key == value and type(key) is type(value)), None)


def unlabelled_choices(schema: Any, path: str = "") -> Iterator[str]:
    """Paths in `schema` of choices whose options have no written label: a bare `enum`, or an option without a
    `title`. Values that only test a condition (inside `if`) are no choices and need none."""
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from unlabelled_choices(item, f"{path}[{index}]")
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("enum"), list):
        yield path or "(top level)"
    if (options := _options(schema)) is not None and any(not o.get("title") for o in options):
        yield path or "(top level)"
    for key, item in schema.items():
        if key not in _LITERALS and key != "if":
            yield from unlabelled_choices(item, f"{path}/{key}")


def _field_specs(schema: Any, name: str) -> Iterator[dict[str, Any]]:
    """Every schema that `name` has in object `schema`: under `properties`, and in the branches (`allOf`, `then`,
    `else`, `oneOf`, `anyOf`) that may add fields."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get(name), dict):
        yield properties[name]
    for keyword in ("then", "else"):
        yield from _field_specs(schema.get(keyword), name)
    for keyword in ("allOf", "oneOf", "anyOf"):
        branches = schema.get(keyword)
        for branch in branches if isinstance(branches, list) else []:
            yield from _field_specs(branch, name)


def _spec_at(schema: Any, path: str) -> dict[str, Any] | None:
    """The schema of the field at dotted `path` (`betrokkenen.0.rol`, `betrokkenen.*.rol` or `betrokkenen.rol`)."""
    candidates: list[Any] = [schema]
    for segment in path.split("."):
        if segment.isdigit() or segment == "*":
            candidates = [c["items"] for c in candidates if isinstance(c, dict) and isinstance(c.get("items"), dict)]
            continue
        found: list[Any] = []
        for candidate in candidates:
            holder = candidate.get("items") if isinstance(candidate, dict) and "items" in candidate else candidate
            found.extend(_field_specs(holder, segment))
        candidates = found
    specs = [c for c in candidates if isinstance(c, dict)]
    return next((s for s in specs if choice_options(s) is not None), specs[0] if specs else None)


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
    def _validator(self) -> Any:
        return FormValidator(self.schema, format_checker=FORMAT_CHECKER, registry=self._registry)

    @cached_property
    def resolved_schema(self) -> dict[str, Any]:
        """The schema with all `$ref`s inlined: what a form renderer walks."""
        return dict(_inline(self.schema, self._registry.resolver(self.name)))

    @cached_property
    def visibility_classes(self) -> dict[str, str]:
        """Dotted path → visibility class of every classified part of the form (engine.privacy.visibility)."""
        return classified_fields(self.resolved_schema)

    @property
    def title(self) -> str:
        return str(self.schema.get("title", self.name))

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.resolved_schema.get("properties", {}))

    @property
    def read_only_fields(self) -> frozenset[str]:
        """Fields shown but never taken from a submission: `readOnly` in the schema or `ui:readonly`."""
        properties = self.resolved_schema.get("properties", {})
        return frozenset(name for name, spec in properties.items() if _is_read_only(spec, self.ui_schema.get(name)))

    def field_schema(self, field: str) -> dict[str, Any] | None:
        """The (resolved) schema of the field at dotted `field`, or None when the form has no such field."""
        return _spec_at(self.resolved_schema, field)

    def choices(self, field: str) -> list[tuple[Any, str]] | None:
        """(key, label) of the options of the field at dotted `field`, or None when it is not a choice."""
        return choice_options(self.field_schema(field))

    def choice_label(self, field: str, value: Any) -> str:
        """`value` of the field at dotted `field` in words: the option's label (for a list of keys: the labels,
        comma-separated); a value that is not one of the field's options is returned as written."""
        if isinstance(value, list):
            return ", ".join(self.choice_label(field, item) for item in value)
        if value is None:
            return ""
        return _label(self.choices(field) or [], value) or str(value)

    def validate(self, data: Mapping[str, Any], *, locale: str = "nl") -> dict[str, Any]:
        """Return the submitted values to store, or raise `InvalidInput` with messages per field."""
        catalog = _MESSAGES.get(locale, _MESSAGES["nl"])
        fields: dict[str, list[str]] = {}
        for key in data:
            if key not in self.fields:
                _add(fields, _field_path([key]), catalog["unknown"])
        submitted: dict[str, Any] = _editable(self.resolved_schema, self.ui_schema, dict(data))
        for path in _unstorable_text(submitted):
            _add(fields, path, catalog["control"])
        for path in _overlong_lists(submitted):
            _add(fields, path, catalog["maxItems"].format(limit=MAX_ROWS))
        _collect(self._validator.iter_errors(submitted), catalog, fields)
        if fields:
            raise InvalidInput(catalog["summary"].format(count=sum(map(len, fields.values()))), fields)
        return submitted


CONFIRMATION = Form(name="", schema={"type": "object", "properties": {}, "additionalProperties": False})
"""The implicit form of a user task without a form: a plain confirmation that takes no data."""
