"""The complex-case history 2016–2021: referrals, triage, the Weegploeg and procesregie, per gemeente.

Every case runs through the real processes (aanmelding_triage, weegploeg_radicalisering, procesregie) to
`completed`; the reports count what the runtime recorded. How the published tables come about:

- A *melding* is a referral that passed screening (counted in the year it was submitted). Each one is triaged:
  procesregie by the ZVH, doorverwijzen or afgewezen met advies. Some referrals are not meldingen: still
  incomplete after two rounds of additions (declined), or a radicalisation signal (straight to the Weegploeg).
- A *casus* is a procesregie case, counted in the year it starts: (1) a triage decision `procesregie_zvh` on a
  referral of the same year; (2) a referral submitted in the last days of December, screened after the Monday-noon
  deadline of the last triage of the year, and so triaged (and started) in January — a melding of one year, a
  casus of the next; (3) a Weegploeg weighing that advises a persoonsgerichte aanpak (PGA) which the lokale
  driehoek adopts — a casus without a melding. That is how Oosterhout 2019 has three casussen from one melding:
  one December 2018 referral triaged in January 2019 and one PGA. A few other cells use routes (2) and (3) too,
  chosen by the seed where the published figures leave room.
- The Weegploeg weighs 21 signals in 2021 (10–30 in the other years): signals reported directly to the expert and
  a few from triage; decisions geen actie, zorg, OM, meer informatie (re-weighed), PGA (adopted or not); a few
  signals the expert does not put on the agenda.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.monitor.norms import is_working_day
from engine.reports.history.complex_triage import Referral, run_referral
from engine.reports.history.driver import HistoryDriver
from engine.reports.history.people import People
from engine.reports.history.weegploeg_paths import run_signal, start_direct
from engine.reports.history.workdays import add_working_days, office_time, triage_cutoff, triage_moment

YEARS = range(2016, 2022)
OVERIG = "Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)"
#: The published tables (annual report 2021): per gemeente, 2016–2021.
MELDINGEN: dict[str, tuple[int, ...]] = {
    "Alphen-Chaam": (0, 0, 1, 0, 0, 2),
    "Altena": (7, 4, 4, 3, 6, 0),
    "Baarle-Nassau": (0, 0, 0, 1, 0, 1),
    "Breda": (42, 58, 73, 57, 73, 80),
    "Drimmelen": (0, 3, 1, 1, 2, 4),
    "Etten-Leur": (1, 9, 4, 4, 10, 14),
    "Geertruidenberg": (2, 3, 0, 5, 5, 4),
    "Oosterhout": (8, 4, 4, 1, 7, 14),
    "Zundert": (1, 2, 1, 2, 1, 2),
    OVERIG: (1, 3, 0, 1, 8, 1),
}
CASUSSEN: dict[str, tuple[int, ...]] = {
    "Alphen-Chaam": (0, 0, 1, 0, 0, 1),
    "Altena": (1, 2, 3, 2, 6, 0),
    "Baarle-Nassau": (0, 0, 0, 1, 0, 1),
    "Breda": (18, 23, 47, 40, 49, 54),
    "Drimmelen": (0, 1, 0, 1, 2, 1),
    "Etten-Leur": (0, 3, 4, 3, 4, 13),
    "Geertruidenberg": (0, 2, 0, 5, 4, 2),
    "Oosterhout": (5, 2, 2, 3, 5, 8),
    "Zundert": (1, 2, 1, 2, 1, 2),
    OVERIG: (0, 1, 0, 1, 7, 1),
}
#: Signals weighed by the Weegploeg in a year (2021 published; the others plausible).
WEIGHED_2021 = 21
#: PGA's adopted by the driehoek per year (casussen without a melding); one is Oosterhout 2019.
PGA_PER_YEAR = {2016: 1, 2017: 1, 2018: 1, 2019: 2, 2020: 2, 2021: 3}
FORCED_PGA = {(2019, "Oosterhout"): 1}
FORCED_CROSS = {(2019, "Oosterhout"): 1}
LAST_SAME_YEAR_DAY = (12, 7)
LAST_SIGNAL_DAY = (11, 10)


def figure(table: dict[str, tuple[int, ...]], year: int, gemeente: str) -> int:
    return table[gemeente][year - YEARS.start]


@dataclass
class Plan:
    """Which route makes each casus: PGA's and cross-year referrals per (year, gemeente); the rest is same-year."""

    pga: Counter[tuple[int, str]]
    cross: Counter[tuple[int, str]]

    def same_year(self, year: int, gemeente: str) -> int:
        key = (year, gemeente)
        return figure(CASUSSEN, year, gemeente) - self.pga[key] - self.cross[key]

    def other_meldingen(self, year: int, gemeente: str) -> int:
        """Meldingen of the year that triage does not hand over to procesregie (doorverwijzen, afwijzen)."""
        return figure(MELDINGEN, year, gemeente) - self.same_year(year, gemeente) - self.cross[(year + 1, gemeente)]


