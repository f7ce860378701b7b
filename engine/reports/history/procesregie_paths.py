"""A procesregie case of the history, from the hand-over to `completed`, along a short realistic path.

Intake, preparation and the first casusoverleg within the three-week term (so the escalation timer never fires),
the plan and the start of its execution, then one or two monitoring rounds within three months (so no plan
evaluation is due) of which the last decides `afschalen`, a warm hand-over, the aftercare check when the process's
own timer (P3M) fires, and closure. Some cases need no aftercare and close right after scaling down.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from engine.reports.history.driver import HistoryDriver
from engine.reports.history.workdays import Cursor, add_working_days, office_time

REGISSEURS = ("Sanne de Regisseur", "Tom Procesregie", "Fatima Regiehouder", "Joost van de Regie")
CASUSREGISSEURS = (
    {"organisatie": "MaSS (Maatschappelijke Steunsystemen)", "naam": "Mo Maatje"},
    {"organisatie": "Lokaal (wijk)team", "naam": "Wim Wijkteam"},
    {"organisatie": "GGZ", "naam": "Gea de Behandelaar"},
    {"organisatie": "Reclassering", "naam": "Ruud Reclassering"},
)
PARTNERS = (
    ("Politie", "Wijkagent Wessel", "Overlast en incidenten in de wijk"),
    ("GGZ", "Gea de Behandelaar", "Behandeling en bemoeizorg"),
    ("Veilig Thuis", "Vera Veilig", "Zorgen over veiligheid in het gezin"),
    ("Woningcorporatie", "Wendy Wonen", "Huurachterstand en woonoverlast"),
    ("Reclassering", "Ruud Reclassering", "Toezicht na een veroordeling"),
    ("Gemeente", "Gert Gemeente", "Schuldhulp en bestuurlijke maatregelen"),
)
OVERDRACHT = (
    ("Lokaal (wijk)team", "Wim Wijkteam", "Wijkteam houdt maandelijks contact; signalen gaan naar het ZVH."),
    ("GGZ", "Gea de Behandelaar", "GGZ zet de behandeling voort en meldt uitval aan het ZVH."),
    ("MaSS (Maatschappelijke Steunsystemen)", "Mo Maatje", "MaSS begeleidt bij wonen en geld."),
)
DOELEN = {
    "Wonen": ("Huisuitzetting voorkomen", "Geen huurachterstand"),
    "Financiën en schulden": ("Schulden in beeld en onder bewind", "Aanvraag schuldhulp gedaan"),
    "Psychische gezondheid": ("In behandeling", "Wekelijks contact met de behandelaar"),
    "Veiligheid omgeving (overlast)": ("Overlast stopt", "Geen meldingen van overlast in een maand"),
    "Verslaving": ("Minder middelengebruik", "In behandeling bij de verslavingszorg"),
    "Huiselijk geweld": ("Veiligheid in huis", "Veiligheidsplan afgesproken en nageleefd"),
    "Radicalisering en extremisme": ("Afstand van extremistische netwerken", "Gesprekken met de begeleider nagekomen"),
    "Werk en dagbesteding": ("Zinvolle dagbesteding", "Werktraject gestart"),
}
DEFAULT_DOEL = ("Stabiele situatie", "Afspraken met partners nagekomen")


def run_procesregie(driver: HistoryDriver, rng: random.Random, instance: int, leefgebieden: list[str]) -> None:
    """Drive the procesregie case `instance` (just handed over, the clock at its start) to `completed`."""
    cursor = Cursor(rng, driver.clock.now())
    regisseur = rng.choice(REGISSEURS)
    deelnemers = [{"organisatie": o, "naam": n} for o, n, _ in rng.sample(PARTNERS, rng.randint(2, 4))]
    casusregisseur = rng.choice(CASUSREGISSEURS)

    vertrouwelijkheid = rng.choice(("vertrouwelijk", "vertrouwelijk", "zaakvertrouwelijk"))
    driver.complete_at(
        cursor.later(1, 2),
        instance,
        "Task_intake",
        {"procesregisseur": regisseur, "vertrouwelijkheid": vertrouwelijkheid},
    )
    overleg = add_working_days(cursor.now.date(), rng.randint(4, 7))
    motivering = "; ".join(f"{o}: {why}" for o, _, why in PARTNERS if o in {d["organisatie"] for d in deelnemers})
    driver.complete_at(
        cursor.later(1, 2),
        instance,
        "Task_voorbereiden",
        {
            "overleg_datum": overleg.isoformat(),
            "voorzitter": regisseur,
            "deelnemers": deelnemers,
            "deelnemers_motivering": motivering,
            "agenda": ["Gezamenlijk beeld", "Doelen per leefgebied", "Casusregisseur"],
        },
    )
    cursor.to(office_time(rng, overleg, earliest=9, latest=14))
    driver.complete_at(
        cursor.now,
        instance,
        "Task_casusoverleg",
        {
            "overleg_type": "ICO",
            "overleg_gehouden_op": cursor.day,
            "deelnemers": [{**d, "aanwezig": True} for d in deelnemers],
            "gedeeld_beeld": "De problemen op de leefgebieden versterken elkaar; geen partner kan het alleen oplossen.",
            "besluiten": [f"{casusregisseur['organisatie']} wordt casusregisseur", "Eén plan van aanpak"],
        },
    )
    doelen = [g for g in leefgebieden if g in DOELEN] or ["Wonen"]
    driver.complete_at(
        cursor.later(2, 5),
        instance,
        "Task_plan",
        {
            "doelen": [{"leefgebied": g, "doel": DOELEN[g][0], "indicator": DOELEN[g][1]} for g in doelen[:3]],
            "casusregisseur": dict(casusregisseur),
            "evaluatiedatum": (cursor.now.date() + timedelta(days=90)).isoformat(),
        },
    )
    driver.complete_at(
        cursor.later(2, 5),
        instance,
        "Task_uitvoering",
        {
            "start_uitvoering": cursor.day,
            "uitvoerende_partners": [{"organisatie": d["organisatie"]} for d in deelnemers],
        },
    )
    monitoring_start = cursor.now
    rounds = ["doorgaan", "afschalen"] if rng.random() < 0.15 else ["afschalen"]
    for number, besluit in enumerate(rounds):
        weeks = rng.randint(5, 6) if number == 0 else rng.randint(3, 4)
        cursor.to(cursor.now + timedelta(weeks=weeks))
        driver.complete_at(
            cursor.later(0, 1),
            instance,
            "Task_voortgang",
            {
                "voortgang_datum": cursor.day,
                "voortgang": "Partners werken volgens plan; de situatie stabiliseert."
                if besluit == "afschalen"
                else "Eerste doelen in gang gezet; nog niet stabiel.",
                "nieuw_incident": False,
                "stagnatie": False,
            },
        )
        driver.complete_at(
            cursor.later(1, 3),
            instance,
            "Task_vervolgoverleg",
            {
                "vervolgoverleg_datum": cursor.day,
                "vervolg_deelnemers": deelnemers[:2],
                "monitoringsbesluit": besluit,
                "monitoringsmotivering": "Doelen bereikt, de situatie is stabiel."
                if besluit == "afschalen"
                else "Doorgaan: de ingezette hulp moet eerst landen.",
            },
        )
    assert cursor.now - monitoring_start < timedelta(days=88), "a plan evaluation would be due"
    naar = rng.choice(OVERDRACHT)
    nazorg = rng.random() < 0.85
    afschalen: dict[str, Any] = {"afschaaldatum": "", "nazorg_nodig": nazorg}
    if nazorg:
        afschalen |= {
            "warme_overdracht_naar": {"organisatie": naar[0], "contactpersoon": naar[1]},
            "overdracht_afspraken": naar[2],
        }
    else:
        afschalen |= {
            "reden_geen_nazorg": rng.choice(
                ("Betrokkene is verhuisd buiten de regio.", "Betrokkene is opgenomen in een kliniek.")
            )
        }
    cursor.later(1, 5)
    driver.complete_at(cursor.now, instance, "Task_afschalen", {**afschalen, "afschaaldatum": cursor.day})
    if nazorg:
        due = driver.next_timer(instance)
        assert due is not None
        driver.at(cursor.to(due))
        driver.fire_timers(instance)
        driver.complete_at(
            cursor.later(1, 5),
            instance,
            "Task_nazorgcheck",
            {
                "nazorgcheck_datum": cursor.day,
                "situatie_stabiel": True,
                "nazorg_bevindingen": "De overdracht werkt; de situatie is stabiel gebleven.",
            },
        )
    driver.complete_at(
        cursor.later(1, 4),
        instance,
        "Task_afsluiten",
        {
            "afsluitreden": "doelen_behaald" if nazorg else "overgedragen",
            "einddatum": cursor.day,
            "doelen_bereikt": rng.choice(("ja", "ja", "deels")),
            "evaluatie": "Samenwerking verliep goed; doelen grotendeels gehaald.",
        },
    )
    if driver.status(instance) != "completed":
        raise AssertionError(f"procesregie {instance} did not complete: {driver.open(instance)}")
