"""When an overleg type meets, and until when a case can be put on a meeting's agenda.

A type with a weekday meets on that day every `interval_weeks` weeks (counted from the week of `anchor`) at its
start time, Dutch local time. A meeting day the ZVH is closed (a public holiday, Bevrijdingsdag per the settings,
its own days off; `engine.holidays`) moves to the next working day at the same time. The agenda closes
`cutoff_working_days` working days before the meeting day at `cutoff_time`: the triage table of Tuesday 10:00 takes
the referrals waiting by Monday 12:00; after Easter Monday the cut-off is the Friday before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from engine.holidays import LOCAL, add_working_days, next_working_day
from engine.models import OverlegType


def _clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def _regular_days(kind: OverlegType, start: date) -> Iterator[date]:
    """The type's regular weekdays on or after `start`, before moving off days off."""
    assert kind.weekday is not None
    day = start + timedelta(days=(kind.weekday - start.isoweekday()) % 7)
    anchor = kind.anchor or day
    anchor_monday = anchor - timedelta(days=anchor.weekday())
    while True:
        weeks = ((day - timedelta(days=day.weekday())) - anchor_monday).days // 7
        if weeks % max(kind.interval_weeks, 1) == 0:
            yield day
        day += timedelta(days=7)


def meeting_moments(kind: OverlegType, *, after: datetime, count: int = 1) -> list[datetime]:
    """The next `count` regular meeting moments (UTC) strictly after `after`; none for a type planned by hand."""
    if kind.weekday is None or count < 1:
        return []
    start_local = after.astimezone(LOCAL).date() - timedelta(days=7)
    moments: list[datetime] = []
    for day in _regular_days(kind, start_local):
        moved = next_working_day(day)
        moment = datetime.combine(moved, _clock(kind.start_time), tzinfo=LOCAL).astimezone(UTC)
        if moment > after and moment not in moments:
            moments.append(moment)
            if len(moments) == count:
                break
    return moments


def agenda_cutoff(kind: OverlegType, starts_at: datetime) -> datetime:
    """Until when (UTC) a case that starts waiting at a feeding step reaches this meeting's agenda."""
    meeting_day = starts_at.astimezone(LOCAL).date()
    day = add_working_days(meeting_day, -kind.cutoff_working_days) if kind.cutoff_working_days else meeting_day
    return datetime.combine(day, _clock(kind.cutoff_time), tzinfo=LOCAL).astimezone(UTC)
