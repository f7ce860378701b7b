"""`levensloop`: the Levensloopaanpak for people with confused behaviour and a high safety risk (the ketenveldnorm
levensloopfunctie en beveiligde intensieve zorg). Anyone who works with the person refers; the procesregisseur
assesses; an independent chair decides on inclusion (within a term, else the manager) and appoints a casusregisseur
for the long term; the plan is reviewed every period (a late review escalates), and the case stays in long-term
monitoring until the chair decides, with a motivation, to end it — there is no default afschalen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.models import HumanTask, ReportFact
from tests.processes.harness import ProcessDriver, days

KEY = "levensloop"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

LARS = {"naam": "Lars Verzonnen", "bsn": "111222333", "geboortedatum": "1984-09-21", "rol": "hoofdbetrokkene"}
AANMELDING = {
    "aanmelddatum": "2026-03-02",
    "aanmelder": {"organisatie": "Politie", "naam": "Piet Politie"},
    "gemeente": "Breda",
    "betrokkenen": [LARS],
    "problematiek": ["psychiatrische_stoornis", "verslaving"],
    "veiligheidsrisico": "Bedreigt buren en hulpverleners met een mes bij psychotische ontregeling.",
    "eerdere_trajecten": "Drie crisisopnames en twee veroordelingen in vijf jaar; zorg stopt steeds na ontslag.",
    "leefgebieden": ["Wonen", "Psychische gezondheid"],
    "betrokkene_geinformeerd": False,
    "reden_niet": "veiligheidsrisico",
}
BEOORDELING = {
    "criteria_voldaan": ["kwetsbaarheid", "hoog_veiligheidsrisico", "langdurig", "regulier_tekort"],
    "advies_voorzitter": "Past in de doelgroep: includeren met de GGZ als casusregisseur.",
}
INCLUSIE = {
    "inclusiebesluit": "includeren",
    "motivering_inclusie": "Hoog risico en geen blijvende regie: opnemen in de Levensloopaanpak.",
    "casusregisseur_organisatie": "GGZ",
    "casusregisseur_naam": "Cas de Regie",
}
PLAN = {
    "doelen": [{"leefgebied": "Wonen", "doel": "Beschermd wonen met dagelijkse begeleiding.", "uitvoerder_org": "GGZ"}],
    "contact_betrokkene": "De casusregisseur ziet de betrokkene wekelijks.",
    "signaleringsplan": "Bij slapeloosheid en dreigen: crisisdienst en wijkagent.",
    "beveiligde_zorg": False,
    "volgende_review": "2026-06-01",
}
REVIEW = {
    "reviewdatum": "2026-06-01",
    "status": "stabiel",
    "risiconiveau": "middel",
    "risicos": "Terugval in middelengebruik bij verlies van de woning.",
    "wijzigingen": "Dagbesteding gestart; medicatie aangepast.",
    "volgende_review": "2026-09-01",
    "voorstel": "voortzetten",
}
VOORSTEL = {**REVIEW, "voorstel": "beeindiging_voorstellen", "reden_voorstel": "Twee jaar stabiel, wonen geregeld."}


def referred(driver: ProcessDriver, *, as_role: str = "ketenpartner") -> int:
    """An aanmelding, assessed by the procesregisseur and on the chair's desk."""
    instance = driver.start(KEY, AANMELDING, as_role=as_role)
    driver.complete(instance, "Task_beoordelen", BEOORDELING)
    return instance


def in_monitoring(driver: ProcessDriver) -> int:
    """An included case with its plan: the first review round is open."""
    instance = referred(driver)
    driver.complete(instance, "Task_inclusie", INCLUSIE)
    driver.complete(instance, "Task_plan", PLAN)
    assert driver.open(instance) == {"Task_review"}
    return instance


def advance_to(driver: ProcessDriver, moment: datetime) -> None:
    driver.advance(moment - driver.clock.now())


def facts(driver: ProcessDriver, instance: int) -> list[tuple[str, str | None]]:
    with driver.db.reader() as session:
        rows = session.scalars(select(ReportFact).where(ReportFact.instance_id == instance))
        return [(row.kengetal, row.gemeente) for row in rows]


# --- aanmelding and inclusion ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["procesregisseur", "ketenpartner"])
def test_aanmelding__by_the_procesregisseur_or_a_partner_goes_to_the_procesregisseur(
    driver: ProcessDriver, role: str
) -> None:
    instance = driver.start(KEY, AANMELDING, as_role=role)

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_beoordelen", "procesregisseur")]
    row = driver.instance(instance)
    assert (row.gemeente, row.subject_person) == ("Breda", "Lars Verzonnen")


def test_aanmelding__is_refused_without_the_safety_risk(driver: ProcessDriver) -> None:
    with pytest.raises(InvalidInput) as refused:
        driver.start(KEY, {k: v for k, v in AANMELDING.items() if k != "veiligheidsrisico"}, as_role="ketenpartner")

    assert set(refused.value.fields) == {"veiligheidsrisico"}


def test_inclusie__the_independent_chair_decides_and_appoints_a_casusregisseur(driver: ProcessDriver) -> None:
    instance = referred(driver)
    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_inclusie", "onafhankelijk_voorzitter")]
    without_casusregisseur = {k: v for k, v in INCLUSIE.items() if "casusregisseur" not in k}
    refused = driver.refused(instance, "Task_inclusie", without_casusregisseur)
    assert set(refused) == {"casusregisseur_organisatie", "casusregisseur_naam"}

    driver.complete(instance, "Task_inclusie", INCLUSIE)

    assert facts(driver, instance) == [("levensloop", "breda")]
    (plan,) = driver.tasks(instance)
    assert (plan.element_id, plan.role) == ("Task_plan", "casusregisseur")
    with driver.db.reader() as session:
        assert session.get_one(HumanTask, plan.id).scope == "org:ggz", "only the appointed organisation sees it"


