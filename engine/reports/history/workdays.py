"""Working days and office hours for the synthetic history: every step by a person happens on a working day.

Working days are those of the norms (Monday to Friday, Dutch public holidays excluded: engine.monitor.norms). A
weekly triage that the process would plan on a holiday is avoided by choosing when screening finishes, never by
moving the timer.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from engine import holidays
from engine.monitor.norms import LOCAL, is_working_day


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after `day` (0: `day` itself, or the next working day)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    for _ in range(count):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day


def working_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL)


def office_time(rng: random.Random, day: date, *, earliest: int = 9, latest: int = 16) -> datetime:
    """A moment on `day` in office hours (hour between `earliest` and `latest`, five-minute steps)."""
    return at(day, rng.randint(earliest, latest), 5 * rng.randint(0, 11))


class Cursor:
    """The moment of a case's last step; each next step is later: the same day a little later, or days after."""

    def __init__(self, rng: random.Random, moment: datetime) -> None:
        self.rng = rng
        self.now = moment.astimezone(LOCAL)

    def later(self, min_days: int = 0, max_days: int = 0) -> datetime:
        """The next step: `min_days`–`max_days` working days on (0: later today when office hours allow)."""
        days = self.rng.randint(min_days, max_days)
        if days == 0:
            moment = self.now + timedelta(minutes=5 * self.rng.randint(4, 24))
            if moment.hour < 17 and moment.date() == self.now.date():
                self.now = moment
                return moment
            days = 1
        self.now = office_time(self.rng, add_working_days(self.now.date(), days))
        return self.now

    def to(self, moment: datetime) -> datetime:
        """Jump to a moment the process chose (a timer), never backwards."""
        self.now = max(self.now, moment.astimezone(LOCAL))
        return self.now

    @property
    def day(self) -> str:
        return self.now.date().isoformat()


def triage_cutoff(tuesday: date) -> datetime:
    """The cut-off for the triage of `tuesday`: Monday 12:00, or 12:00 on the working day before a Monday off."""
    return at(holidays.add_working_days(tuesday, -1), 12)


def triage_moment(screened: datetime) -> datetime:
    """The weekly triage a referral screened at `screened` gets (Tuesday 10:00, screened by the cut-off; a Tuesday
    off moves to the next working day).

    This mirrors Script_triagemoment only to choose screening moments; the process's own timer decides.
    """
    local = screened.astimezone(LOCAL)
    for n in range(22):
        day = local.date() + timedelta(days=n)
        if day.weekday() == 1 and local <= triage_cutoff(day):
            return at(holidays.next_working_day(day), 10)
    raise AssertionError("no Tuesday within three weeks")
