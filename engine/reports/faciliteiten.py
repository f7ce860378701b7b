"""Faciliteiten: the ZVH's administrative support (agenda preparation, minutes) to the overleggen it facilitates.

The annual report lists the hours a week the secretariaat spends per partner overleg (MaSS 8, Veilig Thuis 32,
KR8 11). This table shows every overleg type with such hours (`OverlegType.secretariaat_hours`), with what the
support produced in the period: the meetings held (status gehouden or gesloten, starting in the period) and the cases
discussed (the agenda items of those meetings; a case discussed in two meetings counts twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.dates import AMSTERDAM
from engine.i18n import N_
from engine.models import AgendaItem, Meeting, OverlegType
from engine.privacy.organisations import organisation_name
from engine.reports.definitions import Figure, Translate, dutch
from engine.reports.tables import Cell, Row, Table

#: A meeting that took place: held, or held and closed.
HELD = ("gehouden", "gesloten")

FACILITEITEN = Figure(
    key="faciliteiten",
    title=N_("Faciliteiten: administratieve ondersteuning"),
    definition=N_(
        "Per soort overleg waarvoor het secretariaat van het ZVH uren per week inzet (agendavoorbereiding, "
        "verslaglegging): de organisatie die het overleg voert, de uren per week, het aantal gehouden overleggen dat "
        "in het jaar (Nederlandse tijd) begon, en het aantal besproken casussen: de agendapunten van die overleggen."
    ),
    note=N_(
        "Reproduceert de tabel 'Faciliteiten' van het jaarverslag (MaSS 8, Veilig Thuis 32 en KR8 11 uur per week)."
    ),
)


@dataclass(frozen=True)
class Faciliteit:
    """One overleg type the secretariaat supports, and what that support produced in the period."""

    key: str
    name: str
    organisation: str
    organisation_name: str
    hours_per_week: float
    meetings_held: int
    cases_discussed: int


def year_period(year: int) -> tuple[datetime, datetime]:
    """The calendar year in Dutch time, as a half-open UTC-aware period [start, end)."""
    start = datetime.combine(date(year, 1, 1), time(0), tzinfo=AMSTERDAM)
    end = datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=AMSTERDAM)
    return start, end


def faciliteiten(session: Session, *, start: datetime, end: datetime) -> list[Faciliteit]:
    """Every overleg type with secretariaat hours (by name), with its meetings held and cases discussed in
    [start, end)."""
    held = (
        select(Meeting.id, Meeting.type_id)
        .where(Meeting.status.in_(HELD), Meeting.starts_at >= start, Meeting.starts_at < end)
        .subquery()
    )
    meetings = dict(session.execute(select(held.c.type_id, func.count()).group_by(held.c.type_id)).tuples().all())
    cases = dict(
        session.execute(
            select(held.c.type_id, func.count(AgendaItem.id))
            .join(AgendaItem, AgendaItem.meeting_id == held.c.id)
            .group_by(held.c.type_id)
        )
        .tuples()
        .all()
    )
    supported = session.scalars(
        select(OverlegType).where(OverlegType.secretariaat_hours.is_not(None), OverlegType.secretariaat_hours > 0)
    )
    # sorted here, not by the database's collation: the same order on SQLite and PostgreSQL
    kinds = sorted(supported, key=lambda kind: (kind.name.casefold(), kind.key))
    return [
        Faciliteit(
            key=kind.key,
            name=kind.name,
            organisation=kind.organisation,
            organisation_name=organisation_name(kind.organisation),
            hours_per_week=float(kind.secretariaat_hours or 0),
            meetings_held=int(meetings.get(kind.id, 0)),
            cases_discussed=int(cases.get(kind.id, 0)),
        )
        for kind in kinds
    ]


def _hours(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def faciliteiten_table(session: Session, year: int, *, translate: Translate = dutch) -> Table:
    """The faciliteiten of `year` as a report table: one row per overleg type, and the totals."""
    start, end = year_period(year)
    rows = faciliteiten(session, start=start, end=end)
    table_rows = [
        Row(
            key=row.key,
            label=row.name,
            cells=(
                Cell(None, row.organisation_name),
                Cell(row.hours_per_week, _hours(row.hours_per_week)),
                Cell(row.meetings_held, str(row.meetings_held)),
                Cell(row.cases_discussed, str(row.cases_discussed)),
            ),
        )
        for row in rows
    ]
    hours = sum(row.hours_per_week for row in rows)
    held = sum(row.meetings_held for row in rows)
    discussed = sum(row.cases_discussed for row in rows)
    table_rows.append(
        Row(
            key="totaal",
            label=translate(N_("Totaal")),
            cells=(Cell(None, ""), Cell(hours, _hours(hours)), Cell(held, str(held)), Cell(discussed, str(discussed))),
            total=True,
        )
    )
    return Table(
        FACILITEITEN.in_language(translate),
        translate(N_("Soort overleg")),
        (
            translate(N_("Organisatie")),
            translate(N_("Uren per week")),
            translate(N_("Gehouden overleggen")),
            translate(N_("Besproken casussen")),
        ),
        tuple(table_rows),
    )