def test_inclusie__not_included_sends_the_decision_and_advice_back_to_the_referrer(driver: ProcessDriver) -> None:
    instance = referred(driver)

    driver.complete(
        instance,
        "Task_inclusie",
        {
            "inclusiebesluit": "niet_includeren",
            "motivering_inclusie": "Geen hoog veiligheidsrisico naar anderen.",
            "alternatief": "procesregie_zvh",
            "advies_aanmelder": "Meld de casus aan voor procesregie bij het ZVH.",
        },
    )

    (feedback,) = driver.tasks(instance)
    assert (feedback.element_id, feedback.role) == ("Task_terugkoppeling", None), "the referrer's own task"
    driver.complete(
        instance,
        "Task_terugkoppeling",
        {"vervolg_aanmelder": "Wij melden aan voor procesregie.", "betrokkene_geinformeerd_besluit": True},
    )
    assert driver.status(instance) == "completed"
    assert facts(driver, instance) == []


def test_inclusie__not_decided_within_four_weeks_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = referred(driver)
    advance_to(driver, datetime(2026, 3, 30, 9, 0, tzinfo=AMSTERDAM) - timedelta(minutes=1))  # four weeks, local time
    assert driver.open(instance) == {"Task_inclusie"}

    advance_to(driver, datetime(2026, 3, 30, 9, 0, tzinfo=AMSTERDAM))

    assert {(t.element_id, t.role) for t in driver.tasks(instance)} == {
        ("Task_inclusie", "onafhankelijk_voorzitter"),
        ("Task_escalatie_inclusie", "manager"),
    }
    driver.complete(instance, "Task_escalatie_inclusie")
    assert driver.open(instance) == {"Task_inclusie"}


# --- long-term monitoring --------------------------------------------------------------------------------------


def test_review__each_round_records_status_risks_changes_and_the_next_review(driver: ProcessDriver) -> None:
    instance = in_monitoring(driver)
    refused = driver.refused(instance, "Task_review", {"voorstel": "beeindiging_voorstellen"})
    assert {"status", "risiconiveau", "risicos", "wijzigingen", "volgende_review", "reden_voorstel"} <= set(refused)

    driver.complete(instance, "Task_review", REVIEW)

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_review", "casusregisseur")]
    assert driver.data(instance)["volgende_review"] == "2026-09-01"


def test_review__not_held_within_the_review_period_escalates_to_the_manager(driver: ProcessDriver) -> None:
    instance = in_monitoring(driver)
    advance_to(driver, datetime(2026, 6, 2, 9, 0, tzinfo=AMSTERDAM) - timedelta(minutes=1))  # the plan + P3M
    assert driver.open(instance) == {"Task_review"}

    advance_to(driver, datetime(2026, 6, 2, 9, 0, tzinfo=AMSTERDAM))

    assert driver.open(instance) == {"Task_review", "Task_escalatie_review"}
    driver.complete(instance, "Task_escalatie_review")
    driver.complete(instance, "Task_review", REVIEW)
    assert driver.open(instance) == {"Task_review"}


def test_monitoring__never_ends_by_itself_however_long_it_runs(driver: ProcessDriver) -> None:
    instance = in_monitoring(driver)
    for _ in range(8):
        driver.advance(days(80))
        driver.complete(instance, "Task_review", REVIEW)

    assert driver.status(instance) != "completed"
    assert driver.open(instance) == {"Task_review"}


def test_beeindiging__a_proposal_the_chair_declines_keeps_the_case_in_monitoring(driver: ProcessDriver) -> None:
    instance = in_monitoring(driver)

    driver.complete(instance, "Task_review", VOORSTEL)

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [
        ("Task_beeindiging", "onafhankelijk_voorzitter")
    ]
    assert set(driver.refused(instance, "Task_beeindiging", {"levensloopbesluit": "voortzetten"})) == {
        "motivering_besluit"
    }
    driver.complete(
        instance,
        "Task_beeindiging",
        {"levensloopbesluit": "voortzetten", "motivering_besluit": "Het risico is nog te hoog om te stoppen."},
    )
    assert driver.open(instance) == {"Task_review"}
    driver.complete(instance, "Task_review", REVIEW)
    assert driver.open(instance) == {"Task_review"}


def test_beeindiging__only_the_chairs_motivated_decision_ends_the_case(driver: ProcessDriver) -> None:
    instance = in_monitoring(driver)
    driver.complete(instance, "Task_review", VOORSTEL)
    assert set(driver.refused(instance, "Task_beeindiging", {"levensloopbesluit": "beeindigen"})) == {
        "reden_beeindiging",
        "motivering_besluit",
    }

    driver.complete(
        instance,
        "Task_beeindiging",
        {
            "levensloopbesluit": "beeindigen",
            "reden_beeindiging": "duurzaam_stabiel",
            "motivering_besluit": "Twee jaar stabiel; de reguliere GGZ-zorg volstaat.",
        },
    )

    assert [(t.element_id, t.role) for t in driver.tasks(instance)] == [("Task_afsluiten", "procesregisseur")]
    driver.complete(
        instance,
        "Task_afsluiten",
        {
            "overdracht_naar": "GGZ",
            "afspraken_overdracht": "Het FACT-team zet de zorg voort.",
            "evaluatie": "Geen ernstige incidenten meer sinds de inclusie.",
            "datum_afsluiting": "2026-03-10",
        },
    )
    assert driver.status(instance) == "completed"
    assert facts(driver, instance) == [("levensloop", "breda")]
