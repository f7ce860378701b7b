"""Process drafts: a process owner's unpublished change, saved with an optimistic lock, and checked like a deploy.

A draft holds files in the shape of a version's (`{"bpmn": …, "dmn": …, "forms": …}`). What publishing it would
deploy is `draft_bundle`: its BPMN and DMN files plus the forms they name, taken from the draft, else from the live
version, else from forms/ on disk — the same bundle `validate_xml` checks, so what validates is what goes live.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, undefer

from engine.audit import record
from engine.bundles import BPMN_NS, NS, Bundle, find_file, parse_xml, referenced_forms, schema_files_referenced
from engine.config import Settings
from engine.errors import Conflict, DeploymentRefused, InvalidInput, NotFound, Problem
from engine.instance import ACTIVE_STATUSES
from engine.modelling import require_process_owner
from engine.models import Instance, ProcessDraft, ProcessVersion, User
from engine.registry import list_processes
from engine.validation import validate_bundle

DRAFT, SUBMITTED, PUBLISHED, DISCARDED = "draft", "submitted", "published", "discarded"
OPEN_STATUSES = (DRAFT, SUBMITTED)
_PROCESS_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,127}$")
_FORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.json$")
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class ManagedProcess:
    """One row of "Processen beheren": a process with its live version and what is going on around it."""

    process_key: str
    name: str
    #: the newest deployed version; 0 for an imported process that was never published
    live_version: int
    drafts: int
    submitted: int
    running: int
    last_change: datetime


# --- reading -------------------------------------------------------------------------------------------------


def managed_processes(session: Session) -> list[ManagedProcess]:
    """Every process with its live version, open draft counts, running instances and last change (three queries)."""
    draft_counts = session.execute(
        select(ProcessDraft.process_key, ProcessDraft.status, func.count(), func.max(ProcessDraft.updated_at))
        .where(ProcessDraft.status.in_(OPEN_STATUSES))
        .group_by(ProcessDraft.process_key, ProcessDraft.status)
    ).all()
    running = dict(
        session.execute(
            select(Instance.process_key, func.count())
            .where(Instance.status.in_(ACTIVE_STATUSES))
            .group_by(Instance.process_key)
        )
        .tuples()
        .all()
    )
    rows = {
        live.process_key: ManagedProcess(
            process_key=live.process_key,
            name=live.name,
            live_version=live.version,
            drafts=0,
            submitted=0,
            running=running.get(live.process_key, 0),
            last_change=live.deployed_at,
        )
        for live in list_processes(session)
    }
    for process_key, status, count, updated_at in draft_counts:
        row = rows.setdefault(process_key, ManagedProcess(process_key, process_key, 0, 0, 0, 0, updated_at))
        if status == DRAFT:
            row.drafts = count
        else:
            row.submitted = count
        row.last_change = max(row.last_change, updated_at)
    return sorted(rows.values(), key=lambda row: row.name.casefold())


def versions(session: Session, *, process_key: str) -> list[ProcessVersion]:
    """The version history of a process, newest first (files not loaded)."""
    query = (
        select(ProcessVersion).where(ProcessVersion.process_key == process_key).order_by(ProcessVersion.version.desc())
    )
    return list(session.scalars(query))


def version_by_number(session: Session, *, process_key: str, version: int) -> ProcessVersion:
    """One version of a process, with its files."""
    found = session.scalar(
        select(ProcessVersion)
        .options(undefer(ProcessVersion.files))
        .where(ProcessVersion.process_key == process_key, ProcessVersion.version == version)
    )
    if found is None:
        raise NotFound("Versie %(versie)s van proces '%(proces)s' bestaat niet.", versie=version, proces=process_key)
    return found


def live_version(session: Session, process_key: str) -> ProcessVersion | None:
    """The newest version of a process with its files, or None when it was never published."""
    return session.scalar(
        select(ProcessVersion)
        .options(undefer(ProcessVersion.files))
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )


def open_drafts(session: Session, *, process_key: str) -> list[ProcessDraft]:
    """The drafts of a process still being edited or waiting for approval, newest first."""
    query = (
        select(ProcessDraft)
        .where(ProcessDraft.process_key == process_key, ProcessDraft.status.in_(OPEN_STATUSES))
        .order_by(ProcessDraft.updated_at.desc(), ProcessDraft.id.desc())
    )
    return list(session.scalars(query))


def get_draft(session: Session, *, draft_id: int) -> ProcessDraft:
    """One draft with its files, as stored now."""
    draft = session.scalar(
        select(ProcessDraft)
        .options(undefer(ProcessDraft.files))
        .where(ProcessDraft.id == draft_id)
        .execution_options(populate_existing=True)
    )
    if draft is None:
        raise NotFound("Dit concept bestaat niet.")
    return draft


# --- changing --------------------------------------------------------------------------------------------------


def start_draft(
    session: Session, *, process_key: str, actor: User, at: datetime, from_version: int | None = None
) -> ProcessDraft:
    """A new draft holding a copy of the live version's files (or those of `from_version`)."""
    require_process_owner(actor)
    live = live_version(session, process_key)
    if live is None:
        raise NotFound("Proces '%(proces)s' bestaat niet.", proces=process_key)
    source = live if from_version is None else version_by_number(session, process_key=process_key, version=from_version)
    draft = _new_draft(session, process_key, source.main_file, source.files, live, actor, at)
    audit_draft(session, draft, actor=actor, at=at, action="draft_start", from_version=source.version)
    return draft


