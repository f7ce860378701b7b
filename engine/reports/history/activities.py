"""The 2021 activities of the annual report, made through the real processes (`zvh demo --history`).

The annual report counts, besides the complex cases, what the ZVH did in 2021 in its other processes. Each figure is
a count of cases the report's marks record, so the history makes exactly that many cases, each started on a working
day of 2021 (spread over the year) and driven along a short but realistic path to its end:

- reintegratie (352 started, module reintegratie): screening, D&R-plan, the five basisvoorwaarden, release,
  gemeentelijke nazorg, the check three months after release, destruction of the data (which closes the case);
- bij (24 started, bij): reclassering input, risk weighed, the burgemeester decides (mostly measures, carried out
  by the gemeente before the return), evaluated and closed;
- isd (9 started, isd): not selected, below the legal minimum, not claimed, not imposed, or the two-year traject;
- mensenhandel (41 started, mensenhandel): no trafficking (referred), or CoMensha, care, shelter, the aangifte
  decision, monitoring rounds and closure;
- inzageverzoek (3 started, inzage): decided and answered within the legal month;
- datalek (5 registered in 2021, datalek): 2 beveiligingsincident, 3 datalek_niet_meldplichtig, none reported to
  the Autoriteit Persoonsgegevens.

None of these cases starts procesregie: the complex route of each process (a complex reintegratie case, a victim who
needs procesregie) belongs to the complex-case history, whose casussen table would change otherwise. Cases live in
the district's gemeenten (weighted by inhabitants), so every partner lane's task reaches the gemeente's people.
Later steps of a case may fall in 2022 or 2023 (a release, the destruction six months after it, the end of an ISD
measure); every case ends, so no timer of the history is left waiting.
"""

from __future__ import annotations

import random

from engine.reports.history.activities_common import ActivityPeople
from engine.reports.history.bij import generate_bij
from engine.reports.history.datalek import generate_datalek
from engine.reports.history.driver import HistoryDriver
from engine.reports.history.inzage import generate_inzage
from engine.reports.history.isd import generate_isd
from engine.reports.history.mensenhandel import generate_mensenhandel
from engine.reports.history.reintegratie import generate_reintegratie

#: The annual report's 2021 figures of the activities (cases started in 2021).
FIGURES_2021 = {"reintegratie": 352, "bij": 24, "isd": 9, "mensenhandel": 41, "inzageverzoek": 3}


def generate_activities(driver: HistoryDriver, rng: random.Random) -> dict[str, int]:
    """Make the 2021 activity cases; returns how many cases of each figure (and datalek category) were made."""
    people = ActivityPeople(rng)
    figures = FIGURES_2021
    made = {
        "reintegratie": generate_reintegratie(driver, rng, people, year=2021, count=figures["reintegratie"]),
        "bij": generate_bij(driver, rng, people, year=2021, count=figures["bij"]),
        "isd": generate_isd(driver, rng, people, year=2021, count=figures["isd"]),
        "mensenhandel": generate_mensenhandel(driver, rng, people, year=2021, count=figures["mensenhandel"]),
        "inzageverzoek": generate_inzage(driver, rng, people, year=2021, count=figures["inzageverzoek"]),
    }
    per_category = generate_datalek(driver, rng, year=2021)
    made["datalek"] = sum(per_category.values())
    made |= {f"datalek ({category})": count for category, count in sorted(per_category.items())}
    return made
