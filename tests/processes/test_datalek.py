"""AVG `datalek`: internal report of a data breach or security incident, containment, risk assessment, the 72-hour
notification to the Autoriteit Persoonsgegevens, informing the betrokkenen, evaluation and the register.

The clock starts on Monday 2 March 2026, 09:00 in Breda (CET, +01:00).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.processes.harness import ProcessDriver, days, start_roles

MELDING = {
    "ontdekt_op": "2026-03-02T08:30:00+01:00",
    "omschrijving": "Casusverslag per e-mail naar een verkeerde externe ontvanger gestuurd.",
    "aard": "vertrouwelijkheid",
    "categorieen": ["naw_gegevens", "casusinformatie_zorg_en_veiligheid"],
    "aantal_betrokkenen": 3,
    "gemeente": "Breda",
}
INPERKING = {
    "maatregelen": "Ontvanger gebeld; e-mail aantoonbaar verwijderd.",
    "ingeperkt_op": "2026-03-02T10:00:00+01:00",
    "incident_beeindigd": True,
}
GEEN_RISICO = {
    "persoonsgegevens_betrokken": True,
    "risico": "geen",
    "motivering": "Ontvanger is een ketenpartner met geheimhoudingsplicht en heeft de e-mail verwijderd.",
}
RISICO = {
    "persoonsgegevens_betrokken": True,
    "risico": "risico",
    "factoren": ["bijzondere_persoonsgegevens"],
    "motivering": "Gezondheidsgegevens bij een onbekende ontvanger; verwijdering niet bevestigd.",
}
HOOG_RISICO = {**RISICO, "risico": "hoog_risico", "factoren": ["strafrechtelijke_gegevens", "kwetsbare_betrokkenen"]}
AP_MELDING = {"ap_gemeld_op": "2026-03-03T14:00:00+01:00", "ap_meldnummer": "M-2026-012345"}
BETROKKENEN = {
    "betrokkenen_geinformeerd_op": "2026-03-04T11:00:00+01:00",
    "wijze": "brief",
    "aantal_geinformeerd": 3,
    "inhoud_bericht": "U bent per brief geïnformeerd over het verkeerd verzonden verslag en de genomen maatregelen.",
}
EVALUATIE = {
    "evaluatiedatum": "2026-03-10",
    "oorzaak": "menselijke_fout",
    "lessen": "Automatisch aanvullen van e-mailadressen leidt tot fouten.",
}
REGISTER = {
    "registernummer": "DL-2026-004",
    "feiten": "Verslag naar verkeerde ontvanger.",
    "gevolgen": "Geen verdere verspreiding bekend.",
    "corrigerende_maatregelen": "Ontvanger heeft de e-mail verwijderd; autocomplete uitgezet.",
    "afgesloten_op": "2026-03-12",
}
WAARSCHUWING = {"waarschuwing_afspraak": "Privacyfunctionaris is ziek; de vervanger meldt vandaag om 14:00."}
ESCALATIE = {"genomen_actie": "Met de privacyfunctionaris afgesproken dat vandaag alsnog wordt gemeld."}


def report(driver: ProcessDriver, *, as_role: str = "ketenpartner", **changes: Any) -> int:
    return driver.start("datalek", {**MELDING, **changes}, as_role=as_role)


def assessed(driver: ProcessDriver, risk: dict[str, Any]) -> int:
    instance = report(driver)
    driver.complete(instance, "Task_inperken", INPERKING)
    driver.complete(instance, "Task_risico", risk)
    return instance


def test_datalek__any_signed_in_employee_may_report_an_incident(driver: ProcessDriver) -> None:
    by_partner = report(driver, as_role="ketenpartner")
    by_melder = report(driver, as_role="melder")

    assert start_roles(driver.db, "datalek") == frozenset()
    for instance in (by_partner, by_melder):
        assert driver.open(instance) == {"Task_inperken"}
        assert driver.task(instance, "Task_inperken").role == "privacyfunctionaris"
    assert driver.instance(by_partner).gemeente == "Breda"


def test_datalek__the_72_hour_deadline_runs_from_discovery_not_from_the_report(driver: ProcessDriver) -> None:
    instance = report(driver, ontdekt_op="2026-02-28T16:45:00+01:00")

    data = driver.data(instance)
    assert (data["ap_deadline"], data["ap_waarschuwing"]) == ("2026-03-03T16:45:00+01:00", "2026-03-02T16:45:00+01:00")
    task = driver.task(instance, "Task_inperken")
    assert task.due_at is not None
    # The inbox shows the AP's deadline; the warning timer 24 hours before it (property `waarschuwing`) sets none.
    assert task.due_at.isoformat() == "2026-03-03T15:45:00+00:00"


def test_datalek__a_report_without_time_zone_or_with_unknown_nature_is_refused(driver: ProcessDriver) -> None:
    from engine.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        report(driver, ontdekt_op="2026-03-02T08:30:00", aard="diefstal")

    assert set(refused.value.fields) == {"ontdekt_op", "aard"}


def test_datalek__no_risk_is_only_registered_without_ap_notification(driver: ProcessDriver) -> None:
    instance = assessed(driver, GEEN_RISICO)

    assert driver.open(instance) == {"Task_register"}
    assert driver.data(instance)["registratie_categorie"] == "datalek_niet_meldplichtig"
    driver.complete(instance, "Task_register", REGISTER)

    assert driver.status(instance) == "completed"
    data = driver.data(instance)
    assert "ap_meldnummer" not in data
    assert data["registernummer"] == "DL-2026-004"


def test_datalek__a_security_incident_without_personal_data_is_registered_too(driver: ProcessDriver) -> None:
    instance = report(driver, categorieen=["geen_persoonsgegevens"], aantal_betrokkenen=0, aard="beschikbaarheid")
    driver.complete(instance, "Task_inperken", INPERKING)
    incident = {
        "persoonsgegevens_betrokken": False,
        "risico": "geen",
        "motivering": "Alleen een storing, geen gegevens.",
    }
    driver.complete(instance, "Task_risico", incident)

    assert driver.data(instance)["registratie_categorie"] == "beveiligingsincident"
    driver.complete(instance, "Task_register", REGISTER)
    assert driver.status(instance) == "completed"


def test_datalek__without_personal_data_the_risk_cannot_be_reportable(driver: ProcessDriver) -> None:
    instance = report(driver)
    driver.complete(instance, "Task_inperken", INPERKING)

    errors = driver.refused(
        instance, "Task_risico", {"persoonsgegevens_betrokken": False, "risico": "risico", "motivering": "Storing."}
    )

    assert set(errors) == {"risico", "motivering"}
    assert "geen risico" in errors["risico"][0]


def test_datalek__risk_is_reported_to_the_ap_in_time_then_evaluated_and_registered(driver: ProcessDriver) -> None:
    instance = assessed(driver, RISICO)

    assert driver.open(instance) == {"Task_ap_melden"}
    driver.complete(instance, "Task_ap_melden", AP_MELDING)
    assert driver.open(instance) == {"Task_evaluatie"}, "without high risk the betrokkenen are not informed"
    driver.complete(instance, "Task_evaluatie", EVALUATIE)
    assert driver.data(instance)["registratie_categorie"] == "datalek_gemeld_bij_ap"
    driver.complete(instance, "Task_register", REGISTER)

    assert driver.status(instance) == "completed"
    data = driver.data(instance)
    assert (data["ap_meldnummer"], data["ap_tijdig"]) == ("M-2026-012345", True)
    assert "betrokkenen_geinformeerd_op" not in data


def test_datalek__a_late_ap_notification_is_recorded_as_late(driver: ProcessDriver) -> None:
    instance = assessed(driver, RISICO)

    driver.complete(instance, "Task_ap_melden", {**AP_MELDING, "ap_gemeld_op": "2026-03-06T09:00:00+01:00"})

    assert driver.data(instance)["ap_tijdig"] is False


def test_datalek__high_risk_also_informs_the_betrokkenen(driver: ProcessDriver) -> None:
    instance = assessed(driver, HOOG_RISICO)
    driver.complete(instance, "Task_ap_melden", AP_MELDING)

    assert driver.open(instance) == {"Task_betrokkenen"}
    assert driver.refused(instance, "Task_betrokkenen", {**BETROKKENEN, "wijze": "sms"}) == {
        "wijze": ["Kies een van de toegestane waarden."]
    }
    driver.complete(instance, "Task_betrokkenen", BETROKKENEN)
    driver.complete(instance, "Task_evaluatie", EVALUATIE)
    driver.complete(instance, "Task_register", REGISTER)

    assert driver.status(instance) == "completed"
    assert driver.data(instance)["betrokkenen_geinformeerd_op"] == "2026-03-04T11:00:00+01:00"


@pytest.mark.parametrize(
    ("steps", "waiting_at"),
    [
        ([], "Task_inperken"),
        ([("Task_inperken", INPERKING)], "Task_risico"),
        ([("Task_inperken", INPERKING), ("Task_risico", RISICO)], "Task_ap_melden"),
    ],
)
def test_datalek__when_72_hours_pass_before_the_ap_is_notified_the_manager_is_alerted(
    driver: ProcessDriver, steps: list[tuple[str, dict[str, Any]]], waiting_at: str
) -> None:
    instance = report(driver)
    for element, data in steps:
        driver.complete(instance, element, data)

    assert driver.advance(timedelta(hours=47)) == []
    driver.advance(timedelta(hours=1))
    driver.complete(instance, "Task_waarschuwing", WAARSCHUWING)
    assert driver.advance(timedelta(hours=23)) == []
    driver.advance(timedelta(hours=1))

    assert driver.open(instance) == {waiting_at, "Task_escalatie"}
    assert driver.task(instance, "Task_escalatie").role == "manager"
    assert driver.refused(instance, "Task_escalatie", {}) == {"genomen_actie": ["Dit veld is verplicht."]}
    driver.complete(instance, "Task_escalatie", ESCALATIE)
    assert driver.open(instance) == {waiting_at}, "the privacy officer's task stays open after the escalation"


def test_datalek__a_breach_discovered_days_ago_escalates_at_once(driver: ProcessDriver) -> None:
    instance = report(driver, ontdekt_op="2026-02-26T09:00:00+01:00")

    driver.advance(timedelta(seconds=1))

    assert driver.open(instance) == {"Task_inperken", "Task_escalatie"}


def test_datalek__the_deadline_stops_counting_once_the_ap_is_notified(driver: ProcessDriver) -> None:
    instance = assessed(driver, RISICO)
    driver.complete(instance, "Task_ap_melden", AP_MELDING)

    driver.advance(days(5))

    assert driver.open(instance) == {"Task_evaluatie"}
    assert driver.instance(instance).next_timer_due_at is None


def test_datalek__a_late_breach_escalates_once_not_at_every_later_step(driver: ProcessDriver) -> None:
    instance = report(driver, ontdekt_op="2026-02-26T09:00:00+01:00")
    driver.advance(timedelta(seconds=1))
    driver.complete(instance, "Task_escalatie", ESCALATIE)

    driver.complete(instance, "Task_inperken", INPERKING)
    driver.advance(timedelta(minutes=1))

    assert driver.open(instance) == {"Task_risico"}
    driver.complete(instance, "Task_risico", RISICO)
    driver.advance(timedelta(minutes=1))
    assert driver.open(instance) == {"Task_ap_melden"}


@pytest.mark.parametrize(
    ("steps", "waiting_at"),
    [
        ([], "Task_inperken"),
        ([("Task_inperken", INPERKING)], "Task_risico"),
        ([("Task_inperken", INPERKING), ("Task_risico", RISICO)], "Task_ap_melden"),
    ],
)
def test_datalek__the_manager_is_warned_24_hours_before_the_ap_deadline(
    driver: ProcessDriver, steps: list[tuple[str, dict[str, Any]]], waiting_at: str
) -> None:
    # Discovered Monday 08:30 (the report is made at 09:00): warned Wednesday 08:30, due Thursday 08:30.
    instance = report(driver)
    for element, data in steps:
        driver.complete(instance, element, data)
    assert driver.data(instance)["ap_waarschuwing"] == "2026-03-04T08:30:00+01:00"

    assert driver.advance(timedelta(hours=47, minutes=29)) == []
    driver.advance(timedelta(minutes=1))

    assert driver.open(instance) == {waiting_at, "Task_waarschuwing"}
    warning = driver.task(instance, "Task_waarschuwing")
    assert warning.role == "manager"
    assert driver.refused(instance, "Task_waarschuwing", {}) == {"waarschuwing_afspraak": ["Dit veld is verplicht."]}
    driver.complete(instance, "Task_waarschuwing", WAARSCHUWING)
    assert driver.open(instance) == {waiting_at}


def test_datalek__a_warning_is_given_once_and_not_after_the_deadline(driver: ProcessDriver) -> None:
    instance = report(driver)
    driver.advance(timedelta(hours=48))
    driver.complete(instance, "Task_waarschuwing", WAARSCHUWING)

    driver.complete(instance, "Task_inperken", INPERKING)  # after the warning: the next step warns no more
    driver.advance(timedelta(minutes=1))
    assert driver.open(instance) == {"Task_risico"}

    late = report(driver, ontdekt_op="2026-02-26T09:00:00+01:00")
    driver.advance(timedelta(seconds=1))
    assert driver.open(late) == {"Task_inperken", "Task_escalatie"}, "past the deadline the escalation replaces it"