def plan_routes(rng: random.Random) -> Plan:
    """Spread the casussen over the three routes where the published figures leave room."""
    plan = Plan(Counter(FORCED_PGA), Counter(FORCED_CROSS))
    for year in YEARS:
        for _ in range(PGA_PER_YEAR[year] - sum(n for (y, _), n in plan.pga.items() if y == year)):
            free = {g: plan.same_year(year, g) for g in CASUSSEN if g != OVERIG and plan.same_year(year, g) > 0}
            plan.pga[(year, rng.choices(list(free), weights=list(free.values()))[0])] += 1
    for year in YEARS[1:]:
        for _ in range(rng.randint(1, 3) - sum(n for (y, _), n in plan.cross.items() if y == year)):
            room = {
                g: plan.same_year(year, g)
                for g in CASUSSEN
                if plan.same_year(year, g) > 0 and plan.other_meldingen(year - 1, g) > 0
            }
            if room:
                plan.cross[(year, rng.choices(list(room), weights=list(room.values()))[0])] += 1
    for year in YEARS:
        for gemeente in CASUSSEN:
            assert plan.same_year(year, gemeente) >= 0 and plan.other_meldingen(year, gemeente) >= 0, (year, gemeente)
    return plan


def random_day(rng: random.Random, first: date, last: date) -> date:
    return add_working_days(first + timedelta(days=rng.randrange((last - first).days + 1)), 0)


def year_start(year: int) -> date:
    return date(2016, 1, 4) if year == YEARS.start else date(year, 1, 2)


def cross_year_screening(rng: random.Random, year: int) -> datetime:
    """When a December referral of `year - 1` finishes screening so that it goes to January's first triage."""
    tuesday = next(date(year, 1, d) for d in range(2, 9) if date(year, 1, d).weekday() == 1)
    # Between last week's cut-off and this one (which moves before a Monday off, e.g. Nieuwjaarsdag 2018), with
    # room for the same-day enrichment that follows.
    earliest = triage_cutoff(tuesday - timedelta(days=7)) + timedelta(minutes=30)
    latest = triage_cutoff(tuesday) - timedelta(hours=2, minutes=5)
    days = [
        d
        for d in (tuesday - timedelta(days=n) for n in range(8, 0, -1))
        if d.year < year and is_working_day(d) and earliest.date() <= d <= latest.date()
    ]
    day = rng.choice(days)
    moment = min(max(office_time(rng, day, earliest=9, latest=14), earliest), latest)
    assert triage_moment(moment).date() == tuesday
    return moment


