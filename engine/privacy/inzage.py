"""The data subject's contactpunt (WGS): everything about one person across all cases, as a reviewable package.

A request to the ZVH counts for every partner, so the package gathers the person's cases wherever they were
worked: per case its steps (name, when, which organisation and role), the form data submitted at each step,
the participants (organisation and role) and the access log of the person's data (who — organisation and role
— when, what). Staff are named by organisation and role, not by name: what the person is entitled to is the
recipients of their data (art. 15 lid 1 sub c AVG), and the names of staff are personal data of others
(art. 15 lid 4 AVG); the FG can still look them up in the log.

Other people in the person's cases (other betrokkenen, the melder) become *items* the FG may withhold, on the
ground of the rights of others or art. 41 UAVG. The choices live in the inzageverzoek's own data (its step
"Gegevens van derden afschermen"), so they are versioned and logged, and every output applies them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.access import participants
from engine.audit import canonical, events_for_instance, record
from engine.cases import element_name, start_values, submitted_values
from engine.dates import dutch_date
from engine.db import session_keys
from engine.errors import PermissionDenied
from engine.forms import Form, choice_options
from engine.inbox import role_label, role_names
from engine.models import AuditEvent, CompletedTask, Instance, InstancePerson, User
from engine.privacy.organisations import organisation_name
from engine.privacy.persons import person_key as make_person_key
from engine.runtime import Runtime

FG_ROLE = "privacyfunctionaris"
#: Grounds to withhold an item (the values of the redaction form's `grond`).
GROUNDS = {
    "rechten_van_anderen": "rechten en vrijheden van anderen (art. 15 lid 4 AVG)",
    "art_41_uavg": "art. 41 UAVG",
}
ACTIONS = {
    "start": "zaak gestart",
    "complete": "stap afgerond",
    "view": "gegevens ingezien",
    "search": "gezocht",
    "export": "gegevens geëxporteerd",
    "participant": "deelnemers gewijzigd",
    "noodtoegang": "noodtoegang",
    "claim": "taak opgepakt",
    "timer": "termijn verstreken",
    "destroy": "gegevens vernietigd",
    "overleg_invited": "uitgenodigd voor casusoverleg",
    "overleg_uninvited": "uitnodiging voor casusoverleg ingetrokken",
    "overleg_case_added": "op de agenda van een casusoverleg gezet",
    "overleg_item": "verslag van het casusoverleg bijgewerkt",
    "overleg_outcome": "besluit vastgelegd in casusoverleg",
    "overleg_action_point": "actiepunt afgesproken",
    "overleg_action_done": "actiepunt afgerond",
}
#: What an access was about, in the words of the package (`gegevens ingezien (zaak)`).
OBJECTS = {
    "case": "zaak",
    "task": "taak",
    "tasks": "taken",
    "diagram": "procesdiagram",
    "participant": "deelnemer",
    "inzage": "inzageverzoek",
    "accesslog": "toegangslogging",
    "destruction_list": "vernietigingslijst",
    "user": "gebruiker",
    "overleg": "casusoverleg",
    "actiepunt": "actiepunt",
}
_PERSON_FIELDS = frozenset({"naam", "bsn"})


@dataclass(frozen=True)
class FieldValue:
    """One submitted value: its label and text; `item` when it is about someone else, `withheld` once redacted."""

    label: str
    text: str
    item: str | None = None
    rectified_at: datetime | None = None
    withheld: str | None = None


@dataclass(frozen=True)
class Step:
    """A step done in a case: which, when, by which organisation and role, and what was submitted."""

    name: str
    at: datetime
    organisation: str
    role: str
    fields: tuple[FieldValue, ...]


@dataclass(frozen=True)
class CaseRecord:
    """One case of the person (or only its destruction date when it was destroyed)."""

    instance_id: int
    case_number: str
    process_name: str
    gemeente: str | None
    status: str
    started_at: datetime
    ended_at: datetime | None
    destroyed_at: datetime | None
    steps: tuple[Step, ...] = ()
    participants: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AccessEntry:
    """One entry of the access log of the person's data: who (organisation, role), when, what."""

    at: datetime
    case_number: str | None
    action: str
    organisation: str
    role: str
    outcome: str


