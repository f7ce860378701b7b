"""P1 `aanmelding_triage`: digital referral, screening, weekly triage, decision and feedback to the melder.

The hand-over tests need the receiving processes deployed: run with all of processes/ (the default), or at least
`ZVH_TEST_PROCESSES=aanmelding_triage,procesregie,weegploeg_radicalisering,reintegratie,isd_traject,mensenhandel_zorgcoordinatie`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied
from engine.inbox import list_tasks
from engine.models import AuditEvent
from engine.registry import deploy_file
from engine.users import create_user
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver, days

JAN = {"naam": "Jan Testman", "bsn": "111222333", "geboortedatum": "1990-05-17", "rol": "hoofdbetrokkene"}
AANMELDING: dict[str, Any] = {
    "aanmelddatum": "2026-03-02",
    "melder": {
        "organisatie": "Politie",
        "naam": "Wijkagent Wessel",
        "email": "wessel.wijkagent@politie.example",
        "telefoon": "076 123 4567",
    },
    "gemeente": "Breda",
    "betrokkenen": [JAN, {"naam": "Els Testman", "rol": "systeemlid"}],
    "aanleiding": "Herhaalde overlast, schulden en zorgen over de kinderen; partners lopen vast.",
    "doel_casusoverleg": "Eén gezamenlijk plan en één regisseur.",
    "leefgebieden": ["Wonen", "Financiën en schulden", "Veiligheid omgeving (overlast)"],
    "betrokken_partners": [{"organisatie": "GGZ", "contactpersoon": "Gea de Behandelaar"}],
    "betrokkene_geinformeerd": True,
    "spoed": False,
    "radicaliseringssignaal": False,
}
BEKEND = {"radicaliseringssignaal": False}
CRITERIA_MET = {
    "criterium_multiproblematiek": True,
    "criterium_multiproblematiek_motivering": "Wonen, schulden en overlast hangen samen.",
    "criterium_ketensamenwerking": True,
    "criterium_ketensamenwerking_motivering": "Politie, GGZ en gemeente zijn nodig, met drang.",
    "criterium_systeemimpact": True,
    "criterium_systeemimpact_motivering": "Twee kinderen in het gezin.",
    "criterium_lokale_veiligheid": False,
    "criterium_lokale_veiligheid_motivering": "Geen gebiedsgebonden problematiek.",
    "verrijking_bij": "Politie",
}
VERRIJKING = {"bijdragen": [{"organisatie": "Veilig Thuis", "informatie": "Twee eerdere meldingen in 2025."}]}
TERUGKOPPELING = {
    "teruggekoppeld_op": "2026-03-04",
    "terugkoppeling_wijze": "telefonisch",
    "melder_informeert_betrokkene": True,
}


def triage(besluit: str, **extra: Any) -> dict[str, Any]:
    return {
        "triagedatum": "2026-03-03",
        "triagetafel": ["Zorg- en Veiligheidshuis", "MaSS (Maatschappelijke Steunsystemen)", "Veilig Thuis"],
        "triagebesluit": besluit,
        "motivering": f"Besluit {besluit} na bespreking aan de triagetafel.",
        **extra,
    }


def screen(driver: ProcessDriver, instance: int, *, criteria: dict[str, Any] = CRITERIA_MET) -> None:
    """Completeness check, bekendheidscheck and criteria; enrichment when the criteria are met."""
    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": True})
    driver.complete(instance, "Task_bekendheid", BEKEND)
    driver.complete(instance, "Task_criteria", criteria)
    if "Task_verrijken" in driver.open(instance):
        driver.complete(instance, "Task_verrijken", VERRIJKING)


def to_triage(driver: ProcessDriver, **changes: Any) -> int:
    """A referral that is screened on Monday morning and triaged on Tuesday at 10:00."""
    instance = driver.start("aanmelding_triage", {**AANMELDING, **changes}, as_role="melder")
    screen(driver, instance)
    driver.advance(timedelta(hours=25))
    assert driver.open(instance) == {"Task_triage"}
    return instance


def test_aanmelding__only_a_melder_starts_and_the_referral_form_is_checked_on_the_server(
    driver: ProcessDriver,
) -> None:
    with pytest.raises(PermissionDenied):
        driver.start("aanmelding_triage", AANMELDING, as_role="screener")
    bad = {
        **AANMELDING,
        "betrokkene_geinformeerd": False,
        "spoed": True,
        "betrokkenen": [{**JAN, "bsn": "123456789"}],
        "melder": {"organisatie": "Politie", "naam": "W"},
        "casusnummer": "ZVH-2026-99999",
    }
    with pytest.raises(InvalidInput) as refused:
        driver.start("aanmelding_triage", bad, as_role="melder")

    assert {
        "reden_niet",
        "spoed_toelichting",
        "betrokkenen.0.bsn",
        "melder.naam",
        "melder.email",
        "casusnummer",
    } <= set(refused.value.fields)
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Breda", "Jan Testman")
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_volledigheid", "screener")]


def test_aanmelding__complete_referral_is_triaged_on_tuesday_and_handed_over_to_procesregie(
    driver: ProcessDriver,
) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, instance)

    assert driver.status(instance) == "waiting", "waiting for the weekly triage"
    assert driver.data(instance)["volgend_triagemoment"] == "2026-03-03T10:00:00+01:00"
    assert driver.data(instance)["voldoet_aan_criteria"] is True
    driver.advance(timedelta(hours=24, minutes=59))
    assert driver.open(instance) == set()
    driver.advance(timedelta(minutes=1))
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_triage", "triagetafel")]

    driver.complete(instance, "Task_triage", triage("procesregie_zvh"))

    (follow_up,) = driver.follow_ups(instance)
    assert (follow_up.process_key, follow_up.case_number) == ("procesregie", driver.instance(instance).case_number)
    handed = driver.data(follow_up.id)
    assert handed["bron"] == "aanmelding_triage"
    assert (handed["gemeente"], handed["aanleiding"]) == ("Breda", AANMELDING["aanleiding"])
    assert (handed["betrokkenen"], handed["leefgebieden"]) == (AANMELDING["betrokkenen"], AANMELDING["leefgebieden"])
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_terugkoppeling", "screener")]
    assert driver.data(instance)["uiterste_terugkoppeling"] == "2026-03-10T23:59:59+01:00"
    assert driver.task(instance, "Task_terugkoppeling").due_at is not None

    refusal = driver.refused(instance, "Task_terugkoppeling", {**TERUGKOPPELING, "melder_informeert_betrokkene": False})
    assert set(refusal) == {"reden_niet_informeren"}
    driver.complete(
        instance,
        "Task_terugkoppeling",
        {**TERUGKOPPELING, "melder_informeert_betrokkene": False, "reden_niet_informeren": "veiligheidsrisico"},
    )
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["reden_niet_informeren"] == "veiligheidsrisico"


def test_aanmelding__screened_after_the_monday_noon_cutoff_waits_for_next_weeks_triage(driver: ProcessDriver) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    driver.advance(timedelta(hours=3, minutes=1))  # Monday 12:01
    screen(driver, instance)

    assert driver.data(instance)["volgend_triagemoment"] == "2026-03-10T10:00:00+01:00"
    driver.advance(days(2))
    assert driver.open(instance) == set(), "not on Tuesday 3 March"
    driver.advance(days(6))
    assert driver.open(instance) == {"Task_triage"}


def test_aanmelding__urgent_referral_skips_the_weekly_moment_and_unmet_criteria_skip_enrichment(
    driver: ProcessDriver,
) -> None:
    instance = driver.start(
        "aanmelding_triage",
        {**AANMELDING, "spoed": True, "spoed_toelichting": "Dreigende huisuitzetting"},
        as_role="melder",
    )
    criteria_not_met = {**CRITERIA_MET, "criterium_systeemimpact": False}

    screen(driver, instance, criteria=criteria_not_met)

    assert driver.open(instance) == {"Task_triage"}, "no enrichment, no waiting"
    assert driver.data(instance)["voldoet_aan_criteria"] is False


def test_aanmelding__referral_to_a_partner_is_recorded_next_to_the_feedback(driver: ProcessDriver) -> None:
    instance = to_triage(driver)

    refusal = driver.refused(instance, "Task_triage", triage("doorverwijzen"))
    assert set(refusal) == {"doorverwijzing_toelichting"}
    driver.complete(
        instance, "Task_triage", triage("doorverwijzen", doorverwijzing_toelichting="Wijkteam Breda-Noord.")
    )

    assert driver.open(instance) == {"Task_doorverwijzen", "Task_terugkoppeling"}
    refusal = driver.refused(
        instance, "Task_doorverwijzen", {"doorverwezen_naar": "lokaal_team", "verwezen_op": "2026-03-04"}
    )
    assert set(refusal) == {"ontvanger", "overdracht_bevestigd"}, "a partner referral records who took it over"
    driver.complete(
        instance,
        "Task_doorverwijzen",
        {
            "doorverwezen_naar": "lokaal_team",
            "verwezen_op": "2026-03-04",
            "ontvanger": {"organisatie": "Lokaal (wijk)team", "contactpersoon": "Wim Wijkteam"},
            "overdracht_bevestigd": True,
        },
    )
    assert driver.follow_ups(instance) == [], "a partner outside the ZVH is recorded, not started"
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["doorverwezen_naar"] == "lokaal_team"


def test_aanmelding__late_feedback_after_a_declined_referral_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = to_triage(driver)
    assert "advies" in driver.refused(instance, "Task_triage", triage("afwijzen_advies"))
    driver.complete(instance, "Task_triage", triage("afwijzen_advies", advies="Eerst oppakken met het wijkteam."))
    assert driver.open(instance) == {"Task_terugkoppeling"}

    driver.advance(days(7))  # Tuesday 10 March, still within five working days
    assert driver.open(instance) == {"Task_terugkoppeling"}
    driver.advance(days(1))

    assert driver.open(instance) == {"Task_terugkoppeling", "Task_escalatie_terugkoppeling"}
    assert driver.task(instance, "Task_escalatie_terugkoppeling").role == "manager"
    assert "escalatie_actie" in driver.refused(instance, "Task_escalatie_terugkoppeling", {})
    driver.complete(instance, "Task_escalatie_terugkoppeling", {"escalatie_actie": "Screener gebeld; melder vandaag."})
    driver.complete(instance, "Task_terugkoppeling", {**TERUGKOPPELING, "teruggekoppeld_op": "2026-03-11"})
    assert driver.status(instance) == "completed"


def test_aanmelding__incomplete_referral_goes_back_to_the_melder_at_most_twice_then_is_declined(
    driver: ProcessDriver,
) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    assert set(driver.refused(instance, "Task_volledigheid", {"aanmelding_volledig": False})) == {"ontbrekend"}

    for round_number in (1, 2):
        driver.complete(
            instance, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "Welke partners zijn er?"}
        )
        assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_aanvullen", None)]
        driver.complete(instance, "Task_aanvullen", {**AANMELDING, "doel_casusoverleg": f"Aangevuld ({round_number})."})
        assert driver.data(instance)["aanvulrondes"] == round_number
    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "Nog steeds niets."})

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_afwijzen_onvolledig", "screener")]
    driver.complete(
        instance,
        "Task_afwijzen_onvolledig",
        {"advies": "Meld opnieuw aan met de betrokken partners.", "motivering": "Na twee rondes nog onvolledig."},
    )
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["doel_casusoverleg"] == "Aangevuld (2)."


def test_aanmelding__completed_after_one_round_of_additions_continues_to_screening(driver: ProcessDriver) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."})
    driver.complete(instance, "Task_aanvullen", AANMELDING)

    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": True})

    assert driver.open(instance) == {"Task_bekendheid"}


def test_aanmelding__only_the_melder_who_referred_gets_it_back_to_complete(driver: ProcessDriver) -> None:
    referrer = driver.user("melder")
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    with driver.db.transaction() as session:
        other = create_user(session, username="test.melder.ander", display_name="Andere melder", roles=["melder"])

    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": False, "ontbrekend": "BSN ontbreekt."})

    with driver.db.reader() as session:
        assert [t.element_id for t in list_tasks(session, user=referrer).tasks] == ["Task_aanvullen"]
        assert list_tasks(session, user=other).tasks == [], "another melder must not see the referral (BSNs)"
    task = driver.task(instance, "Task_aanvullen")
    with pytest.raises(PermissionDenied), driver.db.transaction() as session:
        driver.runtime.complete_task(session, task_id=task.id, actor=other, data=AANMELDING)
    assert driver.open(instance) == {"Task_aanvullen"}


def test_aanmelding__radicalisation_signal_goes_to_the_weegploeg_instead_of_triage(driver: ProcessDriver) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    driver.complete(instance, "Task_volledigheid", {"aanmelding_volledig": True})
    assert "radicalisering_toelichting" in driver.refused(
        instance, "Task_bekendheid", {**BEKEND, "radicaliseringssignaal": True}
    )

    driver.complete(
        instance,
        "Task_bekendheid",
        {
            "radicaliseringssignaal": True,
            "radicalisering_toelichting": "Deelt extremistische content en zoekt contact met een netwerk.",
        },
    )

    (follow_up,) = driver.follow_ups(instance)
    assert (follow_up.process_key, follow_up.case_number) == (
        "weegploeg_radicalisering",
        driver.instance(instance).case_number,
    )
    handed = driver.data(follow_up.id)
    assert handed["signaal"] == {
        "datum": "2026-03-02",
        "bron": "Aanmelding ZVH door Politie (Wijkagent Wessel)",
        "omschrijving": "Deelt extremistische content en zoekt contact met een netwerk.",
    }
    assert (handed["gemeente"], handed["bron"], handed["betrokkenen"]) == (
        "Breda",
        "aanmelding_triage",
        AANMELDING["betrokkenen"],
    )
    # The melder hears where the referral went, within five working days of the screening, like any outcome.
    assert driver.open(instance) == {"Task_terugkoppeling"}
    assert driver.data(instance)["uiterste_terugkoppeling"] == "2026-03-09T23:59:59+01:00"
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)
    assert driver.status(instance) == "completed"


def test_aanmelding__triage_day_and_feedback_term_are_properties_the_process_owner_can_change(
    driver: ProcessDriver, tmp_path: Path
) -> None:
    bpmn = (PROCESSES / "aanmelding_triage.bpmn").read_text(encoding="utf-8")
    changed = bpmn.replace('name="triagedag" value="dinsdag"', 'name="triagedag" value="donderdag"').replace(
        'name="werkdagen" value="5"', 'name="werkdagen" value="3"'
    )
    assert 'value="donderdag"' in changed and 'name="werkdagen" value="3"' in changed
    (tmp_path / "aanmelding_triage.bpmn").write_text(changed, encoding="utf-8")
    with driver.db.transaction() as session:
        deploy_file(session, tmp_path / "aanmelding_triage.bpmn", actor="tests", search_paths=[FORMS])

    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    screen(driver, instance)
    assert driver.data(instance)["volgend_triagemoment"] == "2026-03-05T10:00:00+01:00"
    driver.advance(days(3) + timedelta(hours=1))
    driver.complete(
        instance, "Task_triage", triage("afwijzen_advies", advies="Lokaal oppakken.", triagedatum="2026-03-05")
    )

    assert driver.data(instance)["uiterste_terugkoppeling"] == "2026-03-10T23:59:59+01:00"


# --- hand-overs that start the next process ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("naar", "process_key"),
    [("re_integratie", "reintegratie"), ("isd", "isd_traject"), ("mensenhandel", "mensenhandel_zorgcoordinatie")],
)
def test_aanmelding__referral_to_a_zvh_process_starts_it_for_the_same_case(
    driver: ProcessDriver, naar: str, process_key: str
) -> None:
    instance = to_triage(driver)
    driver.complete(instance, "Task_triage", triage("doorverwijzen", doorverwijzing_toelichting="Past bij dit proces."))

    driver.complete(instance, "Task_doorverwijzen", {"doorverwezen_naar": naar, "verwezen_op": "2026-03-04"})

    (follow_up,) = driver.follow_ups(instance)
    assert (follow_up.process_key, follow_up.case_number) == (process_key, driver.instance(instance).case_number)
    handed = driver.data(follow_up.id)
    assert {key: handed[key] for key in ("gemeente", "betrokkenen", "aanleiding", "bron")} == {
        "gemeente": "Breda",
        "betrokkenen": AANMELDING["betrokkenen"],
        "aanleiding": AANMELDING["aanleiding"],
        "bron": "aanmelding_triage",
    }
    with driver.db.reader() as session:
        handovers = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance, AuditEvent.action == "handover")
        ).all()
    assert [entry.details["instance_id"] for entry in handovers] == [follow_up.id]
    assert driver.open(instance) == {"Task_terugkoppeling"}, "the melder still hears the outcome"
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)
    assert driver.status(instance) == "completed"


def test_aanmelding__afschalen_to_veilig_thuis_records_what_was_shared_and_on_what_grounds(
    driver: ProcessDriver,
) -> None:
    instance = to_triage(driver)
    driver.complete(
        instance, "Task_triage", triage("doorverwijzen", doorverwijzing_toelichting="Veilig Thuis pakt op.")
    )
    driver.complete(instance, "Task_doorverwijzen", {"doorverwezen_naar": "veilig_thuis", "verwezen_op": "2026-03-04"})

    assert driver.open(instance) == {"Task_overdracht_vt", "Task_terugkoppeling"}
    assert driver.task(instance, "Task_overdracht_vt").role == "screener"
    overdracht = {
        "overgedragen_op": "2026-03-04",
        "vt_contactpersoon": "Vera Veilig",
        "gedeelde_gegevens": ["identificerend", "aanleiding", "gezinssituatie"],
        "grondslag": "meldcode",
    }
    assert "overdracht_toelichting" in driver.refused(
        instance, "Task_overdracht_vt", {**overdracht, "grondslag": "anders"}
    )
    driver.complete(instance, "Task_overdracht_vt", overdracht)
    driver.complete(instance, "Task_terugkoppeling", TERUGKOPPELING)

    assert driver.status(instance) == "completed"
    assert driver.follow_ups(instance) == []
    assert driver.data(instance)["gedeelde_gegevens"] == ["identificerend", "aanleiding", "gezinssituatie"]


def test_aanmelding__veilig_thuis_opschalen_is_a_referral_with_veilig_thuis_as_melder(driver: ProcessDriver) -> None:
    melder = {"organisatie": "Veilig Thuis", "naam": "Vera Veilig", "email": "vera@veiligthuis.example"}

    instance = driver.start("aanmelding_triage", {**AANMELDING, "melder": melder}, as_role="melder")

    assert driver.open(instance) == {"Task_volledigheid"}
    assert driver.data(instance)["melder"]["organisatie"] == "Veilig Thuis"


# --- the weekly triage moves off holidays -----------------------------------------------------------------------

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("screened", "triage_moment"),
    [
        # Tweede Paasdag (Monday 29 March 2027): the cut-off moves to the working day before, Friday 26 March.
        (datetime(2027, 3, 26, 11, 0, tzinfo=AMSTERDAM), "2027-03-30T10:00:00+02:00"),
        (datetime(2027, 3, 26, 12, 1, tzinfo=AMSTERDAM), "2027-04-06T10:00:00+02:00"),
        # Koningsdag (Tuesday 27 April 2027): the triage moves to Wednesday.
        (datetime(2027, 4, 26, 9, 0, tzinfo=AMSTERDAM), "2027-04-28T10:00:00+02:00"),
        # Pinkstermaandag (Monday 17 May 2027): the cut-off is Friday 14 May at noon.
        (datetime(2027, 5, 14, 12, 1, tzinfo=AMSTERDAM), "2027-05-25T10:00:00+02:00"),
    ],
)
def test_aanmelding__the_weekly_triage_and_its_cutoff_move_off_holidays(
    driver: ProcessDriver, screened: datetime, triage_moment: str
) -> None:
    driver.clock.set(screened)
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")

    screen(driver, instance)

    assert driver.data(instance)["volgend_triagemoment"] == triage_moment