def plan_referrals(rng: random.Random, plan: Plan) -> list[Referral]:
    referrals: list[Referral] = []
    for year in YEARS:
        first, last = year_start(year), date(year, *LAST_SAME_YEAR_DAY)

        def same_year(gemeente: str, outcome: str, first: date = first, last: date = last) -> Referral:
            spoed = outcome == "procesregie" and rng.random() < 0.06
            return Referral(office_time(rng, random_day(rng, first, last)), gemeente, outcome, spoed=spoed)

        for gemeente in CASUSSEN:
            referrals += [same_year(gemeente, "procesregie") for _ in range(plan.same_year(year, gemeente))]
            for _ in range(plan.other_meldingen(year, gemeente)):
                referrals.append(same_year(gemeente, "doorverwijzen" if rng.random() < 0.55 else "afwijzen"))
            for _ in range(plan.cross[(year + 1, gemeente)]):
                screened = cross_year_screening(rng, year + 1)
                submitted = office_time(rng, add_working_days(screened.date() - timedelta(days=6), 0))
                referrals.append(Referral(submitted, gemeente, "procesregie", screened=screened))
        for _ in range(rng.randint(1, 4)):
            referrals.append(same_year(rng.choice(list(CASUSSEN)), "onvolledig"))
    return referrals


@dataclass
class Signal:
    """A planned radicalisation signal: when, where, the planned decision, and whether it comes from triage."""

    moment: datetime
    gemeente: str
    decision: str
    via_triage: bool = False


def plan_signals(rng: random.Random, plan: Plan) -> list[Signal]:
    signals: list[Signal] = []
    weights = {g: sum(MELDINGEN[g]) for g in MELDINGEN}
    decisions = {
        "geen_actie": 4.0,
        "zorg": 3.0,
        "strafrechtelijk_onderzoek": 1.0,
        "meer_informatie_nodig": 1.0,
        "pga_afgewezen": 0.5,
    }
    for year in YEARS:
        first, last = year_start(year), date(year, *LAST_SIGNAL_DAY)
        weighed = WEIGHED_2021 if year == YEARS[-1] else rng.randint(12, 24)
        planned = [g for (y, g), n in plan.pga.items() if y == year for _ in range(n)]
        planned_decisions = ["pga"] * len(planned)
        for _ in range(weighed - len(planned)):
            planned.append(rng.choices(list(weights), weights=list(weights.values()))[0])
            planned_decisions.append(rng.choices(list(decisions), weights=list(decisions.values()))[0])
        for _ in range(rng.randint(1, 3)):
            planned.append(rng.choices(list(weights), weights=list(weights.values()))[0])
            planned_decisions.append("niet_wegen")
        from_triage = set(rng.sample(range(len(planned)), rng.randint(1, 2)))
        for number, (gemeente, decision) in enumerate(zip(planned, planned_decisions, strict=True)):
            moment = office_time(rng, random_day(rng, first, last))
            signals.append(Signal(moment, gemeente, decision, via_triage=number in from_triage))
    return signals


def generate_complex(driver: HistoryDriver, rng: random.Random) -> dict[str, int]:
    """Drive the complex-case history through the processes; returns what it made (for the CLI summary)."""
    people = People(rng)
    plan = plan_routes(rng)
    referrals = plan_referrals(rng, plan)
    signals = plan_signals(rng, plan)
    work: list[tuple[datetime, Referral | Signal]] = [(r.submitted, r) for r in referrals]
    work += [(s.moment, s) for s in signals]
    work.sort(key=lambda item: item[0])
    made: Counter[str] = Counter()
    for _, item in work:
        if isinstance(item, Referral):
            started = run_referral(driver, rng, people, item)
            made["aanmeldingen"] += 1
            made["procesregie"] += "procesregie" in started
        else:
            if item.via_triage:
                referral = Referral(item.moment, item.gemeente, "radicalisering")
                instance = run_referral(driver, rng, people, referral)["weegploeg"]
                made["aanmeldingen"] += 1
            else:
                instance = start_direct(driver, rng, people, item.moment, item.gemeente)
            started = run_signal(driver, rng, instance, item.decision)
            made["weegploeg_signalen"] += 1
            made["weegploeg_wegingen"] += item.decision != "niet_wegen"
            made["procesregie"] += "procesregie" in started
    return dict(made)