@dataclass(frozen=True)
class Item:
    """Something about another person that the FG may withhold (shown to the FG only, never in the outputs)."""

    id: str
    case_number: str
    label: str
    description: str


@dataclass(frozen=True)
class Package:
    """Everything about one person, with the FG's redaction choices (item id -> ground) applied or not."""

    person_key: str
    assembled_at: datetime
    cases: tuple[CaseRecord, ...]
    access_log: tuple[AccessEntry, ...]
    items: tuple[Item, ...]
    #: partner organisations (keys) that took part in the cases: each is asked for its position
    organisations: tuple[str, ...]
    redactions: Mapping[str, str] = field(default_factory=dict)

    def redacted(self, choices: Mapping[str, str]) -> Package:
        """The package as the person receives it: every field of a withheld item replaced by its ground."""
        known = {item.id for item in self.items}
        chosen = {item: ground for item, ground in choices.items() if item in known}
        cases = tuple(
            replace(case, steps=tuple(replace(step, fields=_withhold(step.fields, chosen)) for step in case.steps))
            for case in self.cases
        )
        return replace(self, cases=cases, redactions=chosen)


def _withhold(fields: tuple[FieldValue, ...], chosen: Mapping[str, str]) -> tuple[FieldValue, ...]:
    result = []
    for value in fields:
        ground = chosen.get(value.item or "")
        result.append(replace(value, text="", withheld=GROUNDS.get(ground, ground)) if ground else value)
    return tuple(result)


def require_fg(actor: User) -> None:
    """`PermissionDenied` unless `actor` is the privacy officer (FG)."""
    if FG_ROLE not in actor.role_keys:
        raise PermissionDenied("Alleen de privacyfunctionaris stelt een inzagepakket samen.")


def assemble_package(
    session: Session,
    runtime: Runtime,
    *,
    person_key: str,
    actor: User,
    at: datetime,
    also: Sequence[str] = (),
    exclude_instance_id: int | None = None,
) -> Package:
    """Everything about the person with `person_key` (and the keys in `also`) across all cases; logged as export."""
    require_fg(actor)
    keys = [person_key, *(key for key in also if key != person_key)]
    secret = session_keys(session).pseudonym
    rows = [row for row in _cases_of(session, keys) if row.id != exclude_instance_id]
    users = {user.username: user for user in session.scalars(select(User))}
    cases, items, organisations = [], [], set()
    for row in rows:
        if row.destroyed_at is not None:
            cases.append(_destroyed(row))
            continue
        taking_part = [user for user, _ in participants(session, row.id, at=at)]
        case, case_items = _case_record(
            session, runtime, row, keys=set(keys), secret=secret, users=users, taking_part=taking_part
        )
        cases.append(case)
        items += case_items
        organisations |= {user.organisation for user in taking_part if user.organisation}
    record(
        session,
        actor=actor.username,
        action="export",
        at=at,
        summary="Assembled an inzage package",
        details={"cases": len(cases)},
        person_key=person_key,
        object_type="inzage",
        object_id=str(exclude_instance_id) if exclude_instance_id else None,
    )
    return Package(
        person_key=person_key,
        assembled_at=at,
        cases=tuple(cases),
        access_log=tuple(_access_log(session, keys, rows, users)),
        items=tuple(items),
        organisations=tuple(sorted(organisations - {"zvh"})),
    )


