"""Every form in forms/ has example submissions: some that pass, and some that fail for a stated reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.forms import Form, check_schema
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
