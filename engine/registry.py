"""Deploying and loading process versions: a deployment is all-or-nothing (the bundle is read by `engine.bundles`
and every check of `engine.validation` passes before anything is stored); a version is immutable, keyed by process
id + content hash, and parsed once for the runtime.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.audit import record
from engine.bundles import FORM_PROPERTY, Bundle, collect_bundle
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import Conflict, NotFound
from engine.forms import CONFIRMATION, Form
from engine.models import ProcessVersion
from engine.monitor.norms import Norm, parse_norm
from engine.privacy.organisations import ALL, Scope, default_scope
from engine.privacy.retention_rules import RetentionRules, retention_rules
from engine.reports.facts import ReportMark
from engine.spiff import role_key
from engine.validation import ValidatedBundle, validate_bundle

# --- deployment and loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """The outcome of a deploy: the version, and whether it was new."""

    version: ProcessVersion
    created: bool


def deploy_bundle(
    session: Session,
    bundle: Bundle,
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
    change_note: str | None = None,
    approved_by: str | None = None,
) -> Deployment:
    """Validate and store `bundle` as the next version of its process; identical content changes nothing.

    `change_note` (why) and `approved_by` (the second process owner, under four eyes) are kept on the version and
    in the audit event.
    """
    validated = validate_bundle(bundle)
    content_hash = bundle.content_hash()
    existing = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_key == validated.process_key, ProcessVersion.content_hash == content_hash
        )
    )
    if existing is not None:
        return Deployment(existing, created=False)
    latest = session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == validated.process_key)
    )
    version = ProcessVersion(
        process_key=validated.process_key,
        version=(latest or 0) + 1,
        name=validated.name,
        content_hash=content_hash,
        files=bundle.as_files(),
        main_file=bundle.main,
        deployed_by=actor,
        deployed_at=clock.now(),
        change_note=change_note,
        approved_by=approved_by,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Tegelijk werd dit proces ook door iemand anders uitgerold; probeer het opnieuw.") from None
    _LOADED.setdefault((version.process_key, content_hash), _loaded_from(validated))
    record(
        session,
        actor=actor,
        action="deploy",
        at=version.deployed_at,
        process_version_id=version.id,
        summary=f"Deployed {version.process_key} version {version.version} ({bundle.main})",
        details={
            "hash": content_hash,
            "files": sorted([*bundle.bpmn, *bundle.dmn, *bundle.forms]),
            **({"change_note": change_note} if change_note is not None else {}),
            **({"approved_by": approved_by} if approved_by is not None else {}),
        },
    )
    return Deployment(version, created=True)


def deploy_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    search_paths: Sequence[Path] = (),
    clock: Clock = SYSTEM_CLOCK,
) -> Deployment:
    """Collect a BPMN file with its DMN and form files and deploy it."""
    return deploy_bundle(session, collect_bundle(path, search_paths=search_paths), actor=actor, clock=clock)


@dataclass(frozen=True)
class LoadedVersion:
    """The parsed content of a process version: specs (shared, never mutated), forms and roles."""

    process_key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, Form]
    start_roles: frozenset[str]
    roles: frozenset[str]
    #: names of the messages that start this process (a hand-over from another process)
    start_messages: frozenset[str]
    #: whether a person can start it (it has a start event without a trigger)
    user_startable: bool
    #: the form of the plain start event (what a person fills in to start it), or the confirmation form
    start_form: Form
    #: the norm of each human task, by (process spec name, task spec name): its own, else its process's
    step_norms: dict[tuple[str, str], Norm]
    #: how long an instance may go without progress before it counts as stalled
    process_norm: Norm | None
    #: who sees a lane's tasks, by role; roles not in it take their default (engine.privacy.organisations)
    lane_scopes: dict[str, Scope] = field(default_factory=dict)
    #: how long a case's data is kept, per end state (engine.privacy.retention_rules)
    retention: RetentionRules = field(default_factory=RetentionRules)
    #: the elements that count for the management reports, by element id (engine.reports.facts)
    report_marks: dict[str, ReportMark] = field(default_factory=dict)

    def scope_of(self, role: str | None) -> Scope:
        """Which holders of `role` see its tasks in this process."""
        if role is None:
            return ALL
        return self.lane_scopes.get(role) or default_scope(role)

    def norm_of(self, task: Any) -> Norm | None:
        """The norm of a READY human task (its own, or the default of the process it runs in)."""
        return self.step_norms.get((task.workflow.spec.name, task.task_spec.name))

    def may_be_started_by(self, role_keys: frozenset[str]) -> bool:
        """Whether someone with these roles may start the process by hand (the lane of its plain start event)."""
        return self.user_startable and (not self.start_roles or bool(self.start_roles & role_keys))

    def form_for(self, task_spec: Any) -> Form:
        """The form of a user task (or start event), or the confirmation form when it has none."""
        return _form_of(task_spec, self.forms)


def _form_of(task_spec: Any, forms: dict[str, Form]) -> Form:
    properties = getattr(task_spec, "extensions", {}).get("properties", {})
    name = properties.get(FORM_PROPERTY)
    return forms[name] if name else CONFIRMATION


# Keyed by content, not by row id: identical content parses to identical specs, whichever database it is in.
_LOADED: dict[tuple[str, str], LoadedVersion] = {}
_LOAD_LOCK = threading.Lock()


def _loaded_from(validated: ValidatedBundle) -> LoadedVersion:
    start_events = [spec for spec in validated.spec.task_specs.values() if isinstance(spec, StartEvent)]
    plain_starts = [spec for spec in start_events if isinstance(spec.event_definition, NoneEventDefinition)]
    start_lanes = {role_key(spec.lane) for spec in plain_starts}
    return LoadedVersion(
        process_key=validated.process_key,
        name=validated.name,
        spec=validated.spec,
        subprocess_specs=validated.subprocess_specs,
        forms=validated.forms,
        start_roles=frozenset(role for role in start_lanes if role),
        roles=frozenset(
            role
            for spec in [validated.spec, *validated.subprocess_specs.values()]
            for task_spec in spec.task_specs.values()
            if (role := role_key(getattr(task_spec, "lane", None)))
        ),
        start_messages=frozenset(
            spec.event_definition.name
            for spec in start_events
            if isinstance(spec.event_definition, MessageEventDefinition)
        ),
        user_startable=bool(plain_starts),
        start_form=next(
            (form for spec in plain_starts if (form := _form_of(spec, validated.forms)).name), CONFIRMATION
        ),
        step_norms=_step_norms(validated),
        process_norm=parse_norm(validated.process_properties.get(validated.process_key, {})),
        lane_scopes=validated.lane_scopes,
        retention=retention_rules(validated.process_key, validated.spec, validated.process_properties),
        report_marks=validated.report_marks,
    )


def _step_norms(validated: ValidatedBundle) -> dict[tuple[str, str], Norm]:
    """Every human task's norm: its own, else that of its (sub-)process, else that of the main process."""
    main_default = parse_norm(validated.process_properties.get(validated.process_key, {}))
    norms = {}
    for spec in [validated.spec, *validated.subprocess_specs.values()]:
        default = parse_norm(validated.process_properties.get(spec.name, {})) or main_default
        for task_spec in spec.task_specs.values():
            if not getattr(task_spec, "manual", False):
                continue
            norm = parse_norm(getattr(task_spec, "extensions", {}).get("properties", {})) or default
            if norm is not None:
                norms[(spec.name, task_spec.name)] = norm
    return norms


def load_version(version: ProcessVersion) -> LoadedVersion:
    """The parsed form of a stored version; parsed once per process and cached (versions never change)."""
    key = (version.process_key, version.content_hash)
    loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _loaded_from(validate_bundle(Bundle(main=version.main_file, **version.files)))
        return _LOADED[key]


def latest_version(session: Session, process_key: str) -> ProcessVersion:
    """The newest deployed version of a process."""
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound("Er is geen proces '%(proces)s' uitgerold.", proces=process_key)
    return version


def list_processes(session: Session) -> list[ProcessVersion]:
    """The newest version of every deployed process, by key."""
    newest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessVersion)
            .join(
                newest,
                (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version),
            )
            .order_by(ProcessVersion.process_key)
        )
    )


def startable(session: Session, roles: frozenset[str]) -> list[tuple[str, str]]:
    """(key, name) of every process someone with `roles` may start by hand: the newest version's start lane holds one
    of them (the rule `Runtime.start_instance` applies)."""
    return [
        (version.process_key, version.name)
        for version in list_processes(session)
        if load_version(version).may_be_started_by(roles)
    ]
