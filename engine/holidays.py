"""The calendar deadlines are counted in: working days, the ZVH's days off, and legal terms (Algemene termijnenwet).

Two lists of days, because the law and the office differ:

- **Days off** (`is_working_day`): Saturday, Sunday, the Dutch public holidays on which government offices close
  (Nieuwjaarsdag, Tweede Paasdag, Koningsdag, Hemelvaartsdag, Tweede Pinksterdag, both Christmas days), Bevrijdingsdag
  as the ZVH's collective agreement says (`ZVH_BEVRIJDINGSDAG`: `lustrum` — every fifth year, the default for
  government — `jaarlijks` or `nee`) and the ZVH's own days off (`ZVH_VRIJE_DAGEN`: comma-separated `MM-DD` for
  every year or `YYYY-MM-DD` for one year, e.g. `goede_vrijdag, 12-24`; `goede_vrijdag` names the Friday before
  Easter). Every working-day count (norms, `add_working_days` in scripts, meeting schedules) uses this list.
- **Legal terms** (`legal_term_end`): a term set by law that ends on a Saturday, a Sunday or an *algemeen erkende
  feestdag* ends on the next day that is none of these (Algemene termijnenwet, art. 1 and 3). That list is the law's,
  not the office's: Bevrijdingsdag counts every year, a local day off does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

#: Deadlines are counted in Breda's calendar.
LOCAL = ZoneInfo("Europe/Amsterdam")

_BEVRIJDINGSDAG = frozenset({"lustrum", "jaarlijks", "nee"})
#: Movable days a ZVH may name in `ZVH_VRIJE_DAGEN`, as days after Easter Sunday.
_MOVABLE = {"goede_vrijdag": -2}


@dataclass(frozen=True)
class DaysOff:
    """The ZVH's own choices about days off, from configuration."""

    bevrijdingsdag: str = "lustrum"
    #: (month, day) off every year
    yearly: tuple[tuple[int, int], ...] = ()
    #: single dates off
    once: tuple[date, ...] = ()
    #: movable days (keys of `_MOVABLE`)
    movable: tuple[str, ...] = ()

    @classmethod
    def parse(cls, bevrijdingsdag: str, extra: str) -> DaysOff:
        """Read the two settings; a malformed value is refused with the value named."""
        bevrijdingsdag = bevrijdingsdag.strip().lower() or "lustrum"
        if bevrijdingsdag not in _BEVRIJDINGSDAG:
            raise ValueError(
                f"ZVH_BEVRIJDINGSDAG must be one of {', '.join(sorted(_BEVRIJDINGSDAG))}, not '{bevrijdingsdag}'"
            )
        yearly: list[tuple[int, int]] = []
        once: list[date] = []
        movable: list[str] = []
        for item in (part.strip().lower() for part in extra.split(",")):
            if not item:
                continue
            if item in _MOVABLE:
                movable.append(item)
                continue
            try:
                if len(item) == 5:
                    day = date.fromisoformat(f"2000-{item}")  # a leap year: 02-29 is allowed
                    yearly.append((day.month, day.day))
                else:
                    once.append(date.fromisoformat(item))
            except ValueError:
                raise ValueError(
                    f"ZVH_VRIJE_DAGEN: '{item}' is no MM-DD, YYYY-MM-DD or {', '.join(sorted(_MOVABLE))}"
                ) from None
        return cls(bevrijdingsdag, tuple(yearly), tuple(once), tuple(movable))

    @classmethod
    def from_env(cls) -> DaysOff:
        """`ZVH_BEVRIJDINGSDAG` and `ZVH_VRIJE_DAGEN` from the environment."""
        return cls.parse(os.environ.get("ZVH_BEVRIJDINGSDAG", ""), os.environ.get("ZVH_VRIJE_DAGEN", ""))


_days_off = DaysOff.from_env()


def configure(days_off: DaysOff) -> DaysOff:
    """Use `days_off` from now on (tests, and a process that reads its settings late); returns the previous one."""
    global _days_off
    previous, _days_off = _days_off, days_off
    days_off_in.cache_clear()
    return previous


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The public holidays on which Dutch government offices close (Bevrijdingsdag not included)."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday it moves to the Saturday before
        kings_day -= timedelta(days=1)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # Tweede Paasdag
            kings_day,
            easter + timedelta(days=39),  # Hemelvaartsdag
            easter + timedelta(days=50),  # Tweede Pinksterdag
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


@cache
def days_off_in(year: int) -> frozenset[date]:
    """Every weekday the ZVH is closed in `year`: public holidays, Bevrijdingsdag as configured, own days off."""
    days = set(public_holidays(year))
    settings = _days_off
    if settings.bevrijdingsdag == "jaarlijks" or (settings.bevrijdingsdag == "lustrum" and year % 5 == 0):
        days.add(date(year, 5, 5))
    days.update(_valid_dates(year, settings.yearly))
    days.update(day for day in settings.once if day.year == year)
    days.update(easter_sunday(year) + timedelta(days=_MOVABLE[name]) for name in settings.movable)
    return frozenset(days)


def _valid_dates(year: int, month_days: Iterable[tuple[int, int]]) -> Iterable[date]:
    for month, day in month_days:
        try:
            yield date(year, month, day)
        except ValueError:  # 02-29 outside a leap year
            continue


@cache
def legal_holidays(year: int) -> frozenset[date]:
    """The *algemeen erkende feestdagen* of the Algemene termijnenwet (art. 3): Bevrijdingsdag every year."""
    return public_holidays(year) | {date(year, 5, 5)}


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a day the ZVH is closed."""
    return day.weekday() < 5 and day not in days_off_in(day.year)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after (or, negative, before) `day`; 0 gives `day` itself."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def add_working_days_to_moment(start: datetime, count: int) -> datetime:
    """`start` plus `count` working days at the same local time of day (an aware moment stays aware)."""
    local = start.astimezone(LOCAL) if start.tzinfo else start.replace(tzinfo=LOCAL)
    day = add_working_days(local.date(), count)
    moment = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LOCAL)
    return moment.astimezone(start.tzinfo) if start.tzinfo else moment.replace(tzinfo=None)


def legal_term_end(day: date) -> date:
    """The last day of a legal term that would end on `day` (Algemene termijnenwet): the next day that is no
    Saturday, Sunday or *algemeen erkende feestdag*."""
    while day.weekday() >= 5 or day in legal_holidays(day.year):
        day += timedelta(days=1)
    return day


def legal_term_end_moment(moment: datetime) -> datetime:
    """A legal deadline moment moved, at the same local time of day, to the day `legal_term_end` gives."""
    local = moment.astimezone(LOCAL)
    day = legal_term_end(local.date())
    if day == local.date():
        return moment
    moved = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LOCAL)
    return moved.astimezone(moment.tzinfo)


def easter_sunday(year: int) -> date:
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
