"""P4 `reintegratie`: from the melding begin detentie through screening on the five basisvoorwaarden, the D&R-plan
and the parallel arrangements, to the melding einde detentie, procesregie or gemeentelijke nazorg, the check after
release and the destruction of the data when the retention period (6 months after release) ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidInput, PermissionDenied
from engine.privacy.retention import due_for_destruction
from tests.processes.harness import ProcessDriver, days
from tests.processes.test_bij import MELDING as BIJ_MELDING

KEY = "reintegratie"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

KEES = {"naam": "Kees Bedacht", "bsn": "999990019", "geboortedatum": "1987-01-05", "rol": "hoofdbetrokkene"}
DETENTIE = {"pi": "PI Breda", "datum_in": "2026-02-15", "datum_uit": "2026-06-30", "verlof": False}
MELDING = {"detentie": DETENTIE, "betrokkenen": [KEES], "gemeente": "Breda"}
SCREENING = {
    "screening_datum": "2026-03-05",
    "basisvoorwaarden": {
        "id_bewijs": {"status": "niet_geregeld", "verantwoordelijke": "Dienst Justitiële Inrichtingen"},
        "onderdak": {"status": "in_behandeling", "verantwoordelijke": "Gemeente"},
        "werk_en_inkomen": {"status": "niet_geregeld", "verantwoordelijke": "Gemeente"},
        "schulden": {"status": "in_behandeling", "verantwoordelijke": "Gemeente"},
        "zorg": {"status": "niet_geregeld", "verantwoordelijke": "Reclassering"},
    },
}
DR_PLAN = {
    "dr_plan_ontvangen": "2026-03-10",
    "casemanager_dji": "Dirk Justitieel",
    "afspraken_dr_plan": "ID-kaart aanvragen, schuldenoverzicht maken, arbeidstoeleiding starten.",
}
#: The task of each basisvoorwaarde, the role of its lane and the field it fills.
BASISVOORWAARDEN = {
    "Task_id_bewijs": ("dji", "id_bewijs"),
    "Task_onderdak": ("gemeente", "onderdak"),
    "Task_werk_inkomen": ("gemeente", "werk_en_inkomen"),
    "Task_schulden": ("gemeente", "schulden"),
    "Task_zorg": ("reclassering", "zorg"),
}
EINDE = {
    "datum_uit_definitief": "2026-06-30",
    "gemeente": "Breda",
    "woonsituatie_na_detentie": "familie_of_netwerk",
    "bijzondere_voorwaarden": True,
    "toezicht_reclassering": True,
}
COMPLEX = {
    "complexe_casus": True,
    "leefgebieden": ["Wonen", "Verslaving", "Justitie en criminaliteit"],
    "aanleiding_procesregie": "Verslaving, geen eigen woning en hoog recidiverisico; veel partners betrokken.",
    "motivering_vervolg": "Meerdere leefgebieden en partners: regie door het ZVH is nodig.",
}
NIET_COMPLEX = {"complexe_casus": False, "motivering_vervolg": "Basisvoorwaarden op orde; gemeentelijke nazorg."}
NAZORG = {
    "contactpersoon_nazorg": "Gijs Gemeente",
    "eerste_contact_op": "2026-07-01",
    "afspraken_nazorg": "Wekelijks contact in de eerste maand.",
}
NACONTROLE = {
    "gecontroleerd_op": "2026-09-28",
    "situatie_na_ontslag": {
        "id_bewijs": "geregeld",
        "onderdak": "geregeld",
        "werk_en_inkomen": "in_behandeling",
        "schulden": "in_behandeling",
        "zorg": "geregeld",
    },
    "nieuwe_politiecontacten": False,
}
VERNIETIGING = {
    "vernietigd_op": "2026-12-18",
    "vernietigde_bronnen": ["zaakdossier", "email_en_agenda"],
    "vernietiging_bevestigd": True,
}


REMAND = {"pi": "PI Breda", "datum_in": "2026-02-15", "datum_uit_onbekend": True, "verlof": False}
REFERRAL = {
    "gemeente": "Breda",
    "betrokkenen": [KEES],
    "aanleiding": "Zit in voorlopige hechtenis; terugkeer naar Breda verwacht, geen woning.",
    "bron": "aanmelding_triage",
}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def advance_to(driver: ProcessDriver, moment: datetime) -> None:
    driver.advance(moment - driver.clock.now())


def arranging(driver: ProcessDriver) -> int:
    """A detainee reported, screened and the D&R-plan shared: the five basisvoorwaarden are being arranged."""
    instance = driver.start(KEY, MELDING, as_role="dji")
    driver.complete(instance, "Task_screening", SCREENING)
    driver.complete(instance, "Task_dr_plan", DR_PLAN)
    return instance


def arrange_all(driver: ProcessDriver, instance: int) -> None:
    for task, (_, field) in BASISVOORWAARDEN.items():
        driver.complete(instance, task, {field: {"status": "geregeld", "verantwoordelijke": "Gemeente"}})


def released(driver: ProcessDriver, einde: dict[str, object] | None = None) -> int:
    """A detainee whose basisvoorwaarden are arranged and whose release DJI has reported."""
    instance = arranging(driver)
    arrange_all(driver, instance)
    advance_to(driver, local(2026, 6, 23, 9, 0))
    driver.complete(instance, "Task_melding_einde", einde or EINDE)
    return instance


#: DJI's standing task to change the release date, open from the screening until a week before the release date.
ONTSLAGDATUM = "Task_ontslagdatum"


def roles(driver: ProcessDriver, instance: int) -> set[tuple[str, str | None]]:
    """The open tasks and their roles, besides DJI's standing task to change the release date."""
    return {(t.element_id, t.role) for t in driver.tasks(instance) if t.element_id != ONTSLAGDATUM}


