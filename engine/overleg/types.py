"""Overleg types: the ZVH's own consultations and the partners' consultations it facilitates, configurable by a
beheerder (name, owning organisation, chair role, default members, frequency, agenda cut-off, feeding steps and the
secretariaat's hours a week).

`zvh init` seeds the types of ZVH De Baronie (the annual report 2021): the weekly triage table on Tuesday 10:00 with
its Monday 12:00 cut-off, the Weegploeg every three weeks, the casusoverleg procesregie, the BIJ weighing, and the
partners' overleggen under their own direction, with the administrative support of 8, 32 and 11 hours a week for
MaSS, Veilig Thuis and KR8.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.i18n import N_
from engine.models import OverlegType, OverlegTypeMember, User
from engine.privacy.organisations import ORGANISATIONS

#: Who configures overleg types.
TYPE_ADMIN_ROLES = frozenset({"beheerder"})

_NOT_ALLOWED = N_("Alleen een beheerder kan soorten overleg instellen.")
_INVALID = N_("Het soort overleg is niet opgeslagen; verbeter de gemarkeerde velden.")
_UNKNOWN = N_("Dit soort overleg bestaat niet.")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_FEED = re.compile(r"^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$")


@dataclass(frozen=True)
class TypeSeed:
    """An overleg type as `zvh init` creates it (members are added by a beheerder)."""

    key: str
    name: str
    organisation: str
    chair_role: str
    description: str
    weekday: int | None = None
    start_time: str = "10:00"
    interval_weeks: int = 1
    anchor: date | None = None
    cutoff_working_days: int = 1
    cutoff_time: str = "12:00"
    feeds: tuple[str, ...] = ()
    secretariaat_hours: float | None = None
    default_member_roles: tuple[str, ...] = field(default=())


SEEDED_TYPES: tuple[TypeSeed, ...] = (
    TypeSeed(
        "triagetafel",
        "Triagetafel complexe casuïstiek",
        "zvh",
        "triagetafel",
        "Wekelijkse gezamenlijke triage van het ZVH met MaSS en Veilig Thuis.",
        weekday=2,
        start_time="10:00",
        cutoff_working_days=1,
        cutoff_time="12:00",
        feeds=("aanmelding_triage:Task_triage",),
        default_member_roles=("triagetafel", "screener"),
    ),
    TypeSeed(
        "weegploeg",
        "Weegploeg radicalisering en extremisme",
        "zvh",
        "weegploeg",
        "Weging van signalen van radicalisering met gemeente, OM, politie en reclassering, elke drie weken.",
        # the grid of the weegploeg_radicalisering process (Script_weging_plannen): every 21 days from Tuesday
        # 13 January 2026 at 13:30, on the agenda until the day before
        weekday=2,
        start_time="13:30",
        interval_weeks=3,
        anchor=date(2026, 1, 13),
        cutoff_working_days=1,
        cutoff_time="17:00",
        feeds=("weegploeg_radicalisering:Task_wegen", "weegploeg_radicalisering:Task_definitief_wegen"),
        default_member_roles=("weegploeg", "expert_radicalisering"),
    ),
    TypeSeed(
        "casusoverleg_procesregie",
        "Casusoverleg procesregie",
        "zvh",
        "procesregisseur",
        "Eerste en vervolgoverleggen van casussen onder procesregie van het ZVH.",
        weekday=4,
        start_time="09:30",
        feeds=("procesregie:Task_casusoverleg", "procesregie:Task_vervolgoverleg"),
        default_member_roles=("procesregisseur", "casusregisseur"),
    ),
    TypeSeed(
        "bij_weging",
        "BIJ-weging",
        "zvh",
        "re_integratiecoordinator",
        "Weging van het risico op maatschappelijke onrust bij de terugkeer van justitiabelen (BIJ).",
        weekday=3,
        start_time="11:00",
        interval_weeks=2,
        anchor=date(2026, 1, 7),
        feeds=("bij:Task_risico",),
        default_member_roles=("re_integratiecoordinator", "reclassering"),
    ),
    TypeSeed(
        "huiselijk_geweld",
        "Casusoverleg huiselijk geweld",
        "veilig_thuis",
        "coordinator",
        "Overleg van Veilig Thuis onder eigen regie; het ZVH ondersteunt administratief.",
        weekday=1,
        start_time="13:00",
        secretariaat_hours=32,
    ),
    TypeSeed(
        "seksueel_geweld",
        "Casusoverleg seksueel geweld",
        "veilig_thuis",
        "coordinator",
        "Overleg van de partners onder eigen regie in het ZVH.",
    ),
    TypeSeed(
        "justitiabelen_18plus",
        "Justitiabelen 18+",
        "reclassering",
        "coordinator",
        "Overleg over meerderjarige justitiabelen onder regie van de partners.",
    ),
    TypeSeed(
        "justitiabelen_18min",
        "Justitiabelen 18-",
        "rvdk",
        "coordinator",
        "Overleg over minderjarige justitiabelen onder regie van de partners.",
    ),
    TypeSeed("leerplicht", "Leerplicht casusoverleg (LCO)", "gemeente", "coordinator", "Leerplicht casusoverleg."),
    TypeSeed("trajectberaad", "Trajectberaad", "gemeente", "coordinator", "Trajectberaad onder regie van de partners."),
    TypeSeed(
        "mass",
        "Casusoverleg MaSS",
        "mass",
        "coordinator",
        "Casusoverleg van MaSS onder eigen regie; het ZVH ondersteunt administratief.",
        weekday=3,
        start_time="09:00",
        secretariaat_hours=8,
    ),
    TypeSeed(
        "kr8",
        "KR8-kollektief",
        "ggz",
        "coordinator",
        "Casusoverleg van het KR8-kollektief; het ZVH ondersteunt administratief.",
        weekday=5,
        start_time="10:00",
        secretariaat_hours=11,
    ),
)


def seed_types(session: Session, *, at: datetime) -> list[OverlegType]:
    """Create the seeded overleg types that do not exist yet (by key); a type a beheerder changed is left alone."""
    existing = set(session.scalars(select(OverlegType.key)))
    created = []
    for seed in SEEDED_TYPES:
        if seed.key in existing:
            continue
        row = OverlegType(
            key=seed.key,
            name=seed.name,
            description=seed.description,
            organisation=seed.organisation,
            chair_role=seed.chair_role,
            weekday=seed.weekday,
            start_time=seed.start_time,
            duration_minutes=90,
            interval_weeks=seed.interval_weeks,
            anchor=seed.anchor,
            cutoff_working_days=seed.cutoff_working_days,
            cutoff_time=seed.cutoff_time,
            feeds=list(seed.feeds),
            secretariaat_hours=seed.secretariaat_hours,
            active=True,
            updated_at=at,
            updated_by="system",
        )
        session.add(row)
        created.append(row)
    session.flush()
    return created


def seed_members(session: Session) -> int:
    """Make every active user holding a seeded type's default member roles (in its organisation, for a partner's
    overleg) a default member of it, where a type has no members yet: for the demo set-up."""
    added = 0
    for seed in SEEDED_TYPES:
        row = session.scalar(select(OverlegType).where(OverlegType.key == seed.key))
        if row is None or member_ids(session, row.id):
            continue
        roles = set(seed.default_member_roles) or {row.chair_role}
        if row.secretariaat_hours:  # the ZVH supports this partner's overleg administratively
            roles.add("secretariaat")
        users = session.scalars(select(User).where(User.active).order_by(User.username))
        for user in users:
            in_org = row.organisation == "zvh" or user.organisation == row.organisation
            if user.role_keys & roles and (in_org or "secretariaat" in user.role_keys):
                session.add(OverlegTypeMember(type_id=row.id, user_id=user.id))
                added += 1
    session.flush()
    return added


def list_types(session: Session, *, active_only: bool = False) -> list[OverlegType]:
    """The overleg types by name."""
    query = select(OverlegType).order_by(OverlegType.name)
    if active_only:
        query = query.where(OverlegType.active)
    return list(session.scalars(query))


def get_type(session: Session, key: str) -> OverlegType:
    """The overleg type with this key, or `NotFound`."""
    row = session.scalar(select(OverlegType).where(OverlegType.key == key))
    if row is None:
        raise NotFound(_UNKNOWN)
    return row


def member_ids(session: Session, type_id: int) -> list[int]:
    """The default members of an overleg type."""
    return list(session.scalars(select(OverlegTypeMember.user_id).where(OverlegTypeMember.type_id == type_id)))


def _clock(values: Mapping[str, Any], name: str, problems: dict[str, list[str]]) -> str:
    text = str(values.get(name) or "").strip()
    if not _CLOCK.match(text):
        problems[name] = [N_("Vul een tijd in als UU:MM, bijvoorbeeld 10:00.")]
    return text


#: What a whole-number field of a type must be (field messages are translated without placeholders).
_RANGES = {
    "weekday": N_("Kies een dag van de week."),
    "duration_minutes": N_("Vul een duur in minuten in van 15 tot en met 600."),
    "interval_weeks": N_("Vul een aantal weken in van 1 tot en met 12."),
    "cutoff_working_days": N_("Vul een aantal werkdagen in van 0 tot en met 10."),
}


def _whole(values: Mapping[str, Any], name: str, low: int, high: int, problems: dict[str, list[str]]) -> int:
    try:
        number = int(str(values.get(name) or "").strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        problems[name] = [_RANGES[name]]
    return number


def _parsed(session: Session, values: Mapping[str, Any], problems: dict[str, list[str]]) -> dict[str, Any]:
    """The type's fields from a submission (text values, as a form posts them), with problems per field."""
    name = str(values.get("name") or "").strip()
    if not 1 <= len(name) <= 120:
        problems["name"] = [N_("Geef een naam van hoogstens 120 tekens.")]
    organisation = str(values.get("organisation") or "")
    if organisation not in ORGANISATIONS:
        problems["organisation"] = [N_("Kies een organisatie uit de lijst.")]
    chair_role = str(values.get("chair_role") or "").strip()
    if not _KEY.match(chair_role):
        problems["chair_role"] = [N_("Kies de rol van de voorzitter.")]
    weekday_text = str(values.get("weekday") or "").strip()
    weekday = None if weekday_text in {"", "0"} else _whole(values, "weekday", 1, 7, problems)
    feeds = [line.strip() for line in str(values.get("feeds") or "").replace(",", "\n").splitlines() if line.strip()]
    bad = [feed for feed in feeds if not _FEED.match(feed)]
    if bad:
        problems["feeds"] = [N_("Schrijf elke stap als proces:stap, bijvoorbeeld aanmelding_triage:Task_triage.")]
    hours_text = str(values.get("secretariaat_hours") or "").strip().replace(",", ".")
    hours: float | None = None
    if hours_text:
        try:
            hours = float(hours_text)
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 80:
            problems["secretariaat_hours"] = [N_("Vul een aantal uren per week in van 0 tot en met 80.")]
    anchor_text = str(values.get("anchor") or "").strip()
    anchor = None
    if anchor_text:
        try:
            anchor = date.fromisoformat(anchor_text)
        except ValueError:
            problems["anchor"] = [N_("Vul een datum in als jjjj-mm-dd.")]
    usernames = [u for u in (values.get("members") or []) if str(u).strip()]
    users = list(session.scalars(select(User).where(User.username.in_([str(u) for u in usernames]), User.active)))
    if len(users) != len(set(usernames)):
        problems["members"] = [N_("Kies leden uit de lijst van gebruikers.")]
    return {
        "name": name,
        "description": str(values.get("description") or "").strip() or None,
        "organisation": organisation,
        "chair_role": chair_role,
        "weekday": weekday,
        "start_time": _clock(values, "start_time", problems),
        "duration_minutes": _whole(values, "duration_minutes", 15, 600, problems),
        "interval_weeks": _whole(values, "interval_weeks", 1, 12, problems),
        "anchor": anchor,
        "cutoff_working_days": _whole(values, "cutoff_working_days", 0, 10, problems),
        "cutoff_time": _clock(values, "cutoff_time", problems),
        "feeds": feeds,
        "secretariaat_hours": hours,
        "active": str(values.get("active") or "") in {"1", "on", "true", "True"},
        "members": users,
    }


