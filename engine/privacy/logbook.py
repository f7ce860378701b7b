"""The privacy officer's (FG) view of the access log: search, one person's history, noodtoegang, refusals, quarters.

Only the `privacyfunctionaris` may look, and every look is itself an entry (object type `accesslog`). A person is
searched by their pseudonymous key, computed here from what the FG typed; the BSN itself is never stored or logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, extract, func, or_, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.db import session_keys
from engine.errors import InvalidInput, PermissionDenied
from engine.models import AuditEvent, Instance, InstancePerson, User
from engine.privacy.organisations import organisation_name
from engine.privacy.persons import person_key

PRIVACY_OFFICER = "privacyfunctionaris"
PAGE_SIZE = 50
OUTCOMES = ("allowed", "refused")
EMERGENCY = "noodtoegang"
LOCAL = ZoneInfo("Europe/Amsterdam")


def require_privacy_officer(user: User) -> None:
    """`PermissionDenied` unless `user` is the privacy officer (FG)."""
    if PRIVACY_OFFICER not in user.role_keys:
        raise PermissionDenied("Alleen de privacyfunctionaris mag het toegangslogboek inzien.")


def key_of_person(session: Session, *, bsn: str = "", name: str = "", birth_date: str = "") -> str:
    """The person key for a BSN, or for a name with a birth date (`InvalidInput` when neither identifies anyone)."""
    key = person_key(session_keys(session).pseudonym, bsn=bsn, name=name, birth_date=birth_date)
    if key is None:
        raise InvalidInput(
            "Geef een BSN, of een naam met geboortedatum.",
            {"bsn": ["Geef een BSN van 8 of 9 cijfers, of een naam met geboortedatum."]},
        )
    return key


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text(value: Any, limit: int = 64) -> str | None:
    if not isinstance(value, str) or not value.isprintable():
        return None
    return value.strip()[:limit] or None


@dataclass(frozen=True)
class LogFilter:
    """A search of the access log (from untrusted input: unknown values are dropped)."""

    person_key: str | None = None
    actor: str | None = None
    organisation: str | None = None
    since: date | None = None
    until: date | None = None
    action: str | None = None
    outcome: str | None = None
    page: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogFilter:
        key = _text(data.get("persoon"))
        try:
            page = max(1, min(int(data.get("page") or 1), 100_000))
        except (TypeError, ValueError):
            page = 1
        return cls(
            person_key=key if key and len(key) == 64 and key.isalnum() else None,
            actor=_text(data.get("gebruiker")),
            organisation=_text(data.get("organisatie")),
            since=_day(data.get("van")),
            until=_day(data.get("tot")),
            action=_text(data.get("gebeurtenis"), 32),
            outcome=data.get("uitkomst") if data.get("uitkomst") in OUTCOMES else None,
            page=page,
        )

    def as_dict(self, *, person: bool = True) -> dict[str, str]:
        """The filter as URL parameters (without the page; `person=False`: without the person too)."""
        values = {
            "persoon": self.person_key if person else None,
            "gebruiker": self.actor,
            "organisatie": self.organisation,
            "van": self.since.isoformat() if self.since else None,
            "tot": self.until.isoformat() if self.until else None,
            "gebeurtenis": self.action,
            "uitkomst": self.outcome,
        }
        return {name: value for name, value in values.items() if value}

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.person_key:
            found.append(about_person(self.person_key))
        if self.actor:
            found.append(AuditEvent.actor == self.actor)
        if self.organisation:
            found.append(AuditEvent.organisation == self.organisation)
        if self.since:
            found.append(AuditEvent.at >= _start_of(self.since))
        if self.until:
            found.append(AuditEvent.at < _start_of(self.until + timedelta(days=1)))
        if self.action:
            found.append(AuditEvent.action == self.action)
        if self.outcome:
            found.append(AuditEvent.outcome == self.outcome)
        return found


def _start_of(day: date) -> datetime:
    """The start of a day in Breda, in UTC."""
    return datetime.combine(day, time(), tzinfo=LOCAL).astimezone(UTC)


def about_person(key: str) -> ColumnElement[bool]:
    """Entries about a person: marked with their key, or about a case their key is indexed in."""
    cases = select(InstancePerson.instance_id).where(InstancePerson.person_key == key)
    return or_(AuditEvent.person_key == key, AuditEvent.instance_id.in_(cases))


@dataclass(frozen=True)
class LogEntry:
    """One access-log entry as the FG sees it (a redacted entry shows no summary)."""

    id: int
    at: datetime
    actor: str
    actor_name: str
    role: str | None
    #: the organisation's display name
    organisation: str | None
    action: str
    outcome: str
    object_type: str | None
    object_id: str | None
    case_number: str | None
    summary: str
    reason: str | None
    request_id: str | None
    redacted: bool


@dataclass(frozen=True)
class LogPage:
    """One page of entries, newest first unless asked otherwise."""

    entries: list[LogEntry]
    total: int
    page: int
    pages: int


def _entries(session: Session, query: Select[Any], page: int, *, oldest_first: bool = False) -> LogPage:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (AuditEvent.at, AuditEvent.id) if oldest_first else (AuditEvent.at.desc(), AuditEvent.id.desc())
    rows = session.execute(
        query.add_columns(User.display_name, Instance.case_number)
        .outerjoin(User, User.username == AuditEvent.actor)
        .outerjoin(Instance, Instance.id == AuditEvent.instance_id)
        .order_by(*order)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).tuples()
    entries = [
        LogEntry(
            id=event.id,
            at=event.at,
            actor=event.actor,
            actor_name=name or event.actor,
            role=event.role,
            organisation=organisation_name(event.organisation) or None,
            action=event.action,
            outcome=event.outcome,
            object_type=event.object_type,
            object_id=event.object_id,
            case_number=case_number,
            summary="" if event.redacted_at else event.summary,
            reason=None if event.redacted_at else _reason(event.details),
            request_id=event.request_id,
            redacted=event.redacted_at is not None,
        )
        for event, name, case_number in rows
    ]
    return LogPage(entries, total, page, max(1, -(-total // PAGE_SIZE)))


def _reason(details: dict[str, Any] | None) -> str | None:
    reason = (details or {}).get("reason")
    return reason if isinstance(reason, str) else None


def _looked(session: Session, *, user: User, page: str, at: datetime, filters: list[str], key: str | None) -> None:
    """The FG's own look at the log is logged too."""
    record(
        session,
        actor=user.username,
        action="view",
        at=at,
        summary=f"Viewed access log: {page}",
        details={"filters": sorted(filters)} if filters else None,
        person_key=key,
        object_type="accesslog",
        object_id=page,
    )