def work(driver: ProcessDriver, instance: int) -> set[str]:
    """The open tasks besides DJI's standing task to change the release date."""
    return driver.open(instance) - {ONTSLAGDATUM}


# --- melding and screening -------------------------------------------------------------------------------------


def test_melding__dji_reports_a_detainee_and_the_coordinator_screens(driver: ProcessDriver) -> None:
    with pytest.raises(PermissionDenied):
        driver.start(KEY, MELDING, as_role="gemeente")
    with pytest.raises(InvalidInput) as refused:
        driver.start(KEY, {**MELDING, "detentie": {**DETENTIE, "datum_uit": "30-06-2026"}}, as_role="dji")

    instance = driver.start(KEY, MELDING, as_role="dji")

    assert set(refused.value.fields) == {"detentie.datum_uit"}
    assert roles(driver, instance) == {("Task_screening", "re_integratiecoordinator")}
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Breda", "Kees Bedacht")


def test_screening__needs_a_status_and_responsible_party_per_basisvoorwaarde(driver: ProcessDriver) -> None:
    instance = driver.start(KEY, MELDING, as_role="dji")
    incomplete = {k: v for k, v in SCREENING["basisvoorwaarden"].items() if k != "zorg"}

    refused = driver.refused(
        instance,
        "Task_screening",
        {**SCREENING, "basisvoorwaarden": {**incomplete, "schulden": {"status": "niet_geregeld"}}},
    )

    assert set(refused) == {"basisvoorwaarden.zorg", "basisvoorwaarden.schulden.verantwoordelijke"}
    driver.complete(instance, "Task_screening", SCREENING)
    assert roles(driver, instance) == {("Task_dr_plan", "dji")}


def test_screening__not_done_within_ten_days_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = driver.start(KEY, MELDING, as_role="dji")
    driver.advance(days(10) - timedelta(seconds=1))
    assert work(driver, instance) == {"Task_screening"}

    driver.advance(timedelta(seconds=1))

    assert roles(driver, instance) == {
        ("Task_screening", "re_integratiecoordinator"),
        ("Task_escalatie_screening", "manager"),
    }
    driver.complete(instance, "Task_escalatie_screening")
    assert work(driver, instance) == {"Task_screening"}


