"""Server-side form validation: Dutch formats, per-field messages, conditional fields; property-based."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.forms import MAX_ROWS, Form, _re2_pattern, check_schema, is_valid_bsn, is_valid_phone, is_valid_postcode

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


@st.composite
def valid_bsns(draw: st.DrawFn) -> str:
    digits = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum(w * d for w, d in zip(WEIGHTS, digits, strict=True)) % 11
    assume(check <= 9 and any(digits))
    return "".join(map(str, digits)) + str(check)


@given(valid_bsns())
def test_bsn__numbers_that_pass_the_elfproef_are_valid(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@given(valid_bsns(), st.integers(0, 8), st.integers(1, 9))
def test_bsn__changing_one_digit_always_breaks_the_elfproef(bsn: str, position: int, delta: int) -> None:
    changed = bsn[:position] + str((int(bsn[position]) + delta) % 10) + bsn[position + 1 :]

    assert not is_valid_bsn(changed)


@pytest.mark.parametrize("value", ["12345678", "1234567890", "12345678a", "000000000", " 11122233", ""])
def test_bsn__refuses_malformed_values(value: str) -> None:
    assert not is_valid_bsn(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("4811 AB", True),
        ("4811AB", False),
        ("4811 ab", False),
        ("0811 AB", False),
        ("4811 SS", False),
        ("48111 AB", False),
    ],
)
def test_postcode__is_written_1234_AB(value: str, valid: bool) -> None:
    assert is_valid_postcode(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("076 123 4567", True),
        ("06-12345678", True),
        ("+31 6 12345678", True),
        ("0031761234567", True),
        ("+32 3 123 45 67", True),
        ("12345", False),
        ("06 1234 567", False),
        ("bel mij", False),
    ],
)
def test_phone__dutch_and_international_numbers(value: str, valid: bool) -> None:
    assert is_valid_phone(value) is valid


AANMELDING = Form(
    name="aanmelding.json",
    schema={
        "type": "object",
        "properties": {
            "aanmelddatum": {"type": "string", "format": "date"},
            "email": {"type": "string", "format": "email"},
            "betrokkenen": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "naam": {"type": "string"},
                        "bsn": {"type": "string", "format": "bsn"},
                        "postcode": {"type": "string", "format": "postcode"},
                    },
                    "required": ["naam"],
                },
            },
            "betrokkene_geinformeerd": {"type": "boolean"},
            "reden_niet": {"type": "string", "enum": ["strafrechtelijk_onderzoek", "veiligheidsrisico"]},
            "casusnummer": {"type": "string", "readOnly": True},
        },
        "required": ["aanmelddatum", "betrokkenen", "betrokkene_geinformeerd"],
        "if": {"properties": {"betrokkene_geinformeerd": {"const": False}}},
        "then": {"required": ["reden_niet"]},
    },
)
VALID: dict[str, Any] = {
    "aanmelddatum": "2026-03-02",
    "betrokkenen": [{"naam": "Fenna Fictief", "bsn": "111222333", "postcode": "4811 AB"}],
    "betrokkene_geinformeerd": True,
}


def errors(data: dict[str, Any], locale: str = "nl") -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        AANMELDING.validate(data, locale=locale)
    return caught.value.fields


def test_form__accepts_a_valid_submission() -> None:
    assert AANMELDING.validate(VALID) == VALID


def test_form__reports_each_field_by_its_path() -> None:
    data = {
        **VALID,
        "aanmelddatum": "2026-02-30",
        "email": "geen-adres",
        "betrokkenen": [{"naam": "A", "bsn": "111222334"}, {"bsn": "111222333", "postcode": "48111 AB"}],
    }

    assert errors(data) == {
        "aanmelddatum": ["Vul een geldige datum in (jjjj-mm-dd) tussen 1900 en 2200."],
        "email": ["Geen geldig e-mailadres."],
        "betrokkenen.0.bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."],
        "betrokkenen.1.naam": ["Dit veld is verplicht."],
        "betrokkenen.1.postcode": ["Vul een postcode in als 1234 AB."],
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("4811ab", "4811 AB"), (" 4811 ab ", "4811 AB"), ("4811 AB", "4811 AB")],
)
def test_form__a_postcode_is_stored_as_1234_AB_however_it_was_typed(typed: str, stored: str) -> None:
    data = {**VALID, "betrokkenen": [{"naam": "Fenna Fictief", "postcode": typed}]}
    assert AANMELDING.validate(data)["betrokkenen"][0]["postcode"] == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0612345678", "06 12345678"),
        ("06-123 456 78", "06 12345678"),
        ("+31612345678", "+31 6 12345678"),
        ("0031 6 1234 5678", "+31 6 12345678"),
        ("076-123 4567", "076 123 4567"),
        ("0031 76 123 4567", "+31 76 123 4567"),
        ("+32 3 123 45 67", "+32 3 123 45 67"),
    ],
)
def test_form__a_phone_number_is_stored_one_way(typed: str, stored: str) -> None:
    form = Form(
        name="contact.json",
        schema={"type": "object", "properties": {"telefoon": {"type": "string", "format": "telefoon"}}},
    )
    assert form.validate({"telefoon": typed}) == {"telefoon": stored}


def test_form__a_postcode_that_is_no_postcode_is_refused_as_typed() -> None:
    assert errors({**VALID, "betrokkenen": [{"naam": "Fenna Fictief", "postcode": "4811 SS"}]}) == {
        "betrokkenen.0.postcode": ["Vul een postcode in als 1234 AB."]
    }


def test_form__a_reason_is_required_when_the_person_was_not_informed() -> None:
    assert errors({**VALID, "betrokkene_geinformeerd": False}) == {"reden_niet": ["Dit veld is verplicht."]}
    assert AANMELDING.validate({**VALID, "betrokkene_geinformeerd": False, "reden_niet": "veiligheidsrisico"})


def test_form__unknown_fields_are_refused_so_data_cannot_steer_the_process() -> None:
    assert errors({**VALID, "triagebesluit": "procesregie_zvh"}) == {"triagebesluit": ["Onbekend veld."]}


def test_form__read_only_fields_are_not_taken_from_the_submission() -> None:
    assert "casusnummer" not in AANMELDING.validate({**VALID, "casusnummer": "ZVH-2020-00001"})


def test_form__messages_in_english() -> None:
    assert errors({**VALID, "betrokkenen": []}, locale="en") == {"betrokkenen": ["Enter at least 1."]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from([*AANMELDING.fields, "x", ""]), json_values, max_size=6))
def test_form__any_submission_is_either_accepted_or_refused_with_field_messages(data: dict[str, Any]) -> None:
    try:
        AANMELDING.validate(data)
    except InvalidInput as refusal:
        assert refusal.fields
        assert all(isinstance(m, str) and m for messages in refusal.fields.values() for m in messages)


def test_check_schema__refuses_what_is_not_a_draft_2020_12_object_schema() -> None:
    assert check_schema({"type": "array"}) is not None
    assert check_schema({"type": "object", "properties": {"a": {"minLength": -1}}}) is not None
    assert check_schema(AANMELDING.schema) is None


def test_form__text_with_control_characters_is_refused() -> None:
    data = {**VALID, "betrokkenen": [{"naam": "Fenna\x00Fictief"}]}

    assert errors(data)["betrokkenen.0.naam"] == ["De tekst bevat ongeldige (onzichtbare) tekens."]
    assert AANMELDING.validate({**VALID, "betrokkenen": [{"naam": "Regel 1\nRegel 2"}]})


@pytest.mark.parametrize(
    "text",
    ["Fenna\ud800", "\udfff", "Fenna\x1bFictief", "Fenna\x85Fictief", "\ufffe"],
    ids=["lone-high-surrogate", "lone-low-surrogate", "escape", "c1-control", "non-character"],
)
def test_form__text_that_cannot_be_stored_or_shown_is_refused(text: str) -> None:
    data = {**VALID, "betrokkenen": [{"naam": text}]}

    assert errors(data)["betrokkenen.0.naam"] == ["De tekst bevat ongeldige (onzichtbare) tekens."]


def test_form__a_key_that_cannot_be_stored_is_refused_with_a_printable_path() -> None:
    schema = {"type": "object", "properties": {"extra": {"type": "object"}}}

    with pytest.raises(InvalidInput) as caught:
        Form(name="f.json", schema=schema).validate({"extra": {"a\ud800": 1}, "b\ud800": 2})

    assert caught.value.fields == {
        "b\\ud800": ["Onbekend veld.", "De tekst bevat ongeldige (onzichtbare) tekens."],
        "extra.a\\ud800": ["De tekst bevat ongeldige (onzichtbare) tekens."],
    }
    assert all(path.encode() for path in caught.value.fields)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aanmelddatum", "0001-01-01"),
        ("aanmelddatum", "1899-12-31"),
        ("aanmelddatum", "2201-01-01"),
        ("aanmelddatum", "9999-12-31"),
    ],
)
def test_form__dates_outside_1900_to_2200_are_refused(field: str, value: str) -> None:
    assert errors({**VALID, field: value}) == {field: ["Vul een geldige datum in (jjjj-mm-dd) tussen 1900 en 2200."]}


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:00:00+00:00"]
)
def test_form__date_times_outside_1900_to_2200_are_refused(value: str) -> None:
    form = Form(name="f.json", schema={"type": "object", "properties": {"moment": {"format": "date-time"}}})

    with pytest.raises(InvalidInput) as caught:
        form.validate({"moment": value})

    assert caught.value.fields == {"moment": ["Vul een geldige datum en tijd in tussen 1900 en 2200."]}
    assert form.validate({"moment": "2200-12-31T23:59:59-12:00"})


def test_form__a_list_longer_than_the_hard_cap_is_refused_even_without_max_items() -> None:
    rows = [{"naam": "Fenna"}] * (MAX_ROWS + 1)

    assert errors({**VALID, "betrokkenen": rows}) == {"betrokkenen": [f"Vul maximaal {MAX_ROWS} in."]}
    assert AANMELDING.validate({**VALID, "betrokkenen": rows[:MAX_ROWS]})


def test_form__read_only_in_the_ui_schema_or_nested_is_not_taken_from_the_submission() -> None:
    form = Form(
        name="f.json",
        schema={
            "type": "object",
            "properties": {
                "besluit": {"type": "string"},
                "casusnummer": {"type": "string"},
                "melder": {
                    "type": "object",
                    "properties": {"naam": {"type": "string"}, "bron": {"type": "string", "readOnly": True}},
                },
                "rijen": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
                },
            },
        },
        ui_schema={"casusnummer": {"ui:readonly": True}, "rijen": {"items": {"b": {"ui:readonly": True}}}},
    )
    submitted = {
        "besluit": "oppakken",
        "casusnummer": "ZVH-2020-00001",
        "melder": {"naam": "Mila", "bron": "vervalst"},
        "rijen": [{"a": "1", "b": "vervalst"}],
    }

    assert form.read_only_fields == {"casusnummer"}
    assert form.validate(submitted) == {"besluit": "oppakken", "melder": {"naam": "Mila"}, "rijen": [{"a": "1"}]}


def test_form__patterns_are_matched_by_re2_so_backtracking_cannot_make_a_submission_slow() -> None:
    form = Form(name="f.json", schema={"type": "object", "properties": {"code": {"pattern": "^(a+)+$"}}})

    assert form._validator.VALIDATORS["pattern"] is _re2_pattern
    with pytest.raises(InvalidInput) as caught:
        form.validate({"code": "a" * 40 + "!"})
    assert caught.value.fields == {"code": ["De invoer heeft niet de juiste vorm."]}
    assert form.validate({"code": "a" * 40})


@pytest.mark.parametrize("pattern", [r"^(a)\1$", r"^(?=a)a$", r"^(?<!b)a$"])
def test_check_schema__refuses_a_pattern_re2_cannot_run(pattern: str) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}

    reason = check_schema(schema, name="f.json")

    assert reason is not None and "pattern" in reason


def test_check_schema__refuses_pattern_properties_which_python_would_backtrack_on() -> None:
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "string"}}}

    assert check_schema(schema, name="f.json") == (
        "patternProperties is not supported in forms: name the fields under properties"
    )


def test_check_schema__a_property_called_pattern_and_literal_values_are_not_patterns() -> None:
    schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string", "const": {"pattern": "(a)\\1"}}},
    }

    assert check_schema(schema, name="f.json") is None


def doubling_refs(levels: int) -> dict[str, Any]:
    """`$defs` where every level refers twice to the next: 2**levels parts once resolved."""
    defs: dict[str, Any] = {f"l{levels}": {"type": "string"}}
    for level in range(levels):
        defs[f"l{level}"] = {"allOf": [{"$ref": f"#/$defs/l{level + 1}"}, {"$ref": f"#/$defs/l{level + 1}"}]}
    return {"type": "object", "properties": {"x": {"$ref": "#/$defs/l0"}}, "$defs": defs}


def test_check_schema__doubling_ref_chains_are_refused_instead_of_resolved() -> None:
    reason = check_schema(doubling_refs(30), name="f.json")

    assert reason is not None and "too large once every $ref is resolved" in reason
    assert check_schema(doubling_refs(5), name="f.json") is None


@pytest.mark.parametrize(
    "ref", ["https://example.org/schema.json", "file:///etc/passwd", "../forms/definities.json", "andere.json"]
)
def test_check_schema__refs_outside_the_bundle_are_refused(ref: str) -> None:
    schema = {"type": "object", "properties": {"x": {"$ref": ref}}}

    reason = check_schema(schema, name="f.json", resources={"definities.json": {"$defs": {}}})

    assert reason is not None and "does not resolve" in reason
