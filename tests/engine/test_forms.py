"""Server-side form validation: Dutch formats, per-field messages, conditional fields; property-based."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.forms import Form, check_schema, is_valid_bsn, is_valid_phone, is_valid_postcode

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
        "betrokkenen": [{"naam": "A", "bsn": "111222334"}, {"bsn": "111222333", "postcode": "4811ab"}],
    }

    assert errors(data) == {
        "aanmelddatum": ["Vul een geldige datum in (jjjj-mm-dd)."],
        "email": ["Geen geldig e-mailadres."],
        "betrokkenen.0.bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."],
        "betrokkenen.1.naam": ["Dit veld is verplicht."],
        "betrokkenen.1.postcode": ["Vul een postcode in als 1234 AB."],
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