# --- the five basisvoorwaarden in parallel ----------------------------------------------------------------------


def test_basisvoorwaarden__are_arranged_in_parallel_each_in_its_own_lane(driver: ProcessDriver) -> None:
    instance = arranging(driver)

    assert roles(driver, instance) == {(task, role) for task, (role, _) in BASISVOORWAARDEN.items()}
    refused = driver.refused(instance, "Task_onderdak", {"onderdak": {"status": "niet_geregeld"}})
    assert set(refused) == {"onderdak.verantwoordelijke"}

    arrange_all(driver, instance)

    assert work(driver, instance) == set()
    data = driver.data(instance)
    assert all(data[field]["status"] == "geregeld" for _, field in BASISVOORWAARDEN.values())


def test_basisvoorwaarden__not_arranged_two_weeks_before_release_escalates(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    driver.complete(instance, "Task_id_bewijs", {"id_bewijs": {"status": "geregeld", "verantwoordelijke": "Gemeente"}})
    deadline = local(2026, 6, 16, 23, 59, 59)
    advance_to(driver, deadline - timedelta(seconds=1))
    assert "Task_escalatie_basisvoorwaarden" not in work(driver, instance)

    advance_to(driver, deadline)

    assert ("Task_escalatie_basisvoorwaarden", "manager") in roles(driver, instance)
    assert {"Task_onderdak", "Task_werk_inkomen", "Task_schulden", "Task_zorg"} <= work(driver, instance)
    driver.complete(instance, "Task_escalatie_basisvoorwaarden")
    remaining = {k: v for k, v in BASISVOORWAARDEN.items() if k != "Task_id_bewijs"}
    for task, (_, field) in remaining.items():
        driver.complete(instance, task, {field: {"status": "in_behandeling", "verantwoordelijke": "Gemeente"}})
    assert work(driver, instance) == set()


# --- melding einde detentie -------------------------------------------------------------------------------------


def test_einde_detentie__dji_is_asked_a_week_before_the_release_date(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    arrange_all(driver, instance)
    advance_to(driver, local(2026, 6, 23, 8, 59))
    assert work(driver, instance) == set()

    advance_to(driver, local(2026, 6, 23, 9, 0))

    assert roles(driver, instance) == {("Task_melding_einde", "dji")}
    driver.complete(instance, "Task_melding_einde", {**EINDE, "gemeente": "Oosterhout"})
    assert roles(driver, instance) == {("Task_vervolg", "re_integratiecoordinator")}
    assert driver.instance(instance).gemeente == "Oosterhout"


def test_einde_detentie__no_report_by_the_release_date_goes_to_the_coordinator(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    arrange_all(driver, instance)

    advance_to(driver, local(2026, 6, 30, 23, 59, 59))

    assert roles(driver, instance) == {
        ("Task_melding_einde", "dji"),
        ("Task_ontslag_navragen", "re_integratiecoordinator"),
    }
    driver.complete(instance, "Task_ontslag_navragen")
    assert work(driver, instance) == {"Task_melding_einde"}


# --- after release ------------------------------------------------------------------------------------------------


def test_na_ontslag__a_complex_case_is_handed_over_to_procesregie_and_checked_later(driver: ProcessDriver) -> None:
    instance = released(driver)
    refused = driver.refused(instance, "Task_vervolg", {**COMPLEX, "aanleiding_procesregie": ""})
    assert set(refused) == {"aanleiding_procesregie"}

    driver.complete(instance, "Task_vervolg", COMPLEX)

    (child,) = driver.follow_ups(instance)
    assert (child.process_key, child.case_number) == ("procesregie", driver.instance(instance).case_number)
    handed_over = driver.data(child.id)
    assert handed_over["bron"] == KEY
    assert (handed_over["gemeente"], handed_over["betrokkenen"]) == ("Breda", [KEES])
    assert (handed_over["aanleiding"], handed_over["leefgebieden"]) == (
        COMPLEX["aanleiding_procesregie"],
        COMPLEX["leefgebieden"],
    )
    assert work(driver, instance) == set()
    advance_to(driver, local(2026, 9, 28, 9, 0))
    assert roles(driver, instance) == {("Task_nacontrole", "re_integratiecoordinator")}
    driver.complete(instance, "Task_nacontrole", NACONTROLE)
    assert driver.status(instance) == "waiting"
    assert len(driver.follow_ups(instance)) == 1


def test_na_ontslag__a_simple_case_gets_gemeentelijke_nazorg(driver: ProcessDriver) -> None:
    instance = released(driver)

    driver.complete(instance, "Task_vervolg", NIET_COMPLEX)

    assert roles(driver, instance) == {("Task_nazorg", "gemeente")}
    driver.complete(instance, "Task_nazorg", NAZORG)
    assert driver.follow_ups(instance) == []
    advance_to(driver, local(2026, 9, 28, 9, 0))
    assert work(driver, instance) == {"Task_nacontrole"}


# --- retention ------------------------------------------------------------------------------------------------------


def test_bewaartermijn__ends_six_calendar_months_after_release(driver: ProcessDriver) -> None:
    instance = released(driver, {**EINDE, "datum_uit_definitief": "2026-08-31"})

    data = driver.data(instance)

    assert data["datum_vernietiging_uiterlijk"] == "2027-02-28"
    assert data["vernietigen_uiterlijk"] == "2027-02-28T23:59:59+01:00"
    assert data["vernietigen_vanaf"] == "2027-02-14T09:00:00+01:00"
    assert data["moment_nacontrole"] == "2026-11-29T09:00:00+01:00"


def test_bewaartermijn__the_data_is_destroyed_and_the_case_closed(driver: ProcessDriver) -> None:
    instance = released(driver)
    driver.complete(instance, "Task_vervolg", NIET_COMPLEX)
    driver.complete(instance, "Task_nazorg", NAZORG)
    advance_to(driver, local(2026, 9, 28, 9, 0))
    driver.complete(instance, "Task_nacontrole", NACONTROLE)
    advance_to(driver, local(2026, 12, 16, 8, 59))
    assert work(driver, instance) == set()

    advance_to(driver, local(2026, 12, 16, 9, 0))

    assert roles(driver, instance) == {("Task_vernietigen", "re_integratiecoordinator")}
    refused = driver.refused(instance, "Task_vernietigen", {**VERNIETIGING, "vernietiging_bevestigd": False})
    assert set(refused) == {"vernietiging_bevestigd"}
    driver.complete(instance, "Task_vernietigen", VERNIETIGING)
    assert driver.status(instance) == "completed"
    data = driver.data(instance)
    assert not {"betrokkenen", "detentie", "basisvoorwaarden", "onderdak", "casemanager_dji"} & set(data)
    assert (data["vernietigd_op"], data["persoonsgegevens_gewist_op"]) == ("2026-12-18", "2026-12-16")
    row = driver.instance(instance)
    assert (row.subject_person, row.gemeente) == (None, "Breda")
    # The step schedules the real destruction: due now, so the next daily run lists it for a four-eyes list.
    assert row.retention_due_at == driver.clock.now()
    assert row.retention_rule == "reintegratie/End_vernietigd P0D vanaf einde"
    with driver.db.reader() as session:
        assert [case.instance_id for case in due_for_destruction(session, driver.clock.now())] == [instance]


def test_bewaartermijn__counts_from_the_release_whatever_path_the_case_took(driver: ProcessDriver) -> None:
    instance = arranging(driver)  # a basisvoorwaarde is never arranged, the release never reported

    row = driver.instance(instance)

    assert row.status != "completed"
    assert row.retention_rule == "reintegratie/proces P6M vanaf detentie.datum_uit"
    assert row.retention_due_at == local(2026, 12, 30, 0, 0)
    advance_to(driver, local(2026, 12, 30, 0, 0))
    with driver.db.reader() as session:
        assert instance in [case.instance_id for case in due_for_destruction(session, driver.clock.now())]


def test_bewaartermijn__the_reported_release_date_replaces_the_expected_one(driver: ProcessDriver) -> None:
    instance = released(driver, {**EINDE, "datum_uit_definitief": "2026-08-31"})

    row = driver.instance(instance)

    assert (row.retention_rule, row.retention_due_at) == (
        "reintegratie/proces P6M vanaf datum_uit_definitief",
        local(2027, 2, 28, 0, 0),
    )


def test_bewaartermijn__destruction_closes_the_case_even_with_nazorg_still_open(driver: ProcessDriver) -> None:
    instance = released(driver)
    driver.complete(instance, "Task_vervolg", NIET_COMPLEX)
    advance_to(driver, local(2026, 12, 16, 9, 0))
    assert work(driver, instance) == {"Task_nazorg", "Task_vernietigen"}

    driver.complete(instance, "Task_vernietigen", VERNIETIGING)

    assert driver.status(instance) == "completed"
    assert work(driver, instance) == set()


def test_bewaartermijn__destruction_not_done_in_time_escalates_to_the_privacy_officer(driver: ProcessDriver) -> None:
    instance = released(driver)
    advance_to(driver, local(2026, 12, 30, 23, 59, 58))
    assert "Task_escalatie_vernietiging" not in work(driver, instance)

    advance_to(driver, local(2026, 12, 30, 23, 59, 59))

    assert ("Task_escalatie_vernietiging", "privacyfunctionaris") in roles(driver, instance)
    driver.complete(instance, "Task_escalatie_vernietiging")
    driver.complete(instance, "Task_vernietigen", VERNIETIGING)
    assert driver.status(instance) == "completed"


# --- a referral from triage ---------------------------------------------------------------------------------------


def referred(driver: ProcessDriver) -> int:
    """A case referred on by the triage (message `start_reintegratie`) as a follow-up of the referral."""
    parent = driver.start("bij", BIJ_MELDING, as_role="re_integratiecoordinator")
    actor = driver.user("triagetafel")
    with driver.db.transaction() as session:
        child = driver.runtime.start_follow_up(
            session, instance_id=parent, message="start_reintegratie", actor=actor, data=REFERRAL
        )
    return child.id


def test_doorverwijzing__a_referral_asks_the_detention_data_first_then_screens(driver: ProcessDriver) -> None:
    instance = referred(driver)
    assert roles(driver, instance) == {("Task_detentie", "re_integratiecoordinator")}
    assert driver.data(instance)["bron"] == "aanmelding_triage"
    refused = driver.refused(instance, "Task_detentie", {"detentie": {**DETENTIE, "datum_uit": None}})
    assert set(refused) == {"detentie.datum_uit"}

    driver.complete(instance, "Task_detentie", {"detentie": DETENTIE})

    assert roles(driver, instance) == {("Task_screening", "re_integratiecoordinator")}
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person, row.parent_instance_id is not None) == ("Breda", "Kees Bedacht", True)


# --- the release date changes or is unknown (voorlopige hechtenis) -------------------------------------------------


def test_ontslagdatum__a_later_date_moves_the_timers_that_depend_on_it(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    assert (ONTSLAGDATUM, "dji") in {(t.element_id, t.role) for t in driver.tasks(instance)}
    later = {**DETENTIE, "datum_uit": "2026-07-14"}

    driver.complete(instance, ONTSLAGDATUM, {"detentie": later, "ontslagdatum_definitief": False})

    assert ONTSLAGDATUM in driver.open(instance)  # DJI can change it again
    arrange_all(driver, instance)
    advance_to(driver, local(2026, 6, 23, 9, 0))  # a week before the old date: nothing
    assert driver.open(instance) == {ONTSLAGDATUM}
    advance_to(driver, local(2026, 7, 7, 9, 0))  # a week before the new date: DJI reports, the date is settled
    assert driver.open(instance) == {"Task_melding_einde"}
    assert driver.data(instance)["detentie"]["datum_uit"] == "2026-07-14"
    advance_to(driver, local(2026, 7, 14, 23, 59, 59))  # no report by the new date: the coordinator asks
    assert "Task_ontslag_navragen" in driver.open(instance)


def test_ontslagdatum__an_earlier_final_date_brings_every_deadline_forward(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    earlier = {**DETENTIE, "datum_uit": "2026-05-31"}
    driver.complete(instance, ONTSLAGDATUM, {"detentie": earlier, "ontslagdatum_definitief": True})
    assert ONTSLAGDATUM not in driver.open(instance)  # the date is final: no more changes

    advance_to(driver, local(2026, 5, 17, 23, 59, 59))
    assert ("Task_escalatie_basisvoorwaarden", "manager") in roles(driver, instance)
    driver.complete(instance, "Task_escalatie_basisvoorwaarden")
    arrange_all(driver, instance)
    advance_to(driver, local(2026, 5, 24, 8, 59))
    assert work(driver, instance) == set()

    advance_to(driver, local(2026, 5, 24, 9, 0))

    assert roles(driver, instance) == {("Task_melding_einde", "dji")}


def test_ontslagdatum__unknown_in_remand_the_date_timers_wait_until_dji_knows_it(driver: ProcessDriver) -> None:
    instance = driver.start(KEY, {**MELDING, "detentie": REMAND}, as_role="dji")
    driver.complete(instance, "Task_screening", SCREENING)
    driver.complete(instance, "Task_dr_plan", DR_PLAN)
    arrange_all(driver, instance)
    advance_to(driver, local(2026, 12, 1, 9, 0))
    assert driver.open(instance) == {ONTSLAGDATUM}
    # Waiting for a date nobody knows is waiting for no moment: nothing to fire, no 31-12-9999 deadline anywhere.
    assert driver.instance(instance).next_timer_due_at is None
    assert driver.task(instance, ONTSLAGDATUM).due_at is None

    known = {**REMAND, "datum_uit": "2026-12-20", "datum_uit_onbekend": False}
    driver.complete(instance, ONTSLAGDATUM, {"detentie": known, "ontslagdatum_definitief": False})
    advance_to(driver, local(2026, 12, 13, 9, 0))

    assert roles(driver, instance) == {("Task_melding_einde", "dji")}


# --- deadlines around the release ----------------------------------------------------------------------------------


def test_dr_plan__not_shared_within_two_weeks_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = driver.start(KEY, MELDING, as_role="dji")
    driver.complete(instance, "Task_screening", SCREENING)
    driver.advance(days(14) - timedelta(seconds=1))
    assert "Task_escalatie_dr_plan" not in driver.open(instance)

    driver.advance(timedelta(seconds=1))

    assert ("Task_escalatie_dr_plan", "manager") in roles(driver, instance)
    driver.complete(instance, "Task_escalatie_dr_plan")
    assert work(driver, instance) == {"Task_dr_plan"}


def test_ontslag__passing_with_basisvoorwaarden_open_escalates_and_moves_on_to_nazorg(driver: ProcessDriver) -> None:
    instance = arranging(driver)
    advance_to(driver, local(2026, 6, 17, 9, 0))
    driver.complete(instance, "Task_escalatie_basisvoorwaarden")

    advance_to(driver, local(2026, 6, 30, 23, 59, 59))

    open_now = roles(driver, instance)
    assert ("Task_escalatie_ontslag", "manager") in open_now
    assert not {task for task, _ in open_now} & set(BASISVOORWAARDEN)  # no longer waiting for them
    driver.complete(instance, "Task_escalatie_ontslag")
    assert {"Task_melding_einde", "Task_ontslag_navragen"} <= work(driver, instance)
    driver.complete(instance, "Task_melding_einde", EINDE)
    driver.complete(instance, "Task_vervolg", NIET_COMPLEX)
    assert ("Task_nazorg", "gemeente") in roles(driver, instance)
