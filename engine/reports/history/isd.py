"""ISD-trajecten (stelselmatige daders) in the history: from the aanmelding in the ZVH overleg to the end of nazorg.

Of the candidates one is not selected by the overleg, one falls below the legal minimum of three convictions, the OM
does not claim the measure for one and the court does not impose it on one. For the others the measure is imposed:
most work along (trajectplan and return prepared, an intramural phase of about a year, supervised placement outside
the institution, uitstroom and nazorg by the gemeente); one does not and serves the measure in regular detention to
its end, two years after it was imposed.
"""

from __future__ import annotations

import random
from datetime import datetime

from engine.reports.history.activities_common import (
    GEMEENTEN_2021,
    ActivityPeople,
    Case,
    gemeente,
    iso,
    later,
    starts,
)
from engine.reports.history.driver import HistoryDriver

KEY = "isd_traject"
#: What happens to the candidates, in order of the year (shuffled per seed).
OUTCOMES = (
    "niet_geselecteerd",
    "onder_minimum",
    "niet_gevorderd",
    "niet_opgelegd",
    "meewerken",
    "meewerken",
    "meewerken",
    "meewerken",
    "niet_meewerken",
)
AANLEIDINGEN = (
    "Veelvuldige winkeldiefstallen en overlast in het centrum.",
    "Herhaalde inbraken in auto's en fietsendiefstal; verslaafd en dakloos.",
    "Overlast en geweld rond de opvang; vele korte detenties zonder effect.",
)
#: Where the candidates live: mostly the city.
ISD_GEMEENTEN = {"Breda": 6, "Oosterhout": 2, "Etten-Leur": 1}


