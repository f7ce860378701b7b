"""P3 `weegploeg_radicalisering`: a signal is checked by the expert, weighed in the Weegploeg's next meeting and
decided on (geen actie, meer informatie with a bounded number of re-weighings, PGA via the lokale driehoek and
procesregie, strafrechtelijk onderzoek, zorg, or a lighter approach while maatschappelijke onrust threatens: the
driehoek is informed, the expert monitors and may have it re-weighed); missed deadlines escalate to the manager.
Meetings that fall on a day off move to the next working day.

The hand-over from triage (message `start_weegploeg`) is simulated with a tiny sender process deployed into the
test's own database; the real sender is tested in test_aanmelding_triage.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.errors import PermissionDenied
from engine.registry import deploy_file
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver, days

KEY = "weegploeg_radicalisering"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

PIETER = {"naam": "Pieter Verzonnen", "bsn": "111222333", "geboortedatum": "1999-04-12", "rol": "hoofdbetrokkene"}
SIGNAAL = {
    "datum": "2026-02-27",
    "bron": "Jongerenwerk",
    "omschrijving": "Deelt extremistische filmpjes in een groepsapp en noemt geweld gerechtvaardigd.",
}
MELDING = {"signaal": SIGNAAL, "gemeente": "Breda", "betrokkenen": [PIETER]}
TOETSING = {
    "melder_betrouwbaar": True,
    "aanwijzingen": "ja",
    "naar_weegploeg": True,
    "toelichting_toetsing": "Melder is jongerenwerker; de uitingen zijn concreet en recent.",
}
DEELNEMERS = [
    {"organisatie": "Gemeente", "naam": "Evi Expert"},
    {"organisatie": "Openbaar Ministerie", "naam": "Olga Officier"},
    {"organisatie": "Politie", "naam": "Piet Politie"},
    {"organisatie": "Reclassering", "naam": "Rosa Reclassering"},
]
WEGING = {
    "deelnemers_weging": DEELNEMERS,
    "minderjarige_betrokkene": False,
    "criteria_toegepast": ["extremistisch_gedachtegoed", "geweldsbereidheid"],
    "motivering": "Concrete uitingen en geweldsverheerlijking; beschermende factoren ontbreken.",
}
PGA = {
    **WEGING,
    "wegingsbesluit": "pga",
    "leefgebieden": ["Sociaal netwerk", "Werk en dagbesteding"],
    "advies_driehoek": "Persoonsgerichte aanpak: gesprek burgemeester, begeleiding jongerenwerk, werktraject.",
}
AFSLUITING = {"melder_geinformeerd": True, "datum_terugkoppeling": "2026-03-18"}

#: The Weegploeg meets every 21 days from Tuesday 13 January 2026 at 13:30; after the start on Monday 2 March the
#: first meeting is Tuesday 17 March.
FIRST_MEETING = datetime(2026, 3, 17, 13, 30, tzinfo=AMSTERDAM)

SENDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_sender" targetNamespace="http://t">
  <bpmn:message id="Message_out" name="start_weegploeg"/>
  <bpmn:process id="test_overdracht_weegploeg" name="Testoverdracht" isExecutable="true">
    <bpmn:startEvent id="Start_test"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="test_overdracht_weegploeg.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:endEvent id="End_test"><bpmn:messageEventDefinition messageRef="Message_out"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{"gemeente": gemeente, "betrokkenen": betrokkenen, "signaal": signaal,
        "bron": "aanmelding_triage"}</spiffworkflow:messagePayload>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_test" sourceRef="Start_test" targetRef="End_test"/>
  </bpmn:process>
</bpmn:definitions>
"""


def advance_to(driver: ProcessDriver, moment: datetime) -> None:
    driver.advance(moment - driver.clock.now())


def start_signal(driver: ProcessDriver) -> int:
    instance = driver.start(KEY, as_role="expert_radicalisering")
    driver.complete(instance, "Task_signaal_vastleggen", MELDING)
    return instance


