"""Checked publishing: a validated draft with a change note becomes the next version, with four eyes where needed.

Four eyes (per process, `ProcessSetting.four_eyes`): "always"; "never"; or "auto" (the default), which asks a
second process owner whenever a script, condition, timer, message payload or decision table changed or was added
— deploying a script means running its code. The second process owner may not be who wrote, last edited or
submitted the draft. The deploy itself is the registry's "deploy" audit event, carrying the change note and approver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bundles import Bundle
from engine.clock import FixedClock
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.modelling import require_process_owner
from engine.modelling.compare import compare_files
from engine.modelling.drafts import (
    DRAFT,
    PUBLISHED,
    SUBMITTED,
    audit_draft,
    checked_draft_bundle,
    get_draft,
    guarded_update,
    live_version,
    when,
)
from engine.models import ProcessDraft, ProcessSetting, ProcessVersion, User
from engine.registry import deploy_bundle

FOUR_EYES = ("auto", "always", "never")


@dataclass
class PublishOutcome:
    """A submitted draft, and the version it became (None: it waits for a second process owner)."""

    draft: ProcessDraft
    version: ProcessVersion | None


def four_eyes_setting(session: Session, *, process_key: str) -> str:
    """Whether publishing this process needs a second process owner: "auto", "always" or "never"."""
    setting = session.get(ProcessSetting, process_key)
    return setting.four_eyes if setting is not None else "auto"


def set_four_eyes(session: Session, *, process_key: str, value: str, actor: User, at: datetime) -> None:
    """Change the four-eyes rule of a process (audited)."""
    require_process_owner(actor)
    if value not in FOUR_EYES:
        raise InvalidInput("Kies automatisch, altijd of nooit.", {"vier_ogen": [f"Onbekende keuze '{value}'."]})
    known = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == process_key).limit(1))
    known = known or session.scalar(select(ProcessDraft.id).where(ProcessDraft.process_key == process_key).limit(1))
    if known is None:
        raise NotFound("Proces '%(proces)s' bestaat niet.", proces=process_key)
    setting = session.get(ProcessSetting, process_key)
    before = setting.four_eyes if setting is not None else "auto"
    if setting is None:
        session.add(ProcessSetting(process_key=process_key, four_eyes=value))
    else:
        setting.four_eyes = value
    record(
        session,
        actor=actor.username,
        action="four_eyes",
        at=at,
        summary=f"Four eyes for {process_key}: {before} → {value}",
        details={"process_key": process_key, "from": before, "to": value},
    )


def submit_draft(session: Session, *, draft_id: int, actor: User, change_note: str, at: datetime) -> PublishOutcome:
    """Validate a draft and publish it, or, under four eyes, leave it waiting for a second process owner."""
    require_process_owner(actor)
    note = _required(change_note, "toelichting", "Geef een toelichting: wat verandert er, en waarom?")
    draft = get_draft(session, draft_id=draft_id)
    if draft.status != DRAFT:
        raise Conflict("Dit concept is al ingediend, gepubliceerd of verwijderd.")
    live = _require_current(session, draft)
    bundle = _changed_bundle(session, draft)
    comparison = compare_files(live.files if live else {}, bundle.as_files(), main_file=draft.main_file)
    setting = four_eyes_setting(session, process_key=draft.process_key)
    four_eyes = setting == "always" or (setting == "auto" and comparison.code_changed)
    if not guarded_update(
        session,
        draft_id=draft_id,
        expected={"status": DRAFT, "revision": draft.revision},
        values={
            "status": SUBMITTED if four_eyes else PUBLISHED,
            "change_note": note,
            "submitted_by_id": actor.id,
            "submitted_at": at,
        },
    ):
        raise Conflict("Dit concept is intussen opnieuw opgeslagen of ingediend; bekijk het opnieuw.")
    version = None if four_eyes else _deploy(session, draft_id, bundle, actor.username, note, None, at)
    audit_draft(
        session,
        draft,
        actor=actor,
        at=at,
        action="draft_submit",
        four_eyes=four_eyes,
        version=version.version if version else None,
    )
    return PublishOutcome(get_draft(session, draft_id=draft_id), version)


def approve_draft(
    session: Session, *, draft_id: int, actor: User, at: datetime, note: str | None = None
) -> ProcessVersion:
    """A second process owner approves a submitted draft: it is deployed as the next version."""
    require_process_owner(actor)
    draft = _submitted(session, draft_id)
    if actor.id in (draft.author_id, draft.updated_by_id, draft.submitted_by_id):
        raise PermissionDenied("U kunt uw eigen wijziging niet goedkeuren: een andere procesbeheerder moet dat doen.")
    _require_current(session, draft)
    bundle = _changed_bundle(session, draft)
    review = {"reviewed_by_id": actor.id, "reviewed_at": at, "review_note": (note or "").strip() or None}
    if not guarded_update(
        session, draft_id=draft_id, expected={"status": SUBMITTED}, values={"status": PUBLISHED, **review}
    ):
        raise Conflict("Een andere procesbeheerder heeft dit concept intussen behandeld.")
    submitter = session.get(User, draft.submitted_by_id)
    deployer = submitter.username if submitter is not None else actor.username
    version = _deploy(session, draft_id, bundle, deployer, draft.change_note, actor.username, at)
    audit_draft(
        session, draft, actor=actor, at=at, action="draft_approve", version=version.version, note=review["review_note"]
    )
    return version


def reject_draft(session: Session, *, draft_id: int, actor: User, at: datetime, note: str) -> ProcessDraft:
    """Send a submitted draft back with a reason (by its author: withdraw it); it can be edited again."""
    require_process_owner(actor)
    reason = _required(note, "reden", "Geef een reden, zodat de auteur weet wat er anders moet.")
    draft = _submitted(session, draft_id)
    review = {"reviewed_by_id": actor.id, "reviewed_at": at, "review_note": reason}
    if not guarded_update(
        session, draft_id=draft_id, expected={"status": SUBMITTED}, values={"status": DRAFT, **review}
    ):
        raise Conflict("Een andere procesbeheerder heeft dit concept intussen behandeld.")
    withdrawn = actor.id in (draft.author_id, draft.submitted_by_id)
    audit_draft(session, draft, actor=actor, at=at, action="draft_reject", reason=reason, withdrawn=withdrawn)
    return get_draft(session, draft_id=draft_id)


# --- steps -------------------------------------------------------------------------------------------------------


def _submitted(session: Session, draft_id: int) -> ProcessDraft:
    draft = get_draft(session, draft_id=draft_id)
    if draft.status != SUBMITTED:
        raise Conflict("Dit concept wacht niet (meer) op goedkeuring.")
    return draft


def _require_current(session: Session, draft: ProcessDraft) -> ProcessVersion | None:
    """The live version, when the draft was made from it; a draft made from an older live version is refused."""
    live = live_version(session, draft.process_key)
    if live is not None and live.id != draft.base_version_id:
        raise Conflict(
            "Versie %(versie)s is intussen gepubliceerd (%(moment)s, door %(door)s); "
            "dit concept gaat uit van een oudere versie. Start een nieuw concept en breng uw wijziging daarin aan.",
            versie=live.version,
            moment=when(live.deployed_at),
            door=live.deployed_by,
        )
    return live


def _changed_bundle(session: Session, draft: ProcessDraft) -> Bundle:
    """The draft's bundle, validated, and different from every version of the process."""
    bundle = checked_draft_bundle(session, draft)
    same = session.scalar(
        select(ProcessVersion.version).where(
            ProcessVersion.process_key == draft.process_key, ProcessVersion.content_hash == bundle.content_hash()
        )
    )
    if same is not None:
        raise _nothing_changed(same)
    return bundle


def _deploy(
    session: Session,
    draft_id: int,
    bundle: Bundle,
    deployer: str,
    change_note: str | None,
    approved_by: str | None,
    at: datetime,
) -> ProcessVersion:
    deployment = deploy_bundle(
        session, bundle, actor=deployer, clock=FixedClock(at), change_note=change_note, approved_by=approved_by
    )
    if not deployment.created:
        raise _nothing_changed(deployment.version.version)
    guarded_update(
        session,
        draft_id=draft_id,
        expected={"status": PUBLISHED},
        values={"published_version_id": deployment.version.id},
    )
    return deployment.version


def _nothing_changed(version: int) -> InvalidInput:
    message = "Er is niets gewijzigd: dit concept is gelijk aan versie %(versie)s."
    return InvalidInput(message, {"concept": [message % {"versie": version}]}, versie=version)


def _required(text: str | None, field: str, message: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput(message, {field: [message]})
    return cleaned
