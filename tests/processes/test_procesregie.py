"""P2 `procesregie`: procesregie op complexe casuïstiek, started only by a hand-over (message `start_procesregie`).

The tests hand a case over with a tiny sender process deployed into the test's own database, so they do not
depend on which other processes are under test; the real hand-over from triage is tested in
test_aanmelding_triage.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.errors import PermissionDenied
from engine.registry import deploy_file
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver, days

JAN = {"naam": "Jan Testman", "bsn": "111222333", "geboortedatum": "1990-05-17", "rol": "hoofdbetrokkene"}
PARTNER = {"organisatie": "MaSS (Maatschappelijke Steunsystemen)", "naam": "Mo Maatje"}

HANDOVER = {
    "gemeente": "Oosterhout",
    "betrokkenen": [JAN],
    "aanleiding": "Overlast, schulden en verward gedrag; partners lopen vast.",
    "leefgebieden": ["Wonen", "Financiën en schulden", "Psychische gezondheid"],
    "bron": "aanmelding_triage",
}

SENDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_sender" targetNamespace="http://t">
  <bpmn:message id="Message_out" name="start_procesregie"/>
  <bpmn:process id="test_overdracht_procesregie" name="Testoverdracht" isExecutable="true">
    <bpmn:startEvent id="Start_test"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="test_overdracht_procesregie.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:endEvent id="End_test"><bpmn:messageEventDefinition messageRef="Message_out"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{"gemeente": gemeente, "betrokkenen": betrokkenen, "aanleiding": aanleiding,
        "leefgebieden": leefgebieden, "bron": bron}</spiffworkflow:messagePayload>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_test" sourceRef="Start_test" targetRef="End_test"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def handover(driver: ProcessDriver, tmp_path: Path) -> Any:
    """Hand a case over to procesregie (as triage would); returns (sender instance id, procesregie instance id)."""
    (tmp_path / "test_overdracht_procesregie.bpmn").write_text(SENDER, encoding="utf-8")
    form = {"type": "object", "properties": {key: {} for key in HANDOVER}}
    (tmp_path / "test_overdracht_procesregie.json").write_text(json.dumps(form), encoding="utf-8")
    with driver.db.transaction() as session:
        deploy_file(session, tmp_path / "test_overdracht_procesregie.bpmn", actor="tests", search_paths=[FORMS])

    def hand_over(**changes: Any) -> tuple[int, int]:
        sender = driver.start("test_overdracht_procesregie", {**HANDOVER, **changes}, as_role="screener")
        (child,) = driver.follow_ups(sender)
        return sender, child.id

    return hand_over


# --- form data a user would submit ---------------------------------------------------------------------------

INTAKE = {"procesregisseur": "Pim Regisseur", "vertrouwelijkheid": "vertrouwelijk"}
DEELNEMERS = [
    {"organisatie": "Politie", "naam": "Wijkagent Wessel"},
    {"organisatie": "GGZ", "naam": "Gea de Behandelaar"},
    PARTNER,
]
VOORBEREIDING = {
    "overleg_datum": "2026-03-16",
    "voorzitter": "Pim Regisseur",
    "deelnemers": DEELNEMERS,
    "deelnemers_motivering": "Politie (overlast), GGZ (behandeling) en MaSS (schulden) hebben elk een taak.",
    "agenda": ["Gezamenlijk beeld", "Doelen per leefgebied", "Casusregisseur"],
}
CASUSOVERLEG = {
    "overleg_type": "ICO",
    "overleg_gehouden_op": "2026-03-16",
    "deelnemers": [{**p, "aanwezig": True} for p in DEELNEMERS],
    "gedeeld_beeld": "Schulden leiden tot dreigende huisuitzetting; onbehandelde psychose geeft overlast.",
    "besluiten": ["MaSS wordt casusregisseur", "GGZ start bemoeizorg"],
    "actiepunten": [
        {"omschrijving": "Bemoeizorg starten", "eigenaar_org": "GGZ", "deadline": "2026-03-30"},
        {"omschrijving": "Schuldhulp aanvragen", "eigenaar_org": "Gemeente", "deadline": "2026-04-06"},
    ],
}
PLAN = {
    "doelen": [
        {"leefgebied": "Wonen", "doel": "Huisuitzetting voorkomen", "indicator": "Huurachterstand < 1 maand"},
        {"leefgebied": "Psychische gezondheid", "doel": "In behandeling", "indicator": "Wekelijks contact GGZ"},
    ],
    "casusregisseur": {**PARTNER, "email": "mo.maatje@mass.example"},
    "evaluatiedatum": "2026-06-16",
}
UITVOERING = {"start_uitvoering": "2026-03-23", "uitvoerende_partners": [{"organisatie": "GGZ"}]}
VOORTGANG = {
    "voortgang_datum": "2026-04-20",
    "voortgang": "Bemoeizorg loopt.",
    "nieuw_incident": False,
    "stagnatie": False,
}


def vervolgoverleg(besluit: str) -> dict[str, Any]:
    return {
        "vervolgoverleg_datum": "2026-04-21",
        "vervolg_deelnemers": [PARTNER],
        "monitoringsbesluit": besluit,
        "monitoringsmotivering": f"Besluit {besluit} na bespreking van de voortgang.",
    }


AFSCHALEN = {
    "afschaaldatum": "2026-09-01",
    "nazorg_nodig": True,
    "warme_overdracht_naar": {"organisatie": "Lokaal (wijk)team", "contactpersoon": "Wim Wijkteam"},
    "overdracht_afspraken": "Wijkteam houdt maandelijks contact; signalen naar het ZVH.",
}
AFSLUITEN = {"afsluitreden": "doelen_behaald", "einddatum": "2026-12-01", "evaluatie": "Doelen gehaald."}


def to_monitoring(driver: ProcessDriver, instance: int) -> None:
    """Walk from the intake to the first monitoring round."""
    driver.complete(instance, "Task_intake", INTAKE)
    driver.complete(instance, "Task_voorbereiden", VOORBEREIDING)
    driver.complete(instance, "Task_casusoverleg", CASUSOVERLEG)
    driver.complete(instance, "Task_plan", PLAN)
    driver.complete(instance, "Task_uitvoering", UITVOERING)


def round_with(driver: ProcessDriver, instance: int, besluit: str, **voortgang: Any) -> None:
    driver.complete(instance, "Task_voortgang", {**VOORTGANG, **voortgang})
    driver.complete(instance, "Task_vervolgoverleg", vervolgoverleg(besluit))


# --- tests ---------------------------------------------------------------------------------------------------


def test_procesregie__handover_opens_the_intake_for_the_procesregisseur_in_the_same_case(
    driver: ProcessDriver, handover: Any
) -> None:
    sender, instance = handover()

    row = driver.instance(instance)
    assert (row.process_key, row.case_number) == ("procesregie", driver.instance(sender).case_number)
    assert (row.gemeente, row.subject_person) == ("Oosterhout", "Jan Testman")
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_intake", "procesregisseur")]
    data = driver.data(instance)
    assert {key: data[key] for key in HANDOVER} == HANDOVER
    assert data["casusnummer"] == row.case_number


def test_procesregie__cannot_be_started_by_hand(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied, match="door een ander proces gestart"):
        driver.start("procesregie", as_role="procesregisseur")


def test_procesregie__preparation_requires_need_to_know_participants_and_a_motivation(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    driver.complete(instance, "Task_intake", INTAKE)

    errors = driver.refused(instance, "Task_voorbereiden", {**VOORBEREIDING, "deelnemers": [], "agenda": []})
    missing = driver.refused(
        instance, "Task_voorbereiden", {k: v for k, v in VOORBEREIDING.items() if k != "deelnemers_motivering"}
    )

    assert {"deelnemers", "agenda"} <= set(errors)
    assert set(missing) == {"deelnemers_motivering"}


def test_procesregie__a_late_first_overleg_escalates_to_the_manager_without_stopping_the_case(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    driver.complete(instance, "Task_intake", INTAKE)

    assert driver.advance(days(20)) == []
    driver.advance(days(1))

    assert driver.open(instance) == {"Task_voorbereiden", "Task_escalatie_eerste_overleg"}
    assert driver.task(instance, "Task_escalatie_eerste_overleg").role == "manager"
    refusal = driver.refused(instance, "Task_escalatie_eerste_overleg", {"oorzaak_vertraging": "geen idee"})
    assert {"oorzaak_vertraging", "escalatie_afspraken"} <= set(refusal)
    driver.complete(
        instance,
        "Task_escalatie_eerste_overleg",
        {"oorzaak_vertraging": "partners_niet_beschikbaar", "escalatie_afspraken": "Overleg deze week alsnog."},
    )
    driver.complete(instance, "Task_voorbereiden", VOORBEREIDING)
    driver.complete(instance, "Task_casusoverleg", CASUSOVERLEG)
    assert driver.open(instance) == {"Task_plan"}


def test_procesregie__a_first_overleg_in_time_never_escalates(driver: ProcessDriver, handover: Any) -> None:
    _, instance = handover()
    driver.advance(days(7))
    driver.complete(instance, "Task_intake", INTAKE)
    driver.complete(instance, "Task_voorbereiden", VOORBEREIDING)
    driver.complete(instance, "Task_casusoverleg", CASUSOVERLEG)

    driver.advance(days(30))

    assert driver.open(instance) == {"Task_plan"}
    assert driver.task(instance, "Task_plan").role == "procesregisseur"


def test_procesregie__the_plan_needs_goals_per_leefgebied_and_a_casusregisseur(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    driver.complete(instance, "Task_intake", INTAKE)
    driver.complete(instance, "Task_voorbereiden", VOORBEREIDING)
    driver.complete(instance, "Task_casusoverleg", CASUSOVERLEG)

    errors = driver.refused(
        instance, "Task_plan", {"doelen": [{"leefgebied": "Hobby", "doel": "x"}], "evaluatiedatum": "2026-06-16"}
    )
    driver.complete(instance, "Task_plan", PLAN)

    assert {"doelen.0.leefgebied", "doelen.0.doel", "doelen.0.indicator", "casusregisseur"} <= set(errors)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_uitvoering", "casusregisseur")]


def test_procesregie__monitoring_rounds_revise_escalate_continue_and_scale_down_then_aftercare_closes(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    to_monitoring(driver, instance)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_voortgang", "casusregisseur")]

    # Round 1: a new incident -> the casusregisseur revises the plan.
    assert "incident_omschrijving" in driver.refused(instance, "Task_voortgang", {**VOORTGANG, "nieuw_incident": True})
    round_with(driver, instance, "plan_herzien", nieuw_incident=True, incident_omschrijving="Ruzie met buren.")
    assert driver.task(instance, "Task_plan_herzien").role == "casusregisseur"
    driver.complete(instance, "Task_plan_herzien", {**PLAN, "aanleiding_herziening": "Escalatie met de buren."})

    # Round 2: stagnation -> the manager organises a breakthrough via the bestuurlijk overleg.
    round_with(driver, instance, "opschalen", stagnatie=True, stagnatie_toelichting="Geen woning beschikbaar.")
    assert driver.task(instance, "Task_doorbraak").role == "manager"
    doorbraak = {
        "doorbraak_via": "bestuurlijk_overleg",
        "knelpunt": "Geen urgentie voor een woning.",
        "doorbraak_afspraken": "Wethouder regelt urgentie.",
        "doorbraak_datum": "2026-05-12",
    }
    assert set(driver.refused(instance, "Task_doorbraak", doorbraak)) == {"bestuurlijk_overleg_met"}
    driver.complete(instance, "Task_doorbraak", {**doorbraak, "bestuurlijk_overleg_met": "Wethouder Oosterhout"})

    # Round 3: carry on; round 4: scale down.
    round_with(driver, instance, "doorgaan")
    assert driver.open(instance) == {"Task_voortgang"}
    round_with(driver, instance, "afschalen")

    assert driver.open(instance) == {"Task_afschalen"}
    data = driver.data(instance)
    assert (data["monitoringsbesluit"], data["doorbraak_via"]) == ("afschalen", "bestuurlijk_overleg")
    assert data["aanleiding_herziening"] == "Escalatie met de buren."

    # Warm hand-over, then the aftercare check after the configured term (P3M), then closure.
    assert set(driver.refused(instance, "Task_afschalen", {"afschaaldatum": "2026-09-01", "nazorg_nodig": True})) == {
        "warme_overdracht_naar",
        "overdracht_afspraken",
    }
    driver.complete(instance, "Task_afschalen", AFSCHALEN)
    assert driver.open(instance) == set()
    assert driver.status(instance) == "waiting"
    driver.advance(days(85))
    assert driver.open(instance) == set()
    driver.advance(days(8))
    assert driver.open(instance) == {"Task_nazorgcheck"}
    assert "vervolgactie" in driver.refused(
        instance,
        "Task_nazorgcheck",
        {"nazorgcheck_datum": "2026-06-05", "situatie_stabiel": False, "nazorg_bevindingen": "Opnieuw overlast."},
    )
    driver.complete(
        instance,
        "Task_nazorgcheck",
        {"nazorgcheck_datum": "2026-06-05", "situatie_stabiel": True, "nazorg_bevindingen": "Woont stabiel."},
    )
    assert "afsluitreden" in driver.refused(instance, "Task_afsluiten", {**AFSLUITEN, "afsluitreden": "verveeld"})
    driver.complete(instance, "Task_afsluiten", AFSLUITEN)

    assert driver.status(instance) == "completed"
    assert driver.data(instance)["afsluitreden"] == "doelen_behaald"


def test_procesregie__the_plan_is_evaluated_every_three_months_while_monitoring_runs(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    to_monitoring(driver, instance)

    driver.advance(days(88))
    assert driver.open(instance) == {"Task_voortgang"}
    driver.advance(days(5))
    assert driver.open(instance) == {"Task_voortgang", "Task_planevaluatie"}
    assert driver.task(instance, "Task_planevaluatie").role == "procesregisseur"
    driver.complete(
        instance,
        "Task_planevaluatie",
        {"planevaluatie_datum": "2026-06-05", "planevaluatie": "Doelen op koers.", "herziening_agenderen": False},
    )
    round_with(driver, instance, "doorgaan")
    driver.advance(days(92))

    assert driver.open(instance) == {"Task_voortgang", "Task_planevaluatie"}, "the reminder repeats"
    round_with(driver, instance, "afschalen")
    assert driver.open(instance) == {"Task_afschalen"}, "an open reminder is withdrawn when monitoring ends"
    driver.advance(days(100))
    assert driver.open(instance) == {"Task_afschalen"}


def test_procesregie__plan_reminders_stop_after_the_configured_number_and_stay_open_until_done(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    to_monitoring(driver, instance)

    for quarter in range(1, 10):
        driver.advance(days(92))
        reminders = [t.element_id for t in driver.tasks(instance)].count("Task_planevaluatie")
        assert reminders == min(quarter, 8), f"quarter {quarter}"
    round_with(driver, instance, "afschalen")

    assert [t.element_id for t in driver.tasks(instance)].count("Task_planevaluatie") == 8
    driver.complete(
        instance,
        "Task_planevaluatie",
        {"planevaluatie_datum": "2028-04-01", "planevaluatie": "Laatste evaluatie.", "herziening_agenderen": False},
    )
    assert "Task_afschalen" in driver.open(instance)


def test_procesregie__without_aftercare_the_case_closes_right_after_scaling_down(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    to_monitoring(driver, instance)
    round_with(driver, instance, "afschalen")

    assert "reden_geen_nazorg" in driver.refused(
        instance, "Task_afschalen", {"afschaaldatum": "2026-05-01", "nazorg_nodig": False}
    )
    driver.complete(
        instance,
        "Task_afschalen",
        {"afschaaldatum": "2026-05-01", "nazorg_nodig": False, "reden_geen_nazorg": "Betrokkene is overleden."},
    )

    assert driver.open(instance) == {"Task_afsluiten"}
    driver.complete(instance, "Task_afsluiten", {**AFSLUITEN, "afsluitreden": "overleden"})
    assert driver.status(instance) == "completed"


def test_procesregie__the_first_overleg_term_is_a_property_the_process_owner_can_change(
    driver: ProcessDriver, handover: Any, tmp_path: Path
) -> None:
    bpmn = (PROCESSES / "procesregie.bpmn").read_text(encoding="utf-8")
    changed = bpmn.replace('name="termijn" value="P3W"', 'name="termijn" value="P2W"')
    assert changed != bpmn
    (tmp_path / "procesregie.bpmn").write_text(changed, encoding="utf-8")
    with driver.db.transaction() as session:
        deploy_file(session, tmp_path / "procesregie.bpmn", actor="tests", search_paths=[FORMS])

    _, instance = handover()
    driver.advance(days(13))
    assert driver.open(instance) == {"Task_intake"}
    driver.advance(days(1))

    assert driver.open(instance) == {"Task_intake", "Task_escalatie_eerste_overleg"}


def test_procesregie__the_first_overleg_deadline_on_the_sub_process_is_the_due_date_of_its_tasks(
    driver: ProcessDriver, handover: Any
) -> None:
    _, instance = handover()
    deadline = driver.clock.now() + timedelta(weeks=3)

    intake = driver.task(instance, "Task_intake")
    driver.complete(instance, "Task_intake", INTAKE)
    preparation = driver.task(instance, "Task_voorbereiden")

    assert (intake.due_at, preparation.due_at) == (deadline, deadline)