def at_first_meeting(driver: ProcessDriver) -> int:
    """A signal checked by the expert and on the table of the Weegploeg's first meeting."""
    instance = start_signal(driver)
    driver.complete(instance, "Task_signaal_toetsen", TOETSING)
    advance_to(driver, FIRST_MEETING)
    assert driver.open(instance) == {"Task_wegen"}
    return instance


def close(driver: ProcessDriver, instance: int) -> None:
    driver.complete(instance, "Task_melder_informeren", AFSLUITING)
    assert driver.status(instance) == "completed"


# --- starting ------------------------------------------------------------------------------------------------


def test_start__a_signal_reported_directly_is_recorded_by_the_expert_and_checked(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start(KEY, as_role="politie")
    instance = driver.start(KEY, as_role="expert_radicalisering")
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [
        ("Task_signaal_vastleggen", "expert_radicalisering")
    ]
    refused = driver.refused(
        instance, "Task_signaal_vastleggen", {**MELDING, "signaal": {**SIGNAAL, "omschrijving": ""}, "gemeente": "Ede"}
    )

    driver.complete(instance, "Task_signaal_vastleggen", MELDING)

    assert {"signaal.omschrijving", "gemeente"} <= set(refused)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [
        ("Task_signaal_toetsen", "expert_radicalisering")
    ]
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Breda", "Pieter Verzonnen")
    assert driver.data(instance)["wegingsronde"] == 0


def test_start__a_radicalisation_signal_from_triage_starts_the_same_case_here(
    driver: ProcessDriver, tmp_path: Path
) -> None:
    (tmp_path / "test_overdracht_weegploeg.bpmn").write_text(SENDER, encoding="utf-8")
    form = {"type": "object", "properties": {key: {} for key in MELDING}}
    (tmp_path / "test_overdracht_weegploeg.json").write_text(json.dumps(form), encoding="utf-8")
    with driver.db.transaction() as session:
        deploy_file(session, tmp_path / "test_overdracht_weegploeg.bpmn", actor="tests", search_paths=[FORMS])

    sender = driver.start("test_overdracht_weegploeg", MELDING, as_role="triagetafel")

    (child,) = driver.follow_ups(sender)
    assert (child.process_key, child.case_number) == (KEY, driver.instance(sender).case_number)
    assert driver.open(child.id) == {"Task_signaal_toetsen"}
    data = driver.data(child.id)
    assert (data["signaal"], data["bron"], data["gemeente"]) == (SIGNAAL, "aanmelding_triage", "Breda")


# --- the expert's check ----------------------------------------------------------------------------------------


def test_toetsing__a_signal_without_grounds_is_closed_after_informing_the_melder(driver: ProcessDriver) -> None:
    instance = start_signal(driver)

    driver.complete(
        instance,
        "Task_signaal_toetsen",
        {**TOETSING, "aanwijzingen": "nee", "naar_weegploeg": False, "toelichting_toetsing": "Geen aanwijzingen."},
    )

    assert driver.open(instance) == {"Task_melder_informeren"}
    refused = driver.refused(instance, "Task_melder_informeren", {"melder_geinformeerd": False})
    assert set(refused) == {"reden_niet_geinformeerd"}
    close(driver, instance)


def test_toetsing__a_check_not_done_within_the_term_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = start_signal(driver)
    driver.advance(days(5) - timedelta(minutes=1))
    assert driver.open(instance) == {"Task_signaal_toetsen"}

    driver.advance(timedelta(minutes=1))

    assert {(t.element_id, t.role) for t in driver.tasks(instance)} == {
        ("Task_signaal_toetsen", "expert_radicalisering"),
        ("Task_escalatie_toetsing", "manager"),
    }
    driver.complete(instance, "Task_escalatie_toetsing")
    assert driver.open(instance) == {"Task_signaal_toetsen"}


# --- the Weegploeg's meeting -----------------------------------------------------------------------------------


def test_weging__waits_for_the_next_meeting_of_the_weegploeg(driver: ProcessDriver) -> None:
    instance = start_signal(driver)
    driver.complete(instance, "Task_signaal_toetsen", TOETSING)

    assert driver.status(instance) == "waiting"
    assert driver.data(instance)["datum_weegploeg"] == "2026-03-17"
    advance_to(driver, FIRST_MEETING - timedelta(minutes=1))
    assert driver.open(instance) == set()

    advance_to(driver, FIRST_MEETING)

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_wegen", "weegploeg")]


def test_weging__records_the_criteria_and_needs_the_rvdk_for_a_minor(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)

    refused = driver.refused(
        instance, "Task_wegen", {**WEGING, "minderjarige_betrokkene": True, "criteria_toegepast": []}
    )

    assert set(refused) == {"deelnemers_weging", "criteria_toegepast", "wegingsbesluit"}
    assert refused["deelnemers_weging"] == [
        "Bij een minderjarige neemt de Raad voor de Kinderbescherming deel aan de weging."
    ]


def test_weging__not_recorded_within_two_working_days_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)
    deadline = datetime(2026, 3, 19, 23, 59, 59, tzinfo=AMSTERDAM)
    advance_to(driver, deadline - timedelta(seconds=1))
    assert driver.open(instance) == {"Task_wegen"}

    advance_to(driver, deadline)

    assert driver.open(instance) == {"Task_wegen", "Task_escalatie_weging"}
    driver.complete(instance, "Task_escalatie_weging")
    driver.complete(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "geen_actie"})
    assert driver.open(instance) == {"Task_melder_informeren"}