def one_case(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, at: datetime, outcome: str) -> Case:
    """One candidate from the aanmelding to the outcome (and, when imposed, to the end of nazorg)."""
    woont = gemeente(rng, ISD_GEMEENTEN if rng.random() < 0.9 else GEMEENTEN_2021)
    aanmelding = {
        "gemeente": woont,
        "betrokkenen": [people.betrokkene(born_between=(1970, 1998))],
        "aanleiding": rng.choice(AANLEIDINGEN),
    }
    case = Case.start(driver, KEY, aanmelding, as_role="procesregisseur", at=at)
    overleg = later(at, rng, (2, 9))
    selectie = {
        "datum_overleg": iso(overleg),
        "aantal_veroordelingen_5_jaar": 2 if outcome == "onder_minimum" else rng.randint(4, 14),
        "aantal_processen_verbaal_5_jaar": rng.randint(8, 40),
        "geselecteerd": outcome != "niet_geselecteerd",
        "overwegingen": "Hardnekkig patroon; eerdere interventies zonder effect."
        if outcome != "niet_geselecteerd"
        else "Eerst een zorgtraject via de gemeente; ISD nu niet passend.",
    }
    case.step("Task_selectie", selectie, at=overleg)
    if outcome in ("niet_geselecteerd", "onder_minimum"):
        case.done()
        return case
    input_moment = later(overleg, rng, (3, 12))
    advies_moment = later(overleg, rng, (5, 16))  # within the reclassering's three weeks
    advies = {
        "datum_advies": iso(advies_moment),
        "advies_isd": "niet_geadviseerd" if outcome == "niet_gevorderd" else "isd_geadviseerd",
        "toelichting_advies": "Verslaving en dakloosheid; gemotiveerd voor behandeling.",
    }
    gemeente_input = {
        "contactpersoon_gemeente": "Consulent zorg en veiligheid",
        "mogelijkheden_gemeente": "Plek in beschermd wonen na de ISD; schuldhulp.",
    }
    for moment, task, data in sorted(
        [(input_moment, "Task_gemeente_input", gemeente_input), (advies_moment, "Task_reclasseringsadvies", advies)],
        key=lambda step: step[0],
    ):
        case.step(task, data, at=max(moment, case.now))
    claimed = later(case.now, rng, (3, 14))
    if outcome == "niet_gevorderd":
        vordering = {"isd_gevorderd": False, "motivering_vordering": "Advies negatief; eerst een ander traject."}
        case.step("Task_vordering", vordering, at=claimed)
        case.done()
        return case
    zitting = later(claimed, rng, (14, 35))
    vordering = {
        "isd_gevorderd": True,
        "datum_zitting": iso(zitting),
        "motivering_vordering": "Voldoet; advies positief.",
    }
    case.step("Task_vordering", vordering, at=claimed)
    recorded = later(zitting, rng, (0, 3))
    if outcome == "niet_opgelegd":
        case.step("Task_uitspraak", {"uitspraak": "niet_opgelegd", "datum_uitspraak": iso(zitting)}, at=recorded)
        case.done()
        return case
    uitspraak = {"uitspraak": "opgelegd", "datum_uitspraak": iso(zitting), "datum_opgelegd": iso(zitting)}
    case.step("Task_uitspraak", uitspraak, at=recorded)
    plan = later(recorded, rng, (7, 28))
    case.step(
        "Task_trajectplan",
        {"trajectbegeleider": "Trajectbegeleider DJI", "trajectplan": "Verslavingsbehandeling, dan begeleid wonen."},
        at=plan,
    )
    terugkeer = {
        "contactpersoon_gemeente": "Consulent zorg en veiligheid",
        "voorbereiding_terugkeer": "Aanvraag beschermd wonen en inkomen loopt.",
    }
    case.step("Task_terugkeer", terugkeer, at=later(plan, rng, (7, 30)))
    evaluated = later(case.now, rng, (240, 330))
    meewerken = outcome == "meewerken"
    intramuraal = {
        "datum_evaluatie": iso(evaluated),
        "meewerken": meewerken,
        "evaluatie_intramuraal": "Behandeling afgerond; gemotiveerd." if meewerken else "Weigert behandeling.",
    }
    case.step("Task_intramuraal", intramuraal, at=evaluated)
    if meewerken:
        placed = later(evaluated, rng, (7, 21))
        plaatsing = {
            "extramurale_plaatsing": {
                "soort": rng.choice(["begeleid_wonen", "zorginstelling", "zelfstandig_met_begeleiding"]),
                "instelling": rng.choice(["Woonvoorziening De Verzonnen Hof", "Kliniek Het Bedachte Pad"]),
                "ingangsdatum": iso(placed),
            }
        }
        case.step("Task_plaatsing", plaatsing, at=placed)
        supervised = later(placed, rng, (150, 240))  # before the measure's end, two years after it was imposed
        case.step("Task_toezicht", {"toezicht_uitkomst": "afgerond", "verslag_toezicht": "Stabiel."}, at=supervised)
        reden = "traject_afgerond"
    else:
        vastgesteld = {"datum_vastgesteld": iso(evaluated), "reden_niet_meewerken": "Weigert elke behandeling."}
        case.step("Task_reguliere_detentie", vastgesteld, at=later(evaluated, rng, (0, 2)))
        case.wait("Timer_einde_isd")
        reden = "maximale_duur"
    out = later(case.now, rng, (1, 7))
    uitstroom = {
        "uitstroomdatum": iso(out),
        "reden_uitstroom": reden,
        "woonsituatie": "Begeleid wonen" if meewerken else "Maatschappelijke opvang",
        "afspraken_nazorg": "Klantmanager en ambulant begeleider; maandelijks overleg.",
    }
    case.step("Task_uitstroom", uitstroom, at=out)
    finished = later(out, rng, (60, 120))
    resultaat = "stabiel" if meewerken else rng.choice(["terugval", "overgedragen"])
    nazorg = {"nazorg_afgerond_op": iso(finished), "resultaat_nazorg": resultaat, "overdracht": "geen"}
    case.step("Task_nazorg", nazorg, at=finished)
    case.done()
    return case


def generate_isd(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, *, year: int, count: int) -> int:
    outcomes = list(OUTCOMES[:count]) + ["meewerken"] * max(0, count - len(OUTCOMES))
    rng.shuffle(outcomes)
    for at, outcome in zip(starts(rng, year, count), outcomes, strict=True):
        one_case(driver, rng, people, at, outcome)
    return count