def import_draft(session: Session, *, actor: User, filename: str, content: bytes, at: datetime) -> ProcessDraft:
    """A draft from an uploaded `.bpmn` file; its process is the file's executable process (else its first)."""
    require_process_owner(actor)
    root, text = _read_upload(filename, content)
    process_key = _imported_process_key(root)
    live = live_version(session, process_key)
    if live is None:
        main_file, files = f"{process_key}.bpmn", {"bpmn": {f"{process_key}.bpmn": text}, "dmn": {}, "forms": {}}
    else:
        main_file, files = live.main_file, {**live.files, "bpmn": {**live.files["bpmn"], live.main_file: text}}
    draft = _new_draft(session, process_key, main_file, files, live, actor, at)
    audit_draft(session, draft, actor=actor, at=at, action="draft_start", imported_from=filename)
    return draft


def save_draft(
    session: Session,
    *,
    draft_id: int,
    actor: User,
    bpmn_xml: str,
    revision: int,
    at: datetime,
    forms: dict[str, str] | None = None,
) -> ProcessDraft:
    """Store new content for a draft that is still at `revision`; a save on a stale revision is refused."""
    require_process_owner(actor)
    _check_xml(bpmn_xml, field="xml")
    _check_forms(forms or {})
    draft = get_draft(session, draft_id=draft_id)
    _require_editable(draft)
    if draft.revision != revision:
        raise _stale(draft)
    files = {
        "bpmn": {**draft.files.get("bpmn", {}), draft.main_file: bpmn_xml},
        "dmn": dict(draft.files.get("dmn", {})),
        "forms": {**draft.files.get("forms", {}), **(forms or {})},
    }
    saved = guarded_update(
        session,
        draft_id=draft_id,
        expected={"revision": revision, "status": DRAFT},
        values={"files": files, "revision": revision + 1, "updated_by_id": actor.id, "updated_at": at},
    )
    draft = get_draft(session, draft_id=draft_id)
    if not saved:  # another save won the race between our read and our write
        _require_editable(draft)
        raise _stale(draft)
    audit_draft(session, draft, actor=actor, at=at, action="draft_save", revision=draft.revision)
    return draft


def discard_draft(session: Session, *, draft_id: int, actor: User, at: datetime) -> None:
    """Throw a draft away (also one waiting for approval); published drafts stay as they are."""
    require_process_owner(actor)
    draft = get_draft(session, draft_id=draft_id)
    if draft.status not in OPEN_STATUSES or not guarded_update(
        session, draft_id=draft_id, expected={"status": draft.status}, values={"status": DISCARDED}
    ):
        raise Conflict("Dit concept is al gepubliceerd of verwijderd.")
    audit_draft(session, draft, actor=actor, at=at, action="draft_discard")