def _cases_of(session: Session, keys: Sequence[str]) -> list[Instance]:
    """The cases naming the person: the person index, the main person, and (for destroyed cases) the log."""
    indexed = select(InstancePerson.instance_id).where(InstancePerson.person_key.in_(keys))
    logged = select(AuditEvent.instance_id).where(AuditEvent.person_key.in_(keys), AuditEvent.instance_id.is_not(None))
    query = (
        select(Instance)
        .where(or_(Instance.id.in_(indexed), Instance.person_key.in_(keys), Instance.id.in_(logged)))
        .order_by(Instance.started_at, Instance.id)
    )
    return list(session.scalars(query))


def _destroyed(row: Instance) -> CaseRecord:
    return CaseRecord(
        instance_id=row.id,
        case_number=row.case_number,
        process_name=row.process_version.name,
        gemeente=None,
        status="vernietigd",
        started_at=row.started_at,
        ended_at=row.ended_at,
        destroyed_at=row.destroyed_at,
    )


def _case_record(
    session: Session,
    runtime: Runtime,
    row: Instance,
    *,
    keys: set[str],
    secret: bytes,
    users: Mapping[str, User],
    taking_part: Sequence[User],
) -> tuple[CaseRecord, list[Item]]:
    loaded = runtime.load(session, row.id)
    submitted = submitted_values(loaded, events_for_instance(session, row.id))
    done = select(CompletedTask.id, CompletedTask.role).where(CompletedTask.instance_id == row.id)
    lane_roles: dict[str, str | None] = {task_id: role for task_id, role in session.execute(done).tuples()}
    persons = _Persons(row, keys=keys, secret=secret)
    steps: list[Step] = []
    for event in events_for_instance(session, row.id):
        if event.action == "start":
            form, values = start_values(loaded)
            name = "Zaak gestart"
        elif event.action == "complete" and event.task_id in submitted:
            form, values = submitted[event.task_id]
            name = element_name(loaded, event.element_id) or ""
        else:
            continue
        user = users.get(event.actor)
        steps.append(
            Step(
                name=name,
                at=event.at,
                organisation=organisation_name(event.organisation or (user.organisation if user else None)),
                role=_role_words(lane_roles.get(event.task_id or "") or event.role, role_names(session)),
                fields=tuple(_fields(form, values, persons)),
            )
        )
    names = role_names(session)
    people = sorted(
        {
            (organisation_name(user.organisation), _role_words(", ".join(sorted(user.role_keys)), names))
            for user in taking_part
        }
    )
    case = CaseRecord(
        instance_id=row.id,
        case_number=row.case_number,
        process_name=loaded.version.name,
        gemeente=row.gemeente,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        destroyed_at=None,
        steps=tuple(_mark_rectified(steps)),
        participants=tuple(people),
    )
    return case, persons.items


class _Persons:
    """Tells the person apart from the others a case names, and numbers the others as items."""

    def __init__(self, row: Instance, *, keys: set[str], secret: bytes) -> None:
        self.row, self.keys, self.secret = row, keys, secret
        self.items: list[Item] = []

    def item_for(self, label: str, person: Mapping[str, Any], text: str) -> str | None:
        """None for the person themselves; otherwise the id of the item this other person is."""
        key = make_person_key(
            self.secret,
            bsn=_str(person.get("bsn")),
            name=_str(person.get("naam")),
            birth_date=_str(person.get("geboortedatum")),
        )
        if key is not None and key in self.keys:
            return None
        identity = key or canonical([label, person.get("naam"), person.get("organisatie")])
        digest = hmac.new(self.secret, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:10]
        item_id = f"{self.row.id}-{digest}"
        if all(item.id != item_id for item in self.items):
            self.items.append(Item(item_id, self.row.case_number, label, text))
        return item_id


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_person(value: object) -> bool:
    return isinstance(value, dict) and bool(_PERSON_FIELDS & set(value))


