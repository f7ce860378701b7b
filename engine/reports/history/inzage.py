"""Inzageverzoeken (AVG requests) in the history: received, decided and answered within the legal month.

Two requests for access are granted (a copy by post, or inspection at the ZVH); one request for erasure is refused
because the data is still needed for the ZVH's task. The identity is verified at once, the search includes the access
log, no partner organisations need to be asked, and no extension is needed.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from engine.reports.history.activities_common import GEMEENTEN_2021, ActivityPeople, Case, gemeente, iso, later, starts
from engine.reports.history.driver import HistoryDriver

KEY = "inzageverzoek"
BEZWAAR = "Binnen zes weken na verzending kunt u bezwaar maken (artikel 6:7 Awb)."
#: What is asked, and what is decided, per request of the year (shuffled per seed).
VERZOEKEN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("inzage", {"besluit": "toegewezen", "wijze_verstrekking": "afschrift_per_post"}),
    ("inzage", {"besluit": "toegewezen", "wijze_verstrekking": "inzage_op_locatie"}),
    (
        "vernietiging",
        {
            "besluit": "afgewezen",
            "weigeringsgrond": "art_17_lid_3_avg_wettelijke_plicht_of_taak",
            "besluit_motivering": "De gegevens zijn nodig voor de lopende procesregie en worden daarna vernietigd.",
        },
    ),
)
STRATEN = ("Ginnekenweg", "Haagweg", "Heuvelstraat", "Markt", "Nieuwstraat", "Kerkstraat")


def one_case(
    driver: HistoryDriver,
    rng: random.Random,
    people: ActivityPeople,
    received: datetime,
    soort: str,
    besluit: dict[str, Any],
) -> Case:
    woont = gemeente(rng, GEMEENTEN_2021)
    person = people.person(born_between=(1965, 2000))
    verzoek: dict[str, Any] = {
        "ontvangen": iso(received),
        "soort": soort,
        "kanaal": rng.choice(["post", "email", "balie"]),
        "verzoeker": {
            "naam": person.naam,
            "hoedanigheid": "betrokkene_zelf",
            "adres": {
                "straat": rng.choice(STRATEN),
                "huisnummer": str(rng.randint(1, 180)),
                "postcode": f"48{rng.randint(11, 39)} {rng.choice(['AB', 'CD', 'KL', 'RS'])}",
                "woonplaats": woont,
            },
        },
        "naam_betrokkene": person.naam,
        "gemeente": woont,
    }
    case = Case.start(driver, KEY, verzoek, as_role="privacyfunctionaris", at=received)
    moment = later(received, rng, (1, 3))
    case.step("Task_identiteit", {"id_geverifieerd": True, "wijze_verificatie": "afgeschermde_kopie_id"}, at=moment)
    case.step(
        "Task_persoon", {"naam_betrokkene": person.naam, "bsn_betrokkene": person.bsn}, at=later(moment, rng, (0, 1))
    )
    zoeken = {
        "doorzochte_bronnen": ["casusdossiers", "registratiesysteem", "toegangslogging"],
        "gegevens_aangetroffen": True,
        "aantal_documenten": rng.randint(3, 25),
        "logging_overzicht_gemaakt": True,
    }
    case.step("Task_zoeken", zoeken, at=later(case.now, rng, (1, 5)))
    case.step("Task_afscherming", {"afscherming": []}, at=later(case.now, rng, (1, 3)))
    uitzonderingen = {"uitzondering_van_toepassing": False, "gegevens_derden": False, "verlenging_nodig": False}
    case.step("Task_uitzonderingen", uitzonderingen, at=later(case.now, rng, (0, 2)))
    decided = later(case.now, rng, (1, 4))
    case.step("Task_besluit", {**besluit, "besluitdatum": iso(decided)}, at=decided)
    written = later(decided, rng, (0, 2))
    brief = {
        "brief_datum": iso(written),
        "kenmerk": f"AVG-{written.year}-{rng.randint(1, 40):03d}",
        "inhoud": "U ontvangt ons besluit op uw verzoek en, waar toegewezen, de gevraagde gegevens.",
        "bezwaarclausule": BEZWAAR,
        "ondertekenaar": "Manager ZVH De Baronie",
    }
    case.step("Task_brief", brief, at=written)
    sent = later(written, rng, (0, 2))
    case.step("Task_verzenden", {"verzonden_op": iso(sent), "verzendwijze": "aangetekend"}, at=sent)
    case.done()
    return case


def generate_inzage(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, *, year: int, count: int) -> int:
    verzoeken = [VERZOEKEN[i % len(VERZOEKEN)] for i in range(count)]
    rng.shuffle(verzoeken)
    for received, (soort, besluit) in zip(starts(rng, year, count, until=None), verzoeken, strict=True):
        one_case(driver, rng, people, received, soort, besluit)
    return count
