"""P6 `mensenhandel_zorgcoordinatie`: zorgcoördinatie for (possible) victims of human trafficking — signal, acute
danger, CoMensha, extra care for minors, bedenktijd for victims without a right of residence, opvang and
hulpverlening, the aangifte decision and its consequence for the right of residence, monitoring rounds, and closure
or hand-over to procesregie.

The clock starts on Monday 2 March 2026, 09:00 in Breda.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied
from engine.models import ReportFact
from engine.registry import deploy_file, list_processes
from tests.processes.harness import FORMS, ProcessDriver, days, start_roles

ANA = {"naam": "Ana Testova", "geboortedatum": "2001-06-15", "rol": "slachtoffer"}
LISA = {"naam": "Lisa Voorbeeld", "bsn": "111222333", "geboortedatum": "2010-02-01", "rol": "slachtoffer"}

SIGNAAL = {
    "signaaldatum": "2026-03-02",
    "melder": {"organisatie": "Lokaal (wijk)team", "naam": "Wendy Wijkteam", "telefoon": "06 12345678"},
    "gemeente": "Breda",
    "regio": "de_baronie",
    "betrokkenen": [ANA],
    "uitbuitingsvorm": "seksueel",
    "indicatoren": ["geen_beschikking_over_identiteitsbewijs", "onder_controle_van_derden"],
    "nationaliteit": "Roemeense",
    "verblijfsstatus": "geen_verblijfsrecht",
    "minderjarig": False,
    "acuut_gevaar": False,
    "omschrijving": "Jonge vrouw werkt in een massagesalon; haar paspoort wordt door de 'baas' bewaard.",
}
#: A Dutch minor in acute danger (criminal exploitation).
SIGNAAL_MINDERJARIG = {
    **SIGNAAL,
    "gemeente": "Oosterhout",
    "betrokkenen": [LISA],
    "uitbuitingsvorm": "crimineel",
    "indicatoren": ["gedwongen_tot_strafbare_feiten", "bedreiging_of_geweld"],
    "nationaliteit": "Nederlandse",
    "verblijfsstatus": "nederlander",
    "minderjarig": True,
    "acuut_gevaar": True,
}
ACUUT = {
    "politie_ingezet_op": "2026-03-02T09:30:00+01:00",
    "maatregelen_politie": "Slachtoffer uit de woning gehaald en naar een veilige plek gebracht.",
    "slachtoffer_veilig": True,
}
MOGELIJK_SLACHTOFFER = {
    "beoordeling": "mogelijk_slachtoffer",
    "beoordeling_motivering": "Paspoort ingenomen en geen vrije beschikking over inkomsten.",
}
COMENSHA = {"comensha_gemeld": "2026-03-03", "comensha_kenmerk": "CM-2026-0456", "melding_geanonimiseerd": False}
JEUGD = {"jeugdbescherming_ingeschakeld_op": "2026-03-03", "veilig_thuis_gemeld": True, "voogdij": "ouders"}
BEDENKTIJD = {
    "bedenktijd_aangeboden_op": "2026-03-03",
    "bedenktijd_geaccepteerd": True,
    "bedenktijd_start": "2026-03-03",
}
GEEN_BEDENKTIJD = {
    "bedenktijd_aangeboden_op": "2026-03-03",
    "bedenktijd_geaccepteerd": False,
    "reden_geen_bedenktijd": "Het slachtoffer wil direct aangifte doen.",
}
HULP = {
    "hulpverlening": {
        "brp_inschrijving_bsn": "geregeld",
        "zorgverzekering": "geregeld",
        "uitkering_of_inkomen": "in_behandeling",
        "advocaat": "geregeld",
        "medische_zorg": "geregeld",
        "psychische_zorg": "in_behandeling",
    },
    "advocaat_naam": "mr. A. Advocaat",
}
CATEGORALE_OPVANG = {
    "opvangtype": "categorale_opvang",
    "opvanglocatie": "COSM Noord-Brabant",
    "opvang_start": "2026-03-04",
    "geplaatst_via": "comensha",
}
JEUGDOPVANG = {"opvangtype": "jeugd", "opvanglocatie": "Jeugdzorginstelling", "opvang_start": "2026-03-03"}
AANGIFTE = {"aangifte": True, "aangifte_datum": "2026-03-20"}
GEEN_AANGIFTE = {"aangifte": False, "reden_geen_aangifte": "Angst voor represailles tegen familie."}
VERGUNNING = {"verblijfsvergunning_aangevraagd_op": "2026-03-21", "ind_kenmerk": "IND-2026-112233"}
VERVALLEN = {"verblijf_vervallen_op": "2026-06-04", "terugkeerondersteuning": "iom"}
DOORGAAN = {
    "monitoringsdatum": "2026-04-15",
    "voortgang": "Woont in de opvang en volgt traumabehandeling.",
    "veiligheid": "stabiel",
    "vervolg": "doorgaan",
    "volgende_monitoring": "2026-05-15",
}
AFSLUITEN = {**DOORGAAN, "vervolg": "afsluiten"}
PROCESREGIE = {
    **DOORGAAN,
    "veiligheid": "zorgelijk",
    "vervolg": "procesregie",
    "reden_procesregie": "Dreiging vanuit het netwerk en oplopende schulden; dwang en drang van partners nodig.",
    "leefgebieden": ["Financiën en schulden", "Justitie en criminaliteit"],
}
AFSLUITING = {
    "afsluitdatum": "2026-06-30",
    "afsluitreden": "overgedragen",
    "overgedragen_aan": "Lokaal (wijk)team",
    "evaluatie": "Zorg geborgd via het wijkteam.",
}


def signal(driver: ProcessDriver, data: dict[str, Any] | None = None) -> int:
    return driver.start("mensenhandel_zorgcoordinatie", data or SIGNAAL, as_role="melder")


def walk(driver: ProcessDriver, instance: int, *steps: tuple[str, dict[str, Any]]) -> None:
    for element, data in steps:
        driver.complete(instance, element, data)


def registered(driver: ProcessDriver, data: dict[str, Any] | None = None) -> int:
    """A non-acute signal assessed as a possible victim and reported to CoMensha."""
    instance = signal(driver, data)
    walk(driver, instance, ("Task_beoordelen", MOGELIJK_SLACHTOFFER), ("Task_comensha", COMENSHA))
    return instance


def in_bedenktijd(driver: ProcessDriver) -> int:
    instance = registered(driver)
    driver.complete(instance, "Task_bedenktijd", BEDENKTIJD)
    return instance


WMO_OPVANG = {"opvang_grondslag": "wmo", "opvang_bevestigd_op": "2026-03-05"}
JEUGDWET_OPVANG = {"opvang_grondslag": "jeugdwet", "opvang_bevestigd_op": "2026-03-05"}


def care_arranged(
    driver: ProcessDriver,
    instance: int,
    opvang: dict[str, Any] = CATEGORALE_OPVANG,
    gemeente: dict[str, Any] = WMO_OPVANG,
) -> None:
    walk(driver, instance, ("Task_hulpverlening", HULP), ("Task_opvang", opvang), ("Task_opvang_gemeente", gemeente))


def test_mensenhandel__a_signalling_professional_starts_the_process(driver: ProcessDriver) -> None:
    assert start_roles(driver.db, "mensenhandel_zorgcoordinatie") == frozenset({"melder"})
    with pytest.raises(PermissionDenied):
        driver.start("mensenhandel_zorgcoordinatie", SIGNAAL, as_role="opvang")


def test_mensenhandel__a_signal_is_validated_on_the_server(driver: ProcessDriver) -> None:
    with pytest.raises(InvalidInput) as refused:
        signal(driver, {**SIGNAAL, "uitbuitingsvorm": "overig", "betrokkenen": [{**ANA, "bsn": "123456789"}]})

    assert set(refused.value.fields) == {"uitbuitingsvorm_toelichting", "betrokkenen.0.bsn"}


def test_mensenhandel__without_acute_danger_the_zorgcoordinator_assesses_the_signal(driver: ProcessDriver) -> None:
    instance = signal(driver)

    assert driver.open(instance) == {"Task_beoordelen"}
    assert driver.task(instance, "Task_beoordelen").role == "zorgcoordinator"
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Breda", "Ana Testova")


def test_mensenhandel__acute_danger_goes_to_the_police_first(driver: ProcessDriver) -> None:
    instance = signal(driver, SIGNAAL_MINDERJARIG)

    assert driver.open(instance) == {"Task_acuut"}
    assert driver.task(instance, "Task_acuut").role == "politie"
    driver.complete(instance, "Task_acuut", ACUUT)
    assert driver.open(instance) == {"Task_beoordelen"}


def test_mensenhandel__no_trafficking_ends_with_a_referral(driver: ProcessDriver) -> None:
    instance = signal(driver)
    geen = {"beoordeling": "geen_mensenhandel", "beoordeling_motivering": "Arbeidsconflict, geen uitbuiting."}
    assert driver.refused(instance, "Task_beoordelen", geen) == {"doorverwezen_naar": ["Dit veld is verplicht."]}

    driver.complete(instance, "Task_beoordelen", {**geen, "doorverwezen_naar": "Lokaal (wijk)team"})

    assert driver.status(instance) == "completed"
    assert driver.data(instance)["doorverwezen_naar"] == "Lokaal (wijk)team"
    assert driver.follow_ups(instance) == []


def test_mensenhandel__a_victim_without_residence_right_is_offered_bedenktijd(driver: ProcessDriver) -> None:
    instance = registered(driver)

    assert driver.open(instance) == {"Task_bedenktijd"}, "an adult: no jeugdbescherming"
    assert driver.task(instance, "Task_bedenktijd").role == "politie"
    driver.complete(instance, "Task_bedenktijd", BEDENKTIJD)

    assert driver.data(instance)["bedenktijd_eind"] == "2026-06-03"
    assert driver.open(instance) == {"Task_bedenktijd_loopt", "Task_hulpverlening", "Task_opvang"}
    assert driver.task(instance, "Task_opvang").role == "opvang"
    assert driver.task(instance, "Task_bedenktijd_loopt").due_at.isoformat() == "2026-06-03T21:59:59+00:00"


@pytest.mark.parametrize(
    ("start", "agreed_end", "end"),
    [
        ("2026-03-03", "", "2026-06-03"),
        ("2026-03-03", "2026-04-15", "2026-04-15"),
        ("2026-03-03", "2026-09-01", "2026-06-03"),
        ("2026-03-03", "2026-02-01", "2026-06-03"),
        ("2026-11-30", "", "2027-02-28"),
    ],
)
def test_mensenhandel__the_bedenktijd_lasts_at_most_three_months(
    driver: ProcessDriver, start: str, agreed_end: str, end: str
) -> None:
    instance = registered(driver)
    offer = {**BEDENKTIJD, "bedenktijd_start": start, **({"bedenktijd_eind": agreed_end} if agreed_end else {})}

    driver.complete(instance, "Task_bedenktijd", offer)

    assert driver.data(instance)["bedenktijd_eind"] == end


def test_mensenhandel__at_the_end_of_the_bedenktijd_the_police_records_the_aangifte_decision(
    driver: ProcessDriver,
) -> None:
    instance = in_bedenktijd(driver)
    care_arranged(driver, instance)

    driver.advance(days(92))
    assert driver.open(instance) == {"Task_bedenktijd_loopt"}, "2 June: the bedenktijd still runs"
    driver.advance(days(2))

    assert driver.open(instance) == {"Task_aangifte"}
    assert driver.task(instance, "Task_aangifte").role == "politie"
    driver.complete(instance, "Task_aangifte", AANGIFTE)
    assert driver.open(instance) == {"Task_verblijfsvergunning"}
    driver.complete(instance, "Task_verblijfsvergunning", VERGUNNING)
    assert driver.open(instance) == {"Task_monitoring"}
    assert driver.data(instance)["verblijfsvergunning_aangevraagd_op"] == "2026-03-21"


def test_mensenhandel__a_victim_who_does_not_report_loses_the_right_of_residence(driver: ProcessDriver) -> None:
    instance = in_bedenktijd(driver)
    driver.complete(instance, "Task_bedenktijd_loopt")

    assert driver.open(instance) == {"Task_aangifte", "Task_hulpverlening", "Task_opvang"}
    driver.complete(instance, "Task_aangifte", GEEN_AANGIFTE)
    assert driver.open(instance) == {"Task_verblijf_vervalt", "Task_hulpverlening", "Task_opvang"}
    driver.complete(instance, "Task_verblijf_vervalt", VERVALLEN)
    care_arranged(driver, instance)

    assert driver.open(instance) == {"Task_monitoring"}
    assert driver.data(instance)["terugkeerondersteuning"] == "iom"


def test_mensenhandel__a_declined_bedenktijd_goes_straight_to_the_aangifte_decision(driver: ProcessDriver) -> None:
    instance = registered(driver)

    driver.complete(instance, "Task_bedenktijd", GEEN_BEDENKTIJD)

    assert driver.open(instance) == {"Task_aangifte", "Task_hulpverlening", "Task_opvang"}
    assert driver.data(instance)["bedenktijd_eind"] == ""


def test_mensenhandel__opvang_needs_a_place_or_a_reason(driver: ProcessDriver) -> None:
    instance = in_bedenktijd(driver)

    assert set(driver.refused(instance, "Task_opvang", {"opvangtype": "vrouwenopvang"})) == {
        "opvanglocatie",
        "opvang_start",
    }
    assert set(driver.refused(instance, "Task_opvang", {"opvangtype": "geen"})) == {"reden_geen_opvang"}


def test_mensenhandel__a_dutch_minor_gets_jeugdbescherming_and_no_bedenktijd(driver: ProcessDriver) -> None:
    instance = signal(driver, SIGNAAL_MINDERJARIG)
    walk(
        driver,
        instance,
        ("Task_acuut", ACUUT),
        ("Task_beoordelen", MOGELIJK_SLACHTOFFER),
        ("Task_comensha", COMENSHA),
    )

    assert driver.open(instance) == {"Task_jeugd"}
    driver.complete(instance, "Task_jeugd", JEUGD)
    assert driver.open(instance) == {"Task_aangifte", "Task_hulpverlening", "Task_opvang"}
    driver.complete(instance, "Task_aangifte", AANGIFTE)
    assert driver.open(instance) == {"Task_hulpverlening", "Task_opvang"}, "a Dutch victim needs no permit"
    driver.complete(instance, "Task_opvang", JEUGDOPVANG)
    assert driver.task(instance, "Task_opvang_gemeente").role == "gemeente"
    assert set(driver.refused(instance, "Task_opvang_gemeente", {"opvang_bevestigd_op": "2026-03-05"})) == {
        "opvang_grondslag"
    }
    walk(driver, instance, ("Task_opvang_gemeente", JEUGDWET_OPVANG), ("Task_hulpverlening", HULP))

    assert driver.open(instance) == {"Task_monitoring"}
    assert driver.instance(instance).gemeente == "Oosterhout"


def test_mensenhandel__monitoring_rounds_repeat_until_the_case_is_closed(driver: ProcessDriver) -> None:
    instance = registered(driver)
    walk(driver, instance, ("Task_bedenktijd", GEEN_BEDENKTIJD), ("Task_aangifte", AANGIFTE))
    walk(driver, instance, ("Task_verblijfsvergunning", VERGUNNING))
    care_arranged(driver, instance)

    for _ in range(25):
        driver.complete(instance, "Task_monitoring", DOORGAAN)
        assert driver.open(instance) == {"Task_monitoring"}
    assert driver.refused(instance, "Task_monitoring", {**DOORGAAN, "volgende_monitoring": None}) == {
        "volgende_monitoring": ["Verwachte invoer: tekst."]
    }
    driver.complete(instance, "Task_monitoring", AFSLUITEN)

    assert driver.open(instance) == {"Task_afsluiten"}
    driver.complete(instance, "Task_afsluiten", AFSLUITING)
    assert driver.status(instance) == "completed"
    assert driver.follow_ups(instance) == []


# --- hand-over to procesregie ----------------------------------------------------------------------------------

RECEIVER_STUB = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D_stub" targetNamespace="http://t">
  <bpmn:message id="Message_in" name="start_procesregie"/>
  <bpmn:process id="procesregie" name="Procesregie (stub)" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Procesregisseur"><bpmn:flowNodeRef>Task_stub</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_stub"><bpmn:messageEventDefinition messageRef="Message_in"/></bpmn:startEvent>
    <bpmn:userTask id="Task_stub" name="Overdracht in ontvangst nemen"/>
    <bpmn:endEvent id="End_stub"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_stub" targetRef="Task_stub"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_stub" targetRef="End_stub"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def procesregie(driver: ProcessDriver, tmp_path: Path) -> None:
    """The real procesregie when it is under test, else a stand-in that receives `start_procesregie`."""
    with driver.db.reader() as session:
        deployed = {version.process_key for version in list_processes(session)}
    if "procesregie" not in deployed:
        (tmp_path / "procesregie.bpmn").write_text(RECEIVER_STUB, encoding="utf-8")
        with driver.db.transaction() as session:
            deploy_file(session, tmp_path / "procesregie.bpmn", actor="tests", search_paths=[FORMS])


@pytest.mark.usefixtures("procesregie")
def test_mensenhandel__a_complex_case_is_handed_over_to_procesregie(driver: ProcessDriver) -> None:
    instance = registered(driver)
    walk(driver, instance, ("Task_bedenktijd", GEEN_BEDENKTIJD), ("Task_aangifte", GEEN_AANGIFTE))
    walk(driver, instance, ("Task_verblijf_vervalt", VERVALLEN))
    care_arranged(driver, instance)
    driver.complete(instance, "Task_monitoring", DOORGAAN)

    driver.complete(instance, "Task_monitoring", PROCESREGIE)

    assert driver.status(instance) == "completed"
    (child,) = driver.follow_ups(instance)
    assert (child.process_key, child.case_number) == ("procesregie", driver.instance(instance).case_number)
    assert child.status == "running"
    data = driver.data(child.id)
    assert data["gemeente"] == "Breda"
    assert data["betrokkenen"] == [ANA]
    assert data["leefgebieden"] == ["Financiën en schulden", "Justitie en criminaliteit"]
    assert data["aanleiding"].startswith("Slachtoffer mensenhandel (seksueel): Dreiging vanuit het netwerk")
    assert data["bron"] == "mensenhandel_zorgcoordinatie"
    assert driver.tasks(child.id), "procesregie picks the case up"


# --- referral from triage, cases from De Markiezaten ------------------------------------------------------------


def mensenhandel_facts(driver: ProcessDriver) -> list[tuple[str | None, str | None]]:
    with driver.db.reader() as session:
        facts = session.scalars(select(ReportFact).where(ReportFact.kengetal == "mensenhandel"))
        return sorted((fact.uitsplitsing, fact.gemeente) for fact in facts)


def test_mensenhandel__a_referral_from_triage_is_completed_by_the_zorgcoordinator(driver: ProcessDriver) -> None:
    parent = signal(driver)
    actor = driver.user("triagetafel")
    referral = {"gemeente": "Breda", "betrokkenen": [ANA], "aanleiding": "Signalen van uitbuiting.", "bron": "triage"}
    with driver.db.transaction() as session:
        child = driver.runtime.start_follow_up(
            session, instance_id=parent, message="start_mensenhandel", actor=actor, data=referral
        )
    assert driver.task(child.id, "Task_signaal_aanvullen").role == "zorgcoordinator"
    completion = {k: v for k, v in SIGNAAL.items() if k not in ("gemeente", "betrokkenen")}
    assert set(driver.refused(child.id, "Task_signaal_aanvullen", {**completion, "regio": None})) == {"regio"}

    driver.complete(child.id, "Task_signaal_aanvullen", completion)

    assert driver.open(child.id) == {"Task_beoordelen"}
    data = driver.data(child.id)
    assert (data["bron"], data["aanleiding"], data["omschrijving"]) == (
        "triage",
        referral["aanleiding"],
        SIGNAAL["omschrijving"],
    )
    assert mensenhandel_facts(driver) == [("de_baronie", "breda"), ("de_baronie", "breda")]


def test_mensenhandel__a_case_from_de_markiezaten_is_counted_as_such_not_as_overig(driver: ProcessDriver) -> None:
    overig = "Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)"

    signal(driver, {**SIGNAAL, "gemeente": overig, "regio": "de_markiezaten"})

    assert mensenhandel_facts(driver) == [("de_markiezaten", "overig")]
