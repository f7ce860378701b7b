"""Zorgcoördinatie mensenhandel in the history: from a professional's signal to the closure of the zorgcoördinatie.

About one signal in six turns out not to be human trafficking and is referred elsewhere. The others are reported to
CoMensha; a few are minors (jeugdbescherming) or in acute danger (the police act first). Victims without a right of
residence are offered the bedenktijd: some start it and decide on an aangifte within weeks, some report at once; an
aangifte leads to a residence permit application, no aangifte to the end of the right of residence. Hulpverlening and
opvang are arranged meanwhile; after one to three monitoring rounds the zorgcoördinator closes the case. No case goes
to procesregie (that route belongs to the complex-case history).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from engine.reports.history.activities_common import (
    GEMEENTEN_2021,
    ActivityPeople,
    Case,
    gemeente,
    iso,
    iso_moment,
    later,
    starts,
)
from engine.reports.history.driver import HistoryDriver

KEY = "mensenhandel_zorgcoordinatie"
MELDERS = {
    "Politie": 8,
    "Lokaal (wijk)team": 6,
    "GGZ": 3,
    "Veilig Thuis": 3,
    "Koninklijke Marechaussee": 2,
    "Huisarts": 1,
}
MELDER_NAMEN = ("Wendy de Wit", "Rik van Loon", "Sanne Maas", "Jeroen Kok", "Fatima el Amrani", "Inge Bosman")
VORMEN = {"seksueel": 5, "arbeid": 4, "crimineel": 3}
INDICATOREN = {
    "seksueel": ["signalen_loverboy_of_pooier", "onder_controle_van_derden", "geen_vrije_beschikking_over_inkomsten"],
    "arbeid": ["excessieve_werktijden", "woont_op_werk_of_bij_uitbuiter", "schuld_aan_werkgever_of_tussenpersoon"],
    "crimineel": ["gedwongen_tot_strafbare_feiten", "bedreiging_of_geweld", "onder_controle_van_derden"],
}
NATIONALITEIT = {
    "nederlander": ["Nederlandse"],
    "eu_burger": ["Roemeense", "Poolse", "Bulgaarse", "Hongaarse"],
    "rechtmatig_verblijf": ["Marokkaanse", "Turkse"],
    "geen_verblijfsrecht": ["Nigeriaanse", "Oekraïense", "Vietnamese", "Braziliaanse"],
}
OMSCHRIJVING = {
    "seksueel": "Jonge vrouw werkt via een 'vriend' in de prostitutie en draagt al haar inkomsten aan hem af.",
    "arbeid": "Arbeidsmigrant werkt zes dagen van twaalf uur, woont bij de werkgever en betaalt een schuld af.",
    "crimineel": "Jongere wordt onder dreiging ingezet als drugskoerier en moet een 'schuld' terugbetalen.",
}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _signal(rng: random.Random, people: ActivityPeople, at: datetime, *, minor: bool, acute: bool) -> dict[str, Any]:
    vorm = "crimineel" if minor and rng.random() < 0.6 else _pick(rng, VORMEN)
    status = (
        "nederlander"
        if minor
        else _pick(rng, {"nederlander": 9, "eu_burger": 6, "rechtmatig_verblijf": 1, "geen_verblijfsrecht": 4})
    )
    born = (2004, 2007) if minor else (1975, 2002)
    slachtoffer = people.betrokkene(rol="slachtoffer", born_between=born)
    if status == "geen_verblijfsrecht":
        slachtoffer.pop("bsn")  # without a right of residence there is no BSN yet
    return {
        "signaaldatum": iso(at),
        "melder": {
            "organisatie": _pick(rng, MELDERS),
            "naam": rng.choice(MELDER_NAMEN),
            "telefoon": f"06 {rng.randint(10_000_000, 99_999_999)}",
        },
        "gemeente": gemeente(rng, GEMEENTEN_2021),
        "regio": "de_baronie",  # the 2021 signals all came from the nine gemeenten of the district
        "betrokkenen": [slachtoffer],
        "uitbuitingsvorm": vorm,
        "indicatoren": rng.sample(INDICATOREN[vorm], 2),
        "nationaliteit": rng.choice(NATIONALITEIT[status]),
        "verblijfsstatus": status,
        "minderjarig": minor,
        "acuut_gevaar": acute,
        "omschrijving": OMSCHRIJVING[vorm],
    }


def _opvang(rng: random.Random, signaal: dict[str, Any], start: str) -> dict[str, Any]:
    """Where the victim stays: youth care for a minor, categorial shelter without a right of residence, else either."""
    if signaal["minderjarig"]:
        return {"opvangtype": "jeugd", "opvanglocatie": "Jeugdzorginstelling", "opvang_start": start}
    if signaal["verblijfsstatus"] == "geen_verblijfsrecht":
        locatie = "COSM Noord-Brabant"
        return {
            "opvangtype": "categorale_opvang",
            "opvanglocatie": locatie,
            "opvang_start": start,
            "geplaatst_via": "comensha",
        }
    if rng.random() < 0.5:
        soort = "vrouwenopvang" if signaal["uitbuitingsvorm"] == "seksueel" else "maatschappelijke_opvang"
        locatie = "Opvang in de regio"
        return {"opvangtype": soort, "opvanglocatie": locatie, "opvang_start": start, "geplaatst_via": "gemeente"}
    return {"opvangtype": "geen", "reden_geen_opvang": "Woont veilig bij familie."}


def _opvang_gemeente(signaal: dict[str, Any], opvang: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The gemeente's ground for the opvang: the Jeugdwet for a minor, the Wmo 2015 for a shelter it arranged."""
    if signaal["minderjarig"]:
        grondslag = "jeugdwet"
    elif opvang.get("geplaatst_via") == "gemeente":
        grondslag = "wmo"
    else:
        grondslag = "geen_gemeentelijke_opvang"
    return {"opvang_grondslag": grondslag, "opvang_bevestigd_op": iso(at)}


