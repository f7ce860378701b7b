"""Process drafts: started from a version or imported, saved under an optimistic lock, checked like a deploy."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bundles import collect_bundle
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, InvalidInput, NotFound, ZvhError
from engine.modelling import (
    discard_draft,
    get_draft,
    import_draft,
    managed_processes,
    open_drafts,
    save_draft,
    start_draft,
    validate_xml,
    version_by_number,
    versions,
)
from engine.models import AuditEvent, Instance, ProcessDraft, User
from engine.registry import deploy_bundle, deploy_file
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.processes.test_datalek import MELDING

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, FORMS = ROOT / "processes", ROOT / "forms"
MIWG = ROOT / "tests" / "fixtures" / "miwg"
DATALEK = (PROCESSES / "datalek.bpmn").read_text(encoding="utf-8")


def deploy_process(db: Database, name: str = "datalek", *, clock: FixedClock | None = None) -> int:
    """Deploy a real ZVH process with its forms; returns the version id."""
    with db.transaction() as session:
        deployed = deploy_file(session, PROCESSES / f"{name}.bpmn", actor="ontwikkelaar", search_paths=[FORMS])
        if clock is not None:
            deployed.version.deployed_at = clock.now()
        return deployed.version.id


def edit(xml: str, old: str, new: str, *, count: int = 1) -> str:
    """Replace text that must be there (a test editing a diagram must notice when the diagram changed)."""
    assert xml.count(old) >= count, f"{old!r} not found {count} time(s)"
    return xml.replace(old, new, count)


def new_draft(db: Database, owner: User, clock: FixedClock, key: str = "datalek") -> ProcessDraft:
    with db.transaction() as session:
        return start_draft(session, process_key=key, actor=owner, at=clock.now())


def save(db: Database, draft_id: int, owner: User, xml: str, revision: int, clock: FixedClock) -> ProcessDraft:
    with db.transaction() as session:
        return save_draft(session, draft_id=draft_id, actor=owner, bpmn_xml=xml, revision=revision, at=clock.now())


def audit(db: Database, action: str) -> list[AuditEvent]:
    with db.reader() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def anna(make_user: UserFactory) -> User:
    return make_user("anna", "procesbeheerder")


@pytest.fixture
def bram(make_user: UserFactory) -> User:
    return make_user("bram", "procesbeheerder")


# --- starting and importing -----------------------------------------------------------------------------------


def test_start_draft__copies_the_live_version(db: Database, anna: User, clock: FixedClock) -> None:
    version_id = deploy_process(db)

    draft = new_draft(db, anna, clock)

    with db.reader() as session:
        live = version_by_number(session, process_key="datalek", version=1)
        stored = get_draft(session, draft_id=draft.id)
    assert stored.files == live.files
    assert (stored.main_file, stored.base_version_id, stored.revision, stored.status) == (
        "datalek.bpmn",
        version_id,
        1,
        "draft",
    )
    assert stored.author.username == "anna"
    [event] = audit(db, "draft_start")
    assert event.actor == "anna" and event.details == {
        "draft_id": draft.id,
        "process_key": "datalek",
        "from_version": 1,
    }


def test_start_draft__is_not_there_for_someone_who_is_not_a_process_owner(
    db: Database, make_user: UserFactory, clock: FixedClock
) -> None:
    deploy_process(db)
    beheerder = make_user("bea", "beheerder")

    with pytest.raises(NotFound), db.transaction() as session:
        start_draft(session, process_key="datalek", actor=beheerder, at=clock.now())


def test_start_draft__of_an_unknown_process_is_not_found(db: Database, anna: User, clock: FixedClock) -> None:
    with pytest.raises(NotFound, match="bestaat niet"), db.transaction() as session:
        start_draft(session, process_key="bestaat_niet", actor=anna, at=clock.now())


def test_import_draft__a_new_process_takes_its_key_from_the_executable_process(
    db: Database, anna: User, clock: FixedClock
) -> None:
    xml = DATALEK.replace('id="datalek"', 'id="datalek_kopie"').replace(
        'processRef="datalek"', 'processRef="datalek_kopie"'
    )

    with db.transaction() as session:
        draft = import_draft(session, actor=anna, filename="Kopie.bpmn", content=xml.encode(), at=clock.now())

    assert (draft.process_key, draft.main_file, draft.base_version_id) == ("datalek_kopie", "datalek_kopie.bpmn", None)
    assert draft.files == {"bpmn": {"datalek_kopie.bpmn": xml}, "dmn": {}, "forms": {}}
    with db.reader() as session:
        assert validate_xml(session, process_key="datalek_kopie", bpmn_xml=xml) == []


def test_import_draft__of_a_deployed_process_replaces_its_main_file(
    db: Database, anna: User, clock: FixedClock
) -> None:
    version_id = deploy_process(db)
    xml = edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"')

    with db.transaction() as session:
        draft = import_draft(session, actor=anna, filename="datalek.bpmn", content=xml.encode(), at=clock.now())

    assert draft.base_version_id == version_id
    assert draft.files["bpmn"] == {"datalek.bpmn": xml}
    assert "datalek_inperking.json" in draft.files["forms"]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("proces.txt", b"<x/>", "Alleen .bpmn"),
        ("proces.bpmn", b"<bpmn:definitions", "not well-formed"),
        ("proces.bpmn", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "DOCTYPE"),
        ("proces.bpmn", b"<definitions/>", "geen BPMN 2.0"),
        ("proces.bpmn", "é".encode("latin-1"), "UTF-8"),
    ],
)
def test_import_draft__refuses_what_is_not_a_safe_bpmn_file(
    db: Database, anna: User, clock: FixedClock, filename: str, content: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        import_draft(session, actor=anna, filename=filename, content=content, at=clock.now())

    assert any(message in text for text in refused.value.fields["bestand"])
    with db.reader() as session:
        assert session.scalars(select(ProcessDraft)).all() == []


def test_import_draft__keeps_every_element_id_of_the_miwg_files(db: Database, anna: User, clock: FixedClock) -> None:
    imported = 0
    for path in sorted(MIWG.glob("*.bpmn")):
        try:
            with db.transaction() as session:
                draft = import_draft(session, actor=anna, filename=path.name, content=path.read_bytes(), at=clock.now())
                problems = validate_xml(
                    session, process_key=draft.process_key, bpmn_xml=draft.files["bpmn"][draft.main_file]
                )
        except InvalidInput as refusal:  # C.9.2 is a DMN file with a .bpmn name
            assert refusal.fields["bestand"], path.name
            continue
        imported += 1
        assert draft.files["bpmn"][draft.main_file] == path.read_text(encoding="utf-8"), path.name
        assert all(problem.message for problem in problems), path.name
    assert imported >= 20


# --- saving --------------------------------------------------------------------------------------------------


def test_save_draft__stores_the_xml_and_counts_the_revision(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)
    xml = edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"')
    clock.advance(timedelta(minutes=5))

    saved = save(db, draft.id, anna, xml, 1, clock)

    assert saved.revision == 2 and saved.updated_at == clock.now()
    assert saved.files["bpmn"]["datalek.bpmn"] == xml
    assert "datalek_inperking.json" in saved.files["forms"], "the forms stay with the draft"
    [event] = audit(db, "draft_save")
    assert event.details == {"draft_id": draft.id, "process_key": "datalek", "revision": 2}


def test_save_draft__keeps_forms_edited_in_the_draft(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)

    with db.transaction() as session:
        saved = save_draft(
            session,
            draft_id=draft.id,
            actor=anna,
            bpmn_xml=DATALEK,
            revision=1,
            at=clock.now(),
            forms={"nieuw.json": '{"type": "object"}'},
        )

    assert saved.files["forms"]["nieuw.json"] == '{"type": "object"}'


def test_save_draft__refuses_a_form_that_is_not_json(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)

    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        save_draft(
            session, draft_id=draft.id, actor=anna, bpmn_xml=DATALEK, revision=1, at=clock.now(), forms={"x.json": "{"}
        )

    assert "geen geldige JSON" in refused.value.fields["formulieren"][0]


def test_save_draft__refuses_a_stale_revision_and_names_who_saved_it(
    db: Database, anna: User, bram: User, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)
    clock.advance(timedelta(minutes=15))
    save(db, draft.id, bram, edit(DATALEK, 'name="Incident inperken"', 'name="Door Bram"'), 1, clock)

    with pytest.raises(Conflict) as refused:
        save(db, draft.id, anna, edit(DATALEK, 'name="Incident inperken"', 'name="Door Anna"'), 1, clock)

    assert "Bram" in refused.value.message and "02-03-2026 om 09:15" in refused.value.message
    with db.reader() as session:
        stored = get_draft(session, draft_id=draft.id)
    assert 'name="Door Bram"' in stored.files["bpmn"]["datalek.bpmn"] and stored.revision == 2


def test_save_draft__of_two_concurrent_saves_only_one_wins(
    db: Database, anna: User, bram: User, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)
    outcome: dict[str, object] = {}

    def second_save() -> None:
        try:
            save(db, draft.id, bram, edit(DATALEK, 'name="Incident inperken"', 'name="Door Bram"'), 1, clock)
            outcome["bram"] = "saved"
        except ZvhError as error:
            outcome["bram"] = error

    with db.transaction() as session:
        save_draft(
            session,
            draft_id=draft.id,
            actor=anna,
            bpmn_xml=edit(DATALEK, 'name="Incident inperken"', 'name="Door Anna"'),
            revision=1,
            at=clock.now(),
        )
        # The second save starts while the first is still open: it waits for it (or comes after it) — either way
        # it must lose, never overwrite.
        racer = threading.Thread(target=second_save)
        racer.start()
    racer.join(timeout=60)
    assert not racer.is_alive()

    assert isinstance(outcome["bram"], Conflict)
    with db.reader() as session:
        stored = get_draft(session, draft_id=draft.id)
    assert 'name="Door Anna"' in stored.files["bpmn"]["datalek.bpmn"] and stored.revision == 2


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<bpmn:definitions", "not well-formed"),
        ('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', "DOCTYPE"),
        ("<definitions/>", "geen BPMN 2.0"),
    ],
)
def test_save_draft__refuses_xml_that_is_not_safe_bpmn(
    db: Database, anna: User, clock: FixedClock, xml: str, message: str
) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)

    with pytest.raises(InvalidInput) as refused:
        save(db, draft.id, anna, xml, 1, clock)

    assert any(message in text for text in refused.value.fields["xml"])
    with db.reader() as session:
        assert get_draft(session, draft_id=draft.id).revision == 1


def test_discard_draft__takes_it_off_the_open_drafts(db: Database, anna: User, bram: User, clock: FixedClock) -> None:
    deploy_process(db)
    kept, thrown = new_draft(db, anna, clock), new_draft(db, anna, clock)

    with db.transaction() as session:
        discard_draft(session, draft_id=thrown.id, actor=bram, at=clock.now())

    with db.reader() as session:
        assert [d.id for d in open_drafts(session, process_key="datalek")] == [kept.id]
    with pytest.raises(Conflict), db.transaction() as session:
        discard_draft(session, draft_id=thrown.id, actor=bram, at=clock.now())
    with pytest.raises(Conflict):
        save(db, thrown.id, anna, DATALEK, 1, clock)
    assert [e.actor for e in audit(db, "draft_discard")] == ["bram"]


# --- validating ------------------------------------------------------------------------------------------------


def test_validate_xml__the_live_diagram_has_no_problems_and_nothing_is_stored(db: Database, anna: User) -> None:
    deploy_process(db)

    with db.reader() as session:
        assert validate_xml(session, process_key="datalek", bpmn_xml=DATALEK) == []
        assert session.scalars(select(ProcessDraft)).all() == []


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<bpmn:definitions", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>', "DOCTYPE"),
        ('<d xmlns="urn:x"/>', "not a BPMN 2.0 file"),
        (edit(DATALEK, 'isExecutable="true"', 'isExecutable="false"'), "no executable process"),
    ],
)
def test_validate_xml__broken_xml_is_a_problem_not_an_error(db: Database, xml: str, message: str) -> None:
    deploy_process(db)

    with db.reader() as session:
        problems = validate_xml(session, process_key="datalek", bpmn_xml=xml)

    assert problems and message in problems[0].message


def test_validate_xml__names_each_problem_with_its_element(db: Database) -> None:
    deploy_process(db)
    xml = edit(DATALEK, 'value="datalek_inperking.json"', 'value="bestaat_niet.json"')
    xml = edit(xml, '<bpmn:userTask id="Task_risico"', '<bpmn:serviceTask id="Task_risico"')
    xml = edit(xml, "</bpmn:userTask>\n    <bpmn:exclusiveGateway", "</bpmn:serviceTask>\n    <bpmn:exclusiveGateway")
    xml = edit(xml, 'risico == "hoog_risico"', "risico ==")

    with db.reader() as session:
        problems = {(p.element, p.message) for p in validate_xml(session, process_key="datalek", bpmn_xml=xml)}

    assert ("Task_inperken", "form file 'bestaat_niet.json' not found beside the BPMN file or in forms/") in problems
    assert (
        "Task_risico",
        "service tasks call external systems and ZVH Regie has no connectors; use a user task",
    ) in problems
    assert any(element == "Flow_hoog" and message.startswith("conditionExpression") for element, message in problems)


def test_validate_xml__uses_forms_of_the_draft_and_from_the_forms_folder(db: Database) -> None:
    deploy_process(db)
    new_form = '{"type": "object", "properties": {"x": {"type": "string"}}}'
    with_new_form = edit(DATALEK, 'value="datalek_inperking.json"', 'value="nieuw_formulier.json"')
    from_disk = edit(DATALEK, 'value="datalek_inperking.json"', 'value="triage_besluit.json"')

    with db.reader() as session:
        assert (
            validate_xml(
                session, process_key="datalek", bpmn_xml=with_new_form, forms={"nieuw_formulier.json": new_form}
            )
            == []
        )
        assert validate_xml(session, process_key="datalek", bpmn_xml=from_disk) == []


def test_validate_xml__refuses_a_diagram_of_another_process(db: Database) -> None:
    deploy_process(db)
    other = DATALEK.replace('id="datalek"', 'id="ander_proces"').replace(
        'processRef="datalek"', 'processRef="ander_proces"'
    )

    with db.reader() as session:
        [problem] = validate_xml(session, process_key="datalek", bpmn_xml=other)

    assert problem.element == "ander_proces" and "hoort bij proces 'datalek'" in problem.message


def test_validate_xml__the_largest_zvh_diagram_passes(db: Database) -> None:
    """(How long it takes is a figure of bench/modeller_bench.py, not of a test.)"""
    deploy_process(db, "inzageverzoek")
    xml = (PROCESSES / "inzageverzoek.bpmn").read_text(encoding="utf-8")

    with db.reader() as session:
        assert validate_xml(session, process_key="inzageverzoek", bpmn_xml=xml) == []


# --- listing ---------------------------------------------------------------------------------------------------


def test_managed_processes__counts_drafts_waiting_drafts_and_running_cases(
    db: Database, anna: User, make_user: UserFactory, clock: FixedClock, runtime: Runtime
) -> None:
    deploy_process(db, clock=clock)
    deploy_process(db, "bewaking_escalatie", clock=clock)
    melder = make_user("mia", "ketenpartner")
    with db.transaction() as session:
        for _ in range(2):
            runtime.start_instance(session, process_key="datalek", actor=melder, data=MELDING)
    with db.transaction() as session:
        ended = runtime.start_instance(session, process_key="datalek", actor=melder, data=MELDING).instance
        session.get(Instance, ended.id).status = "completed"
    clock.advance(timedelta(hours=1))
    new_draft(db, anna, clock)
    submitted = new_draft(db, anna, clock)
    with db.transaction() as session:
        session.get(ProcessDraft, submitted.id).status = "submitted"

    with db.reader() as session:
        rows = {row.process_key: row for row in managed_processes(session)}

    datalek = rows["datalek"]
    assert (datalek.live_version, datalek.drafts, datalek.submitted, datalek.running) == (1, 1, 1, 2)
    assert datalek.last_change == clock.now()
    assert (rows["bewaking_escalatie"].drafts, rows["bewaking_escalatie"].running) == (0, 0)


def test_versions__newest_first_and_an_unknown_number_is_not_found(db: Database, clock: FixedClock) -> None:
    deploy_process(db)
    bundle = collect_bundle(PROCESSES / "datalek.bpmn", search_paths=[FORMS])
    bundle.bpmn["datalek.bpmn"] = edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"')
    with db.transaction() as session:
        deploy_bundle(session, bundle, actor="ontwikkelaar", clock=clock)

    with db.reader() as session:
        assert [v.version for v in versions(session, process_key="datalek")] == [2, 1]
        with pytest.raises(NotFound, match="Versie 3"):
            version_by_number(session, process_key="datalek", version=3)


def test_modeller_choices__roles_lanes_and_forms_but_no_shared_definitions(db: Database) -> None:
    from engine.modelling.choices import modeller_choices

    with db.transaction() as session:
        deploy_file(session, PROCESSES / "datalek.bpmn", actor="tests", search_paths=[FORMS])
    with db.reader() as session:
        choices = modeller_choices(session, forms_path=FORMS)

    assert {"privacyfunctionaris", "manager"} <= set(choices.roles)
    assert choices.lanes["Privacyfunctionaris"] == "privacyfunctionaris"
    assert "datalek_inperking.json" in choices.forms
    assert "definities.json" not in choices.forms
    assert not any(name.endswith(".ui.json") for name in choices.forms)
