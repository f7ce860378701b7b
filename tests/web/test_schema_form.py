"""Task forms from JSON Schema: rendered on the server, parsed back from browser form data, rows without JavaScript."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st
from lxml.html import HtmlElement
from werkzeug.datastructures import MultiDict

from engine.errors import InvalidInput
from engine.forms import MAX_ROWS, Form
from web.form_submission import apply_row_action, parse_submission
from web.schema_form import field_id, field_labels, label_for, render_form_fields

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = json.loads((ROOT / "forms" / "definities.json").read_text(encoding="utf-8"))


def ref(name: str, **overrides: Any) -> dict[str, Any]:
    return {"$ref": f"definities.json#/$defs/{name}", **overrides}


MELDING = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Melding complexe casus",
    "type": "object",
    "properties": {
        "bron": {"type": "string", "title": "Overgedragen door", "readOnly": True},
        "gemeente": ref("gemeente"),
        "betrokkenen": ref("betrokkenen"),
        "melder": {
            "type": "object",
            "title": "Melder",
            "properties": {
                "naam": ref("korte_tekst", title="Naam melder"),
                "email": ref("email"),
                "telefoon": ref("telefoon"),
            },
            "required": ["naam"],
            "additionalProperties": False,
        },
        "leefgebieden": ref("leefgebieden"),
        "betrokkene_geinformeerd": {"type": "boolean", "title": "Is de betrokkene geïnformeerd?"},
        "reden_niet": ref("motivering", title="Waarom niet?"),
        "datum_melding": ref("datum", title="Datum van de melding"),
        "gesprek_op": ref("datumtijd", title="Gesprek gepland op"),
        "aantal_kinderen": {"type": "integer", "title": "Aantal minderjarige kinderen", "minimum": 0},
        "risicoscore": {"type": "number", "title": "Risicoscore"},
        "toelichting": ref("lange_tekst", title="Toelichting"),
        "vertrouwelijkheid": ref("vertrouwelijkheid"),
        "urgentie": {
            "type": "string",
            "title": "Urgentie",
            "oneOf": [
                {"const": "normaal", "title": "Normaal"},
                {"const": "spoed", "title": "Met spoed (binnen 24 uur)"},
            ],
        },
        "intern_kenmerk": {"type": "string", "title": "Intern kenmerk"},
    },
    "required": ["gemeente", "betrokkenen", "betrokkene_geinformeerd", "datum_melding"],
    "allOf": [
        {
            "if": {
                "properties": {"betrokkene_geinformeerd": {"const": False}},
                "required": ["betrokkene_geinformeerd"],
            },
            "then": {"required": ["reden_niet"]},
        }
    ],
    "additionalProperties": False,
}
MELDING_UI = {
    "ui:order": ["bron", "gemeente", "betrokkenen", "melder", "*", "toelichting"],
    "betrokkenen": {"ui:addLabel": "Betrokkene toevoegen"},
    "melder": {"telefoon": {"ui:help": "Bij voorkeur een mobiel nummer.", "ui:placeholder": "06 12345678"}},
    "urgentie": {"ui:widget": "radio"},
    "toelichting": {"ui:widget": "textarea"},
    "intern_kenmerk": {"ui:widget": "hidden"},
}
FORM = Form(name="melding.json", schema=MELDING, ui_schema=MELDING_UI, resources={"definities.json": DEFINITIONS})
SCHEMA = FORM.resolved_schema

#: A valid submission, as the engine stores it.
VALID = {
    "gemeente": "Breda",
    "betrokkenen": [
        {"naam": "Jan Jansen", "bsn": "111222333", "rol": "hoofdbetrokkene", "adres": {"postcode": "4811 AB"}},
        {"naam": "Els Jansen", "rol": "systeemlid", "geboortedatum": "2012-05-01"},
    ],
    "melder": {"naam": "Wijkagent De Vries", "email": "devries@example.nl"},
    "leefgebieden": ["Wonen", "Huiselijk geweld"],
    "betrokkene_geinformeerd": False,
    "reden_niet": "Melding van huiselijk geweld; informeren vergroot het risico.",
    "datum_melding": "2026-03-02",
    "gesprek_op": "2026-03-04T14:30:00+01:00",
    "aantal_kinderen": 2,
    "risicoscore": 7.5,
    "toelichting": "Eerste regel.\nTweede regel.",
    "vertrouwelijkheid": "zaakvertrouwelijk",
    "urgentie": "spoed",
}


def minimal_app() -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "web" / "templates"))
    Babel(app)
    return app


APP = minimal_app()


@pytest.fixture
def form_app() -> Iterator[Flask]:
    with APP.test_request_context():
        yield APP


def render(values: dict[str, Any], errors: dict[str, list[str]] | None = None, **options: Any) -> HtmlElement:
    html = render_form_fields(SCHEMA, MELDING_UI, values, errors or {}, **options)
    return lxml.html.fragment_fromstring(str(html), create_parent="main")


def by_id(page: HtmlElement, element_id: str) -> HtmlElement:
    found = page.xpath("//*[@id=$id]", id=element_id)
    assert len(found) == 1, f"{element_id}: {len(found)} elements"
    return found[0]


def browser_submission(page: HtmlElement) -> MultiDict[str, str]:
    """What a browser sends for the rendered fields: successful controls in document order."""
    sent: list[tuple[str, str]] = []
    for control in page.iter("input", "select", "textarea"):
        name = control.get("name")
        if not name or control.get("disabled") is not None:
            continue
        if control.tag == "textarea":
            text = control.text or ""
            sent.append((name, text.removeprefix("\n")))  # the HTML parser drops the newline after <textarea>
        elif control.tag == "select":
            options = control.findall(".//option")
            chosen = [option for option in options if option.get("selected") is not None] or options[:1]
            sent.append((name, chosen[0].get("value", "")))
        elif control.get("type") in ("radio", "checkbox"):
            if control.get("checked") is not None:
                sent.append((name, control.get("value", "on")))
        elif control.get("type") not in ("submit", "button", "reset"):
            sent.append((name, control.get("value", "")))
    return MultiDict(sent)


def wrapper(control: HtmlElement) -> HtmlElement:
    """The form field (or the fieldset of a group) that holds `control`."""
    return next(
        a for a in control.iterancestors() if "utrecht-form-field--text" in a.get("class", "") or a.tag == "fieldset"
    )


def conditional(control: HtmlElement) -> HtmlElement:
    """The wrapper that carries the condition of the field holding `control`."""
    (found,) = control.xpath("ancestor::*[@data-toon-als][1]")
    return found


def location(element: HtmlElement) -> str:
    return str(element.getroottree().getpath(element))


# --- rendering ----------------------------------------------------------------------------------------------------


def test_render__every_input_has_a_label_and_ids_are_unique(form_app: Flask) -> None:
    page = render(VALID)

    controls = [c for c in page.iter("input", "select", "textarea") if c.get("type") != "hidden"]
    assert len(controls) > 20
    for control in controls:
        labels = page.xpath("//label[@for=$id]", id=control.get("id"))
        assert len(labels) == 1 and labels[0].text_content().strip(), control.get("name")
    ids = page.xpath("//@id")
    assert len(ids) == len(set(ids))
    assert page.xpath("//form") == []


def test_render__widgets_follow_type_format_and_ui_schema(form_app: Flask) -> None:
    page = render({})

    def control(path: str) -> HtmlElement:
        return by_id(page, field_id(path))

    assert control("gemeente").tag == "select"
    assert control("melder.email").get("type") == "email"
    assert control("melder.telefoon").get("type") == "tel"
    assert control("melder.telefoon").get("placeholder") == "06 12345678"
    assert control("datum_melding").get("type") == "date"
    assert control("gesprek_op").get("type") == "datetime-local"
    assert control("betrokkenen.0.bsn").get("inputmode") == "numeric"
    assert control("aantal_kinderen").get("inputmode") == "numeric"
    assert control("risicoscore").get("inputmode") == "decimal"
    assert control("toelichting").tag == "textarea"
    assert control("reden_niet").tag == "textarea", "maxLength above 200 makes a textarea"
    assert control("melder.naam").tag == "input", "korte_tekst (maxLength 200) stays one line"
    assert [r.get("value") for r in page.xpath("//input[@name='urgentie']")] == ["normaal", "spoed"]
    assert page.xpath("//label[@for=$id]", id=field_id("urgentie"))[0].text_content() == "Normaal"
    assert [r.get("value") for r in page.xpath("//input[@name='betrokkene_geinformeerd']")] == ["true", "false"]
    assert len(page.xpath("//input[@type='checkbox'][@name='leefgebieden']")) == 12
    assert page.xpath("//*[@name='intern_kenmerk']") == [], "ui:widget hidden is not rendered"
    beperkt = page.xpath("//select[@name='vertrouwelijkheid']/option[@value='beperkt_openbaar']")[0]
    assert beperkt.text == "Beperkt openbaar"
    assert page.xpath("//select[@name='vertrouwelijkheid']/option[@selected]")[0].get("value") == "vertrouwelijk"
    fields = [c.get("name") for c in page.iter("input", "select", "textarea") if c.get("type") != "hidden"]
    assert fields.index("melder.telefoon") < fields.index("leefgebieden") < fields.index("toelichting")
    assert fields[-1] == "toelichting", "ui:order puts the rest at '*'"


def test_render__required_fields_are_marked(form_app: Flask) -> None:
    page = render({})

    gemeente = by_id(page, field_id("gemeente"))
    assert gemeente.get("required") is not None and gemeente.get("aria-required") == "true"
    assert "(verplicht)" in page.xpath("//label[@for='veld-gemeente']")[0].text_content()
    assert by_id(page, field_id("betrokkenen.0.naam")).get("required") is not None, "minItems 1: the first row counts"
    melder_naam = by_id(page, field_id("melder.naam"))
    assert melder_naam.get("aria-required") == "true"
    assert melder_naam.get("required") is None, "the browser may not demand it: the melder group is optional"
    assert by_id(page, field_id("toelichting")).get("aria-required") is None
    assert "(verplicht)" not in page.xpath("//label[@for='veld-toelichting']")[0].text_content()


def test_render__errors_sit_next_to_their_field_and_are_announced(form_app: Flask) -> None:
    errors = {
        "betrokkenen.0.bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."],
        "melder.telefoon": ["Geen geldig telefoonnummer."],
        "urgentie": ["Kies een van de toegestane waarden."],
    }
    page = render({"betrokkenen": [{"naam": "Jan", "bsn": "123"}]}, errors)

    bsn = by_id(page, field_id("betrokkenen.0.bsn"))
    assert bsn.get("aria-invalid") == "true"
    assert "utrecht-textbox--invalid" in bsn.get("class")
    message = by_id(page, f"{field_id('betrokkenen.0.bsn')}--fout")
    assert message.get("id") in bsn.get("aria-describedby").split()
    assert "elfproef" in message.text_content()
    assert location(wrapper(message)) == location(wrapper(bsn))
    assert "utrecht-form-field--invalid" in wrapper(bsn).get("class")
    telefoon = by_id(page, field_id("melder.telefoon"))
    described = telefoon.get("aria-describedby").split()
    assert [by_id(page, i).text_content() for i in described] == [
        "Bij voorkeur een mobiel nummer.",
        "Geen geldig telefoonnummer.",
    ]
    spoed = page.xpath("//input[@name='urgentie']")
    assert all(radio.get("aria-invalid") == "true" for radio in spoed)
    group = spoed[0].xpath("ancestor::fieldset[1]")[0]
    assert f"{field_id('urgentie')}--fout" in group.get("aria-describedby")
    assert by_id(page, field_id("gemeente")).get("aria-invalid") is None


def test_render__a_default_is_not_offered_for_a_field_reported_missing(form_app: Flask) -> None:
    fresh = render({})
    missing = render({}, {"vertrouwelijkheid": ["Dit veld is verplicht."]})

    assert fresh.xpath("//select[@name='vertrouwelijkheid']/option[@selected]/@value") == ["vertrouwelijk"]
    assert missing.xpath("//select[@name='vertrouwelijkheid']/option[@selected]") == []


def test_render__shows_again_what_was_typed_escaped(form_app: Flask) -> None:
    typed = {
        "aantal_kinderen": "twee",
        "risicoscore": "7,5,3",
        "melder": {"naam": "<script>alert('x')</script>"},
        "toelichting": "</textarea><script>alert(1)</script>",
        "vertrouwelijkheid": "topgeheim",
        "leefgebieden": ["Wonen", "<b>Onbekend</b>"],
    }
    html = str(render_form_fields(SCHEMA, MELDING_UI, typed, {}))
    page = lxml.html.fragment_fromstring(html, create_parent="main")

    assert page.xpath("//script") == [] and page.xpath("//b") == []
    assert "&lt;script&gt;" in html
    assert by_id(page, field_id("aantal_kinderen")).get("value") == "twee"
    assert by_id(page, field_id("risicoscore")).get("value") == "7,5,3"
    assert by_id(page, field_id("melder.naam")).get("value") == "<script>alert('x')</script>"
    assert by_id(page, field_id("toelichting")).text.removeprefix("\n") == "</textarea><script>alert(1)</script>"
    assert page.xpath("//select[@name='vertrouwelijkheid']/option[@selected]")[0].get("value") == "topgeheim"
    assert [c.get("value") for c in page.xpath("//input[@name='leefgebieden'][@checked]")] == [
        "Wonen",
        "<b>Onbekend</b>",
    ]


def test_render__rows_have_remove_buttons_and_one_add_button(form_app: Flask) -> None:
    page = render(VALID)

    rows = page.xpath("//fieldset[@id='veld-betrokkenen']/fieldset")
    assert [row.find("legend").text for row in rows] == ["Betrokkene 1", "Betrokkene 2"]
    removes = page.xpath("//button[starts-with(@value, 'verwijderen:')]")
    assert [(b.get("name"), b.get("value"), b.get("type")) for b in removes] == [
        ("_actie", "verwijderen:betrokkenen.0", "submit"),
        ("_actie", "verwijderen:betrokkenen.1", "submit"),
    ]
    assert removes[0].text_content() == "Betrokkene 1 verwijderen"
    (add,) = page.xpath("//button[starts-with(@value, 'toevoegen:')]")
    assert (add.get("value"), add.text_content()) == ("toevoegen:betrokkenen", "Betrokkene toevoegen")
    assert all(button.get("formnovalidate") is not None for button in [*removes, add]), "the browser must not block"
    assert "utrecht-button--secondary-action" in add.get("class")
    assert len(page.xpath("//button")) == 3, "no buttons besides the row buttons"


def test_render__an_empty_required_list_starts_with_its_minimum_rows(form_app: Flask) -> None:
    page = render({})

    assert [row.get("id") for row in page.xpath("//fieldset[@id='veld-betrokkenen']/fieldset")] == [
        "veld-betrokkenen-0"
    ]
    assert page.xpath("//button[starts-with(@value, 'verwijderen:')]") == [], "the one required row cannot go"


def test_render__conditional_field_is_visible_with_its_condition(form_app: Flask) -> None:
    page = render({})

    reden = conditional(by_id(page, field_id("reden_niet")))
    condition = [[{"veld": "betrokkene_geinformeerd", "waarden": ["false"], "ookLeeg": False, "niet": False}]]
    assert json.loads(reden.get("data-toon-als")) == condition
    assert json.loads(reden.get("data-verplicht-als")) == condition
    assert reden.get("hidden") is None, "without JavaScript every field is visible"
    (marker,) = reden.xpath(".//*[@data-verplicht-markering]")
    assert marker.get("hidden") is not None, "not required while nobody answered 'nee'"
    assert by_id(page, field_id("reden_niet")).get("required") is None
    assert by_id(page, field_id("gemeente")).xpath("ancestor::*[@data-toon-als]") == []


def test_render__conditional_field_is_marked_required_when_its_condition_holds(form_app: Flask) -> None:
    page = render({"betrokkene_geinformeerd": False})

    reden = by_id(page, field_id("reden_niet"))
    (marker,) = conditional(reden).xpath(".//*[@data-verplicht-markering]")
    assert marker.get("hidden") is None and marker.text_content() == "(verplicht)"
    assert reden.get("aria-required") == "true" and reden.get("data-verplicht-doel") is not None


def test_render__conditions_inside_rows_name_the_row_fields(form_app: Flask) -> None:
    schema = {
        "type": "object",
        "properties": {
            "partners": {
                "type": "array",
                "items": {
                    "type": "object",
                    "title": "Partner",
                    "properties": {
                        "organisatie": {"type": "string", "enum": ["Politie", "Anders"]},
                        "andere_organisatie": {"type": "string", "title": "Welke organisatie?"},
                    },
                    "if": {"properties": {"organisatie": {"const": "Anders"}}},
                    "then": {"required": ["andere_organisatie"]},
                },
            }
        },
    }
    html = render_form_fields(schema, {}, {"partners": [{"organisatie": "Politie"}, {}]}, {})
    page = lxml.html.fragment_fromstring(str(html), create_parent="main")

    for index, required_now in ((0, False), (1, True)):
        field = conditional(by_id(page, field_id(f"partners.{index}.andere_organisatie")))
        (clause,) = json.loads(field.get("data-toon-als"))[0]
        assert clause == {
            "veld": f"partners.{index}.organisatie",
            "waarden": ["Anders"],
            "ookLeeg": True,
            "niet": False,
        }
        marker = field.xpath(".//*[@data-verplicht-markering]")[0]
        assert (marker.get("hidden") is None) == required_now


def test_render__else_branch_negates_the_condition(form_app: Flask) -> None:
    schema = {
        "type": "object",
        "properties": {
            "nazorg_nodig": {"type": "boolean"},
            "reden_geen_nazorg": {"type": "string"},
            "overdracht_naar": {"type": "string"},
        },
        "if": {"properties": {"nazorg_nodig": {"const": False}}, "required": ["nazorg_nodig"]},
        "then": {"required": ["reden_geen_nazorg"]},
        "else": {"required": ["overdracht_naar"]},
    }
    page = lxml.html.fragment_fromstring(str(render_form_fields(schema, {}, {}, {})), create_parent="main")

    overdracht = conditional(by_id(page, field_id("overdracht_naar")))
    negated = [[{"veld": "nazorg_nodig", "waarden": ["false"], "ookLeeg": False, "niet": True}]]
    assert json.loads(overdracht.get("data-toon-als")) == negated
    assert overdracht.xpath(".//*[@data-verplicht-markering]")[0].get("hidden") is None, "no answer yet: else holds"


def test_render__read_only_fields_are_shown_not_editable(form_app: Flask) -> None:
    page = render({**VALID, "bron": "Aanmelding & triage"})

    assert page.xpath("//*[@name='bron']") == []
    bron = by_id(page, field_id("bron"))
    assert bron.xpath(".//dt")[0].text == "Overgedragen door"
    assert bron.xpath(".//dd")[0].text_content().strip() == "Aanmelding & triage"


def test_render__whole_form_read_only(form_app: Flask) -> None:
    page = render({**VALID, "gemeente": "<i>Breda</i>"}, read_only=True)

    assert page.xpath("//input | //select | //textarea | //button") == []
    assert page.xpath("//*[@required or @aria-required or @data-toon-als]") == []
    shown = {dt.text: dt.getnext().text_content().strip() for dt in page.xpath("//dt")}
    assert shown["Gemeente"] == "<i>Breda</i>"
    assert shown["Is de betrokkene geïnformeerd?"] == "Nee"
    assert shown["Urgentie"] == "Met spoed (binnen 24 uur)"
    assert shown["Leefgebieden"] == "Wonen, Huiselijk geweld"
    assert shown["Gesprek gepland op"] == "04-03-2026 14:30", "a date and time as Dutch people write them"
    assert shown["Telefoonnummer"] == "Niet ingevuld"
    assert shown["Betrokkene 2"].startswith("Naam")


# --- parsing ------------------------------------------------------------------------------------------------------


def test_parse__nested_objects_rows_checkboxes_booleans_and_numbers() -> None:
    form = MultiDict(
        [
            ("csrf_token", "abc"),
            ("_actie", "afronden"),
            ("_lock_version", "3"),
            ("gemeente", "Breda"),
            ("betrokkenen.0.naam", "Jan Jansen"),
            ("betrokkenen.0.bsn", " 111222333 "),
            ("betrokkenen.0.adres.postcode", "4811 AB"),
            ("betrokkenen.0.adres.straat", ""),
            ("betrokkenen.0.rol", "hoofdbetrokkene"),
            ("betrokkenen.1.naam", ""),
            ("betrokkenen.1.rol", ""),
            ("betrokkenen.2.naam", "Els Jansen"),
            ("betrokkenen.2.rol", "systeemlid"),
            ("melder.naam", "Wijkagent De Vries"),
            ("melder.email", ""),
            ("leefgebieden", "Wonen"),
            ("leefgebieden", "Huiselijk geweld"),
            ("betrokkene_geinformeerd", "true"),
            ("aantal_kinderen", "2"),
            ("risicoscore", "7,5"),
            ("toelichting", "Regel een.\r\nRegel twee.\r\n"),
            ("urgentie", "spoed"),
            ("vertrouwelijkheid", ""),
            ("bron", "vervalst"),
            ("casusnummer", "2026-0001"),
            ("betrokkenen.x.naam", "geen index"),
        ]
    )

    assert parse_submission(SCHEMA, form) == {
        "gemeente": "Breda",
        "betrokkenen": [
            {"naam": "Jan Jansen", "bsn": "111222333", "adres": {"postcode": "4811 AB"}, "rol": "hoofdbetrokkene"},
            {"naam": "Els Jansen", "rol": "systeemlid"},
        ],
        "melder": {"naam": "Wijkagent De Vries"},
        "leefgebieden": ["Wonen", "Huiselijk geweld"],
        "betrokkene_geinformeerd": True,
        "aantal_kinderen": 2,
        "risicoscore": 7.5,
        "toelichting": "Regel een.\nRegel twee.",
        "urgentie": "spoed",
    }


def test_parse__keeps_what_does_not_parse_so_the_engine_can_say_why() -> None:
    form = MultiDict(
        [
            ("aantal_kinderen", "twee"),
            ("risicoscore", "1e999"),
            ("betrokkene_geinformeerd", "misschien"),
            ("vertrouwelijkheid", "topgeheim"),
            ("leefgebieden", "Onbekend"),
            ("gesprek_op", "morgen"),
            ("datum_melding", "31-02-2026"),
        ]
    )

    assert parse_submission(SCHEMA, form) == {
        "aantal_kinderen": "twee",
        "risicoscore": "1e999",
        "betrokkene_geinformeerd": "misschien",
        "vertrouwelijkheid": "topgeheim",
        "leefgebieden": ["Onbekend"],
        "gesprek_op": "morgen",
        "datum_melding": "31-02-2026",
    }


def test_parse__leaves_out_empty_values_rows_and_groups() -> None:
    form = MultiDict(
        [("gemeente", "  "), ("betrokkenen.0.naam", ""), ("betrokkenen.0.adres.straat", ""), ("melder.naam", "")]
    )

    assert parse_submission(SCHEMA, form) == {}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2026-01-15T09:30", "2026-01-15T09:30:00+01:00"),
        ("2026-07-15T09:30", "2026-07-15T09:30:00+02:00"),
        ("2026-07-15T09:30:45", "2026-07-15T09:30:45+02:00"),
        ("2026-07-15T09:30:00+00:00", "2026-07-15T09:30:00+00:00"),
        ("15 juli", "15 juli"),
    ],
)
def test_parse__datetime_local_is_dutch_time_with_offset(typed: str, stored: str) -> None:
    assert parse_submission(SCHEMA, MultiDict([("gesprek_op", typed)])) == {"gesprek_op": stored}


def test_parse__a_single_checkbox_sends_false_when_not_ticked() -> None:
    schema = {"type": "object", "properties": {"akkoord": {"type": "boolean"}}}

    assert parse_submission(schema, MultiDict([("akkoord", "false")])) == {"akkoord": False}
    assert parse_submission(schema, MultiDict([("akkoord", "false"), ("akkoord", "true")])) == {"akkoord": True}
    assert parse_submission(schema, MultiDict([])) == {}


def test_parse__enum_values_keep_their_json_type() -> None:
    schema = {
        "type": "object",
        "properties": {
            "niveau": {"type": "integer", "enum": [1, 2, 3]},
            "keuze": {"enum": ["ja", 0, True]},
            "dagen": {"type": "array", "items": {"type": "integer", "enum": [1, 5]}},
        },
    }
    form = MultiDict([("niveau", "2"), ("keuze", "true"), ("dagen", "5"), ("dagen", "1")])

    assert parse_submission(schema, form) == {"niveau": 2, "keuze": True, "dagen": [5, 1]}


# --- round trips --------------------------------------------------------------------------------------------------


def test_round_trip__what_is_rendered_is_what_comes_back(form_app: Flask) -> None:
    submitted = browser_submission(render(VALID))

    assert parse_submission(SCHEMA, submitted) == VALID
    FORM.validate(parse_submission(SCHEMA, submitted))


def test_round_trip__engine_errors_point_at_rendered_fields(form_app: Flask) -> None:
    form = MultiDict(
        [
            ("gemeente", "Breda"),
            ("betrokkenen.0.naam", "Jan"),
            ("betrokkenen.0.bsn", "123456789"),
            ("betrokkenen.0.adres.postcode", "4811 SS"),
            ("betrokkenen.0.rol", "hoofdbetrokkene"),
            ("betrokkenen.1.bsn", "111222333"),
            ("melder.email", "geen-adres"),
            ("betrokkene_geinformeerd", "false"),
            ("aantal_kinderen", "twee"),
            ("datum_melding", "2026-02-31"),
            ("gesprek_op", "2026-03-04T25:00"),
        ]
    )
    values = parse_submission(SCHEMA, form)
    with pytest.raises(InvalidInput) as caught:
        FORM.validate(values)
    errors = caught.value.fields
    page = render(values, errors)

    assert set(errors) >= {
        "betrokkenen.0.bsn",
        "betrokkenen.0.adres.postcode",
        "betrokkenen.1.naam",
        "betrokkenen.1.rol",
        "melder.naam",
        "melder.email",
        "reden_niet",
        "aantal_kinderen",
        "datum_melding",
        "gesprek_op",
    }
    labels = field_labels(SCHEMA)
    for path, messages in errors.items():
        target = by_id(page, field_id(path))
        message = by_id(page, f"{field_id(path)}--fout")
        assert message.text_content() == "".join(messages)
        if target.tag in ("input", "select", "textarea"):
            assert target.get("aria-invalid") == "true", path
        assert label_for(labels, path)
    assert by_id(page, field_id("aantal_kinderen")).get("value") == "twee"
    assert by_id(page, field_id("gesprek_op")).get("value") == "2026-03-04T25:00"


# --- rows without JavaScript --------------------------------------------------------------------------------------

NESTED = {
    "type": "object",
    "properties": {
        "overleggen": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "type": "object",
                "properties": {
                    "datum": {"type": "string"},
                    "actiepunten": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"wat": {"type": "string"}}},
                    },
                },
            },
        },
        "bijlagen": {"type": "array", "readOnly": True, "items": {"type": "object"}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def test_apply_row_action__adds_an_empty_row() -> None:
    values = {"gemeente": "Breda", "betrokkenen": [{"naam": "Jan"}]}

    assert apply_row_action(SCHEMA, values, "toevoegen:betrokkenen") == {
        "gemeente": "Breda",
        "betrokkenen": [{"naam": "Jan"}, {}],
    }
    assert values == {"gemeente": "Breda", "betrokkenen": [{"naam": "Jan"}]}, "the input is not changed"


def test_apply_row_action__adding_to_an_empty_list_keeps_the_rows_that_were_shown() -> None:
    # The page showed minItems (1) empty rows; "toevoegen" must show one more, not the same one.
    assert apply_row_action(SCHEMA, {}, "toevoegen:betrokkenen") == {"betrokkenen": [{}, {}]}


def test_apply_row_action__removes_the_chosen_row() -> None:
    values = {"betrokkenen": [{"naam": "Jan"}, {"naam": "Els"}, {"naam": "Piet"}]}

    assert apply_row_action(SCHEMA, values, "verwijderen:betrokkenen.1") == {
        "betrokkenen": [{"naam": "Jan"}, {"naam": "Piet"}]
    }


def test_apply_row_action__nested_rows() -> None:
    values = {"overleggen": [{"datum": "2026-03-02"}]}

    added = apply_row_action(NESTED, values, "toevoegen:overleggen.0.actiepunten")
    assert added == {"overleggen": [{"datum": "2026-03-02", "actiepunten": [{}]}]}
    assert apply_row_action(NESTED, added, "verwijderen:overleggen.0.actiepunten.0") == {
        "overleggen": [{"datum": "2026-03-02", "actiepunten": []}]
    }
    assert apply_row_action(NESTED, {"tags": ["a"]}, "toevoegen:tags") == {"tags": ["a", ""]}


@pytest.mark.parametrize(
    "action",
    [
        "",
        "afronden",
        "toevoegen:",
        "toevoegen:onbekend",
        "toevoegen:gemeente",
        "toevoegen:melder",
        "toevoegen:betrokkenen.0",
        "toevoegen:betrokkenen.5.adres",
        "verwijderen:betrokkenen",
        "verwijderen:betrokkenen.2",
        "verwijderen:betrokkenen.-1",
        "verwijderen:betrokkenen.x",
        "verwijderen:betrokkenen.١",
        "wissen:betrokkenen.0",
        "toevoegen:__class__",
    ],
)
def test_apply_row_action__an_invalid_action_changes_nothing(action: str) -> None:
    values = {"gemeente": "Breda", "betrokkenen": [{"naam": "Jan"}, {"naam": "Els"}]}

    assert apply_row_action(SCHEMA, values, action) == values


def test_apply_row_action__respects_max_items_and_read_only() -> None:
    full = {"overleggen": [{}, {}]}

    assert apply_row_action(NESTED, full, "toevoegen:overleggen") == full
    assert apply_row_action(NESTED, {}, "toevoegen:bijlagen") == {}
    assert apply_row_action(NESTED, {"overleggen": "kapot"}, "toevoegen:overleggen") == {"overleggen": "kapot"}


def test_render__after_adding_a_row_it_is_there(form_app: Flask) -> None:
    values = apply_row_action(SCHEMA, {"betrokkenen": [{"naam": "Jan"}]}, "toevoegen:betrokkenen")
    page = render(values)

    assert by_id(page, field_id("betrokkenen.1.naam")).get("value") == ""
    assert by_id(page, field_id("betrokkenen.1.rol")).xpath("option[@selected]")[0].get("value") == "hoofdbetrokkene"


# --- labels -------------------------------------------------------------------------------------------------------


def test_field_labels__patterns_for_rows_and_nested_fields() -> None:
    labels = field_labels(SCHEMA)

    assert labels["betrokkenen"] == "Betrokkenen"
    assert labels["betrokkenen.*.bsn"] == "BSN"
    assert labels["betrokkenen.*.adres.postcode"] == "Postcode"
    assert labels["melder.email"] == "E-mailadres"
    assert labels["reden_niet"] == "Waarom niet?"


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("betrokkenen.0.bsn", "Betrokkenen 1 – BSN"),
        ("betrokkenen.11.adres.postcode", "Betrokkenen 12 – Adres – Postcode"),
        ("betrokkenen", "Betrokkenen"),
        ("melder.email", "Melder – E-mailadres"),
        ("casusnummer", "Casusnummer"),
        ("reden_onbekend_veld", "Reden onbekend veld"),
    ],
)
def test_label_for__concrete_paths(path: str, label: str) -> None:
    assert label_for(field_labels(SCHEMA), path) == label


def test_field_id__stable_and_valid_as_html_id() -> None:
    assert field_id("betrokkenen.0.bsn") == "veld-betrokkenen-0-bsn"
    assert field_id("melder.email") == "veld-melder-email"
    assert " " not in field_id("veld met spatie")


# --- properties ---------------------------------------------------------------------------------------------------

FIELD_NAMES = [
    "gemeente",
    "betrokkenen",
    "melder",
    "leefgebieden",
    "betrokkene_geinformeerd",
    "aantal_kinderen",
    "risicoscore",
    "gesprek_op",
    "bron",
    "_actie",
]
form_keys = st.one_of(
    st.sampled_from(FIELD_NAMES),
    st.builds(
        lambda a, i, b: f"{a}.{i}.{b}", st.sampled_from(FIELD_NAMES), st.integers(-3, 10**30), st.text(max_size=8)
    ),
    st.text(max_size=30),
)


@given(st.lists(st.tuples(form_keys, st.text(max_size=40)), max_size=30))
def test_parse__never_fails_on_any_form_data(pairs: list[tuple[str, str]]) -> None:
    parsed = parse_submission(SCHEMA, MultiDict(pairs))

    assert set(parsed) <= set(SCHEMA["properties"]) - {"bron"}
    json.dumps(parsed)


printable = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
one_line = st.text(printable, min_size=1, max_size=60).map(str.strip).filter(bool)
multi_line = st.lists(one_line, min_size=1, max_size=4).map("\n".join)
not_an_integer = one_line.filter(lambda text: not re.fullmatch(r"[+-]?[0-9]+", text))


@given(naam=one_line, email=one_line, toelichting=multi_line, aantal=st.integers(-(10**12), 10**12) | not_an_integer)
def test_round_trip__typed_text_survives_render_and_parse(naam: str, email: str, toelichting: str, aantal: Any) -> None:
    values = {
        "betrokkenen": [{"naam": naam, "rol": "slachtoffer"}],
        "melder": {"naam": naam, "email": email},
        "toelichting": toelichting,
        "aantal_kinderen": aantal,
        "vertrouwelijkheid": "intern",
    }
    with APP.test_request_context():
        page = render(values)

    assert parse_submission(SCHEMA, browser_submission(page)) == values


def test_parse__reads_one_row_more_than_max_items_so_validation_can_say_there_are_too_many() -> None:
    form = MultiDict([(f"betrokkenen.{index}.naam", f"Persoon {index}") for index in range(60)])

    rows = parse_submission(SCHEMA, form)["betrokkenen"]

    assert [row["naam"] for row in rows] == [f"Persoon {index}" for index in range(21)], "maxItems is 20"
    with pytest.raises(InvalidInput) as caught:
        FORM.validate({**VALID, "betrokkenen": rows})
    assert caught.value.fields["betrokkenen"] == ["Vul maximaal 20 in."]


def test_parse__rows_without_max_items_stop_one_past_the_hard_cap() -> None:
    schema = {"type": "object", "properties": {"regels": {"type": "array", "items": {"type": "string"}}}}
    form = MultiDict([(f"regels.{index}", "x") for index in range(MAX_ROWS * 4)])

    assert len(parse_submission(schema, form)["regels"]) == MAX_ROWS + 1


def test_parse__row_numbers_no_browser_sends_are_ignored_instead_of_failing() -> None:
    schema = {"type": "object", "properties": {"regels": {"type": "array", "items": {"type": "string"}}}}
    form = MultiDict([("regels.0", "a"), ("regels." + "9" * 5000, "b"), ("regels" + ".1" * 100, "c")])

    assert parse_submission(schema, form) == {"regels": ["a"]}


def test_render__a_date_time_at_the_edge_of_the_calendar_is_shown_as_typed(form_app: Flask) -> None:
    page = render({"gesprek_op": "0001-01-01T00:00:00+00:19:32"})

    assert by_id(page, "veld-gesprek_op").get("value") == "0001-01-01T00:00:00+00:19:32"


def test_rows__the_hard_cap_also_bounds_adding_rows_and_a_huge_min_items(form_app: Flask) -> None:
    schema = {
        "type": "object",
        "properties": {"regels": {"type": "array", "minItems": 10**9, "items": {"type": "string"}}},
    }
    full = {"regels": ["x"] * MAX_ROWS}

    html = str(render_form_fields(schema, {}, {}, {}))

    assert html.count('name="regels.') == MAX_ROWS
    assert apply_row_action(schema, full, "toevoegen:regels") == full
