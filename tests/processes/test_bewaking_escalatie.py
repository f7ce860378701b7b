"""`bewaking_escalatie`: a manager escalates a stalled case from the monitor; the procesregisseur gets it moving."""

from __future__ import annotations

import pytest

from engine.errors import PermissionDenied
from engine.monitor.actions import escalate
from tests.processes.harness import ProcessDriver
from tests.processes.test_datalek import MELDING as DATALEK

KEY = "bewaking_escalatie"
VLOTGETROKKEN = {
    "genomen_actie": "Met de casusregisseur gebeld; het vervolgoverleg staat gepland.",
    "afspraken": "Reclassering levert het advies vrijdag aan.",
    "opvolgdatum": "2026-03-13",
}


def test_escalation__is_a_task_for_the_procesregisseur_in_the_same_case(driver: ProcessDriver) -> None:
    case = driver.start("datalek", DATALEK, as_role="ketenpartner")
    manager = driver.user("manager")
    with driver.db.transaction() as session:
        escalation = escalate(
            session, driver.runtime, instance_id=case, actor=manager, reason="Ligt stil", step="Inperken"
        ).id

    task = driver.task(escalation, "Task_vlottrekken")
    assert task.role == "procesregisseur"
    assert driver.instance(escalation).case_number == driver.instance(case).case_number
    assert driver.instance(escalation).parent_instance_id == case
    assert driver.data(escalation)["escalatie_reden"] == "Ligt stil"

    assert driver.refused(escalation, "Task_vlottrekken", {"afspraken": "Nog niets."}) == {
        "genomen_actie": ["Dit veld is verplicht."]
    }
    driver.complete(escalation, "Task_vlottrekken", VLOTGETROKKEN)
    assert driver.status(escalation) == "completed"


def test_escalation__cannot_be_started_by_hand(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start(KEY, None, as_role="procesregisseur")
