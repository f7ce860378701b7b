"""Human words, never internal names: choice values by their labels, norms in words, roles by name, dates in
Dutch. The labels themselves are written in forms/ (tests/forms checks that every choice has them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from engine.forms import Form
from web.filters import display_value, norm_label
from web.schema_form import render_form_fields

FORMS = Path(__file__).resolve().parents[2] / "forms"
DOCUMENTS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in FORMS.glob("*.json")}


def form(name: str) -> Form:
    return Form(name=name, schema=DOCUMENTS[name], resources=DOCUMENTS)


@pytest.fixture
def nl(app: Flask):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def en(app: Flask):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            yield


def test_display_value__shows_the_label_of_a_choice_not_its_key(nl: None) -> None:
    triage = form("triage_besluit.json")

    assert display_value("procesregie_zvh", triage, "triagebesluit") == "Procesregie door het ZVH"
    assert display_value("procesregie_zvh") == "procesregie_zvh", "without its form a value stays as it is"
    assert display_value("niet_meer_bestaand", triage, "triagebesluit") == "niet_meer_bestaand"


def test_display_value__labels_lists_groups_and_rows(nl: None) -> None:
    signaal = form("mensenhandel_signaal.json")
    aanmelding = form("aanmelding.json")

    assert display_value(["bedreiging_of_geweld", "excessieve_werktijden"], signaal, "indicatoren") == (
        "Bedreiging of geweld, Buitensporig lange werktijden"
    )
    rows = [{"naam": "Kees", "rol": "systeemlid"}]
    shown = display_value(rows, aanmelding, "betrokkenen")
    assert "Systeemlid (gezin of huishouden)" in shown and "systeemlid" not in shown
    assert "Naam: Kees" in shown, "the parts of a row are named by their labels"


def test_display_value__a_boolean_and_an_empty_value(nl: None) -> None:
    assert display_value(True) == "ja"
    assert display_value(None, form("triage_besluit.json"), "triagebesluit") == "–"


def test_norm_label__says_the_norm_in_words(nl: None) -> None:
    assert [norm_label(n) for n in ("P5D", "PT4H", "P3M", "P1D", "P3W", "5 werkdagen", None)] == [
        "5 dagen",
        "4 uur",
        "3 maanden",
        "1 dag",
        "3 weken",
        "5 werkdagen",
        "–",
    ]


def test_norm_label__in_english(en: None) -> None:
    assert norm_label("P2D") == "2 days"
    assert norm_label("1 werkdag") == "1 working day"


def test_read_only_choice__shows_its_label_and_a_date_in_dutch(nl: None) -> None:
    opvang = form("mensenhandel_opvang.json")
    schema = {
        "type": "object",
        "properties": {
            "opvangtype": {**opvang.resolved_schema["properties"]["opvangtype"], "readOnly": True},
            "datum": {"type": "string", "format": "date", "title": "Datum", "readOnly": True},
        },
    }

    html = str(render_form_fields(schema, {}, {"opvangtype": "categorale_opvang", "datum": "2026-03-02"}, {}))

    assert "Categorale opvang (COSM)" in html
    assert "02-03-2026" in html and "2026-03-02<" not in html


def test_display_value__a_date_of_the_form_in_dutch(nl: None) -> None:
    aanmelding = form("aanmelding.json")
    date_fields = [k for k, s in aanmelding.resolved_schema["properties"].items() if s.get("format") == "date"]
    assert date_fields, "the referral has a date"

    assert display_value("2026-03-02", aanmelding, date_fields[0]) == "02-03-2026"
    assert display_value("2026-03-02") == "2026-03-02", "without its form a text stays as it is"
