"""P5 `isd_traject`: selection of a stelselmatige dader in the ZVH overleg (legal minimum checked), reclassering
advice and gemeente input, the OM's vordering and the recorded court decision, the intramural phase (trajectplan,
return prepared, cooperation), the extramural phase under supervision with a bounded number of terugplaatsingen,
and uitstroom and nazorg under the gemeente; the measure ends at the latest two years after it was imposed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import PermissionDenied
from tests.processes.harness import ProcessDriver, days

KEY = "isd_traject"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

PIETER = {"naam": "Pieter Verzonnen", "bsn": "111222333", "geboortedatum": "1989-04-12", "rol": "hoofdbetrokkene"}
AANMELDING = {
    "gemeente": "Breda",
    "betrokkenen": [PIETER],
    "aanleiding": "Veelvuldige winkeldiefstallen en overlast in het centrum.",
}
SELECTIE = {
    "datum_overleg": "2026-03-10",
    "aantal_veroordelingen_5_jaar": 6,
    "aantal_processen_verbaal_5_jaar": 8,
    "geselecteerd": True,
    "overwegingen": "Hardnekkig patroon; eerdere interventies zonder effect.",
}
ADVIES = {
    "datum_advies": "2026-03-20",
    "advies_isd": "isd_geadviseerd",
    "toelichting_advies": "Verslaving en dakloosheid; gemotiveerd voor behandeling.",
}
INPUT = {"contactpersoon_gemeente": "Gijs Gemeente", "mogelijkheden_gemeente": "Plek in beschermd wonen na de ISD."}
VORDERING = {"isd_gevorderd": True, "datum_zitting": "2026-04-15", "motivering_vordering": "Voldoet; advies positief."}
OPGELEGD = {"uitspraak": "opgelegd", "datum_uitspraak": "2026-04-15", "datum_opgelegd": "2026-04-15"}
TRAJECTPLAN = {"trajectbegeleider": "Dirk Justitieel", "trajectplan": "Verslavingsbehandeling, dan begeleid wonen."}
TERUGKEER = {"contactpersoon_gemeente": "Gijs Gemeente", "voorbereiding_terugkeer": "Aanvraag beschermd wonen loopt."}
MEEWERKEN = {"datum_evaluatie": "2026-10-01", "meewerken": True, "evaluatie_intramuraal": "Behandeling afgerond."}
PLAATSING = {
    "extramurale_plaatsing": {
        "soort": "begeleid_wonen",
        "instelling": "Woonvoorziening De Verzonnen Hof",
        "ingangsdatum": "2026-10-15",
    }
}
TERUGPLAATSING = {
    "toezicht_uitkomst": "terugplaatsing",
    "reden_terugplaatsing": "Terugval in gebruik en een nieuw delict.",
    "verslag_toezicht": "Voorwaarden overtreden.",
}
UITSTROOM = {
    "uitstroomdatum": "2027-03-01",
    "reden_uitstroom": "traject_afgerond",
    "woonsituatie": "Begeleid wonen",
    "afspraken_nazorg": "Klantmanager en ambulant begeleider; maandelijks overleg.",
}
#: The measure was imposed on 15 April 2026 and lasts at most 24 months: its last day is 14 April 2028.
NAZORG = {"nazorg_afgerond_op": "2027-09-01", "resultaat_nazorg": "stabiel"}
EINDE_ISD = datetime(2028, 4, 14, 23, 59, 59, tzinfo=AMSTERDAM)


def roles(driver: ProcessDriver, instance: int) -> set[tuple[str, str | None]]:
    return {(t.element_id, t.role) for t in driver.tasks(instance)}


def selected(driver: ProcessDriver) -> int:
    instance = driver.start(KEY, AANMELDING, as_role="procesregisseur")
    driver.complete(instance, "Task_selectie", SELECTIE)
    return instance


def at_the_om(driver: ProcessDriver) -> int:
    instance = selected(driver)
    driver.complete(instance, "Task_reclasseringsadvies", ADVIES)
    driver.complete(instance, "Task_gemeente_input", INPUT)
    return instance


def in_the_institution(driver: ProcessDriver) -> int:
    """The ISD imposed, the trajectplan made and the return prepared: the intramural phase is evaluated."""
    instance = at_the_om(driver)
    driver.complete(instance, "Task_vordering", VORDERING)
    driver.complete(instance, "Task_uitspraak", OPGELEGD)
    driver.complete(instance, "Task_trajectplan", TRAJECTPLAN)
    driver.complete(instance, "Task_terugkeer", TERUGKEER)
    return instance


def under_supervision(driver: ProcessDriver, instance: int) -> None:
    driver.complete(instance, "Task_intramuraal", MEEWERKEN)
    driver.complete(instance, "Task_plaatsing", PLAATSING)
    assert roles(driver, instance) == {("Task_toezicht", "reclassering")}


def finish(driver: ProcessDriver, instance: int, reden: str = "traject_afgerond") -> None:
    driver.complete(instance, "Task_uitstroom", {**UITSTROOM, "reden_uitstroom": reden})
    driver.complete(instance, "Task_nazorg", {**NAZORG, "overdracht": "geen"})
    assert driver.status(instance) == "completed"


# --- voorbereidingsfase ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geselecteerd", "veroordelingen"),
    [(False, 6), (True, 2)],
    ids=["not_selected_by_the_overleg", "below_three_convictions"],
)
def test_selectie__without_selection_or_below_the_legal_minimum_there_is_no_isd(
    driver: ProcessDriver, geselecteerd: bool, veroordelingen: int
) -> None:
    instance = driver.start(KEY, AANMELDING, as_role="procesregisseur")

    driver.complete(
        instance,
        "Task_selectie",
        {**SELECTIE, "geselecteerd": geselecteerd, "aantal_veroordelingen_5_jaar": veroordelingen},
    )

    assert driver.status(instance) == "completed"
    assert driver.data(instance)["voldoet_wettelijk_minimum"] is (veroordelingen >= 3)


def test_selectie__a_selected_offender_gets_reclassering_advice_and_gemeente_input(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start(KEY, AANMELDING, as_role="om")
    instance = driver.start(KEY, AANMELDING, as_role="procesregisseur")
    refused = driver.refused(instance, "Task_selectie", {**SELECTIE, "aantal_veroordelingen_5_jaar": -1})
    assert set(refused) == {"aantal_veroordelingen_5_jaar"}

    driver.complete(instance, "Task_selectie", SELECTIE)

    assert roles(driver, instance) == {
        ("Task_reclasseringsadvies", "reclassering"),
        ("Task_gemeente_input", "gemeente"),
    }
    data = driver.data(instance)
    assert (data["voldoet_wettelijk_minimum"], data["voldoet_om_richtlijn"]) == (True, False)
    driver.complete(instance, "Task_reclasseringsadvies", ADVIES)
    assert driver.open(instance) == {"Task_gemeente_input"}
    driver.complete(instance, "Task_gemeente_input", INPUT)
    assert roles(driver, instance) == {("Task_vordering", "om")}


def test_reclasseringsadvies__not_given_within_three_weeks_escalates(driver: ProcessDriver) -> None:
    instance = selected(driver)
    driver.advance(days(21) - timedelta(seconds=1))
    assert "Task_escalatie_advies" not in driver.open(instance)

    driver.advance(timedelta(seconds=1))

    assert ("Task_escalatie_advies", "manager") in roles(driver, instance)
    driver.complete(instance, "Task_escalatie_advies")
    assert driver.open(instance) == {"Task_reclasseringsadvies", "Task_gemeente_input"}


def test_vordering__the_om_may_decide_not_to_request_isd(driver: ProcessDriver) -> None:
    instance = at_the_om(driver)
    assert set(driver.refused(instance, "Task_vordering", {**VORDERING, "datum_zitting": ""})) == {"datum_zitting"}

    driver.complete(
        instance, "Task_vordering", {"isd_gevorderd": False, "motivering_vordering": "Eerst ander traject."}
    )

    assert driver.status(instance) == "completed"


def test_uitspraak__not_imposed_by_the_court_ends_the_case(driver: ProcessDriver) -> None:
    instance = at_the_om(driver)
    driver.complete(instance, "Task_vordering", VORDERING)
    assert roles(driver, instance) == {("Task_uitspraak", "om")}

    driver.complete(instance, "Task_uitspraak", {"uitspraak": "niet_opgelegd", "datum_uitspraak": "2026-04-15"})

    assert driver.status(instance) == "completed"


# --- intramurale fase ----------------------------------------------------------------------------------------------


def test_uitspraak__imposed_starts_the_trajectory_with_an_end_date_two_years_on(driver: ProcessDriver) -> None:
    instance = at_the_om(driver)
    driver.complete(instance, "Task_vordering", VORDERING)
    assert set(driver.refused(instance, "Task_uitspraak", {**OPGELEGD, "datum_opgelegd": ""})) == {"datum_opgelegd"}

    driver.complete(instance, "Task_uitspraak", OPGELEGD)

    assert roles(driver, instance) == {("Task_trajectplan", "dji"), ("Task_terugkeer", "gemeente")}
    data = driver.data(instance)
    assert (data["isd_einddatum"], data["moment_einde_isd"]) == ("2028-04-14", "2028-04-14T23:59:59+02:00")
    driver.complete(instance, "Task_trajectplan", TRAJECTPLAN)
    driver.complete(instance, "Task_terugkeer", TERUGKEER)
    (task,) = driver.tasks(instance)
    assert (task.element_id, task.role, task.due_at) == ("Task_intramuraal", "dji", EINDE_ISD)


def test_intramuraal__not_cooperating_is_detention_until_the_end_date(driver: ProcessDriver) -> None:
    instance = in_the_institution(driver)

    driver.complete(instance, "Task_intramuraal", {**MEEWERKEN, "meewerken": False})

    assert roles(driver, instance) == {("Task_reguliere_detentie", "dji")}
    driver.complete(
        instance,
        "Task_reguliere_detentie",
        {"datum_vastgesteld": "2026-10-01", "reden_niet_meewerken": "Weigert behandeling en dagprogramma."},
    )
    assert driver.status(instance) == "waiting"
    driver.advance(EINDE_ISD - timedelta(seconds=1) - driver.clock.now())
    assert driver.open(instance) == set()
    driver.advance(timedelta(seconds=1))
    assert roles(driver, instance) == {("Task_uitstroom", "gemeente")}
    finish(driver, instance, "maximale_duur")


def test_intramuraal__the_maximum_duration_ends_the_phase_and_starts_uitstroom(driver: ProcessDriver) -> None:
    instance = in_the_institution(driver)

    driver.advance(EINDE_ISD - driver.clock.now())

    assert roles(driver, instance) == {("Task_uitstroom", "gemeente")}
    assert driver.data(instance)["trajectplan"] == TRAJECTPLAN["trajectplan"]
    finish(driver, instance, "maximale_duur")


# --- extramurale fase ---------------------------------------------------------------------------------------------


def test_extramuraal__supervision_completed_leads_to_uitstroom_and_nazorg(driver: ProcessDriver) -> None:
    instance = in_the_institution(driver)
    under_supervision(driver, instance)
    refused = driver.refused(instance, "Task_toezicht", {**TERUGPLAATSING, "reden_terugplaatsing": ""})
    assert set(refused) == {"reden_terugplaatsing"}

    driver.complete(instance, "Task_toezicht", {"toezicht_uitkomst": "afgerond", "verslag_toezicht": "Stabiel."})

    assert roles(driver, instance) == {("Task_uitstroom", "gemeente")}
    finish(driver, instance)


def test_extramuraal__the_maximum_duration_ends_supervision_and_starts_uitstroom(driver: ProcessDriver) -> None:
    instance = in_the_institution(driver)
    under_supervision(driver, instance)

    driver.advance(EINDE_ISD - driver.clock.now())

    assert roles(driver, instance) == {("Task_uitstroom", "gemeente")}
    assert driver.data(instance)["extramurale_plaatsing"] == PLAATSING["extramurale_plaatsing"]


def test_extramuraal__terugplaatsing_is_bounded_after_which_detention_follows(driver: ProcessDriver) -> None:
    instance = in_the_institution(driver)
    for round_number in (1, 2):
        under_supervision(driver, instance)
        driver.complete(instance, "Task_toezicht", TERUGPLAATSING)
        assert roles(driver, instance) == {("Task_terugplaatsen", "dji")}
        assert driver.data(instance)["aantal_terugplaatsingen"] == round_number
        driver.complete(
            instance, "Task_terugplaatsen", {"datum_terugplaatsing": "2027-02-01", "inrichting": "PI Breda"}
        )
        assert driver.open(instance) == {"Task_intramuraal"}
    under_supervision(driver, instance)

    driver.complete(instance, "Task_toezicht", TERUGPLAATSING)

    assert roles(driver, instance) == {("Task_reguliere_detentie", "dji")}
    assert driver.data(instance)["aantal_terugplaatsingen"] == 3


# --- referral from triage and hand-over at the end ----------------------------------------------------------------


def test_doorverwijzing__a_referral_from_triage_goes_to_the_selection_with_its_data(driver: ProcessDriver) -> None:
    parent = driver.start(KEY, AANMELDING, as_role="procesregisseur")
    actor = driver.user("triagetafel")
    with driver.db.transaction() as session:
        child = driver.runtime.start_follow_up(
            session,
            instance_id=parent,
            message="start_isd",
            actor=actor,
            data={**AANMELDING, "bron": "aanmelding_triage"},
        )

    assert roles(driver, child.id) == {("Task_selectie", "procesregisseur")}
    assert child.case_number == driver.instance(parent).case_number
    data = driver.data(child.id)
    assert (data["bron"], data["aanleiding"], data["gemeente"]) == (
        "aanmelding_triage",
        AANMELDING["aanleiding"],
        "Breda",
    )


@pytest.mark.parametrize("receiver", ["procesregie", "reintegratie"])
def test_nazorg__hands_the_case_over_at_the_end(driver: ProcessDriver, receiver: str) -> None:
    instance = in_the_institution(driver)
    under_supervision(driver, instance)
    driver.complete(instance, "Task_toezicht", {"toezicht_uitkomst": "afgerond", "verslag_toezicht": "Stabiel."})
    driver.complete(instance, "Task_uitstroom", {**UITSTROOM, "reden_uitstroom": "traject_afgerond"})
    handover = {**NAZORG, "overdracht": receiver, "aanleiding_overdracht": "Terugval na de ISD; er is meer nodig."}
    if receiver == "procesregie":
        assert set(driver.refused(instance, "Task_nazorg", handover)) == {"leefgebieden"}
        handover["leefgebieden"] = ["Wonen", "Verslaving"]

    driver.complete(instance, "Task_nazorg", handover)

    assert driver.status(instance) == "completed"
    (child,) = driver.follow_ups(instance)
    assert (child.process_key, driver.data(child.id)["bron"]) == (receiver, KEY)
    assert driver.data(child.id)["betrokkenen"] == [PIETER]
