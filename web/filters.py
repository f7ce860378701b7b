"""Template helpers: dates in Dutch local time, readable values, status labels."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from engine.dates import dutch_date, local_moment
from engine.forms import Form
from engine.privacy.visibility import Redacted


def local_datetime(moment: datetime | None) -> str:
    """`02-03-2026 09:00` in Dutch local time ("–" for none)."""
    return local_moment(moment) if moment else "–"


def display_value(value: Any, form: Form | None = None, field: str | None = None) -> str:
    """A process value as readable text (lists joined, groups summarised, booleans as ja/nee).

    Given the `form` that asked for it and the `field` (its key or dotted path), a choice shows the label of its
    option ("Procesregie door het ZVH", not `procesregie_zvh`), also inside groups and rows, and the parts of a
    group are named by their labels. A value the user may not see (engine.privacy.visibility) is shown as
    "afgeschermd" with a lock.
    """
    if isinstance(value, Redacted):
        return redacted_label()
    return _plain(value, form, field)


def _plain(value: Any, form: Form | None = None, path: str | None = None) -> str:
    if isinstance(value, Redacted):
        return _("afgeschermd")
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, (datetime, date)):
        return local_datetime(value) if isinstance(value, datetime) else value.strftime("%d-%m-%Y")
    if isinstance(value, dict):
        return ", ".join(
            f"{_part_title(form, path, key)}: {_plain(item, form, _join(path, key))}"
            for key, item in value.items()
            if item not in (None, "")
        )
    if form is not None and path is not None and (options := form.choices(path)) is not None:
        # a label the catalogue knows (the catch-all gemeente "Overig (…)") in the page's language
        if isinstance(value, list):
            return ", ".join(_(choice_label(options, item)) for item in value)
        return _(choice_label(options, value))
    if form is not None and path is not None and isinstance(value, str):
        spec = form.field_schema(path) or {}
        if spec.get("format") in ("date", "date-time"):
            return dutch_date(value)
    if isinstance(value, list):
        return "; ".join(_plain(item, form, path) for item in value)
    return str(value)


def _join(path: str | None, key: str) -> str | None:
    return None if path is None else f"{path}.{key}"


def _part_title(form: Form | None, path: str | None, key: str) -> str:
    """The label of part `key` of the group at `path`, or the key itself when the form does not name it."""
    spec = form.field_schema(f"{path}.{key}") if form is not None and path is not None else None
    title = spec.get("title") if spec else None
    return title if isinstance(title, str) and title else str(key)


def choice_label(options: list[tuple[Any, str]], value: Any) -> str:
    """The label of option `value`, or the value as written when it is not (or no longer) one of the options."""
    label = next((label for key, label in options if key == value and type(key) is type(value)), None)
    if label is not None:
        return label
    return _plain(value) if not isinstance(value, str) else value


def redacted_label() -> Markup:
    """A lock and "afgeschermd", with the reason in words for screen readers (the lock itself is not read)."""
    return Markup(
        '<span class="zvh-afgeschermd"><span aria-hidden="true">🔒 </span>{}'
        '<span class="zvh-schermlezer"> ({})</span></span>'
    ).format(_("afgeschermd"), _("u heeft geen toegang tot deze gegevens"))


def status_label(status: str) -> str:
    labels = {
        "running": _("loopt"),
        "waiting": _("wacht op termijn"),
        "completed": _("afgerond"),
        "error": _("vastgelopen"),
        "suspended": _("gepauzeerd"),
        "terminated": _("beëindigd"),
    }
    return labels.get(status, status)


def action_label(action: str) -> str:
    """What an audit action means, for the case timeline."""
    labels = {
        "start": _("Zaak gestart"),
        "complete": _("Afgerond"),
        "timer": _("Termijn verstreken"),
        "handover": _("Overgedragen aan vervolgproces"),
        "error": _("Vastgelopen"),
        "retry": _("Opnieuw uitgevoerd"),
        "reassign": _("Taak toegewezen"),
        "participant": _("Deelnemer toegevoegd"),
        "note": _("Notitie vanuit de bewaking"),
        "escalate": _("Geëscaleerd naar de procesregisseur"),
        "substitute": _("Overgedragen aan vervanger"),
        "extend": _("Termijn verlengd"),
        "suspend": _("Termijn opgeschort"),
        "resume": _("Termijn hervat"),
        "overleg_invited": _("Uitgenodigd voor casusoverleg"),
        "overleg_uninvited": _("Uitnodiging voor casusoverleg ingetrokken"),
        "overleg_case_added": _("Op de agenda van een casusoverleg gezet"),
        "overleg_item": _("Verslag van het casusoverleg bijgewerkt"),
        "overleg_outcome": _("Besluit vastgelegd in casusoverleg"),
        "overleg_action_point": _("Actiepunt afgesproken"),
        "overleg_action_done": _("Actiepunt afgerond"),
    }
    return labels.get(action, action)


def gemeente_label(gemeente: str | None) -> str:
    """A gemeente as the case data holds it, in the page's language where the catalogue has it (the catch-all
    "Overig (…)"; the names of the gemeenten are the same in every language)."""
    return _(gemeente) if gemeente else "–"  # a value of the forms, marked with N_ in engine/reports/definitions.py


_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$"
)
_WORKING_DAYS = re.compile(r"^(\d+) werkdag(?:en)?$")


def norm_label(norm: str | None) -> str:
    """A step's norm as people say it: `P5D` as "5 dagen", `PT4H` as "4 uur", `5 werkdagen` as written."""
    if not norm:
        return "–"
    if match := _WORKING_DAYS.match(norm):
        return ngettext("%(num)s werkdag", "%(num)s werkdagen", int(match[1]))
    match = _ISO_DURATION.match(norm.strip().upper())
    if match is None or not any(match.groupdict().values()):
        return norm
    words = {
        "years": lambda n: ngettext("%(num)s jaar", "%(num)s jaar", n),
        "months": lambda n: ngettext("%(num)s maand", "%(num)s maanden", n),
        "weeks": lambda n: ngettext("%(num)s week", "%(num)s weken", n),
        "days": lambda n: ngettext("%(num)s dag", "%(num)s dagen", n),
        "hours": lambda n: ngettext("%(num)s uur", "%(num)s uur", n),
        "minutes": lambda n: ngettext("%(num)s minuut", "%(num)s minuten", n),
    }
    parts = [words[unit](int(count)) for unit, count in match.groupdict().items() if count]
    return " ".join(parts)


def init_app(app: Flask) -> None:
    from web.schema_form import field_id
    from web.services import now

    app.add_template_filter(local_datetime)
    app.add_template_filter(display_value)
    app.add_template_filter(norm_label)
    app.add_template_filter(gemeente_label)
    app.add_template_global(redacted_label)
    app.add_template_filter(id, "id")
    app.add_template_global(status_label)
    app.add_template_global(action_label)
    app.add_template_global(field_id)
    app.add_template_global(now, "now_utc")
    app.add_template_global(lambda: str(get_locale() or "nl"), "current_language")
