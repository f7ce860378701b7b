"""Every form in forms/ has example submissions: some that pass, and some that fail for a stated reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.forms import Form, check_schema, choice_options, unlabelled_choices
from tests.processes.harness import FORMS

EXAMPLES = Path(__file__).resolve().parent / "examples"
DOCUMENTS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(FORMS.glob("*.json"))}
FORM_FILES = sorted(name for name in DOCUMENTS if name != "definities.json" and not name.endswith(".ui.json"))


def load_form(name: str) -> Form:
    ui_name = name.removesuffix(".json") + ".ui.json"
    return Form(name=name, schema=DOCUMENTS[name], ui_schema=DOCUMENTS.get(ui_name, {}), resources=DOCUMENTS)


def examples(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    assert path.exists(), f"tests/forms/examples/{name} is missing"
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", FORM_FILES)
def test_form__is_a_valid_schema_with_dutch_labels(name: str) -> None:
    form = load_form(name)

    assert check_schema(form.schema, name=name, resources=DOCUMENTS) is None
    assert form.schema.get("title"), "the form needs a title"
    untitled = [field for field, spec in form.resolved_schema.get("properties", {}).items() if not spec.get("title")]
    assert untitled == [], "every field needs a (Dutch) label"


@pytest.mark.parametrize("name", FORM_FILES)
def test_form__valid_examples_pass(name: str) -> None:
    valid = examples(name)["valid"]

    assert valid, "give at least one passing example"
    for data in valid:
        load_form(name).validate(data)


@pytest.mark.parametrize("name", FORM_FILES)
def test_form__invalid_examples_fail_for_their_stated_reason(name: str) -> None:
    invalid = examples(name)["invalid"]

    assert invalid, "give at least one failing example"
    for case in invalid:
        assert case["reason"], "state why the example fails"
        with pytest.raises(InvalidInput) as caught:
            load_form(name).validate(case["data"])
        assert set(case["fields"]) <= set(caught.value.fields), f"{case['reason']}: {caught.value.fields}"


@pytest.mark.parametrize("name", sorted(n for n in DOCUMENTS if n.endswith(".ui.json")))
def test_ui_schema__belongs_to_a_form_and_names_its_fields(name: str) -> None:
    form_name = name.removesuffix(".ui.json") + ".json"
    assert form_name in DOCUMENTS, f"{name} has no form {form_name}"
    fields = load_form(form_name).fields
    unknown = [key for key in DOCUMENTS[name] if not key.startswith("ui:") and key not in fields]
    assert unknown == []


@pytest.mark.parametrize("name", sorted(name for name in DOCUMENTS if not name.endswith(".ui.json")))
def test_form__every_choice_has_labels_written_by_people(name: str) -> None:
    """A choice is `oneOf: [{"const": key, "title": "Label"}]`: people read the label, data and conditions keep the
    key. A bare `enum` would show its keys (`procesregie_zvh`) wherever the value is shown."""
    assert list(unlabelled_choices(DOCUMENTS[name])) == []


@pytest.mark.parametrize("name", FORM_FILES)
def test_form__every_option_label_is_unique_and_not_the_key(name: str) -> None:
    form = load_form(name)

    for path, options in _choice_fields(form.resolved_schema, ""):
        labels = [label for _, label in options]
        assert len(set(labels)) == len(labels), f"{path}: two options with the same label"
        keys_as_labels = [key for key, label in options if isinstance(key, str) and "_" in key and label == key]
        assert keys_as_labels == [], f"{path}: the label is the key"


def _choice_fields(schema: dict[str, Any], prefix: str) -> list[tuple[str, list[tuple[Any, str]]]]:
    found = []
    for name, spec in schema.get("properties", {}).items():
        if (options := choice_options(spec)) is not None:
            found.append((f"{prefix}{name}", options))
        elif isinstance(spec.get("items"), dict):
            found.extend(_choice_fields(spec["items"], f"{prefix}{name}.*."))
        else:
            found.extend(_choice_fields(spec, f"{prefix}{name}."))
    return found


def test_choice_label__shows_the_written_label_of_a_key_also_in_rows_and_lists() -> None:
    triage = load_form("triage_besluit.json")
    signaal = load_form("mensenhandel_signaal.json")

    assert triage.choice_label("triagebesluit", "procesregie_zvh") == "Procesregie door het ZVH"
    assert triage.choice_label("triagebesluit", "iets_anders") == "iets_anders"
    assert signaal.choice_label("verblijfsstatus", "eu_burger") == "EU-burger"
    assert signaal.choice_label("indicatoren", ["bedreiging_of_geweld", "anders"]) == (
        "Bedreiging of geweld, Anders (licht toe)"
    )
    aanmelding = load_form("aanmelding.json")
    assert aanmelding.choice_label("betrokkenen.0.rol", "systeemlid") == "Systeemlid (gezin of huishouden)"
    assert aanmelding.choice_label("betrokkenen.rol", "systeemlid") == "Systeemlid (gezin of huishouden)"


def test_validate__a_value_outside_the_options_says_choose_one_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_form("triage_besluit.json").validate({"triagebesluit": "procesregie"})

    assert caught.value.fields["triagebesluit"] == ["Kies een van de toegestane waarden."]


@pytest.mark.parametrize("name", FORM_FILES)
def test_choice_label__finds_every_choice_of_the_form_by_its_path(name: str) -> None:
    form = load_form(name)

    for path, options in _choice_fields(form.resolved_schema, ""):
        key, label = options[0]
        assert form.choice_label(path.replace("*", "0"), key) == label, path