# --- the decision ----------------------------------------------------------------------------------------------


def test_besluit__geen_actie_closes_the_signal_after_informing_the_melder(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)

    driver.complete(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "geen_actie"})

    data = driver.data(instance)
    assert (data["wegingsronde"], data["criteria_toegepast"]) == (1, WEGING["criteria_toegepast"])
    close(driver, instance)


def test_besluit__strafrechtelijk_onderzoek_is_taken_up_by_the_om(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)

    driver.complete(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "strafrechtelijk_onderzoek"})

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_om", "om")]
    assert driver.refused(instance, "Task_om", {"datum_opgepakt": "2026-03-20", "parketnummer": "12"}) == {
        "parketnummer": ["Vul een parketnummer in als 02/123456-26."]
    }
    driver.complete(instance, "Task_om", {"datum_opgepakt": "2026-03-20", "parketnummer": "02/123456-26"})
    close(driver, instance)


def test_besluit__no_radicalisation_but_a_care_need_is_routed_to_care(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)

    driver.complete(
        instance, "Task_wegen", {**WEGING, "wegingsbesluit": "zorg", "zorgbehoefte": "GGZ voor angstklachten."}
    )

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_zorg", "expert_radicalisering")]
    driver.complete(
        instance,
        "Task_zorg",
        {"zorgpartner": "GGZ", "datum_overdracht": "2026-03-24", "afspraken_zorg": "Intake binnen twee weken."},
    )
    close(driver, instance)


def test_besluit__pga_advice_adopted_by_the_driehoek_hands_over_to_procesregie(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)
    refused = driver.refused(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "pga"})
    assert set(refused) == {"leefgebieden", "advies_driehoek"}
    driver.complete(instance, "Task_wegen", PGA)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_advies_driehoek", "lokale_driehoek")]

    driver.complete(
        instance,
        "Task_advies_driehoek",
        {
            "driehoek_besluit": "pga_via_zvh",
            "interventies": ["bestuurlijk", "zorg"],
            "toelichting_driehoek": "De driehoek neemt het advies over; het ZVH voert procesregie.",
        },
    )

    assert driver.status(instance) == "completed"
    (child,) = driver.follow_ups(instance)
    assert (child.process_key, child.case_number) == ("procesregie", driver.instance(instance).case_number)
    handed_over = driver.data(child.id)
    assert handed_over["bron"] == KEY
    assert (handed_over["gemeente"], handed_over["betrokkenen"]) == ("Breda", [PIETER])
    assert SIGNAAL["omschrijving"] in handed_over["aanleiding"]
    assert handed_over["leefgebieden"] == ["Radicalisering en extremisme", "Sociaal netwerk", "Werk en dagbesteding"]


