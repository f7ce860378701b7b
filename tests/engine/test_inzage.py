"""The contactpunt: one person's package across cases, redaction of others' data in every output, only the FG."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.models import AuditEvent, HumanTask, Instance
from engine.privacy import inzage_documents
from engine.privacy.accesslog import record_read
from engine.privacy.inzage import Package, assemble_package
from engine.privacy.inzage_request import (
    RequestPackage,
    erase_for_request,
    record_redactions,
    record_search,
    request_package,
)
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.engine.inzage_world import KAREL, REQUEST, ROOT, World, _user, build_world, complete_step, start_request


@pytest.fixture
def world(db: Database, runtime: Runtime, tmp_path: Path) -> World:
    return build_world(db, runtime, tmp_path)


def _package(world: World, clock: FixedClock) -> Package:
    with world.db.transaction() as session:
        return assemble_package(session, world.runtime, person_key=world.karel_key, actor=world.fg, at=clock.now())


def test_package__holds_every_case_of_the_person_with_steps_values_and_participants(
    world: World, clock: FixedClock
) -> None:
    package = _package(world, clock)

    assert [case.instance_id for case in package.cases] == [world.main_case, world.other_case]
    main = package.cases[0]
    assert (main.process_name, main.gemeente, main.status) == ("Zorgzaak", "Breda", "completed")
    assert [step.name for step in main.steps] == ["Zaak gestart", "Verslag partner", "Verslag corrigeren"]
    report = main.steps[1]
    assert (report.organisation, report.role) == ("Politie", "Ketenpartner"), "staff by organisation and role (by name)"
    assert {(v.label, v.text) for v in report.fields} >= {("Verslag", "Gesprek"), ("Woonplaats", "Breda")}
    assert sorted(main.participants) == [
        ("Politie", "Ketenpartner"),
        ("Zorg- en Veiligheidshuis De Baronie", "Procesregisseur"),
    ]
    assert package.organisations == ("politie",), "the partners to ask for their position (not the ZVH itself)"
    assert "rik" not in repr(package) and "paul" not in repr(package), "no usernames of staff"


def test_package__others_in_the_cases_are_items_the_person_is_not(world: World, clock: FixedClock) -> None:
    package = _package(world, clock)

    start = package.cases[0].steps[0]
    people = {value.label: value for value in start.fields if value.label.startswith(("Betrokkenen", "Melder"))}
    assert people["Betrokkenen 1"].item is None, "Karel himself is never withheld"
    assert people["Betrokkenen 2"].item is not None and people["Melder"].item is not None
    assert {item.label for item in package.items if item.case_number == package.cases[0].case_number} == {
        "Betrokkenen 2",
        "Melder",
    }


def test_package__a_later_correction_marks_the_old_value_as_rectified(world: World, clock: FixedClock) -> None:
    package = _package(world, clock)

    report, correction = package.cases[0].steps[1:]
    old = next(v for v in report.fields if v.label == "Woonplaats")
    assert old.text == "Breda" and old.rectified_at == correction.at, "the history stays, marked as rectified"
    assert next(v for v in report.fields if v.label == "Verslag").rectified_at is None, "unchanged: not rectified"


def test_package__includes_the_access_log_of_the_persons_data(world: World, clock: FixedClock) -> None:
    with world.db.transaction() as session:
        record_read(session, user=world.partner, instance_id=world.main_case, object_type="case", at=clock.now())

    package = _package(world, clock)

    reads = [e for e in package.access_log if e.action == "gegevens ingezien (zaak)"]
    assert [(e.organisation, e.role, e.outcome) for e in reads] == [("Politie", "Ketenpartner", "toegestaan")]
    assert {e.case_number for e in package.access_log} >= {c.case_number for c in package.cases}


def test_package__a_destroyed_case_shows_only_when_it_was_destroyed(world: World, clock: FixedClock) -> None:
    with world.db.transaction() as session:
        session.get_one(Instance, world.other_case).destroyed_at = clock.now()

    package = _package(world, clock)

    destroyed = package.cases[1]
    assert (destroyed.destroyed_at, destroyed.steps, destroyed.participants) == (clock.now(), (), ())
    html = inzage_documents._TEMPLATES.get_template("inzage_pakket.html").render(
        package=package, subject="Karel", reference="AVG-2026-001", standalone=False
    )
    assert "Vernietigd op 2 maart 2026" in html


def test_package__only_the_privacy_officer_may_assemble_it(world: World, clock: FixedClock) -> None:
    with pytest.raises(PermissionDenied), world.db.transaction() as session:
        assemble_package(session, world.runtime, person_key=world.karel_key, actor=world.nosy, at=clock.now())


def test_package__assembly_is_logged_with_the_person_key_never_the_bsn(world: World, clock: FixedClock) -> None:
    _package(world, clock)

    with world.db.reader() as session:
        export = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "inzage")).one()
        everything = session.scalars(select(AuditEvent.details)).all()
    assert (export.action, export.actor, export.person_key) == ("export", "fenna", world.karel_key)
    assert "111222333" not in repr(everything)


def test_redaction__applies_to_the_html_the_pdf_and_the_zip(
    world: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(world, clock)
    piet = next(
        i for i in package.items if i.label == "Betrokkenen 2" and i.case_number == package.cases[0].case_number
    )
    with world.db.reader() as session:
        request = session.get_one(Instance, world.main_case)
    found = RequestPackage(
        request, {"naam_betrokkene": "Karel Testpersoon"}, package, package.redacted({piet.id: "rechten_van_anderen"})
    )
    rendered: list[str] = []
    real_render = inzage_documents.render_pdf
    monkeypatch.setattr(inzage_documents, "render_pdf", lambda html: rendered.append(html) or real_render(html))

    html = inzage_documents.package_html(found, standalone=False)
    archive = zipfile.ZipFile(io.BytesIO(inzage_documents.package_zip(found)))

    assert sorted(archive.namelist()) == ["gegevens.json", "inzagepakket.pdf", "toegangslogging.csv"]
    assert archive.read("inzagepakket.pdf").startswith(b"%PDF")
    data = archive.read("gegevens.json").decode("utf-8")
    for text in (html, rendered[0], data):
        assert "Karel Testpersoon" in text
        assert text.count("Piet Systeemlid") == 1, "withheld in Karel's case, still there in Piet's own case?"
    assert "afgeschermd: rechten en vrijheden van anderen" in html
    assert json.loads(data)["afgeschermde_onderdelen"] == 1
    assert "Mila Melder" in data, "only what the FG withholds is withheld"
    assert "Ketenpartner" in archive.read("toegangslogging.csv").decode("utf-8")


def test_request__a_package_needs_an_inzageverzoek_that_names_the_person(world: World, clock: FixedClock) -> None:
    waiting = start_request(world, person=False)

    with pytest.raises(NotFound), world.db.transaction() as session:
        request_package(session, world.runtime, instance_id=world.main_case, actor=world.fg, at=clock.now())
    with pytest.raises(Conflict), world.db.transaction() as session:
        request_package(session, world.runtime, instance_id=waiting, actor=world.fg, at=clock.now())


def test_request__search_partners_redaction_and_letters_run_through_the_process(
    world: World, clock: FixedClock
) -> None:
    request = start_request(world)

    with world.db.transaction() as session:
        record_search(session, world.runtime, instance_id=request, actor=world.fg, at=clock.now())
    with world.db.reader() as session:
        asked = session.scalars(select(HumanTask).where(HumanTask.instance_id == request)).all()
    assert [(t.element_id, t.scope) for t in asked] == [("Task_standpunt", "org:politie")]
    with world.db.transaction() as session:
        position = {"standpunt": {"oordeel": "geen_bezwaar"}}
        world.runtime.complete_task(session, task_id=asked[0].id, actor=world.partner, data=position)

    with world.db.transaction() as session:
        package = request_package(session, world.runtime, instance_id=request, actor=world.fg, at=clock.now())
        piet = next(i for i in package.package.items if i.label == "Betrokkenen 2")
        with pytest.raises(InvalidInput):
            record_redactions(
                session,
                world.runtime,
                instance_id=request,
                actor=world.fg,
                at=clock.now(),
                choices={"1-x": "art_41_uavg"},
            )
        record_redactions(
            session,
            world.runtime,
            instance_id=request,
            actor=world.fg,
            at=clock.now(),
            choices={piet.id: "rechten_van_anderen"},
        )
    with world.db.transaction() as session:
        found = request_package(session, world.runtime, instance_id=request, actor=world.fg, at=clock.now())

    assert found.data["afscherming"] == [{"onderdeel": piet.id, "grond": "rechten_van_anderen"}]
    assert found.data["aantal_documenten"] == 2 and found.data["partner_organisaties"] == ["Politie"]
    assert found.redacted.redactions == {piet.id: "rechten_van_anderen"}
    assert request not in {case.instance_id for case in found.package.cases}, "the request itself is not listed"
    deels = inzage_documents.letter(found, "deels", today=clock.now().date())
    assert deels.addressee == "Karel Testpersoon" and deels.address == ("Voorbeeldstraat 12", "4811 AB Breda")
    assert "Afgeschermd zijn 1 onderdeel" in " ".join(deels.paragraphs)
    assert deels.subject == "Besluit op uw verzoek om inzage"
    assert inzage_documents.letter_pdf(found, "verlenging", today=clock.now().date()).startswith(b"%PDF")


def _erasure_request(world: World, clock: FixedClock) -> int:
    """A request for erasure of Karel's data, walked to the decision (search, partner, redaction, exemptions)."""
    with world.db.transaction() as session:
        deploy_file(session, ROOT / "processes" / "inzageverzoek.bpmn", actor="tests", search_paths=[ROOT / "forms"])
        request = world.runtime.start_instance(
            session, process_key="inzageverzoek", actor=world.fg, data={**REQUEST, "soort": "vernietiging"}
        ).instance.id
    identity = {"id_geverifieerd": True, "wijze_verificatie": "id_bewijs_getoond_aan_balie"}
    complete_step(world.db, world.runtime, request, "Task_identiteit", world.fg, identity)
    subject = {"naam_betrokkene": KAREL["naam"], "bsn_betrokkene": KAREL["bsn"]}
    complete_step(world.db, world.runtime, request, "Task_persoon", world.fg, subject)
    with world.db.transaction() as session:
        record_search(session, world.runtime, instance_id=request, actor=world.fg, at=clock.now())
    position = {"standpunt": {"oordeel": "geen_bezwaar"}}
    complete_step(world.db, world.runtime, request, "Task_standpunt", world.partner, position)
    with world.db.transaction() as session:
        record_redactions(session, world.runtime, instance_id=request, actor=world.fg, at=clock.now(), choices={})
    exemptions = {"uitzondering_van_toepassing": False, "gegevens_derden": True, "verlenging_nodig": False}
    complete_step(world.db, world.runtime, request, "Task_uitzonderingen", world.fg, exemptions)
    return request