def guarded_update(
    session: Session, *, draft_id: int, expected: Mapping[str, object], values: Mapping[str, Any]
) -> bool:
    """Change a draft row only while its columns still hold `expected`: of two racing writers, one wins."""
    statement = (
        update(ProcessDraft)
        .where(
            ProcessDraft.id == draft_id, *(getattr(ProcessDraft, column) == value for column, value in expected.items())
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


# --- checking --------------------------------------------------------------------------------------------------


def validate_xml(
    session: Session, *, process_key: str, bpmn_xml: str, forms: dict[str, str] | None = None
) -> list[Problem]:
    """The problems `zvh deploy` would report for this XML as the process's main file; nothing is stored."""
    live = live_version(session, process_key)
    main_file = live.main_file if live is not None else f"{process_key}.bpmn"
    base: Mapping[str, Mapping[str, str]] = live.files if live is not None else {}
    files = {"bpmn": {**base.get("bpmn", {}), main_file: bpmn_xml}, "dmn": base.get("dmn", {}), "forms": forms or {}}
    try:
        _check_bundle(build_bundle(main_file, files, fallback_forms=base.get("forms", {})), process_key)
    except DeploymentRefused as refusal:
        return refusal.problems
    return []


def draft_bundle(session: Session, draft: ProcessDraft) -> Bundle:
    """What publishing `draft` would deploy (the forms it names from the draft, the live version, or forms/)."""
    live = live_version(session, draft.process_key)
    return build_bundle(draft.main_file, draft.files, fallback_forms=live.files.get("forms", {}) if live else {})


def checked_draft_bundle(session: Session, draft: ProcessDraft) -> Bundle:
    """`draft_bundle`, after the checks of a deploy; raises `DeploymentRefused` with every problem."""
    bundle = draft_bundle(session, draft)
    _check_bundle(bundle, draft.process_key)
    return bundle


def _check_bundle(bundle: Bundle, process_key: str) -> None:
    validated = validate_bundle(bundle)
    if validated.process_key != process_key:
        message = f"het proces heeft id '{validated.process_key}'; dit concept hoort bij proces '{process_key}'"
        raise DeploymentRefused([Problem(bundle.main, validated.process_key, message)])


def build_bundle(
    main_file: str, files: Mapping[str, Mapping[str, str]], *, fallback_forms: Mapping[str, str]
) -> Bundle:
    """A bundle of these BPMN and DMN files with the forms they name (and the schema files those `$ref`)."""
    bundle = Bundle(main=main_file, bpmn=dict(files.get("bpmn", {})), dmn=dict(files.get("dmn", {})))
    own_forms = files.get("forms", {})
    forms_path = Settings.from_env().forms_path
    pending = sorted(_forms_named(bundle.bpmn), reverse=True)
    while pending:
        name = pending.pop()
        if name in bundle.forms:
            continue
        text = own_forms.get(name) or fallback_forms.get(name) or _read_form(forms_path, name)
        if text is not None:
            bundle.forms[name] = text
            pending.extend(sorted(schema_files_referenced(text)))
    return bundle


def _forms_named(bpmn: Mapping[str, str]) -> set[str]:
    return {name for filename, text in bpmn.items() for name in referenced_forms(parse_xml(text.encode(), filename))}


def _read_form(folder: Path, name: str) -> str | None:
    path = find_file(name, [folder])
    return path.read_text(encoding="utf-8") if path is not None else None


# --- helpers -----------------------------------------------------------------------------------------------------


def _new_draft(
    session: Session,
    process_key: str,
    main_file: str,
    files: Mapping[str, Mapping[str, str]],
    live: ProcessVersion | None,
    actor: User,
    at: datetime,
) -> ProcessDraft:
    draft = ProcessDraft(
        process_key=process_key,
        main_file=main_file,
        files={kind: dict(files.get(kind, {})) for kind in ("bpmn", "dmn", "forms")},
        base_version_id=live.id if live is not None else None,
        revision=1,
        status=DRAFT,
        author_id=actor.id,
        created_at=at,
        updated_by_id=actor.id,
        updated_at=at,
    )
    session.add(draft)
    session.flush()
    return draft


def audit_draft(
    session: Session, draft: ProcessDraft, *, actor: User, at: datetime, action: str, **details: object
) -> None:
    """Audit one step in a draft's life (`draft_start`, `draft_save`, `draft_submit`, …)."""
    record(
        session,
        actor=actor.username,
        action=action,
        at=at,
        process_version_id=draft.base_version_id,
        summary=f"Draft {draft.id} of {draft.process_key}: {action.removeprefix('draft_')}",
        details={"draft_id": draft.id, "process_key": draft.process_key, **details},
    )


def _require_editable(draft: ProcessDraft) -> None:
    if draft.status == SUBMITTED:
        raise Conflict(
            "Dit concept wacht op goedkeuring en kan niet meer worden gewijzigd. "
            "Laat het eerst afwijzen (of trek het in) om verder te werken."
        )
    if draft.status != DRAFT:
        raise Conflict("Dit concept is al gepubliceerd of verwijderd; start een nieuw concept.")


def _stale(draft: ProcessDraft) -> Conflict:
    return Conflict(
        "%(naam)s heeft dit concept intussen opgeslagen (%(moment)s). "
        "Uw wijziging is niet opgeslagen: open het concept opnieuw en breng uw wijziging daarin aan.",
        naam=draft.updated_by.display_name,
        moment=when(draft.updated_at),
    )


def when(moment: datetime) -> str:
    """A moment as a Dutch reader expects it: `02-03-2026 om 10:15` in Dutch time."""
    local = moment.astimezone(_AMSTERDAM)
    return f"{local:%d-%m-%Y} om {local:%H:%M}"


def _check_xml(text: str, *, field: str) -> etree._Element:
    """Parse XML the safe way; a DOCTYPE or malformed XML is invalid input, never an error page."""
    try:
        root = parse_xml(text.encode("utf-8"), "bpmn")
    except DeploymentRefused as refusal:
        raise InvalidInput("Dit is geen bruikbaar BPMN-bestand.", {field: _messages(refusal.problems)}) from None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise InvalidInput("Dit is geen BPMN-bestand.", {field: ["Het bestand bevat geen BPMN 2.0-definities."]})
    return root


def _messages(problems: Iterable[Problem]) -> list[str]:
    return [problem.message for problem in problems]


def _check_forms(forms: Mapping[str, str]) -> None:
    errors = []
    for name, text in forms.items():
        if not _FORM_NAME.match(name):
            errors.append(f"{name}: gebruik alleen letters, cijfers, '.', '_' en '-' in de bestandsnaam")
            continue
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            errors.append(f"{name}: geen geldige JSON ({error.msg}, regel {error.lineno})")
    if errors:
        raise InvalidInput("Een formulier is niet opgeslagen.", {"formulieren": errors})


def _read_upload(filename: str, content: bytes) -> tuple[etree._Element, str]:
    if not filename.lower().endswith(".bpmn"):
        raise InvalidInput(
            "Kies een .bpmn-bestand.", {"bestand": ["Alleen .bpmn-bestanden kunnen worden geïmporteerd."]}
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("Het bestand is niet in UTF-8.", {"bestand": ["Sla het bestand op als UTF-8."]}) from None
    return _check_xml(text, field="bestand"), text


def _imported_process_key(root: etree._Element) -> str:
    processes = root.xpath("./bpmn:process", namespaces=NS)
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    chosen = (executable or processes or [None])[0]
    if chosen is None:
        raise InvalidInput(
            "Dit bestand bevat geen proces.", {"bestand": ["Er staat geen bpmn:process in het bestand."]}
        )
    process_id = str(chosen.get("id") or "")
    if _PROCESS_KEY.match(process_id):
        return process_id
    # Ids from other tools may start with '_' or hold other characters; the key must be plain, the id is kept.
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", process_id).strip("_-")[:120]
    return f"p_{cleaned}" if cleaned and not cleaned[0].isalpha() else (cleaned or "geimporteerd")
