"""Publishing a draft: validated, with a mandatory change note, and with four eyes whenever code changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import Conflict, DeploymentRefused, InvalidInput, NotFound, PermissionDenied
from engine.modelling import (
    PublishOutcome,
    approve_draft,
    four_eyes_setting,
    get_draft,
    import_draft,
    reject_draft,
    save_draft,
    set_four_eyes,
    start_draft,
    submit_draft,
)
from engine.models import ProcessDraft, ProcessVersion, User
from tests.conftest import UserFactory
from tests.engine.test_modelling_drafts import DATALEK, audit, deploy_process, edit, new_draft, save

RENAMED = edit(DATALEK, 'name="Incident inperken"', 'name="Incident beperken"')
NEW_SCRIPT = edit(DATALEK, "dagen = 0", "dagen = 1")


@pytest.fixture
def anna(make_user: UserFactory) -> User:
    return make_user("anna", "procesbeheerder")


@pytest.fixture
def bram(make_user: UserFactory) -> User:
    return make_user("bram", "procesbeheerder")


def draft_with(db: Database, owner: User, clock: FixedClock, xml: str) -> ProcessDraft:
    draft = new_draft(db, owner, clock)
    return save(db, draft.id, owner, xml, 1, clock)


def submit(
    db: Database, draft_id: int, owner: User, clock: FixedClock, note: str = "Naam verduidelijkt"
) -> PublishOutcome:
    with db.transaction() as session:
        return submit_draft(session, draft_id=draft_id, actor=owner, change_note=note, at=clock.now())


def approve(db: Database, draft_id: int, owner: User, clock: FixedClock) -> ProcessVersion:
    with db.transaction() as session:
        return approve_draft(session, draft_id=draft_id, actor=owner, at=clock.now(), note="Gecontroleerd")


def version_count(db: Database) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessVersion)) or 0)


# --- the four-eyes setting -----------------------------------------------------------------------------------------


def test_four_eyes__is_auto_until_set_and_each_change_is_audited(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)

    with db.transaction() as session:
        assert four_eyes_setting(session, process_key="datalek") == "auto"
        set_four_eyes(session, process_key="datalek", value="always", actor=anna, at=clock.now())
        set_four_eyes(session, process_key="datalek", value="never", actor=anna, at=clock.now())

    with db.reader() as session:
        assert four_eyes_setting(session, process_key="datalek") == "never"
    assert [e.details for e in audit(db, "four_eyes")] == [
        {"process_key": "datalek", "from": "auto", "to": "always"},
        {"process_key": "datalek", "from": "always", "to": "never"},
    ]


def test_four_eyes__refuses_an_unknown_value_or_process(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)

    with pytest.raises(InvalidInput), db.transaction() as session:
        set_four_eyes(session, process_key="datalek", value="soms", actor=anna, at=clock.now())
    with pytest.raises(NotFound), db.transaction() as session:
        set_four_eyes(session, process_key="onbekend", value="always", actor=anna, at=clock.now())


# --- publishing directly ---------------------------------------------------------------------------------------------


def test_submit__without_code_changes_publishes_at_once_with_the_change_note(
    db: Database, anna: User, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, RENAMED)
    clock.advance(timedelta(hours=1))

    outcome = submit(db, draft.id, anna, clock, note="  Naam verduidelijkt  ")

    assert outcome.version is not None and outcome.version.version == 2
    assert (outcome.version.change_note, outcome.version.approved_by, outcome.version.deployed_by) == (
        "Naam verduidelijkt",
        None,
        "anna",
    )
    assert outcome.version.deployed_at == clock.now()
    assert (outcome.draft.status, outcome.draft.published_version_id) == ("published", outcome.version.id)
    [_, deployed] = audit(db, "deploy")
    assert deployed.actor == "anna" and deployed.process_version_id == outcome.version.id
    assert deployed.details is not None and deployed.details["change_note"] == "Naam verduidelijkt"
    [submitted] = audit(db, "draft_submit")
    assert submitted.details is not None and submitted.details["four_eyes"] is False


def test_submit__a_change_note_is_mandatory(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, RENAMED)

    with pytest.raises(InvalidInput) as refused:
        submit(db, draft.id, anna, clock, note="   ")

    assert "toelichting" in refused.value.fields
    assert version_count(db) == 1


def test_submit__an_invalid_draft_is_refused_with_its_problems(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, edit(DATALEK, 'value="datalek_inperking.json"', 'value="ontbreekt.json"'))

    with pytest.raises(DeploymentRefused) as refused:
        submit(db, draft.id, anna, clock)

    assert [(p.element, p.file) for p in refused.value.problems] == [("Task_inperken", "datalek.bpmn")]
    assert version_count(db) == 1
    with db.reader() as session:
        assert get_draft(session, draft_id=draft.id).status == "draft"


def test_submit__an_unchanged_draft_says_nothing_changed(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)

    with pytest.raises(InvalidInput, match="Er is niets gewijzigd: dit concept is gelijk aan versie 1"):
        submit(db, draft.id, anna, clock)

    assert version_count(db) == 1


def test_submit__with_four_eyes_never_even_code_is_published_at_once(
    db: Database, anna: User, clock: FixedClock
) -> None:
    deploy_process(db)
    with db.transaction() as session:
        set_four_eyes(session, process_key="datalek", value="never", actor=anna, at=clock.now())
    draft = draft_with(db, anna, clock, NEW_SCRIPT)

    assert submit(db, draft.id, anna, clock).version is not None


# --- four eyes -------------------------------------------------------------------------------------------------------


def test_submit__a_changed_script_waits_for_a_second_process_owner(
    db: Database, anna: User, bram: User, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)

    outcome = submit(db, draft.id, anna, clock, note="Termijn in dagen")

    assert outcome.version is None and outcome.draft.status == "submitted"
    assert (outcome.draft.change_note, outcome.draft.submitted_by_id) == ("Termijn in dagen", anna.id)
    assert version_count(db) == 1
    clock.advance(timedelta(hours=2))

    version = approve(db, draft.id, bram, clock)

    assert (version.version, version.deployed_by, version.approved_by) == (2, "anna", "bram")
    assert version.change_note == "Termijn in dagen"
    with db.reader() as session:
        published = get_draft(session, draft_id=draft.id)
    assert (published.status, published.reviewed_by_id, published.review_note) == (
        "published",
        bram.id,
        "Gecontroleerd",
    )
    [_, deployed] = audit(db, "deploy")
    assert deployed.details is not None
    assert (deployed.details["change_note"], deployed.details["approved_by"]) == ("Termijn in dagen", "bram")
    assert [e.actor for e in audit(db, "draft_approve")] == ["bram"]


def test_approve__the_author_cannot_approve_their_own_change(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)
    submit(db, draft.id, anna, clock)

    with pytest.raises(PermissionDenied, match="eigen wijziging"):
        approve(db, draft.id, anna, clock)

    assert version_count(db) == 1


def test_approve__who_last_edited_the_draft_cannot_approve_it_either(
    db: Database, anna: User, bram: User, make_user: UserFactory, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = new_draft(db, anna, clock)
    save(db, draft.id, bram, NEW_SCRIPT, 1, clock)
    submit(db, draft.id, anna, clock)

    with pytest.raises(PermissionDenied):
        approve(db, draft.id, bram, clock)

    assert approve(db, draft.id, make_user("cees", "procesbeheerder"), clock).approved_by == "cees"


def test_four_eyes__always_also_for_a_new_name(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    with db.transaction() as session:
        set_four_eyes(session, process_key="datalek", value="always", actor=anna, at=clock.now())
    draft = draft_with(db, anna, clock, RENAMED)

    assert submit(db, draft.id, anna, clock).version is None


def test_approve__refused_when_another_version_went_live_in_the_meantime(
    db: Database, anna: User, bram: User, clock: FixedClock
) -> None:
    deploy_process(db)
    waiting = draft_with(db, anna, clock, NEW_SCRIPT)
    submit(db, waiting.id, anna, clock)
    submit(db, draft_with(db, bram, clock, RENAMED).id, bram, clock)

    with pytest.raises(Conflict, match="Versie 2 is intussen gepubliceerd"):
        approve(db, waiting.id, bram, clock)

    assert version_count(db) == 2


def test_approve__only_a_submitted_draft(db: Database, anna: User, bram: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)

    with pytest.raises(Conflict, match="wacht niet"):
        approve(db, draft.id, bram, clock)


def test_approve__is_not_there_for_someone_who_is_not_a_process_owner(
    db: Database, anna: User, make_user: UserFactory, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)
    submit(db, draft.id, anna, clock)

    with pytest.raises(NotFound):
        approve(db, draft.id, make_user("mia", "manager"), clock)


def test_reject__sends_the_draft_back_to_be_edited(db: Database, anna: User, bram: User, clock: FixedClock) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)
    submit(db, draft.id, anna, clock)

    with pytest.raises(Conflict, match="wacht op goedkeuring"):
        save(db, draft.id, anna, RENAMED, 2, clock)
    with pytest.raises(InvalidInput), db.transaction() as session:
        reject_draft(session, draft_id=draft.id, actor=bram, at=clock.now(), note=" ")
    with db.transaction() as session:
        rejected = reject_draft(
            session, draft_id=draft.id, actor=bram, at=clock.now(), note="Eerst met jurist afstemmen"
        )

    assert (rejected.status, rejected.review_note, rejected.reviewed_by_id) == (
        "draft",
        "Eerst met jurist afstemmen",
        bram.id,
    )
    assert save(db, draft.id, anna, RENAMED, 2, clock).revision == 3
    [event] = audit(db, "draft_reject")
    assert event.details is not None and event.details["withdrawn"] is False


def test_submit__a_draft_waiting_for_approval_cannot_be_submitted_again(
    db: Database, anna: User, clock: FixedClock
) -> None:
    deploy_process(db)
    draft = draft_with(db, anna, clock, NEW_SCRIPT)
    submit(db, draft.id, anna, clock)

    with pytest.raises(Conflict):
        submit(db, draft.id, anna, clock)


def test_submit__an_imported_new_process_goes_live_as_version_one_after_approval(
    db: Database, anna: User, bram: User, clock: FixedClock
) -> None:
    deploy_process(db)
    copy = DATALEK.replace('id="datalek"', 'id="datalek_kopie"').replace(
        'processRef="datalek"', 'processRef="datalek_kopie"'
    )
    with db.transaction() as session:
        draft = import_draft(session, actor=anna, filename="kopie.bpmn", content=copy.encode(), at=clock.now())

    outcome = submit(db, draft.id, anna, clock, note="Kopie voor de pilot")
    version = approve(db, draft.id, bram, clock)

    assert outcome.version is None, "the scripts are new code"
    assert (version.process_key, version.version, version.main_file) == ("datalek_kopie", 1, "datalek_kopie.bpmn")
    assert "datalek_inperking.json" in version.files["forms"], "forms come from forms/ on disk"


def test_start_draft__from_an_older_version(db: Database, anna: User, clock: FixedClock) -> None:
    deploy_process(db)
    submit(db, draft_with(db, anna, clock, RENAMED).id, anna, clock)

    with db.transaction() as session:
        draft = start_draft(session, process_key="datalek", actor=anna, at=clock.now(), from_version=1)
        save_draft(
            session,
            draft_id=draft.id,
            actor=anna,
            bpmn_xml=draft.files["bpmn"]["datalek.bpmn"],
            revision=1,
            at=clock.now(),
        )

    with pytest.raises(InvalidInput, match="gelijk aan versie 1"):
        submit(db, draft.id, anna, clock, note="Terug naar versie 1")
