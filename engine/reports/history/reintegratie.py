"""Re-integratie ex-gedetineerden in the history: DJI's melding begin detentie through to the destruction of the data.

Every case takes the common route of a detainee who needs no procesregie: the coordinator screens the five
basisvoorwaarden within days, DJI shares the D&R-plan, DJI, the gemeente and the reclassering each arrange their
part well before the release date, DJI reports the release in the week before it, the coordinator decides on
gemeentelijke nazorg (not complex: a complex case would start procesregie, which only the complex-case history
does), the gemeente makes contact, the coordinator checks three months after release and destroys the data when the
retention period (six months after release) nears its end, which closes the case.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from engine.monitor.norms import LOCAL
from engine.reports.history.activities_common import (
    GEMEENTEN_2021,
    ActivityPeople,
    Case,
    gemeente,
    iso,
    later,
    next_working_day,
    office_hours,
    starts,
)
from engine.reports.history.driver import HistoryDriver

KEY = "reintegratie"
PI = ("PI Breda", "PI Breda", "PI Breda", "PI Vught", "PI Middelburg", "PI Grave", "PI Zuid-West, Dordrecht")
FIELDS = ("id_bewijs", "onderdak", "werk_en_inkomen", "schulden", "zorg")
#: Each basisvoorwaarde's task, and the organisation that usually arranges it.
TASKS = {
    "id_bewijs": ("Task_id_bewijs", "Dienst Justitiële Inrichtingen"),
    "onderdak": ("Task_onderdak", "Gemeente"),
    "werk_en_inkomen": ("Task_werk_inkomen", "Gemeente"),
    "schulden": ("Task_schulden", "Gemeente"),
    "zorg": ("Task_zorg", "Reclassering"),
}
WOONSITUATIE = {
    "eigen_woning": 30,
    "familie_of_netwerk": 40,
    "maatschappelijke_opvang": 15,
    "beschermd_wonen_of_kliniek": 8,
    "zonder_vaste_verblijfplaats": 7,
}
AFSPRAKEN_DR = (
    "ID-kaart aanvragen vóór ontslag; aanmelding bij de gemeente voor inkomen.",
    "Schuldenoverzicht maken met de schuldhulpverlening; woonplek bij familie bespreken.",
    "Aanmelding verslavingszorg na ontslag; ID-bewijs is geldig.",
    "Arbeidstoeleiding via het werkgeversservicepunt; schulden in kaart brengen.",
)
NAZORG = (
    "Eerste gesprek met de klantmanager; uitkering aangevraagd.",
    "Wekelijks contact in de eerste maand; daarna op afroep.",
    "Warme overdracht aan het wijkteam; schuldhulp loopt.",
)
CONTACTPERSONEN = ("Consulent nazorg", "Klantmanager werk en inkomen", "Wijkteammedewerker", "Coördinator nazorg")


def _status(rng: random.Random) -> dict[str, str]:
    return rng.choices(
        [{"status": "geregeld"}, {"status": "in_behandeling"}, {"status": "niet_geregeld"}], weights=[3, 3, 4]
    )[0]


def _detention(rng: random.Random, reported: datetime) -> tuple[str, str]:
    """When the detainee came in (shortly before the melding) and is expected out (mostly within a year)."""
    came_in = reported.astimezone(LOCAL).date() - timedelta(days=rng.randint(2, 21))
    months = rng.choices([2, 3, 4, 6, 9, 12, 18, 24], weights=[14, 18, 16, 16, 12, 12, 7, 5])[0]
    out = came_in + timedelta(days=months * 30 + rng.randint(-10, 10))
    out = max(out, reported.astimezone(LOCAL).date() + timedelta(days=60))
    return came_in.isoformat(), out.isoformat()


def one_case(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, reported: datetime) -> Case:
    """One detainee from the melding begin detentie to the destruction of the data."""
    woont = gemeente(rng, GEMEENTEN_2021)
    came_in, out = _detention(rng, reported)
    release = datetime.fromisoformat(out).replace(tzinfo=LOCAL)
    melding = {
        "detentie": {"pi": rng.choice(PI), "datum_in": came_in, "datum_uit": out, "verlof": rng.random() < 0.3},
        "betrokkenen": [people.betrokkene(born_between=(1960, 2002))],
        "gemeente": woont,
    }
    case = Case.start(driver, KEY, melding, as_role="dji", at=reported)
    screened = later(reported, rng, (1, 7))
    basis = {f: {**_status(rng), "verantwoordelijke": TASKS[f][1]} for f in FIELDS}
    case.step("Task_screening", {"screening_datum": iso(screened), "basisvoorwaarden": basis}, at=screened)
    shared = later(screened, rng, (1, 10))
    dr_plan = {
        "dr_plan_ontvangen": iso(shared),
        "casemanager_dji": f"Casemanager {rng.choice(('Jansen', 'De Bruijn', 'Van Dijk', 'Bakker', 'Smits'))}",
        "afspraken_dr_plan": rng.choice(AFSPRAKEN_DR),
    }
    case.step("Task_dr_plan", dr_plan, at=shared)
    # Each party arranges its basisvoorwaarde at its own pace, all at least sixteen days before the release.
    latest = (release - timedelta(days=16)).date()
    window = max(1, min(60, (latest - shared.astimezone(LOCAL).date()).days))
    arranged = sorted((later(shared, rng, (1, window)), f) for f in FIELDS)
    for moment, f in arranged:
        task, party = TASKS[f]
        status = rng.choices(["geregeld", "in_behandeling", "nvt"], weights=[80, 17, 3])[0]
        value = {"status": status, "verantwoordelijke": party}
        if status == "nvt":
            value = {"status": "nvt", "toelichting": "Niet nodig volgens de screening."}
        case.step(task, {f: value}, at=max(moment, case.now))
    asked = case.wait("Timer_ontslagdatum")  # a week before the release DJI's standing task to move the date ends
    reported_out = later(asked, rng, (0, 3))
    if reported_out.date() > release.date():
        reported_out = asked + timedelta(hours=2)
    woonsituatie = rng.choices(list(WOONSITUATIE), weights=list(WOONSITUATIE.values()))[0]
    einde = {
        "datum_uit_definitief": out,
        "gemeente": woont if rng.random() < 0.94 else gemeente(rng, GEMEENTEN_2021),
        "woonsituatie_na_detentie": woonsituatie,
        "bijzondere_voorwaarden": rng.random() < 0.35,
        "toezicht_reclassering": rng.random() < 0.4,
    }
    case.step("Task_melding_einde", einde, at=reported_out)
    decided = later(max(release, reported_out), rng, (0, 4))
    motivering = "Basisvoorwaarden op orde of in behandeling; gemeentelijke nazorg volstaat."
    case.step("Task_vervolg", {"complexe_casus": False, "motivering_vervolg": motivering}, at=decided)
    contact = later(decided, rng, (1, 14))
    nazorg = {
        "contactpersoon_nazorg": rng.choice(CONTACTPERSONEN),
        "eerste_contact_op": iso(contact),
        "afspraken_nazorg": rng.choice(NAZORG),
    }
    case.step("Task_nazorg", nazorg, at=contact)
    check = later(case.wait("Timer_nacontrole"), rng, (0, 4))
    situatie = {f: rng.choices(["geregeld", "in_behandeling", "niet_geregeld"], weights=[75, 20, 5])[0] for f in FIELDS}
    nacontrole = {
        "gecontroleerd_op": iso(check),
        "situatie_na_ontslag": situatie,
        "nieuwe_politiecontacten": rng.random() < 0.15,
    }
    case.step("Task_nacontrole", nacontrole, at=check)
    due = case.wait("Timer_bewaartermijn")
    destroyed = office_hours(next_working_day(due.date() + timedelta(days=rng.randint(0, 6))), rng)
    vernietiging = {
        "vernietigd_op": iso(destroyed),
        "vernietigde_bronnen": ["zaakdossier", "email_en_agenda"],
        "vernietiging_bevestigd": True,
    }
    case.step("Task_vernietigen", vernietiging, at=max(destroyed, due))
    case.done()
    return case


def generate_reintegratie(
    driver: HistoryDriver, rng: random.Random, people: ActivityPeople, *, year: int, count: int
) -> int:
    """`count` meldingen begin detentie in `year`, each driven to its end; returns how many were started."""
    for reported in starts(rng, year, count):
        one_case(driver, rng, people, reported)
    return count
