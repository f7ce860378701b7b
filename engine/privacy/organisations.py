"""Organisations, gemeenten and the scope of a lane: which holders of a role see a task (need-to-know).

A role queue is not global. A lane's tasks reach the holders of its role *in the organisation or gemeente the task
is for*; the process model says which with a lane property `zichtbaarheid`:

- `gemeente` — the case's gemeente (a `gemeente` user of Zundert never sees Breda's tasks);
- `organisatie:<field>` — the organisation named by a field of the case data (the partner asked for input);
- `alle` — every holder of the role (ZVH staff, whose lanes are internal).

Without the property a role takes its safe default from `DEFAULT_SCOPES`: partners' roles are scoped to the case's
gemeente, ZVH roles are not. A task whose gemeente or organisation is not known goes to no partner at all: it waits
in the coordinators' team view (and the monitor) until someone assigns it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.models import User


@dataclass(frozen=True)
class Organisation:
    """A partner in the ZVH's covenant, or the ZVH itself."""

    key: str
    name: str
    #: the value of the forms' `organisatie` choice that names this organisation
    form_value: str | None
    #: the visibility classes of form fields its people may see (see `engine.privacy.visibility`)
    classes: frozenset[str] = frozenset()


_JUSTICE = frozenset({"justitieel"})
_CARE = frozenset({"medisch"})

ORGANISATIONS: dict[str, Organisation] = {
    org.key: org
    for org in (
        Organisation("zvh", "Zorg- en Veiligheidshuis De Baronie", "Zorg- en Veiligheidshuis", _JUSTICE | _CARE),
        Organisation("politie", "Politie", "Politie", _JUSTICE),
        Organisation("om", "Openbaar Ministerie", "Openbaar Ministerie", _JUSTICE),
        Organisation("reclassering", "Reclassering", "Reclassering", _JUSTICE),
        Organisation("dji", "Dienst Justitiële Inrichtingen", "Dienst Justitiële Inrichtingen", _JUSTICE),
        Organisation("rvdk", "Raad voor de Kinderbescherming", "Raad voor de Kinderbescherming", _JUSTICE),
        Organisation("kmar", "Koninklijke Marechaussee", "Koninklijke Marechaussee", _JUSTICE),
        Organisation("veilig_thuis", "Veilig Thuis", "Veilig Thuis", _CARE),
        Organisation("mass", "MaSS (Maatschappelijke Steunsystemen)", "MaSS (Maatschappelijke Steunsystemen)", _CARE),
        Organisation("ggz", "GGZ", "GGZ", _CARE),
        Organisation("verslavingszorg", "Verslavingszorg", "Verslavingszorg", _CARE),
        Organisation("jeugdbescherming", "Jeugdbescherming", "Jeugdbescherming", _CARE),
        Organisation("comensha", "CoMensha", "CoMensha", _CARE),
        Organisation("opvang", "Opvang", "Opvang", _CARE),
        Organisation("huisarts", "Huisarts", "Huisarts", _CARE),
        Organisation("ind", "IND", "IND"),
        Organisation("gemeente", "Gemeente", "Gemeente"),
        Organisation("wijkteam", "Lokaal (wijk)team", "Lokaal (wijk)team"),
        Organisation("woningcorporatie", "Woningcorporatie", "Woningcorporatie"),
        Organisation("leerplicht", "Leerplicht", "Leerplicht"),
    )
}

#: The nine gemeenten of the Breda district and "Overig" (key -> the value the forms' `gemeente` choice uses).
GEMEENTEN: dict[str, str] = {
    "alphen-chaam": "Alphen-Chaam",
    "altena": "Altena",
    "baarle-nassau": "Baarle-Nassau",
    "breda": "Breda",
    "drimmelen": "Drimmelen",
    "etten-leur": "Etten-Leur",
    "geertruidenberg": "Geertruidenberg",
    "oosterhout": "Oosterhout",
    "zundert": "Zundert",
    "overig": "Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)",
}

SCOPE_PROPERTY = "zichtbaarheid"
#: The safe default scope of a lane without `zichtbaarheid`: partners see only their gemeente's cases.
DEFAULT_SCOPES: dict[str, str] = {
    role: "gemeente"
    for role in (
        "gemeente",
        "burgemeester",
        "ketenpartner",
        "politie",
        "om",
        "reclassering",
        "dji",
        "opvang",
        "lokale_driehoek",
        "casusregisseur",
    )
}
#: An audience no one holds: a scoped task whose gemeente or organisation is unknown.
UNKNOWN = "onbekend"


@dataclass(frozen=True)
class Scope:
    """How a lane's tasks are scoped: `alle`, `gemeente`, or `organisatie` with the data field naming it."""

    kind: str
    field: str | None = None

    def __str__(self) -> str:
        return f"organisatie:{self.field}" if self.kind == "organisatie" else self.kind


ALL = Scope("alle")


def parse_scope(value: str | None) -> Scope | None:
    """A lane's `zichtbaarheid` property, or None when it is malformed (refused at deploy)."""
    text = (value or "").strip()
    if text in ("alle", "gemeente"):
        return Scope(text)
    kind, _, field = text.partition(":")
    if kind == "organisatie" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", field):
        return Scope("organisatie", field)
    return None


def default_scope(role: str | None) -> Scope:
    """The scope of a role's lane when the model says nothing."""
    return Scope(DEFAULT_SCOPES[role]) if role in DEFAULT_SCOPES else ALL


def gemeente_key(value: object) -> str | None:
    """The key of a gemeente as the forms name it (`Etten-Leur` -> `etten-leur`), None when not one of ours."""
    if not isinstance(value, str) or not value.strip():
        return None
    for key, name in GEMEENTEN.items():
        if value.strip() in (key, name):
            return key
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").strip().lower()
    return plain if plain in GEMEENTEN else None


def organisation_key(value: object) -> str | None:
    """The key of an organisation named by a form value (`Openbaar Ministerie` -> `om`), or None."""
    if not isinstance(value, str):
        return None
    for org in ORGANISATIONS.values():
        if value.strip() in (org.key, org.form_value, org.name):
            return org.key
    return None


def task_scope(scope: Scope, *, gemeente: object, data: Mapping[str, Any]) -> str | None:
    """The scope of one task: `gm:<gemeente>`, `org:<organisation>`, or None for every holder of the role."""
    if scope.kind == "gemeente":
        return gemeente_scope(gemeente)
    if scope.kind == "organisatie":
        return f"org:{organisation_key(data.get(scope.field or '')) or UNKNOWN}"
    return None


def gemeente_scope(gemeente: object) -> str:
    """The scope of a task for the case's gemeente (`gm:onbekend` when the case has none yet)."""
    return f"gm:{gemeente_key(gemeente) or UNKNOWN}"


def role_queues(user: User) -> list[str]:
    """Every queue `user` takes tasks from: each role unscoped, in their organisation and in their gemeenten."""
    queues = []
    for role in sorted(user.role_keys):
        queues.append(role)
        if user.organisation:
            queues.append(f"{role}|org:{user.organisation}")
        queues += [f"{role}|gm:{gemeente}" for gemeente in sorted(user.gemeente_keys)]
    return queues


def organisation_name(key: str | None) -> str:
    """The display name of an organisation key ('' for none)."""
    if key is None:
        return ""
    org = ORGANISATIONS.get(key)
    return org.name if org else key
