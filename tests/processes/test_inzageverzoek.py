"""AVG `inzageverzoek`: a request for access, rectification or erasure, decided within one month of receipt
(art. 12(3) AVG), optionally extended by up to two months when announced within the first month.

The clock starts on Monday 2 March 2026, 09:00 in Breda. Summer time starts on 29 March 2026, so a deadline on
2 April ends at 23:59:59+02:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.dates import AMSTERDAM
from engine.errors import PermissionDenied
from engine.models import AuditEvent, HumanTask
from engine.suspension import resume_deadlines, suspend_deadlines
from tests.processes.harness import ProcessDriver, days, start_roles

VERZOEK = {
    "ontvangen": "2026-03-02",
    "soort": "inzage",
    "kanaal": "post",
    "verzoeker": {
        "naam": "Karel Testpersoon",
        "hoedanigheid": "betrokkene_zelf",
        "adres": {"straat": "Voorbeeldstraat", "huisnummer": "12", "postcode": "4811 AB", "woonplaats": "Breda"},
    },
    "naam_betrokkene": "Karel Testpersoon",
    "gemeente": "Breda",
}
ID_OK = {"id_geverifieerd": True, "wijze_verificatie": "id_bewijs_getoond_aan_balie"}
ID_NIET_OK = {"id_geverifieerd": False}
ID_OPVRAGEN = {
    "id_opgevraagd_op": "2026-03-03",
    "id_opgevraagd_via": "brief",
    "gevraagde_gegevens": "Afgeschermde kopie van het ID-bewijs.",
}
PERSOON = {"naam_betrokkene": "Karel Testpersoon", "bsn_betrokkene": "111222333"}
ZOEKEN = {
    "doorzochte_bronnen": ["casusdossiers", "registratiesysteem", "toegangslogging"],
    "gegevens_aangetroffen": True,
    "aantal_documenten": 14,
    "logging_overzicht_gemaakt": True,
}
ZOEKEN_MET_PARTNERS = {**ZOEKEN, "partner_organisaties": ["Politie", "GGZ"]}
GEEN_BEZWAAR = {"standpunt": {"oordeel": "geen_bezwaar"}}
BEZWAAR_DEELS = {
    "standpunt": {
        "oordeel": "deels_bezwaar",
        "grond": "art_41_uavg_d_strafbare_feiten",
        "toelichting": "Een lopend onderzoek: het proces-verbaal van maart niet verstrekken.",
    }
}
AFSCHERMING = {"afscherming": [{"onderdeel": "12-0123456789", "grond": "rechten_van_anderen"}]}
GEEN_UITZONDERING = {"uitzondering_van_toepassing": False, "gegevens_derden": True, "verlenging_nodig": False}
VERLENGEN = {**GEEN_UITZONDERING, "verlenging_nodig": True}
VERLENGING = {
    "verlenging_maanden": 2,
    "reden_verlenging": "De gegevens liggen bij zes partners; afstemming kost meer tijd.",
    "verlenging_aangekondigd_op": "2026-03-20",
}
TOEGEWEZEN = {"besluit": "toegewezen", "besluitdatum": "2026-03-25", "wijze_verstrekking": "afschrift_per_post"}
AFGEWEZEN = {
    "besluit": "afgewezen",
    "weigeringsgrond": "art_17_lid_3_avg_wettelijke_plicht_of_taak",
    "besluit_motivering": "De gegevens zijn nodig voor de lopende procesregie en worden daarna vernietigd.",
    "besluitdatum": "2026-03-25",
}
DEELS = {**AFGEWEZEN, "besluit": "deels"}
UITVOERING = {
    "uitgevoerd_op": "2026-03-26",
    "ontvangers_geinformeerd": True,
    "uitvoering_toelichting": "Gegevens vernietigd in dossier en registratiesysteem.",
}
BEZWAAR = "Binnen zes weken na verzending kunt u bezwaar maken (artikel 6:7 Awb)."
BRIEF = {
    "brief_datum": "2026-03-26",
    "kenmerk": "AVG-2026-003",
    "inhoud": "U ontvangt een afschrift van 14 documenten en een overzicht van wie uw gegevens heeft ingezien.",
    "bezwaarclausule": BEZWAAR,
    "ondertekenaar": "M. Manager, namens ZVH De Baronie",
}
VERZENDING = {"verzonden_op": "2026-03-27", "verzendwijze": "aangetekend"}
ESCALATIE = {"genomen_actie": "Extra capaciteit ingezet; besluit volgt deze week.", "verzoeker_geinformeerd": True}

#: 2 April 2026 23:59:59 CEST, one month after receipt on 2 March.
DEADLINE_UTC = "2026-04-02T21:59:59+00:00"


def receive(driver: ProcessDriver, **changes: Any) -> int:
    return driver.start("inzageverzoek", {**VERZOEK, **changes}, as_role="privacyfunctionaris")


def walk(driver: ProcessDriver, instance: int, *steps: tuple[str, dict[str, Any]]) -> None:
    for element, data in steps:
        driver.complete(instance, element, data)


def up_to_decision(driver: ProcessDriver, **changes: Any) -> int:
    instance = receive(driver, **changes)
    walk(
        driver,
        instance,
        ("Task_identiteit", ID_OK),
        ("Task_persoon", PERSOON),
        ("Task_zoeken", ZOEKEN),
        ("Task_afscherming", AFSCHERMING),
        ("Task_uitzonderingen", GEEN_UITZONDERING),
    )
    return instance


def test_inzage__only_the_privacy_officer_registers_a_request(driver: ProcessDriver) -> None:
    assert start_roles(driver.db, "inzageverzoek") == frozenset({"privacyfunctionaris"})
    with pytest.raises(PermissionDenied):
        driver.start("inzageverzoek", VERZOEK, as_role="melder")


def test_inzage__the_deadline_is_one_month_after_receipt_and_shown_on_every_task(driver: ProcessDriver) -> None:
    instance = receive(driver)

    data = driver.data(instance)
    assert (data["uiterste_datum"], data["deadline"]) == ("2026-04-02", "2026-04-02T23:59:59+02:00")
    assert driver.instance(instance).subject_person == "Karel Testpersoon"
    assert driver.task(instance, "Task_identiteit").due_at.isoformat() == DEADLINE_UTC
    driver.complete(instance, "Task_identiteit", ID_OK)
    assert driver.task(instance, "Task_persoon").due_at.isoformat() == DEADLINE_UTC


def test_inzage__a_request_received_on_31_january_is_due_on_28_february(driver: ProcessDriver) -> None:
    instance = receive(driver, ontvangen="2025-01-31")  # 28-02-2025 is a Friday

    assert driver.data(instance)["uiterste_datum"] == "2025-02-28"
    driver.advance(timedelta(seconds=1))
    assert driver.open(instance) == {"Task_identiteit", "Task_escalatie"}, "already overdue: escalate at once"


def test_inzage__a_term_ending_on_a_sunday_ends_on_the_next_working_day(driver: ProcessDriver) -> None:
    driver.clock.set(datetime(2027, 1, 28, 10, tzinfo=AMSTERDAM))
    instance = receive(driver, ontvangen="2027-01-28")  # one month on: Sunday 28-02-2027

    data = driver.data(instance)
    assert (data["uiterste_datum"], data["deadline"]) == ("2027-03-01", "2027-03-01T23:59:59+01:00")
    assert driver.task(instance, "Task_identiteit").due_at == datetime(2027, 3, 1, 23, 59, 59, tzinfo=AMSTERDAM)


def test_inzage__waiting_for_the_id_pauses_the_term_and_resuming_moves_it(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(driver, instance, ("Task_identiteit", ID_NIET_OK), ("Task_id_opvragen", ID_OPVRAGEN))
    fenna = driver.user("privacyfunctionaris")
    with driver.db.transaction() as session:
        suspend_deadlines(
            session, driver.runtime, instance_id=instance, actor=fenna, reason="Wacht op ID", at=driver.clock.now()
        )

    driver.advance(timedelta(days=40))  # 11-04-2026: long past 02-04
    assert driver.open(instance) == {"Task_identiteit"}, "no escalation while paused"
    with driver.db.transaction() as session:
        resume_deadlines(
            session, driver.runtime, instance_id=instance, actor=fenna, reason="ID ontvangen", at=driver.clock.now()
        )

    data = driver.data(instance)  # 02-04 + 40 days = Tuesday 12-05-2026
    assert (data["uiterste_datum"], data["deadline"]) == ("2026-05-12", "2026-05-12T23:59:59+02:00")
    assert driver.task(instance, "Task_identiteit").due_at == datetime(2026, 5, 12, 23, 59, 59, tzinfo=AMSTERDAM)
    assert driver.advance(timedelta(seconds=1)) == [], "nothing fires on resume"
    assert driver.advance(timedelta(days=31)) == [], "12-05 09:00: still within the moved term"
    driver.advance(timedelta(days=1))
    assert driver.open(instance) == {"Task_identiteit", "Task_escalatie"}


def test_inzage__granted_access_request_ends_with_the_decision_letter_sent(driver: ProcessDriver) -> None:
    instance = up_to_decision(driver)

    assert driver.open(instance) == {"Task_besluit"}
    assert driver.task(instance, "Task_besluit").role == "manager"
    driver.complete(instance, "Task_besluit", TOEGEWEZEN)
    assert driver.open(instance) == {"Task_brief"}, "access needs no erasure or rectification"
    walk(driver, instance, ("Task_brief", BRIEF), ("Task_verzenden", VERZENDING))

    assert driver.status(instance) == "completed"
    data = driver.data(instance)
    assert (data["besluit"], data["kenmerk"], data["verzonden_op"], data["verlengd"]) == (
        "toegewezen",
        "AVG-2026-003",
        "2026-03-27",
        False,
    )


def test_inzage__a_refusal_needs_a_ground_and_a_reason(driver: ProcessDriver) -> None:
    instance = up_to_decision(driver)

    errors = driver.refused(instance, "Task_besluit", {"besluit": "deels", "besluitdatum": "2026-03-25"})

    assert set(errors) == {"weigeringsgrond", "besluit_motivering"}


def test_inzage__the_search_must_include_the_access_log(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(driver, instance, ("Task_identiteit", ID_OK), ("Task_persoon", PERSOON))

    errors = driver.refused(instance, "Task_zoeken", {**ZOEKEN, "doorzochte_bronnen": ["casusdossiers"]})

    assert errors == {"doorzochte_bronnen": ["Doorzoek in elk geval de toegangslogging (NEN 7513)."]}


@pytest.mark.parametrize("soort", ["vernietiging", "rectificatie"])
def test_inzage__granted_erasure_or_rectification_is_carried_out_before_the_letter(
    driver: ProcessDriver, soort: str
) -> None:
    instance = up_to_decision(driver, soort=soort, omschrijving_verzoek="Het verslag noemt een verkeerde woonplaats.")
    driver.complete(instance, "Task_besluit", DEELS)

    assert driver.open(instance) == {"Task_uitvoeren"}
    walk(driver, instance, ("Task_uitvoeren", UITVOERING), ("Task_brief", BRIEF), ("Task_verzenden", VERZENDING))
    assert driver.status(instance) == "completed"
    assert driver.data(instance)["ontvangers_geinformeerd"] is True


def test_inzage__erasure_may_lawfully_be_refused_and_nothing_is_erased(driver: ProcessDriver) -> None:
    instance = up_to_decision(driver, soort="vernietiging")

    driver.complete(instance, "Task_besluit", AFGEWEZEN)

    assert driver.open(instance) == {"Task_brief"}
    walk(driver, instance, ("Task_brief", BRIEF), ("Task_verzenden", VERZENDING))
    assert driver.status(instance) == "completed"
    assert "uitgevoerd_op" not in driver.data(instance)


def test_inzage__identity_is_requested_at_most_twice_then_the_request_goes_to_refusal(driver: ProcessDriver) -> None:
    instance = receive(driver)

    for round_number in (1, 2):
        driver.complete(instance, "Task_identiteit", ID_NIET_OK)
        assert driver.open(instance) == {"Task_id_opvragen"}, f"round {round_number}"
        driver.complete(instance, "Task_id_opvragen", ID_OPVRAGEN)
        assert driver.data(instance)["id_verzoeken"] == round_number
    driver.complete(instance, "Task_identiteit", ID_NIET_OK)

    assert driver.open(instance) == {"Task_besluit"}, "no search without an established identity"
    refusal = {**AFGEWEZEN, "weigeringsgrond": "identiteit_niet_vastgesteld"}
    walk(driver, instance, ("Task_besluit", refusal), ("Task_brief", BRIEF), ("Task_verzenden", VERZENDING))
    assert driver.status(instance) == "completed"


def test_inzage__identity_established_after_a_request_continues_with_the_search(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(driver, instance, ("Task_identiteit", ID_NIET_OK), ("Task_id_opvragen", ID_OPVRAGEN))

    driver.complete(instance, "Task_identiteit", ID_OK)

    assert driver.open(instance) == {"Task_persoon"}, "first: whose data to search for"


def test_inzage__an_extension_announced_in_time_moves_the_deadline_by_two_months(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(
        driver,
        instance,
        ("Task_identiteit", ID_OK),
        ("Task_persoon", PERSOON),
        ("Task_zoeken", ZOEKEN),
        ("Task_afscherming", AFSCHERMING),
        ("Task_uitzonderingen", VERLENGEN),
    )

    assert driver.open(instance) == {"Task_verlenging"}
    assert driver.refused(instance, "Task_verlenging", {**VERLENGING, "verlenging_maanden": 3}) == {
        "verlenging_maanden": ["Kies een van de toegestane waarden."]
    }
    driver.complete(instance, "Task_verlenging", VERLENGING)

    data = driver.data(instance)
    assert (data["uiterste_datum"], data["oorspronkelijke_uiterste_datum"], data["verlengd"]) == (
        "2026-06-02",
        "2026-04-02",
        True,
    )
    assert driver.task(instance, "Task_besluit").due_at.isoformat() == "2026-06-02T21:59:59+00:00"
    driver.advance(days(40))
    assert driver.open(instance) == {"Task_besluit"}, "the original deadline no longer escalates"


def test_inzage__an_extension_cannot_be_announced_after_the_first_month(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(
        driver,
        instance,
        ("Task_identiteit", ID_OK),
        ("Task_persoon", PERSOON),
        ("Task_zoeken", ZOEKEN),
        ("Task_afscherming", AFSCHERMING),
    )
    driver.advance(days(20))
    driver.complete(instance, "Task_uitzonderingen", VERLENGEN)

    driver.advance(days(12))

    assert driver.open(instance) == {"Task_verlenging_te_laat"}, "the extension task is withdrawn"
    assert driver.task(instance, "Task_verlenging_te_laat").role == "manager"
    driver.complete(instance, "Task_verlenging_te_laat", ESCALATIE)
    driver.advance(timedelta(minutes=1))
    assert driver.open(instance) == {"Task_besluit"}, "the manager knows already: no second escalation"
    assert driver.data(instance)["verlengd"] is False


SEARCHED = [("Task_identiteit", ID_OK), ("Task_persoon", PERSOON), ("Task_zoeken", ZOEKEN)]
TESTED = [*SEARCHED, ("Task_afscherming", AFSCHERMING), ("Task_uitzonderingen", GEEN_UITZONDERING)]
PATHS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Task_identiteit": [],
    "Task_id_opvragen": [("Task_identiteit", ID_NIET_OK)],
    "Task_persoon": [("Task_identiteit", ID_OK)],
    "Task_zoeken": [("Task_identiteit", ID_OK), ("Task_persoon", PERSOON)],
    "Task_standpunt": [("Task_identiteit", ID_OK), ("Task_persoon", PERSOON), ("Task_zoeken", ZOEKEN_MET_PARTNERS)],
    "Task_afscherming": SEARCHED,
    "Task_uitzonderingen": [*SEARCHED, ("Task_afscherming", AFSCHERMING)],
    "Task_besluit": TESTED,
    "Task_uitvoeren": [*TESTED, ("Task_besluit", TOEGEWEZEN)],
    "Task_brief": [*TESTED, ("Task_besluit", TOEGEWEZEN)],
    "Task_verzenden": [*TESTED, ("Task_besluit", TOEGEWEZEN), ("Task_brief", BRIEF)],
}


@pytest.mark.parametrize("waiting_at", sorted(PATHS))
def test_inzage__a_missed_deadline_escalates_to_the_manager_while_the_work_goes_on(
    driver: ProcessDriver, waiting_at: str
) -> None:
    instance = receive(driver, soort="vernietiging" if waiting_at == "Task_uitvoeren" else "inzage")
    walk(driver, instance, *PATHS[waiting_at])
    assert driver.open(instance) == {waiting_at}

    driver.advance(days(31))
    assert driver.open(instance) == {waiting_at}, "2 April, 10:00: not yet overdue"
    driver.advance(days(1))

    assert driver.open(instance) == {waiting_at, "Task_escalatie"}
    assert driver.task(instance, "Task_escalatie").role == "manager"
    driver.complete(instance, "Task_escalatie", ESCALATIE)
    assert driver.open(instance) == {waiting_at}


def test_inzage__an_overdue_request_escalates_once_not_at_every_later_step(driver: ProcessDriver) -> None:
    instance = receive(driver)
    driver.advance(days(32))
    assert driver.open(instance) == {"Task_identiteit", "Task_escalatie"}
    driver.complete(instance, "Task_escalatie", ESCALATIE)

    walk(driver, instance, *SEARCHED, ("Task_afscherming", AFSCHERMING))
    driver.advance(days(1))

    assert driver.open(instance) == {"Task_uitzonderingen"}
    assert driver.data(instance)["escalatie_al_gemeld"] is True


def test_inzage__the_person_is_recorded_before_the_search_and_named_by_key_only(driver: ProcessDriver) -> None:
    instance = receive(driver)
    driver.complete(instance, "Task_identiteit", ID_OK)

    errors = driver.refused(instance, "Task_persoon", {"naam_betrokkene": "Karel Testpersoon"})
    assert set(errors) == {"bsn_betrokkene", "geboortedatum_betrokkene"}, "a BSN, or else a birth date"
    driver.complete(instance, "Task_persoon", PERSOON)

    assert driver.open(instance) == {"Task_zoeken"}
    row = driver.instance(instance)
    assert row.person_key is not None and "111222333" not in row.person_key
    with driver.db.reader() as session:
        logged = session.scalars(select(AuditEvent.details).where(AuditEvent.instance_id == instance)).all()
    assert "111222333" not in repr(logged), "the BSN never reaches the log"


def test_inzage__each_partner_that_supplied_data_is_asked_for_its_position_in_its_own_queue(
    driver: ProcessDriver,
) -> None:
    instance = receive(driver)
    walk(driver, instance, ("Task_identiteit", ID_OK), ("Task_persoon", PERSOON), ("Task_zoeken", ZOEKEN_MET_PARTNERS))

    tasks = [task for task in driver.tasks(instance) if task.element_id == "Task_standpunt"]
    with driver.db.reader() as session:
        scopes = sorted(session.get_one(HumanTask, task.id).scope or "" for task in tasks)
    assert scopes == ["org:ggz", "org:politie"], "one task per partner, each reaching that partner only"
    assert {task.role for task in tasks} == {"ketenpartner"}

    driver.complete(instance, "Task_standpunt", GEEN_BEZWAAR)
    assert driver.open(instance) == {"Task_standpunt"}, "waits for every partner"
    driver.complete(instance, "Task_standpunt", BEZWAAR_DEELS)

    assert driver.open(instance) == {"Task_afscherming"}
    positions = driver.data(instance)["standpunten"]
    assert sorted(p["oordeel"] for p in positions) == ["deels_bezwaar", "geen_bezwaar"]


def test_inzage__a_partner_objecting_must_name_a_ground(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(driver, instance, ("Task_identiteit", ID_OK), ("Task_persoon", PERSOON), ("Task_zoeken", ZOEKEN_MET_PARTNERS))

    errors = driver.refused(instance, "Task_standpunt", {"standpunt": {"oordeel": "bezwaar"}})

    assert set(errors) == {"standpunt.grond", "standpunt.toelichting"}


def test_inzage__the_redaction_choices_are_kept_in_the_request(driver: ProcessDriver) -> None:
    instance = receive(driver)
    walk(driver, instance, *SEARCHED)

    assert driver.refused(instance, "Task_afscherming", {"afscherming": [{"onderdeel": "x", "grond": "art_41_uavg"}]})
    driver.complete(instance, "Task_afscherming", AFSCHERMING)

    assert driver.data(instance)["afscherming"] == AFSCHERMING["afscherming"]
    assert driver.open(instance) == {"Task_uitzonderingen"}
