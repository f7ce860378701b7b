"""P4 `bij`: a BIJ-melding about a justitiabele returning on leave or for good is assessed for the risk of
maatschappelijke onrust with input from the reclassering; the burgemeester decides on measures, which the
gemeente carries out before the return date (or the manager is alerted)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidInput, PermissionDenied
from tests.processes.harness import ProcessDriver, days

KEY = "bij"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

KEES = {"naam": "Kees Bedacht", "bsn": "999990019", "geboortedatum": "1987-01-05", "rol": "hoofdbetrokkene"}
MELDING = {
    "datum_melding": "2026-03-02",
    "melding_van": "Reclassering",
    "betrokkenen": [KEES],
    "gemeente": "Etten-Leur",
    "delictcategorie": "zeden",
    "soort": "verlof",
    "datum_terugkeer": "2026-03-20",
    "slachtoffer_in_gemeente": True,
}
INPUT = {
    "recidiverisico": "midden",
    "risicofactoren": "Het slachtoffer woont in dezelfde wijk.",
    "advies_reclassering": "Locatieverbod handhaven; slachtoffer tijdig informeren.",
}
RISICO = {
    "risico_onrust": "hoog",
    "toelichting_risico": "De zaak kreeg veel aandacht in de wijk.",
    "voorgestelde_maatregelen": ["slachtoffer_informeren", "wijkagent_informeren"],
    "advies_burgemeester": "Slachtoffer en wijkagent vóór het verlof informeren.",
}
MAATREGELEN = {
    "bij_besluit": "maatregelen",
    "maatregelen": ["slachtoffer_informeren", "wijkagent_informeren"],
    "motivering_besluit": "Hoog risico op onrust; het slachtoffer woont in de wijk.",
}
UITVOERING = {
    "uitgevoerde_maatregelen": [
        {"maatregel": "slachtoffer_informeren", "resultaat": "uitgevoerd", "uitgevoerd_op": "2026-03-16"},
        {"maatregel": "wijkagent_informeren", "resultaat": "uitgevoerd", "uitgevoerd_op": "2026-03-17"},
    ]
}
AFSLUITING = {
    "afgesloten_op": "2026-03-25",
    "onrust_opgetreden": False,
    "evaluatie": "Alles tijdig geregeld.",
    "overdracht": "geen",
}


def roles(driver: ProcessDriver, instance: int) -> set[tuple[str, str | None]]:
    return {(t.element_id, t.role) for t in driver.tasks(instance)}


def at_the_burgemeester(driver: ProcessDriver) -> int:
    instance = driver.start(KEY, MELDING, as_role="re_integratiecoordinator")
    driver.complete(instance, "Task_reclasseringsinput", INPUT)
    driver.complete(instance, "Task_risico", RISICO)
    assert roles(driver, instance) == {("Task_besluit", "burgemeester")}
    return instance


def test_melding__is_registered_by_the_coordinator_and_asks_the_reclassering_for_input(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start(KEY, MELDING, as_role="reclassering")
    with pytest.raises(InvalidInput) as refused:
        driver.start(KEY, {**MELDING, "soort": "proefverlof"}, as_role="re_integratiecoordinator")

    instance = driver.start(KEY, MELDING, as_role="re_integratiecoordinator")

    assert set(refused.value.fields) == {"soort"}
    assert roles(driver, instance) == {("Task_reclasseringsinput", "reclassering")}
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Etten-Leur", "Kees Bedacht")
    driver.complete(instance, "Task_reclasseringsinput", INPUT)
    assert roles(driver, instance) == {("Task_risico", "re_integratiecoordinator")}
    assert driver.refused(instance, "Task_risico", {**RISICO, "risico_onrust": "extreem"}).keys() == {"risico_onrust"}


def test_reclasseringsinput__not_given_within_five_days_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = driver.start(KEY, MELDING, as_role="re_integratiecoordinator")

    driver.advance(days(5))

    assert roles(driver, instance) == {
        ("Task_reclasseringsinput", "reclassering"),
        ("Task_escalatie_input", "manager"),
    }
    driver.complete(instance, "Task_escalatie_input")
    assert driver.open(instance) == {"Task_reclasseringsinput"}


def test_besluit__no_measures_closes_the_case(driver: ProcessDriver) -> None:
    instance = at_the_burgemeester(driver)

    driver.complete(
        instance, "Task_besluit", {"bij_besluit": "geen_maatregelen", "motivering_besluit": "Laag risico op onrust."}
    )

    assert roles(driver, instance) == {("Task_afsluiten", "re_integratiecoordinator")}
    driver.complete(instance, "Task_afsluiten", AFSLUITING)
    assert driver.status(instance) == "completed"


def test_besluit__measures_are_carried_out_by_the_gemeente_before_the_return(driver: ProcessDriver) -> None:
    instance = at_the_burgemeester(driver)
    assert set(driver.refused(instance, "Task_besluit", {**MAATREGELEN, "maatregelen": []})) == {"maatregelen"}

    driver.complete(instance, "Task_besluit", MAATREGELEN)

    (task,) = driver.tasks(instance)
    assert (task.element_id, task.role) == ("Task_maatregelen", "gemeente")
    assert task.due_at == datetime(2026, 3, 19, 23, 59, 59, tzinfo=AMSTERDAM)
    refused = driver.refused(
        instance, "Task_maatregelen", {"uitgevoerde_maatregelen": [{"maatregel": "gebiedsverbod", "resultaat": "ja"}]}
    )
    assert set(refused) == {"uitgevoerde_maatregelen.0.resultaat"}
    driver.complete(instance, "Task_maatregelen", UITVOERING)
    driver.complete(instance, "Task_afsluiten", AFSLUITING)
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["maatregelen"] == MAATREGELEN["maatregelen"]


def test_besluit__measures_not_carried_out_the_day_before_the_return_escalate(driver: ProcessDriver) -> None:
    instance = at_the_burgemeester(driver)
    driver.complete(instance, "Task_besluit", MAATREGELEN)
    deadline = datetime(2026, 3, 19, 23, 59, 59, tzinfo=AMSTERDAM)
    driver.advance(deadline - timedelta(seconds=1) - driver.clock.now())
    assert driver.open(instance) == {"Task_maatregelen"}

    driver.advance(timedelta(seconds=1))

    assert roles(driver, instance) == {("Task_maatregelen", "gemeente"), ("Task_escalatie_maatregelen", "manager")}
    driver.complete(instance, "Task_escalatie_maatregelen")
    driver.complete(instance, "Task_maatregelen", UITVOERING)
    assert driver.open(instance) == {"Task_afsluiten"}


# --- hand-over at the close -------------------------------------------------------------------------------------


def closing(driver: ProcessDriver) -> int:
    instance = at_the_burgemeester(driver)
    driver.complete(
        instance, "Task_besluit", {"bij_besluit": "geen_maatregelen", "motivering_besluit": "Laag risico op onrust."}
    )
    return instance


def test_afsluiten__hands_the_case_over_to_procesregie_with_the_reason_and_leefgebieden(driver: ProcessDriver) -> None:
    instance = closing(driver)
    refused = driver.refused(instance, "Task_afsluiten", {**AFSLUITING, "overdracht": "procesregie"})
    assert set(refused) == {"aanleiding_overdracht", "leefgebieden"}

    driver.complete(
        instance,
        "Task_afsluiten",
        {
            **AFSLUITING,
            "overdracht": "procesregie",
            "aanleiding_overdracht": "Onrust in de wijk en meerdere problemen thuis: regie nodig.",
            "leefgebieden": ["Wonen", "Sociaal netwerk"],
        },
    )

    assert driver.status(instance) == "completed"
    (child,) = driver.follow_ups(instance)
    assert (child.process_key, child.case_number) == ("procesregie", driver.instance(instance).case_number)
    data = driver.data(child.id)
    assert (data["bron"], data["gemeente"], data["betrokkenen"]) == (KEY, "Etten-Leur", [KEES])
    assert data["leefgebieden"] == ["Wonen", "Sociaal netwerk"]


def test_afsluiten__hands_the_case_over_to_reintegratie_which_asks_the_detention_data(driver: ProcessDriver) -> None:
    instance = closing(driver)
    reason = "Opnieuw gedetineerd; de terugkeer moet worden voorbereid."

    driver.complete(
        instance, "Task_afsluiten", {**AFSLUITING, "overdracht": "reintegratie", "aanleiding_overdracht": reason}
    )

    (child,) = driver.follow_ups(instance)
    assert child.process_key == "reintegratie"
    assert driver.open(child.id) == {"Task_detentie"}
    assert (driver.data(child.id)["aanleiding"], driver.data(child.id)["bron"]) == (reason, KEY)
