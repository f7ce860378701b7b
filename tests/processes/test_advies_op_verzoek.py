"""`advies_op_verzoek`: a partner's question answered by the ZVH ("meerdere per dag"), with as little personal data
as possible, counted for the activity report; a question that becomes a referral starts `aanmelding_triage`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied
from engine.models import ReportFact
from tests.processes.harness import ProcessDriver

VRAAG: dict[str, Any] = {
    "datum": "2026-03-02",
    "vraagsteller": {"organisatie": "Woningcorporatie", "naam": "Wendy Wonen", "telefoon": "076 555 1234"},
    "gemeente": "Oosterhout",
    "onderwerp": "gegevensdeling",
    "vraag": "Mogen wij bij een dreigende huisuitzetting de wijkagent informeren?",
    "persoon_betrokken": False,
}
ADVIES = {"advies": "Ja, met de afspraken uit het convenant; leg de grondslag vast.", "tijdsbesteding_minuten": 20}
PERSOON = {"naam": "Jan Testman", "geboortedatum": "1990-05-17"}


def facts(driver: ProcessDriver) -> list[tuple[str, str]]:
    with driver.db.reader() as session:
        return [(f.process_key, f.kengetal) for f in session.scalars(select(ReportFact))]


def test_advies__a_general_question_is_answered_counted_and_holds_no_personal_data(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start("advies_op_verzoek", VRAAG, as_role="melder")
    instance = driver.start("advies_op_verzoek", VRAAG, as_role="adviseur")
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_advies", "adviseur")]
    assert driver.instance(instance).subject_person is None

    assert set(driver.refused(instance, "Task_advies", {**ADVIES, "wordt_aanmelding": True})) == {
        "aanmelding_toelichting"
    }
    driver.complete(instance, "Task_advies", {**ADVIES, "wordt_aanmelding": False})

    assert driver.status(instance) == "completed"
    assert driver.follow_ups(instance) == []
    assert driver.data(instance)["tijdsbesteding_minuten"] == 20
    assert facts(driver) == [("advies_op_verzoek", "advies_op_verzoek")]


def test_advies__personal_data_only_when_the_question_is_about_a_person(driver: ProcessDriver) -> None:
    with pytest.raises(InvalidInput) as without_person:
        driver.start("advies_op_verzoek", {**VRAAG, "persoon_betrokken": True}, as_role="adviseur")
    assert "betrokkenen" in without_person.value.fields
    with pytest.raises(InvalidInput) as needless:
        driver.start("advies_op_verzoek", {**VRAAG, "betrokkenen": [PERSOON]}, as_role="adviseur")
    assert "betrokkenen" in needless.value.fields
    with pytest.raises(InvalidInput) as too_much:
        driver.start(
            "advies_op_verzoek",
            {**VRAAG, "persoon_betrokken": True, "betrokkenen": [{**PERSOON, "adres": {"straat": "Kerkstraat"}}]},
            as_role="adviseur",
        )
    assert "betrokkenen.0.adres" in too_much.value.fields or "betrokkenen.0" in too_much.value.fields


def test_advies__a_question_that_becomes_a_referral_starts_the_aanmelding_with_what_is_known(
    driver: ProcessDriver,
) -> None:
    instance = driver.start(
        "advies_op_verzoek", {**VRAAG, "persoon_betrokken": True, "betrokkenen": [PERSOON]}, as_role="adviseur"
    )
    driver.complete(
        instance,
        "Task_advies",
        {**ADVIES, "wordt_aanmelding": True, "aanmelding_toelichting": "Schulden, overlast en zorgmijding samen."},
    )

    assert driver.status(instance) == "completed"
    (referral,) = driver.follow_ups(instance)
    assert (referral.process_key, referral.case_number) == ("aanmelding_triage", driver.instance(instance).case_number)
    handed = driver.data(referral.id)
    assert (handed["bron"], handed["gemeente"], handed["aanmelddatum"]) == (
        "advies_op_verzoek",
        "Oosterhout",
        "2026-03-02",
    )
    assert handed["melder"] == VRAAG["vraagsteller"]
    assert handed["betrokkenen"] == [{**PERSOON, "rol": "hoofdbetrokkene"}]
    assert handed["aanleiding"] == VRAAG["vraag"]
    # The adviser who took the question completes the referral (the starter's lane), then screening starts.
    assert [(t.element_id, t.role) for t in driver.tasks(referral.id)] == [("Task_aanmelding_opstellen", None)]
    assert driver.refused(referral.id, "Task_aanmelding_opstellen", {**handed, "bron": None}).keys() >= {"bron"}
    aanmelding = {
        "aanmelddatum": "2026-03-02",
        "melder": {**VRAAG["vraagsteller"], "email": "wendy@woonstichting.example"},
        "gemeente": "Oosterhout",
        "betrokkenen": handed["betrokkenen"],
        "aanleiding": VRAAG["vraag"],
        "doel_casusoverleg": "Eén plan met woningcorporatie, wijkteam en politie.",
        "leefgebieden": ["Wonen", "Financiën en schulden"],
        "betrokkene_geinformeerd": True,
        "spoed": False,
        "radicaliseringssignaal": False,
    }
    driver.complete(referral.id, "Task_aanmelding_opstellen", aanmelding)
    assert [(t.element_id, t.role) for t in driver.tasks(referral.id)] == [("Task_volledigheid", "screener")]
    assert driver.data(referral.id)["aanvulrondes"] == 0
