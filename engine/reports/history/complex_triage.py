"""One referral of the history through aanmelding_triage: submitted, screened, triaged, fed back — to `completed`.

The outcome is planned (`Referral.outcome`): `procesregie` (triage hands over; the procesregie case is driven on),
`doorverwijzen` (to a partner, recorded; to Veilig Thuis with the overdracht recorded), `afwijzen` (declined with
advice), `onvolledig` (still incomplete after two rounds of additions: declined, not a melding) or `radicalisering`
(a radicalisation signal: to the Weegploeg, not a melding; the melder hears so). The weekly triage moment is the
process's own timer; the history only chooses when screening finishes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.monitor.norms import LOCAL
from engine.reports.history.driver import HistoryDriver
from engine.reports.history.people import People
from engine.reports.history.procesregie_paths import run_procesregie
from engine.reports.history.workdays import Cursor

MELDERS = (
    ("Politie", "Wijkagent Wessel", "wessel.wijkagent@politie.example"),
    ("Lokaal (wijk)team", "Wim Wijkteam", "wim@wijkteam.example"),
    ("Woningcorporatie", "Wendy Wonen", "wendy@woonstichting.example"),
    ("GGZ", "Gea de Behandelaar", "gea@ggz.example"),
    ("Gemeente", "Gert Gemeente", "gert@gemeente.example"),
    ("Veilig Thuis", "Vera Veilig", "vera@veiligthuis.example"),
    ("Reclassering", "Ruud Reclassering", "ruud@reclassering.example"),
)
AANLEIDINGEN = (
    (
        ("Wonen", "Financiën en schulden", "Veiligheid omgeving (overlast)"),
        "Herhaalde overlast en huurschuld; dreigende huisuitzetting.",
    ),
    (("Psychische gezondheid", "Veiligheid omgeving (overlast)"), "Verward gedrag en overlast; zorgmijding."),
    (("Huiselijk geweld", "Opvoeding en ontwikkeling"), "Zorgen over geweld in het gezin en over de kinderen."),
    (("Verslaving", "Justitie en criminaliteit", "Wonen"), "Verslaving, kleine criminaliteit en dreigend dakloos."),
    (
        ("Financiën en schulden", "Psychische gezondheid", "Sociaal netwerk"),
        "Schulden en isolement; partners lopen vast.",
    ),
)
VERRIJKERS = ("Politie", "Veilig Thuis", "GGZ", "Reclassering")
TAFEL = ["Zorg- en Veiligheidshuis", "Politie", "MaSS (Maatschappelijke Steunsystemen)", "Veilig Thuis", "GGZ"]
DOORVERWIJZINGEN = (
    ("lokaal_team", "Lokaal (wijk)team", "Wim Wijkteam", "Het lokale team kan dit met de betrokken partners oppakken."),
    ("veilig_thuis", "Veilig Thuis", "Vera Veilig", "Veilig Thuis neemt de zorgen over het gezin op."),
    ("partner", "GGZ", "Gea de Behandelaar", "De GGZ kan de zorg regelen; geen ketenregie nodig."),
)


@dataclass
class Referral:
    """A planned referral: submitted at `submitted`, for `gemeente`, with a planned outcome."""

    submitted: datetime
    gemeente: str
    outcome: str
    #: when screening finishes (a cross-year referral: just after the last December triage's deadline)
    screened: datetime | None = None
    spoed: bool = False


def aanmelding(rng: random.Random, people: People, referral: Referral) -> dict[str, Any]:
    person = people.person()
    organisatie, naam, email = rng.choice(MELDERS)
    leefgebieden, aanleiding = rng.choice(AANLEIDINGEN)
    data: dict[str, Any] = {
        "aanmelddatum": referral.submitted.astimezone(LOCAL).date().isoformat(),
        "melder": {"organisatie": organisatie, "naam": naam, "email": email},
        "gemeente": referral.gemeente,
        "betrokkenen": [
            {
                "naam": person.naam,
                "bsn": person.bsn,
                "geboortedatum": person.geboortedatum.isoformat(),
                "rol": "hoofdbetrokkene",
            }
        ],
        "aanleiding": aanleiding,
        "doel_casusoverleg": "Eén gezamenlijk plan en één regisseur.",
        "leefgebieden": list(leefgebieden),
        "betrokkene_geinformeerd": rng.random() < 0.85,
        "spoed": referral.spoed,
        "radicaliseringssignaal": False,
    }
    if not data["betrokkene_geinformeerd"]:
        data["reden_niet"] = "veiligheidsrisico"
    if referral.spoed:
        data["spoed_toelichting"] = "Dreigende escalatie; wachten op de weekelijkse triage kan niet."
    return data


def run_referral(driver: HistoryDriver, rng: random.Random, people: People, referral: Referral) -> dict[str, int]:
    """Drive one referral to its end; returns the ids of what it started (`procesregie`, `weegploeg`)."""
    cursor = Cursor(rng, referral.submitted)
    driver.at(referral.submitted)
    form = aanmelding(rng, people, referral)
    instance = driver.start("aanmelding_triage", form, as_role="melder")
    final = referral.screened
    if referral.outcome == "onvolledig" or (
        final is None and referral.outcome != "radicalisering" and rng.random() < 0.06
    ):
        rounds = 3 if referral.outcome == "onvolledig" else 1
        for number in range(rounds):
            driver.complete_at(
                cursor.later(0, 1),
                instance,
                "Task_volledigheid",
                {"aanmelding_volledig": False, "ontbrekend": "De betrokken partners en hun rol ontbreken."},
            )
            if number == 2:
                driver.complete_at(
                    cursor.later(0, 1),
                    instance,
                    "Task_afwijzen_onvolledig",
                    {
                        "advies": "Meld opnieuw aan met de betrokken partners en wat zij al doen.",
                        "motivering": "Na twee aanvulrondes nog onvolledig.",
                    },
                )
                return {}
            driver.complete_at(
                cursor.later(1, 2),
                instance,
                "Task_aanvullen",
                {**form, "doel_casusoverleg": "Eén plan, aangevuld met de partners."},
            )
    driver.complete_at(cursor.later(0, 1), instance, "Task_volledigheid", {"aanmelding_volledig": True})
    if referral.outcome == "radicalisering":
        driver.complete_at(
            cursor.later(0, 1),
            instance,
            "Task_bekendheid",
            {
                "radicaliseringssignaal": True,
                "radicalisering_toelichting": "Uit zich in de wijk positief over geweld tegen andersdenkenden.",
            },
        )
        (weegploeg,) = driver.follow_ups(instance)
        feed_back(driver, rng, cursor, instance)
        return {"weegploeg": weegploeg}
    driver.complete_at(
        cursor.later(0, 0),
        instance,
        "Task_bekendheid",
        {"radicaliseringssignaal": False},
    )
    voldoet = referral.outcome == "procesregie" or rng.random() < 0.3
    verrijker = rng.choice(VERRIJKERS)
    criteria: dict[str, Any] = {
        f"criterium_{name}": value
        for name, value in (
            ("multiproblematiek", voldoet),
            ("ketensamenwerking", voldoet),
            ("systeemimpact", voldoet),
            ("lokale_veiligheid", False),
        )
    }
    criteria |= {f"{key}_motivering": "Getoetst aan de landelijke criteria." for key in criteria}
    criteria_moment = cursor.to(final) if final is not None else cursor.later(0, 1)
    driver.complete_at(criteria_moment, instance, "Task_criteria", {**criteria, "verrijking_bij": verrijker})
    if voldoet:  # the criteria are met: a partner enriches the referral first
        driver.complete_at(
            cursor.later(0, 0) if final else cursor.later(0, 2),
            instance,
            "Task_verrijken",
            {"bijdragen": [{"organisatie": verrijker, "informatie": "Eerdere meldingen en lopende contacten."}]},
        )
    if not referral.spoed:
        due = driver.next_timer(instance)
        assert due is not None
        driver.at(cursor.to(due))
        driver.fire_timers(instance)
    same_year = cursor.now.year == referral.submitted.astimezone(LOCAL).year
    if same_year == (final is not None):
        raise AssertionError(f"referral {instance} is triaged on {cursor.now}, not in the planned year")
    besluit = {"procesregie": "procesregie_zvh", "doorverwijzen": "doorverwijzen", "afwijzen": "afwijzen_advies"}
    decision: dict[str, Any] = {
        "triagedatum": cursor.day,
        "triagetafel": TAFEL[: rng.randint(3, 5)],
        "triagebesluit": besluit[referral.outcome],
        "motivering": "Besluit na bespreking aan de triagetafel.",
    }
    verwijzing = rng.choice(DOORVERWIJZINGEN)
    if referral.outcome == "doorverwijzen":
        decision["doorverwijzing_toelichting"] = verwijzing[3]
    elif referral.outcome == "afwijzen":
        decision["advies"] = "Eerst oppakken met het lokale team; opnieuw aanmelden als dat vastloopt."
    driver.complete_at(cursor.later(0, 0), instance, "Task_triage", decision)
    triage_done = cursor.now
    made: dict[str, int] = {}
    if referral.outcome == "procesregie":
        (made["procesregie"],) = driver.follow_ups(instance)
    if referral.outcome == "doorverwijzen":
        driver.complete_at(
            cursor.later(0, 2),
            instance,
            "Task_doorverwijzen",
            {
                "doorverwezen_naar": verwijzing[0],
                "verwezen_op": cursor.day,
                "ontvanger": {"organisatie": verwijzing[1], "contactpersoon": verwijzing[2]},
                "overdracht_bevestigd": True,
            },
        )
        if verwijzing[0] == "veilig_thuis":
            driver.complete_at(
                cursor.later(0, 1),
                instance,
                "Task_overdracht_vt",
                {
                    "overgedragen_op": cursor.day,
                    "vt_contactpersoon": verwijzing[2],
                    "gedeelde_gegevens": ["identificerend", "aanleiding", "gezinssituatie"],
                    "grondslag": "meldcode",
                },
            )
    feed_back(driver, rng, cursor, instance)
    if driver.status(instance) != "completed":
        raise AssertionError(f"referral {instance} did not complete: {driver.open(instance)}")
    if "procesregie" in made:
        driver.at(triage_done)
        run_procesregie(driver, rng, made["procesregie"], form["leefgebieden"])
    return made


def feed_back(driver: HistoryDriver, rng: random.Random, cursor: Cursor, instance: int) -> None:
    """The screener tells the melder the outcome (within the five working days)."""
    driver.complete_at(
        cursor.later(0, 3),
        instance,
        "Task_terugkoppeling",
        {
            "teruggekoppeld_op": cursor.day,
            "terugkoppeling_wijze": rng.choice(("telefonisch", "e-mail")),
            "melder_informeert_betrokkene": True,
        },
    )