def _fields(form: Form | None, values: Mapping[str, Any], persons: _Persons) -> list[FieldValue]:
    """The submitted values in the form's order, one entry per person named, each other person an item."""
    properties: Mapping[str, Any] = form.resolved_schema.get("properties", {}) if form else {}
    order = [key for key in properties if key in values] + sorted(key for key in values if key not in properties)
    result = []
    for key in order:
        spec = properties.get(key, {})
        label, value = str(spec.get("title") or key), values[key]
        split = isinstance(value, list) and bool(value) and all(map(_is_person, value))
        entries, entry_spec = (value, spec.get("items", {})) if split else ([value], spec)
        for number, entry in enumerate(entries, start=1):
            entry_label = f"{label} {number}" if len(entries) > 1 else label
            text = _describe(entry, entry_spec)
            item = persons.item_for(entry_label, entry, text) if _is_person(entry) else None
            result.append(FieldValue(label=entry_label, text=text, item=item))
    return result


def _describe(value: Any, spec: Mapping[str, Any]) -> str:
    """A value as readable text, with the schema's titles for nested fields, the labels of chosen options
    ("EU-burger", not `eu_burger`) and dates as Dutch people write them."""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    options = choice_options(spec)
    if options is not None and not isinstance(value, dict):
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(next((label for key, label in options if key == v), str(v)) for v in chosen if v is not None)
    if isinstance(value, str) and isinstance(spec, Mapping) and spec.get("format") in ("date", "date-time"):
        return dutch_date(value)
    if isinstance(value, dict):
        props = spec.get("properties", {}) if isinstance(spec, Mapping) else {}
        parts = [f"{props.get(k, {}).get('title', k)}: {_describe(v, props.get(k, {}))}" for k, v in value.items()]
        return "; ".join(parts)
    if isinstance(value, list):
        items = spec.get("items", {}) if isinstance(spec, Mapping) else {}
        return " | ".join(_describe(entry, items) for entry in value)
    return "" if value is None else str(value)


def _mark_rectified(steps: list[Step]) -> list[Step]:
    """A value a later step changed is marked "gerectificeerd op" that step's date (the old value stays)."""
    latest: dict[str, tuple[int, str]] = {}
    changed: dict[tuple[int, str], datetime] = {}
    for index, step in enumerate(steps):
        for value in step.fields:
            before = latest.get(value.label)
            if before is not None and before[1] != value.text:
                changed[(before[0], value.label)] = step.at
            latest[value.label] = (index, value.text)
    return [
        replace(
            step,
            fields=tuple(replace(v, rectified_at=changed.get((index, v.label))) for v in step.fields),
        )
        for index, step in enumerate(steps)
    ]


def _access_log(
    session: Session, keys: Sequence[str], rows: Sequence[Instance], users: Mapping[str, User]
) -> list[AccessEntry]:
    numbers = {row.id: row.case_number for row in rows}
    query = (
        select(AuditEvent)
        .where(or_(AuditEvent.person_key.in_(keys), AuditEvent.instance_id.in_(list(numbers) or [-1])))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    entries = []
    names = role_names(session)
    for event in session.scalars(query):
        user = users.get(event.actor)
        organisation = event.organisation or (user.organisation if user else None)
        role = event.role or (", ".join(sorted(user.role_keys)) if user else "")
        what = ACTIONS.get(event.action, event.action)
        entries.append(
            AccessEntry(
                at=event.at,
                case_number=numbers.get(event.instance_id or 0),
                action=f"{what} ({OBJECTS.get(event.object_type, event.object_type)})" if event.object_type else what,
                organisation=organisation_name(organisation) if user else "ZVH Regie (automatisch)",
                role=_role_words(role, names),
                outcome="geweigerd" if event.outcome == "refused" else "toegestaan",
            )
        )
    return entries


def _role_words(roles: str | None, names: Mapping[str, str]) -> str:
    """Roles (`procesregisseur` or `coordinator, manager`) by the names people know them by."""
    return ", ".join(role_label(role.strip(), dict(names)) for role in (roles or "").split(",") if role.strip())
