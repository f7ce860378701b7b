"""Step norms: how long a step (or a whole process without progress) may take before it counts as stalled.

A user task's `spiffworkflow:property` `norm` is an ISO 8601 duration (`P5D`, `PT4H`); `norm_werkdagen` counts
working days instead — either a number of working days (`norm_werkdagen` = `5`) or `ja`, to read the days of
`norm` as working days. The same properties on the process element are the default for its steps and the norm
for an instance that makes no progress at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.spiff import timer_due

#: Working days are counted in Breda's calendar.
LOCAL = ZoneInfo("Europe/Amsterdam")
_YES = frozenset({"ja", "true", "yes"})


@dataclass(frozen=True)
class Norm:
    """A parsed norm: an ISO duration, or a number of working days."""

    duration: str | None = None
    working_days: int | None = None

    @property
    def label(self) -> str:
        """How the norm reads in lists and exports (`P5D`, `5 werkdagen`)."""
        if self.working_days is not None:
            return f"{self.working_days} werkdag" + ("en" if self.working_days != 1 else "")
        return str(self.duration)

    def due(self, start: datetime) -> datetime:
        """When a step that started waiting at `start` has waited longer than this norm (UTC)."""
        if self.working_days is not None:
            return add_working_days(start, self.working_days)
        return timer_due(str(self.duration), start)


def parse_norm(properties: dict[str, str]) -> Norm | None:
    """The norm the properties of an element give, None when they give none; ValueError when malformed."""
    duration = (properties.get("norm") or "").strip().upper() or None
    working = (properties.get("norm_werkdagen") or "").strip().lower()
    if duration is not None:
        if not duration.startswith("P"):
            raise ValueError(f"norm '{duration}' is not an ISO 8601 duration such as P5D or PT4H")
        try:
            TimerEventDefinition.parse_iso_duration(duration)
        except Exception:
            raise ValueError(f"norm '{duration}' is not an ISO 8601 duration such as P5D or PT4H") from None
    if not working:
        return Norm(duration=duration) if duration else None
    if working.isdigit() and int(working) > 0:
        return Norm(working_days=int(working))
    if working in _YES and duration is not None:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
        if set(parsed) - {"days", "weeks"}:
            raise ValueError(f"norm_werkdagen needs a norm in days or weeks, not '{duration}'")
        return Norm(working_days=int(parsed.get("days", 0) + 5 * parsed.get("weeks", 0)))
    raise ValueError("norm_werkdagen is a number of working days, or 'ja' to count the days of 'norm' as working days")


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days (Monday–Friday, Dutch public holidays excluded), same time of day."""
    local = start.astimezone(LOCAL)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    moment = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LOCAL)
    return moment.astimezone(start.tzinfo)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Dutch public holiday."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The public holidays on which Dutch government organisations are closed."""
    easter = _easter(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday it moves to the Saturday before
        kings_day -= timedelta(days=1)
    days = {
        date(year, 1, 1),
        easter + timedelta(days=1),  # Tweede paasdag
        kings_day,
        easter + timedelta(days=39),  # Hemelvaartsdag
        easter + timedelta(days=50),  # Tweede pinksterdag
        date(year, 12, 25),
        date(year, 12, 26),
    }
    if year % 5 == 0:  # Bevrijdingsdag is a day off for government in lustrum years
        days.add(date(year, 5, 5))
    return frozenset(days)


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)