def save_type(
    session: Session, *, actor: User, values: Mapping[str, Any], at: datetime, key: str | None = None
) -> OverlegType:
    """Create (key None: `values["key"]`) or change an overleg type; refused input changes nothing (`InvalidInput`
    with a message per field). Audited with what changed."""
    if not actor.role_keys & TYPE_ADMIN_ROLES:
        raise PermissionDenied(_NOT_ALLOWED)
    problems: dict[str, list[str]] = {}
    row = get_type(session, key) if key is not None else None
    if row is None:
        new_key = str(values.get("key") or "").strip()
        if not _KEY.match(new_key):
            problems["key"] = [N_("Gebruik kleine letters, cijfers en _, beginnend met een letter.")]
        elif session.scalar(select(OverlegType.id).where(OverlegType.key == new_key)) is not None:
            problems["key"] = [N_("Er is al een soort overleg met deze sleutel.")]
    parsed = _parsed(session, values, problems)
    if parsed["interval_weeks"] > 1 and parsed["anchor"] is None and not problems.get("interval_weeks"):
        problems["anchor"] = [N_("Geef de datum van een overleg op, om vanaf te tellen.")]
    if problems:
        raise InvalidInput(_INVALID, problems)
    members: list[User] = parsed.pop("members")
    if row is None:
        row = OverlegType(key=str(values["key"]).strip(), updated_at=at, updated_by=actor.username)
        session.add(row)
    before = {name: getattr(row, name, None) for name in parsed}
    for name, value in parsed.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = at, actor.username
    session.flush()
    session.execute(delete(OverlegTypeMember).where(OverlegTypeMember.type_id == row.id))
    session.add_all(OverlegTypeMember(type_id=row.id, user_id=user.id) for user in members)
    changed = sorted(name for name, value in parsed.items() if before[name] != value)
    record(
        session,
        actor=actor.username,
        action="overleg_type",
        at=at,
        summary=f"Soort overleg '{row.key}' opgeslagen",
        object_type="overleg_type",
        object_id=row.key,
        details={"changed": changed, "members": sorted(user.username for user in members)},
    )
    return row