def test_erasure__destroys_only_the_persons_cases_and_only_after_a_granted_decision(
    world: World, clock: FixedClock
) -> None:
    request = _erasure_request(world, clock)

    def erase(case: int) -> None:
        with world.db.transaction() as session:
            erase_for_request(
                session,
                world.runtime,
                instance_id=request,
                case_instance_id=case,
                actor=world.fg,
                reason="Verzoek tot vernietiging toegewezen",
                at=clock.now(),
            )

    with pytest.raises(Conflict, match="toegewezen"):
        erase(world.main_case)
    manager = _user(world.db, "mara", "manager", "zvh")
    granted = {"besluit": "toegewezen", "besluitdatum": "2026-03-25", "wijze_verstrekking": "afschrift_per_post"}
    complete_step(world.db, world.runtime, request, "Task_besluit", manager, granted)
    with pytest.raises(NotFound):
        erase(request)  # the request itself is not one of the person's cases

    erase(world.main_case)

    with world.db.reader() as session:
        destroyed = session.get_one(Instance, world.main_case)
        assert destroyed.destroyed_at is not None and destroyed.subject_person is None
        assert session.get_one(Instance, world.other_case).destroyed_at is None
        record = session.scalars(select(AuditEvent).where(AuditEvent.action == "destroy")).one()
    assert record.details["rule"].startswith("verzoek tot vernietiging ") and record.actor == "fenna"
    with pytest.raises(NotFound):
        erase(world.main_case)
