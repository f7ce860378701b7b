"""`zsm_context`: OM or politie at the ZSM table asks for context information about a minor suspect; the ZVH answers
the same working day (else the manager is asked to act), only after the bekendheidscheck, and records what it
shared, with whom and on what grounds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.errors import PermissionDenied
from engine.models import ReportFact
from tests.processes.harness import ProcessDriver

JONGERE = {"naam": "Tim Testman", "bsn": "111222333", "geboortedatum": "2010-04-01", "rol": "hoofdbetrokkene"}
VERZOEK: dict[str, Any] = {
    "verzoeker": {"organisatie": "Openbaar Ministerie", "naam": "Olga Officier", "telefoon": "088 699 1000"},
    "gemeente": "Breda",
    "betrokkenen": [JONGERE],
    "verdenking": "Straatroof (art. 312 Sr)",
    "vraag": "Is er zorg of een lopende aanpak rond de jongere? Nodig voor het besluit over een taakstraf.",
}
VERSTREKT = {
    "informatie_verstrekt": True,
    "gedeelde_gegevens": ["bekendheid", "contactpersoon", "hulpverlening"],
    "samenvatting": "Bekend bij het ZVH; procesregisseur genoemd; jeugdhulp loopt.",
    "grondslag": "werkafspraken_zsm",
    "verstrekt_aan": "Olga Officier (OM, ZSM-tafel)",
}


def test_zsm__a_request_is_answered_after_the_bekendheidscheck_and_what_was_shared_is_recorded(
    driver: ProcessDriver,
) -> None:
    with pytest.raises(PermissionDenied):
        driver.start("zsm_context", VERZOEK, as_role="screener")
    earlier = driver.start(
        "aanmelding_triage",
        {
            "aanmelddatum": "2026-03-02",
            "melder": {"organisatie": "Politie", "naam": "Wijkagent Wessel", "email": "wessel@politie.example"},
            "gemeente": "Breda",
            "betrokkenen": [JONGERE],
            "aanleiding": "Overlast en zorgen thuis.",
            "doel_casusoverleg": "Eén plan.",
            "leefgebieden": ["Wonen"],
            "betrokkene_geinformeerd": True,
            "spoed": False,
            "radicaliseringssignaal": False,
        },
        as_role="melder",
    )
    instance = driver.start("zsm_context", VERZOEK, as_role="om")

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_context", "screener")]
    assert driver.data(instance)["uiterste_antwoord"] == "2026-03-02T23:59:59+01:00"
    assert driver.task(instance, "Task_context").due_at is not None
    refusal = driver.refused(instance, "Task_context", {"informatie_verstrekt": True})
    assert set(refusal) >= {"gedeelde_gegevens", "samenvatting", "grondslag", "verstrekt_aan"}
    driver.complete(instance, "Task_context", {**VERSTREKT, "bekend_bij_zvh": False})

    assert driver.status(instance) == "completed"
    data = driver.data(instance)
    assert data["gedeelde_gegevens"] == ["bekendheid", "contactpersoon", "hulpverlening"]
    assert data["bekend_bij_zvh"] is True, "the engine ran the check (posted values are ignored)"
    assert driver.instance(earlier).case_number != driver.instance(instance).case_number
    with driver.db.reader() as session:
        assert [f.kengetal for f in session.scalars(select(ReportFact).where(ReportFact.instance_id == instance))] == [
            "zsm_context"
        ]


def test_zsm__no_answer_by_the_end_of_the_working_day_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = driver.start("zsm_context", VERZOEK, as_role="om")

    driver.advance(timedelta(hours=14, minutes=59))  # Monday 23:59
    assert driver.open(instance) == {"Task_context"}
    driver.advance(timedelta(minutes=1))

    assert driver.open(instance) == {"Task_context", "Task_escalatie"}
    assert driver.task(instance, "Task_escalatie").role == "manager"
    driver.complete(instance, "Task_escalatie", {"escalatie_actie": "Screener gebeld; ZSM geïnformeerd."})
    assert "reden_niet_verstrekt" in driver.refused(instance, "Task_context", {"informatie_verstrekt": False})
    driver.complete(instance, "Task_context", {"informatie_verstrekt": False, "reden_niet_verstrekt": "niet_bekend"})
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["bekend_bij_zvh"] is False


def test_zsm__a_request_outside_working_days_is_due_at_the_end_of_the_next_working_day(driver: ProcessDriver) -> None:
    driver.clock.set(datetime(2027, 4, 27, 11, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))  # Koningsdag

    instance = driver.start("zsm_context", VERZOEK, as_role="om")

    assert driver.data(instance)["uiterste_antwoord"] == "2027-04-28T23:59:59+02:00"