def test_besluit__pga_advice_declined_by_the_driehoek_closes_the_signal(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)
    driver.complete(instance, "Task_wegen", PGA)

    driver.complete(
        instance,
        "Task_advies_driehoek",
        {"driehoek_besluit": "geen_pga", "toelichting_driehoek": "Begeleiding door jongerenwerk volstaat."},
    )

    assert driver.follow_ups(instance) == []
    close(driver, instance)


# --- meer informatie: bounded re-weighing ----------------------------------------------------------------------


def ask_for_information(driver: ProcessDriver, instance: int, herwegingsdatum: str) -> None:
    driver.complete(
        instance,
        "Task_wegen",
        {
            **WEGING,
            "wegingsbesluit": "meer_informatie_nodig",
            "herwegingsdatum": herwegingsdatum,
            "gevraagde_informatie": "Schoolverslag en politie-informatie over de groepsapp.",
        },
    )


def test_meer_informatie__is_reweighed_in_the_first_meeting_after_the_herwegingsdatum(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)
    ask_for_information(driver, instance, "2026-04-01")
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_informatie", "expert_radicalisering")]

    driver.complete(instance, "Task_informatie", {"verzamelde_informatie": "School meldt verzuim en conflicten."})

    assert driver.data(instance)["datum_weegploeg"] == "2026-04-07"
    advance_to(driver, datetime(2026, 4, 7, 13, 30, tzinfo=AMSTERDAM))
    assert driver.open(instance) == {"Task_wegen"}
    driver.complete(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "geen_actie"})
    assert driver.data(instance)["wegingsronde"] == 2
    close(driver, instance)


def test_meer_informatie__not_collected_by_the_herwegingsdatum_escalates(driver: ProcessDriver) -> None:
    instance = at_first_meeting(driver)
    ask_for_information(driver, instance, "2026-04-01")

    advance_to(driver, datetime(2026, 4, 1, 23, 59, 59, tzinfo=AMSTERDAM))

    assert driver.open(instance) == {"Task_informatie", "Task_escalatie_informatie"}
    driver.complete(instance, "Task_escalatie_informatie")
    assert driver.open(instance) == {"Task_informatie"}


def test_meer_informatie__after_the_maximum_of_three_reweighings_the_weegploeg_decides(
    driver: ProcessDriver,
) -> None:
    instance = at_first_meeting(driver)
    for herwegingsdatum, meeting in (
        ("2026-04-01", datetime(2026, 4, 7, 13, 30, tzinfo=AMSTERDAM)),
        ("2026-04-20", datetime(2026, 4, 28, 13, 30, tzinfo=AMSTERDAM)),
        ("2026-05-10", datetime(2026, 5, 19, 13, 30, tzinfo=AMSTERDAM)),
    ):
        ask_for_information(driver, instance, herwegingsdatum)
        driver.complete(instance, "Task_informatie", {"verzamelde_informatie": "Aanvullende informatie verzameld."})
        advance_to(driver, meeting)
        assert driver.open(instance) == {"Task_wegen"}

    ask_for_information(driver, instance, "2026-06-01")

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_definitief_wegen", "weegploeg")]
    assert driver.data(instance)["wegingsronde"] == 4
    assert set(driver.refused(instance, "Task_definitief_wegen", {**WEGING, "wegingsbesluit": "meer_informatie_nodig"}))
    driver.complete(instance, "Task_definitief_wegen", {**WEGING, "wegingsbesluit": "strafrechtelijk_onderzoek"})
    assert driver.open(instance) == {"Task_om"}


# --- minder integrale aanpak, maar maatschappelijke onrust dreigt ----------------------------------------------

ONRUST = {
    **WEGING,
    "wegingsbesluit": "onrust",
    "onrust_toelichting": "Ophef in de wijk over de filmpjes; een gesprek met sleutelfiguren volstaat.",
}
DRIEHOEK_ONRUST = {
    "datum_driehoek": "2026-03-20",
    "onrust_maatregelen": ["duiding", "sleutelfiguren"],
    "onrust_afspraken": "De burgemeester spreekt het moskeebestuur; de wijkagent is zichtbaar aanwezig.",
    "monitoren_tot": "2026-04-17",
}


