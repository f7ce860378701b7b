"""What the activity generators share: working-day moments, the gemeenten of the district, invented people, and one
case driven step by step on its own dates.

A step sets the history clock to the moment it happened and completes the task through the runtime as a holder of
its queue. Waiting for a timer moves the clock to the moment the process itself scheduled and fires it; it refuses
to go on when anything else fired (an escalation), so a history case never takes a path by accident.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.monitor.norms import LOCAL, is_working_day
from engine.reports.history.driver import HistoryDriver
from engine.reports.history.people import People
from engine.reports.history.workdays import add_working_days

#: Where the people of the activities live, weighted by the number of inhabitants (CBS, 1 January 2021, rounded
#: to thousands). Altena left the district's ZVH in 2021 (no referrals from it that year), so it gets none.
GEMEENTEN_2021: dict[str, int] = {
    "Breda": 184,
    "Oosterhout": 56,
    "Etten-Leur": 44,
    "Drimmelen": 27,
    "Geertruidenberg": 22,
    "Zundert": 22,
    "Alphen-Chaam": 10,
    "Baarle-Nassau": 7,
}


def next_working_day(day: date) -> date:
    """`day` itself when the ZVH works that day, else the first working day after it."""
    return add_working_days(day, 0)


def office_hours(day: date, rng: random.Random, *, first: int = 9, last: int = 16) -> datetime:
    """A moment during office hours on `day` (or on the next working day)."""
    minute = rng.randrange(first * 60, last * 60 + 45)
    return datetime.combine(next_working_day(day), time(minute // 60, minute % 60), tzinfo=LOCAL)


def later(moment: datetime, rng: random.Random, days: tuple[int, int]) -> datetime:
    """A moment during office hours between `days[0]` and `days[1]` calendar days after `moment`, never before it."""
    local = moment.astimezone(LOCAL)
    candidate = office_hours(local.date() + timedelta(days=rng.randint(*days)), rng)
    if candidate <= local:
        candidate = local + timedelta(minutes=rng.randint(20, 120))
    return candidate


def starts(rng: random.Random, year: int, count: int, *, until: date | None = None) -> list[datetime]:
    """`count` moments on working days of `year` (up to `until`), at random but spread over the year, sorted."""
    day, last = date(year, 1, 1), until or date(year, 12, 31)
    days = []
    while day <= last:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    # Stratified: each case gets its own slice of the year, so quarters are filled evenly but not regularly.
    return [office_hours(days[int((i + rng.random()) * len(days) / count)], rng) for i in range(count)]


def gemeente(rng: random.Random, weights: dict[str, int] = GEMEENTEN_2021) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def iso(moment: datetime | date) -> str:
    """The local date of a moment (or a date) as the forms write it."""
    day = moment.astimezone(LOCAL).date() if isinstance(moment, datetime) else moment
    return day.isoformat()


def iso_moment(moment: datetime) -> str:
    return moment.astimezone(LOCAL).isoformat(timespec="seconds")


class ActivityPeople(People):
    """Invented people with fake BSNs from 995…, a range apart from the complex cases' (990…): never shared."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng, first_bsn=995_000_000)

    def betrokkene(
        self, *, rol: str = "hoofdbetrokkene", born_between: tuple[int, int] = (1965, 2001)
    ) -> dict[str, str]:
        person = self.person(born_between=born_between)
        return {"naam": person.naam, "bsn": person.bsn, "geboortedatum": person.geboortedatum.isoformat(), "rol": rol}


@dataclass
class Case:
    """One case of a process, driven step by step; `now` is the moment of its latest step."""

    driver: HistoryDriver
    id: int
    now: datetime
    key: str

    @classmethod
    def start(cls, driver: HistoryDriver, key: str, data: dict[str, Any], *, as_role: str, at: datetime) -> Case:
        driver.at(at)
        return cls(driver, driver.start(key, data, as_role=as_role), at, key)

    def step(self, element_id: str, data: dict[str, Any] | None = None, *, at: datetime) -> None:
        """Complete the open task `element_id` at `at` as a holder of its queue (the driver's people)."""
        if at < self.now:
            raise ValueError(f"{self.key} {self.id}: {element_id} at {at} is before the previous step ({self.now})")
        self.now = at
        self.driver.complete_at(at, self.id, element_id, data)

    def wait(self, timer_id: str) -> datetime:
        """Move on to the case's next timer, which must be `timer_id`, and fire it; returns its moment."""
        due = self.driver.next_timer(self.id)
        if due is None:
            raise LookupError(f"{self.key} {self.id} waits for no timer (expected {timer_id})")
        self.now = max(self.now, due.astimezone(LOCAL))
        self.driver.at(self.now)
        fired = self.driver.fire_timers(self.id)
        if fired != [timer_id]:
            raise RuntimeError(f"{self.key} {self.id}: expected {timer_id} to fire at {self.now}, fired {fired}")
        return self.now

    def done(self) -> None:
        """Check the case has ended (no timer of a history case may be left waiting)."""
        status = self.driver.status(self.id)
        if status != "completed":
            raise RuntimeError(f"{self.key} {self.id} ended as {status}, open: {sorted(self.driver.open(self.id))}")