def search_log(session: Session, *, user: User, query: LogFilter, at: datetime) -> LogPage:
    """Entries matching `query`, newest first (privacy officer only)."""
    require_privacy_officer(user)
    found = _entries(session, select(AuditEvent).where(*query.conditions()), query.page)
    _looked(session, user=user, page="logboek", at=at, filters=list(query.as_dict()), key=query.person_key)
    return found


def person_history(session: Session, *, user: User, key: str, at: datetime, page: int = 1) -> LogPage:
    """Who saw or changed the data of one person, oldest first (privacy officer only)."""
    require_privacy_officer(user)
    found = _entries(session, select(AuditEvent).where(about_person(key)), page, oldest_first=True)
    _looked(session, user=user, page="persoon", at=at, filters=["persoon"], key=key)
    return found


def emergency_accesses(session: Session, *, user: User, at: datetime, page: int = 1) -> LogPage:
    """Every noodtoegang: who opened which case, why, when (privacy officer only)."""
    require_privacy_officer(user)
    found = _entries(session, select(AuditEvent).where(AuditEvent.action == EMERGENCY), page)
    _looked(session, user=user, page="noodtoegang", at=at, filters=[], key=None)
    return found


def refused_accesses(session: Session, *, user: User, at: datetime, page: int = 1) -> LogPage:
    """Every refused access (privacy officer only)."""
    require_privacy_officer(user)
    found = _entries(session, select(AuditEvent).where(AuditEvent.outcome == "refused"), page)
    _looked(session, user=user, page="geweigerd", at=at, filters=[], key=None)
    return found


@dataclass(frozen=True)
class QuarterCounts:
    """How many entries of each event type one quarter (UTC) has."""

    quarter: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def quarterly_counts(session: Session, *, user: User, at: datetime) -> tuple[list[str], list[QuarterCounts]]:
    """Event types, and per quarter (newest first) the number of entries of each (privacy officer only)."""
    require_privacy_officer(user)
    year, month = extract("year", AuditEvent.at), extract("month", AuditEvent.at)
    rows = session.execute(
        select(year, month, AuditEvent.action, func.count()).group_by(year, month, AuditEvent.action)
    ).tuples()
    quarters: dict[str, Counter[str]] = {}
    for y, m, action, count in rows:
        quarters.setdefault(f"{int(y)}-K{(int(m) - 1) // 3 + 1}", Counter())[action] += count
    _looked(session, user=user, page="kwartalen", at=at, filters=[], key=None)
    actions = sorted({action for counts in quarters.values() for action in counts})
    return actions, [QuarterCounts(q, dict(quarters[q])) for q in sorted(quarters, reverse=True)]


def event_types(session: Session) -> list[str]:
    """The event types (actions) the log holds, for the search form."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