def unrest_discussed(driver: ProcessDriver) -> int:
    """A signal weighed as 'minder integrale aanpak, maar onrust dreigt', discussed in the driehoek."""
    instance = at_first_meeting(driver)
    assert set(driver.refused(instance, "Task_wegen", {**ONRUST, "onrust_toelichting": ""})) == {"onrust_toelichting"}
    driver.complete(instance, "Task_wegen", ONRUST)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_onrust_driehoek", "lokale_driehoek")]
    driver.complete(instance, "Task_onrust_driehoek", DRIEHOEK_ONRUST)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [
        ("Task_onrust_monitoren", "expert_radicalisering")
    ]
    return instance


def test_onrust__the_driehoek_is_informed_and_the_signal_closes_when_the_unrest_subsides(
    driver: ProcessDriver,
) -> None:
    instance = unrest_discussed(driver)

    subsided = {"monitoring_verslag": "Na het gesprek met het moskeebestuur is de ophef geluwd."}
    driver.complete(instance, "Task_onrust_monitoren", {**subsided, "onrust_vervolg": "afgenomen"})

    assert driver.follow_ups(instance) == []
    close(driver, instance)


def test_onrust__lasting_unrest_is_reweighed_in_the_first_meeting_after_the_herwegingsdatum(
    driver: ProcessDriver,
) -> None:
    instance = unrest_discussed(driver)
    herwegen = {"monitoring_verslag": "De spanning in de wijk neemt toe.", "onrust_vervolg": "herwegen"}
    assert set(driver.refused(instance, "Task_onrust_monitoren", herwegen)) == {"herwegingsdatum"}

    driver.complete(instance, "Task_onrust_monitoren", {**herwegen, "herwegingsdatum": "2026-04-20"})

    assert driver.data(instance)["datum_weegploeg"] == "2026-04-28"
    advance_to(driver, datetime(2026, 4, 28, 13, 30, tzinfo=AMSTERDAM))
    assert driver.open(instance) == {"Task_wegen"}
    driver.complete(instance, "Task_wegen", {**WEGING, "wegingsbesluit": "strafrechtelijk_onderzoek"})
    assert driver.open(instance) == {"Task_om"}


# --- meetings move off days off --------------------------------------------------------------------------------


def test_weging__a_meeting_on_tweede_paasdag_is_held_on_the_tuesday_after(
    driver: ProcessDriver, tmp_path: Path
) -> None:
    """With the three-weekly grid anchored on a Monday, the meeting of Monday 29 March 2027 (Tweede Paasdag) moves
    to Tuesday 30 March, and the two working days for the report count from there."""
    bpmn = (PROCESSES / f"{KEY}.bpmn").read_text(encoding="utf-8")
    monday_grid = bpmn.replace('name="eerste_overleg" value="2026-01-13"', 'name="eerste_overleg" value="2027-03-08"')
    assert monday_grid != bpmn
    (tmp_path / f"{KEY}.bpmn").write_text(monday_grid, encoding="utf-8")
    with driver.db.transaction() as session:
        deploy_file(session, tmp_path / f"{KEY}.bpmn", actor="tests", search_paths=[FORMS])
    advance_to(driver, datetime(2027, 3, 22, 9, 0, tzinfo=AMSTERDAM))
    instance = start_signal(driver)

    driver.complete(instance, "Task_signaal_toetsen", TOETSING)

    data = driver.data(instance)
    assert (data["datum_weegploeg"], data["uiterste_weging"]) == ("2027-03-30", "2027-04-01T23:59:59+02:00")
    advance_to(driver, datetime(2027, 3, 30, 13, 30, tzinfo=AMSTERDAM) - timedelta(minutes=1))
    assert driver.open(instance) == set()
    advance_to(driver, datetime(2027, 3, 30, 13, 30, tzinfo=AMSTERDAM))
    assert driver.open(instance) == {"Task_wegen"}
