"""Datalekken and beveiligingsincidenten in the history: reported, contained, assessed and registered.

The annual report counts five incidents in the register for 2021: two security incidents that touched no personal
data (an outage, a lost but encrypted laptop) and three data breaches without risk for the people concerned, so not
reportable to the Autoriteit Persoonsgegevens (e-mail to a wrong partner address, a letter to an old address, a file
shared too widely). Each is contained within hours, assessed within the 72 hours and registered within days.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from engine.reports.history.activities_common import Case, iso, iso_moment, later, starts
from engine.reports.history.driver import HistoryDriver

KEY = "datalek"
#: One incident per entry: the report, the containment, and the risk assessment (its category follows from it).
INCIDENTEN: tuple[tuple[dict[str, Any], str, dict[str, Any]], ...] = (
    (
        {
            "omschrijving": "Registratiesysteem een halve dag onbereikbaar door een storing bij de leverancier.",
            "aard": "beschikbaarheid",
            "categorieen": ["geen_persoonsgegevens"],
            "aantal_betrokkenen": 0,
            "bron_melding": "leverancier",
        },
        "Leverancier heeft de storing verholpen; back-up gecontroleerd.",
        {
            "persoonsgegevens_betrokken": False,
            "risico": "geen",
            "motivering": "Alleen een storing, geen gegevens verloren.",
        },
    ),
    (
        {
            "omschrijving": "Laptop van een medewerker gestolen uit de auto; de schijf is volledig versleuteld.",
            "aard": "vertrouwelijkheid",
            "categorieen": ["geen_persoonsgegevens"],
            "aantal_betrokkenen": 0,
            "bron_melding": "eigen_medewerker",
        },
        "Account geblokkeerd en laptop op afstand gewist; aangifte gedaan.",
        {
            "persoonsgegevens_betrokken": False,
            "risico": "geen",
            "motivering": "Versleutelde schijf; geen gegevens leesbaar.",
        },
    ),
    (
        {
            "omschrijving": "Verslag van een casusoverleg gemaild naar een verkeerd adres bij een ketenpartner.",
            "aard": "vertrouwelijkheid",
            "categorieen": ["naw_gegevens", "casusinformatie_zorg_en_veiligheid"],
            "aantal_betrokkenen": 2,
            "bron_melding": "eigen_medewerker",
        },
        "Ontvanger gebeld; e-mail aantoonbaar verwijderd.",
        {
            "persoonsgegevens_betrokken": True,
            "risico": "geen",
            "motivering": "Ontvanger is een ketenpartner met geheimhoudingsplicht en heeft de e-mail verwijderd.",
        },
    ),
    (
        {
            "omschrijving": "Uitnodigingsbrief naar een oud adres van de betrokkene gestuurd.",
            "aard": "vertrouwelijkheid",
            "categorieen": ["naw_gegevens"],
            "aantal_betrokkenen": 1,
            "bron_melding": "betrokkene",
        },
        "Brief ongeopend retour ontvangen van de nieuwe bewoner.",
        {"persoonsgegevens_betrokken": True, "risico": "geen", "motivering": "De brief is ongeopend teruggekomen."},
    ),
    (
        {
            "omschrijving": "Map met casusverslagen was een dag te breed gedeeld binnen het ZVH.",
            "aard": "vertrouwelijkheid",
            "categorieen": ["naw_gegevens", "casusinformatie_zorg_en_veiligheid"],
            "aantal_betrokkenen": 6,
            "bron_melding": "eigen_medewerker",
        },
        "Rechten hersteld; de toegangslogging toont geen onbevoegde inzage.",
        {
            "persoonsgegevens_betrokken": True,
            "risico": "geen",
            "motivering": "Alleen collega's met geheimhoudingsplicht; volgens de logging niet geopend.",
        },
    ),
)
GEMEENTEN = ("Breda", "Oosterhout", "Etten-Leur")


def one_case(
    driver: HistoryDriver,
    rng: random.Random,
    discovered: datetime,
    number: int,
    incident: tuple[dict[str, Any], str, dict[str, Any]],
) -> Case:
    melding, maatregelen, risico = incident
    data = {**melding, "ontdekt_op": iso_moment(discovered)}
    if risico["persoonsgegevens_betrokken"]:
        data["gemeente"] = rng.choice(GEMEENTEN)
    reported = discovered + timedelta(minutes=rng.randint(15, 120))
    case = Case.start(driver, KEY, data, as_role="procesregisseur", at=reported)
    contained = reported + timedelta(minutes=rng.randint(30, 180))
    inperking = {"maatregelen": maatregelen, "ingeperkt_op": iso_moment(contained), "incident_beeindigd": True}
    case.step("Task_inperken", inperking, at=contained)
    case.step("Task_risico", risico, at=later(contained, rng, (0, 1)))  # well within the 72 hours
    registered = later(case.now, rng, (1, 7))
    register = {
        "registernummer": f"DL-{registered.year}-{number:03d}",
        "feiten": melding["omschrijving"],
        "gevolgen": "Geen verdere verspreiding of schade bekend.",
        "corrigerende_maatregelen": maatregelen,
        "afgesloten_op": iso(registered),
    }
    case.step("Task_register", register, at=registered)
    case.done()
    return case


def generate_datalek(driver: HistoryDriver, rng: random.Random, *, year: int) -> dict[str, int]:
    """The register's incidents of `year`, all registered within it; returns the count per category."""
    incidents = list(INCIDENTEN)
    rng.shuffle(incidents)
    moments = starts(rng, year, len(incidents), until=datetime(year, 12, 10).date())
    made: dict[str, int] = {}
    for number, (discovered, incident) in enumerate(zip(moments, incidents, strict=True), start=1):
        case = one_case(driver, rng, discovered, number, incident)
        category = str(driver.data(case.id)["registratie_categorie"])
        made[category] = made.get(category, 0) + 1
    return made