def _afsluiting(rng: random.Random, signaal: dict[str, Any], *, aangifte: bool) -> dict[str, Any]:
    if signaal["verblijfsstatus"] == "geen_verblijfsrecht" and not aangifte:
        return {"afsluitreden": "terug_naar_land_van_herkomst"}
    reden = _pick(rng, {"overgedragen": 5, "doelen_bereikt": 4, "verhuisd": 1, "geen_contact_meer": 1})
    if reden != "overgedragen":
        return {"afsluitreden": reden}
    partners = ["Lokaal (wijk)team", "GGZ", *(["Jeugdbescherming"] if signaal["minderjarig"] else [])]
    return {"afsluitreden": reden, "overgedragen_aan": rng.choice(partners)}


def one_case(driver: HistoryDriver, rng: random.Random, people: ActivityPeople, at: datetime, kind: str) -> Case:
    """One signal: `kind` is `geen` (no trafficking), `minderjarig`, `acuut` or `volwassen`."""
    acute = kind == "acuut" or (kind == "minderjarig" and rng.random() < 0.4)
    signaal = _signal(rng, people, at, minor=kind == "minderjarig", acute=acute)
    case = Case.start(driver, KEY, signaal, as_role="melder", at=at)
    if signaal["acuut_gevaar"]:
        acted = at + timedelta(minutes=rng.randint(20, 90))
        acuut = {
            "politie_ingezet_op": iso_moment(acted),
            "maatregelen_politie": "Slachtoffer uit de situatie gehaald en naar een veilige plek gebracht.",
            "slachtoffer_veilig": True,
        }
        case.step("Task_acuut", acuut, at=acted + timedelta(minutes=rng.randint(30, 120)))
    assessed = later(case.now, rng, (0, 3))
    if kind == "geen":
        geen = {
            "beoordeling": "geen_mensenhandel",
            "beoordeling_motivering": "Arbeidsconflict zonder dwang of uitbuiting.",
            "doorverwezen_naar": rng.choice(["Lokaal (wijk)team", "Gemeente", "GGZ"]),
        }
        case.step("Task_beoordelen", geen, at=assessed)
        case.done()
        return case
    motivering = "Signalen van dwang en geen vrije beschikking over inkomsten: mogelijk slachtoffer."
    case.step(
        "Task_beoordelen", {"beoordeling": "mogelijk_slachtoffer", "beoordeling_motivering": motivering}, at=assessed
    )
    reported = later(assessed, rng, (0, 2))
    comensha = {"comensha_gemeld": iso(reported), "comensha_kenmerk": f"CM-{reported.year}-{rng.randint(1000, 9999)}"}
    case.step("Task_comensha", {**comensha, "melding_geanonimiseerd": False}, at=reported)
    if signaal["minderjarig"]:
        jeugd = {"jeugdbescherming_ingeschakeld_op": iso(reported), "veilig_thuis_gemeld": True, "voogdij": "ouders"}
        case.step("Task_jeugd", jeugd, at=later(reported, rng, (0, 1)))
    status = signaal["verblijfsstatus"]
    police: list[tuple[datetime, str, dict[str, Any] | None]] = []
    aangifte = rng.random() < 0.5
    if status == "geen_verblijfsrecht":
        offered = later(case.now, rng, (0, 2))
        if rng.random() < 0.6:
            aanbod = {
                "bedenktijd_aangeboden_op": iso(offered),
                "bedenktijd_geaccepteerd": True,
                "bedenktijd_start": iso(offered),
            }
            case.step("Task_bedenktijd", aanbod, at=offered)
            decided = later(offered, rng, (20, 70))  # the victim decides within the bedenktijd of three months
            police.append((decided, "Task_bedenktijd_loopt", None))
        else:
            aanbod = {
                "bedenktijd_aangeboden_op": iso(offered),
                "bedenktijd_geaccepteerd": False,
                "reden_geen_bedenktijd": "Het slachtoffer wil direct aangifte doen.",
            }
            case.step("Task_bedenktijd", aanbod, at=offered)
            decided = offered
            aangifte = True
    else:
        decided = later(case.now, rng, (5, 40))
    reported_to_police = later(decided, rng, (0, 7))
    if aangifte:
        police.append(
            (reported_to_police, "Task_aangifte", {"aangifte": True, "aangifte_datum": iso(reported_to_police)})
        )
        if status == "geen_verblijfsrecht":
            permit = later(reported_to_police, rng, (1, 5))
            police.append((permit, "Task_verblijfsvergunning", {"verblijfsvergunning_aangevraagd_op": iso(permit)}))
    else:
        reden = rng.choice(["Angst voor represailles tegen familie.", "Wil de uitbuiter niet aangeven."])
        police.append((reported_to_police, "Task_aangifte", {"aangifte": False, "reden_geen_aangifte": reden}))
        if status == "geen_verblijfsrecht":
            lapsed = later(reported_to_police, rng, (5, 20))
            police.append(
                (
                    lapsed,
                    "Task_verblijf_vervalt",
                    {"verblijf_vervallen_op": iso(lapsed), "terugkeerondersteuning": "iom"},
                )
            )
    start = case.now
    hulp_moment, opvang_moment = later(start, rng, (2, 12)), later(start, rng, (0, 5))
    hulp = {
        "hulpverlening": {
            "brp_inschrijving_bsn": "geregeld" if status != "geen_verblijfsrecht" else "in_behandeling",
            "zorgverzekering": "geregeld",
            "uitkering_of_inkomen": rng.choice(["geregeld", "in_behandeling"]),
            "advocaat": "geregeld" if aangifte else "niet_nodig",
            "medische_zorg": rng.choice(["geregeld", "niet_nodig"]),
            "psychische_zorg": rng.choice(["geregeld", "in_behandeling"]),
        }
    }
    opvang = _opvang(rng, signaal, iso(opvang_moment))
    bevestigd = opvang_moment + timedelta(days=1)
    steps = sorted(
        [
            *police,
            (hulp_moment, "Task_hulpverlening", hulp),
            (opvang_moment, "Task_opvang", opvang),
            (bevestigd, "Task_opvang_gemeente", _opvang_gemeente(signaal, opvang, bevestigd)),
        ],
        key=lambda s: s[0],
    )
    for moment, task, data in steps:
        case.step(task, data, at=max(moment, case.now))
    rounds = rng.choices([1, 2, 3], weights=[3, 4, 2])[0]
    monitored = later(case.now, rng, (21, 45))
    for round_number in range(1, rounds + 1):
        next_round = later(monitored, rng, (25, 40))
        vervolg = "afsluiten" if round_number == rounds else "doorgaan"
        monitoring = {
            "monitoringsdatum": iso(monitored),
            "voortgang": "Volgt hulpverlening; contact met het slachtoffer is goed.",
            "veiligheid": "stabiel",
            "vervolg": vervolg,
        }
        if vervolg == "doorgaan":
            monitoring["volgende_monitoring"] = iso(next_round)
        case.step("Task_monitoring", monitoring, at=monitored)
        monitored = next_round
    closed = later(case.now, rng, (1, 10))
    afsluiting = _afsluiting(rng, signaal, aangifte=aangifte)
    case.step("Task_afsluiten", {"afsluitdatum": iso(closed), **afsluiting, "evaluatie": "Zorg geborgd."}, at=closed)
    case.done()
    return case


def generate_mensenhandel(
    driver: HistoryDriver, rng: random.Random, people: ActivityPeople, *, year: int, count: int
) -> int:
    kinds = rng.choices(["geen", "minderjarig", "acuut", "volwassen"], weights=[7, 5, 4, 25], k=count)
    for at, kind in zip(starts(rng, year, count), kinds, strict=True):
        one_case(driver, rng, people, at, kind)
    return count
