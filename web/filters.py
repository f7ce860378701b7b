"""Template helpers: dates in Dutch local time, readable values, status labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from engine.privacy.visibility import Redacted

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_datetime(moment: datetime | None) -> str:
    """`02-03-2026 09:00` in Dutch local time."""
    return moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if moment else "–"


def display_value(value: Any) -> str:
    """A process value as readable text (lists joined, groups summarised, booleans as ja/nee).

    A value the user may not see (engine.privacy.visibility) is shown as "afgeschermd" with a lock.
    """
    if isinstance(value, Redacted):
        return redacted_label()
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, Redacted):
        return _("afgeschermd")
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, (datetime, date)):
        return local_datetime(value) if isinstance(value, datetime) else value.strftime("%d-%m-%Y")
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_plain(item)}" for key, item in value.items() if item not in (None, ""))
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    return str(value)


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
    }
    return labels.get(action, action)


def init_app(app: Flask) -> None:
    from web.schema_form import field_id
    from web.services import now

    app.add_template_filter(local_datetime)
    app.add_template_filter(display_value)
    app.add_template_global(redacted_label)
    app.add_template_filter(id, "id")
    app.add_template_global(status_label)
    app.add_template_global(action_label)
    app.add_template_global(field_id)
    app.add_template_global(now, "now_utc")
    app.add_template_global(lambda: str(get_locale() or "nl"), "current_language")
