"""Dates and moments as people here read them: Dutch order, Europe/Amsterdam time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_moment(moment: datetime) -> str:
    """`02-03-2026 09:00`: a moment in Dutch local time."""
    return f"{moment.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}"


def dutch_date(text: str) -> str:
    """A stored date (`2026-03-02`) as `02-03-2026`, a date-time as `02-03-2026 09:00` (with an offset: in Dutch
    time); text that is no ISO date stays as it is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 10:
        return moment.strftime("%d-%m-%Y")
    return local_moment(moment) if moment.tzinfo is not None else moment.strftime("%d-%m-%Y %H:%M")


def typed_moment(day: str, clock_time: str) -> datetime | None:
    """A date (`2026-03-02`) and a time (`09:00`) as typed in a form, in Dutch local time, as a UTC moment; None
    when either is missing or invalid."""
    try:
        moment = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock_time.strip()))
    except ValueError:
        return None
    return moment.replace(tzinfo=AMSTERDAM).astimezone(UTC)
