"""BIJ-meldingen (bijzondere justitiabelen returning on leave or for good) in the history.

The coordinator registers the melding, the reclassering gives its input within days, the coordinator weighs the risk
of maatschappelijke onrust and the burgemeester decides: in most cases measures (the victim and the wijkagent
informed, sometimes more), carried out by the gemeente before the return; otherwise none. The coordinator evaluates
and closes the case a few weeks after the return.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from engine.monitor.norms import LOCAL
from engine.reports.history.activities_common import (
    GEMEENTEN_2021,
    ActivityPeople,
    Case,
    gemeente,
    iso,
    later,
    office_hours,
    starts,
)
from engine.reports.history.driver import HistoryDriver

KEY = "bij"
MELDERS = {"Reclassering": 5, "Dienst Justitiële Inrichtingen": 3, "Openbaar Ministerie": 2}
DELICTEN = {"ernstig_geweld": 9, "zeden": 8, "tbs": 4, "pij": 3}
ADVIES = (
    "Locatieverbod handhaven; slachtoffer tijdig informeren.",
    "Contactverbod met het slachtoffer; meldplicht bij de reclassering.",
    "Geen bijzondere voorwaarden nodig; wijkagent op de hoogte brengen.",
    "Begeleid verlof; eerste verlof buiten de woonplaats van het slachtoffer.",
)
RISICOFACTOREN = (
    "Het slachtoffer woont in dezelfde wijk.",
    "De zaak kreeg veel aandacht in de lokale media.",
    "Familie van het slachtoffer woont in de buurt.",
    "Geen bijzondere risicofactoren in de omgeving bekend.",
)


def one_case(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, reported: datetime) -> Case:
    """One BIJ-melding from registration to evaluation."""
    soort = "verlof" if rng.random() < 0.6 else "definitief"
    delict = rng.choices(list(DELICTEN), weights=list(DELICTEN.values()))[0]
    slachtoffer_dichtbij = rng.random() < 0.45
    terugkeer = (reported.astimezone(LOCAL) + timedelta(days=rng.randint(20, 45))).date()
    melding: dict[str, Any] = {
        "datum_melding": iso(reported),
        "melding_van": rng.choices(list(MELDERS), weights=list(MELDERS.values()))[0],
        "betrokkenen": [people.betrokkene(born_between=(1960, 2000))],
        "gemeente": gemeente(rng, GEMEENTEN_2021),
        "delictcategorie": delict,
        "soort": soort,
        "datum_terugkeer": terugkeer.isoformat(),
        "slachtoffer_in_gemeente": slachtoffer_dichtbij,
    }
    case = Case.start(driver, KEY, melding, as_role="re_integratiecoordinator", at=reported)
    recidive = rng.choices(["laag", "midden", "hoog"], weights=[4, 4, 2])[0]
    given = later(reported, rng, (1, 2))  # the reclassering answers within its five days
    case.step(
        "Task_reclasseringsinput",
        {
            "recidiverisico": recidive,
            "risicofactoren": rng.choice(RISICOFACTOREN),
            "advies_reclassering": rng.choice(ADVIES),
        },
        at=given,
    )
    onrust = "hoog" if slachtoffer_dichtbij and rng.random() < 0.5 else rng.choice(["laag", "midden"])
    maatregelen = (
        ["slachtoffer_informeren", "wijkagent_informeren"] if slachtoffer_dichtbij else ["wijkagent_informeren"]
    )
    if onrust == "hoog" and rng.random() < 0.5:
        maatregelen.append(rng.choice(["afstemming_woningcorporatie", "omgeving_informeren", "gebiedsverbod"]))
    risico: dict[str, Any] = {
        "risico_onrust": onrust,
        "toelichting_risico": f"Risico {onrust}: {delict.replace('_', ' ')}; {soort}.",
        "voorgestelde_maatregelen": maatregelen,
        "advies_burgemeester": "Maatregelen treffen vóór de terugkeer."
        if onrust != "laag"
        else "Geen maatregelen nodig.",
    }
    weighed = later(given, rng, (1, 4))
    case.step("Task_risico", risico, at=weighed)
    decided = later(weighed, rng, (1, 5))
    if onrust == "laag" and rng.random() < 0.7:
        besluit: dict[str, Any] = {
            "bij_besluit": "geen_maatregelen",
            "motivering_besluit": "Laag risico op onrust; geen maatregelen.",
        }
        case.step("Task_besluit", besluit, at=decided)
    else:
        besluit = {
            "bij_besluit": "maatregelen",
            "maatregelen": maatregelen,
            "motivering_besluit": f"Risico op onrust {onrust}; maatregelen vóór de terugkeer.",
        }
        case.step("Task_besluit", besluit, at=decided)
        # Carried out well before the day before the return (the deadline of the task).
        latest = terugkeer - timedelta(days=5)
        room = max(1, (latest - decided.astimezone(LOCAL).date()).days)
        done = later(decided, rng, (1, room))
        uitgevoerd = [{"maatregel": m, "resultaat": "uitgevoerd", "uitgevoerd_op": iso(done)} for m in maatregelen]
        case.step("Task_maatregelen", {"uitgevoerde_maatregelen": uitgevoerd}, at=done)
    closed = office_hours(terugkeer + timedelta(days=rng.randint(5, 25)), rng)
    afsluiting = {
        "afgesloten_op": iso(closed),
        "onrust_opgetreden": onrust == "hoog" and rng.random() < 0.2,
        "evaluatie": rng.choice(("Terugkeer zonder incidenten verlopen.", "Afspraken nagekomen; geen onrust.")),
        "overdracht": "geen",
    }
    case.step("Task_afsluiten", afsluiting, at=max(closed, case.now))
    case.done()
    return case


def generate_bij(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, *, year: int, count: int) -> int:
    for reported in starts(rng, year, count):
        one_case(driver, rng, people, reported)
    return count
