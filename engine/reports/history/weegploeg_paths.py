"""A radicalisation signal of the history through weegploeg_radicalisering, to `completed`.

A signal is reported directly to the gemeente's expert (started by hand) or comes from triage (a referral with a
radicalisation signal). The expert checks it within the five-day term; most are put on the agenda and weighed in
the Weegploeg's next meeting (the process's own timer, every three weeks), which is what `weegploeg_triage`
counts. The decision is planned: `geen_actie`, `zorg`, `strafrechtelijk_onderzoek`, `meer_informatie_nodig`
(re-weighed once, then geen actie), `pga` (the lokale driehoek adopts it: hand-over to procesregie, which is
driven on; `pga_afgewezen`: the driehoek declines), or `niet_wegen` (the expert finds no grounds).

The meeting of a signal in the past must be a meeting of that time: Script_weging_plannen's three-weekly grid
(anchored at `eerste_overleg`) has to extend backwards as well as forwards; `meeting` refuses a plan weeks away.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from engine.reports.history.driver import HistoryDriver
from engine.reports.history.people import People
from engine.reports.history.procesregie_paths import run_procesregie
from engine.reports.history.workdays import Cursor, add_working_days, at

BRONNEN = ("Jongerenwerk", "School (mentor)", "Wijkagent", "Moskeebestuur", "Buurtbewoner via de gemeente")
SIGNALEN = (
    "Deelt extremistische filmpjes in een groepsapp en noemt geweld gerechtvaardigd.",
    "Zoekt online contact met een extremistisch netwerk en trekt zich terug uit het gezin.",
    "Bedreigt een docent na een les over de vrijheid van meningsuiting.",
    "Spreekt over uitreizen en zamelt geld in voor een onduidelijk doel.",
)
DEELNEMERS = [
    {"organisatie": "Gemeente", "naam": "Evi Expert"},
    {"organisatie": "Openbaar Ministerie", "naam": "Olga Officier"},
    {"organisatie": "Politie", "naam": "Piet Politie"},
    {"organisatie": "Reclassering", "naam": "Rosa Reclassering"},
]
#: The Weegploeg meets every three weeks (Script_weging_plannen's `interval_dagen`).
MEETING_INTERVAL_DAYS = 21
PGA_LEEFGEBIEDEN = ["Sociaal netwerk", "Werk en dagbesteding"]
CRITERIA = ("extremistisch_gedachtegoed", "geweldsbereidheid", "netwerk", "online", "kwetsbaarheid", "dreiging")


def start_direct(driver: HistoryDriver, rng: random.Random, people: People, moment: datetime, gemeente: str) -> int:
    """A signal reported directly to the expert and recorded by them; returns the instance."""
    driver.at(moment)
    instance = driver.start("weegploeg_radicalisering", as_role="expert_radicalisering")
    person = people.person(born_between=(1985, 2006))
    signaal = {"datum": moment.date().isoformat(), "bron": rng.choice(BRONNEN), "omschrijving": rng.choice(SIGNALEN)}
    betrokkene = {
        "naam": person.naam,
        "bsn": person.bsn,
        "geboortedatum": person.geboortedatum.isoformat(),
        "rol": "hoofdbetrokkene",
    }
    driver.complete(
        instance, "Task_signaal_vastleggen", {"signaal": signaal, "gemeente": gemeente, "betrokkenen": [betrokkene]}
    )
    return instance


def run_signal(driver: HistoryDriver, rng: random.Random, instance: int, decision: str) -> dict[str, int]:
    """Drive the signal `instance` (the clock at its start) to `completed`; returns a procesregie it started."""
    cursor = Cursor(rng, driver.clock.now())
    wegen = decision != "niet_wegen"
    driver.complete_at(
        cursor.later(1, 3),
        instance,
        "Task_signaal_toetsen",
        {
            "melder_betrouwbaar": True,
            "aanwijzingen": "ja" if wegen else "nee",
            "naar_weegploeg": wegen,
            "toelichting_toetsing": "Melder is bekend en betrouwbaar; de uitingen zijn concreet en recent."
            if wegen
            else "Geen aanwijzingen voor radicalisering; de melder is gerustgesteld.",
        },
    )
    made: dict[str, int] = {}
    if wegen:
        meeting(driver, cursor, instance)
        weging = {
            "deelnemers_weging": DEELNEMERS,
            "minderjarige_betrokkene": False,
            "criteria_toegepast": rng.sample(CRITERIA, 2),
            "motivering": "Gewogen naar de toegepaste criteria en de beschermende factoren.",
        }
        if decision == "meer_informatie_nodig":
            herweging = add_working_days(cursor.now.date(), 8)
            driver.complete_at(
                cursor.now,
                instance,
                "Task_wegen",
                {
                    **weging,
                    "wegingsbesluit": decision,
                    "herwegingsdatum": herweging.isoformat(),
                    "gevraagde_informatie": "Informatie van school en politie.",
                },
            )
            driver.complete_at(
                cursor.later(3, 6),
                instance,
                "Task_informatie",
                {"verzamelde_informatie": "School meldt verzuim; politie kent geen incidenten."},
            )
            meeting(driver, cursor, instance)
            decision = "geen_actie"
        besluit = "pga" if decision == "pga_afgewezen" else decision
        extra: dict[str, Any] = {}
        if besluit == "pga":
            extra = {
                "leefgebieden": PGA_LEEFGEBIEDEN,
                "advies_driehoek": "Persoonsgerichte aanpak: gesprek burgemeester, begeleiding, werktraject.",
            }
        elif besluit == "zorg":
            extra = {"zorgbehoefte": "Psychische klachten en isolement; geen radicalisering."}
        driver.complete_at(cursor.now, instance, "Task_wegen", {**weging, "wegingsbesluit": besluit, **extra})
        if besluit == "pga":
            adopted = decision == "pga"
            driehoek: dict[str, Any] = {
                "driehoek_besluit": "pga_via_zvh" if adopted else "geen_pga",
                "toelichting_driehoek": "De driehoek neemt het advies over; het ZVH voert procesregie."
                if adopted
                else "Begeleiding door het jongerenwerk volstaat.",
            }
            if adopted:
                driehoek["interventies"] = ["bestuurlijk", "zorg"]
            driver.complete_at(cursor.later(3, 8), instance, "Task_advies_driehoek", driehoek)
            if adopted:
                (made["procesregie"],) = driver.follow_ups(instance)
        elif besluit == "zorg":
            driver.complete_at(
                cursor.later(2, 6),
                instance,
                "Task_zorg",
                {"zorgpartner": "GGZ", "datum_overdracht": cursor.day, "afspraken_zorg": "Intake binnen twee weken."},
            )
        elif besluit == "strafrechtelijk_onderzoek":
            driver.complete_at(cursor.later(1, 4), instance, "Task_om", {"datum_opgepakt": cursor.day})
    if "procesregie" not in made:
        driver.complete_at(
            cursor.later(1, 3),
            instance,
            "Task_melder_informeren",
            {"melder_geinformeerd": True, "datum_terugkoppeling": cursor.day},
        )
    if driver.status(instance) != "completed":
        raise AssertionError(f"signal {instance} did not complete: {driver.open(instance)}")
    if "procesregie" in made:
        run_procesregie(driver, rng, made["procesregie"], ["Radicalisering en extremisme", *PGA_LEEFGEBIEDEN])
    return made


def meeting(driver: HistoryDriver, cursor: Cursor, instance: int) -> None:
    """Wait for the Weegploeg's meeting the process planned; the weighing is recorded right after it."""
    due = driver.next_timer(instance)
    assert due is not None
    if due - cursor.now > timedelta(days=MEETING_INTERVAL_DAYS + 2):
        raise AssertionError(
            f"the Weegploeg meeting for a signal of {cursor.now:%Y-%m-%d} is planned on {due:%Y-%m-%d}: "
            "Script_weging_plannen must extend its three-weekly grid before `eerste_overleg` for the history"
        )
    driver.at(cursor.to(due))
    driver.fire_timers(instance)
    cursor.to(at(cursor.now.date(), 15, 30))
