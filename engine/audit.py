"""The append-only, tamper-evident audit log: every deploy, start, claim, completion, timer, error and retry, and
every read of personal data (NEN 7513), each entry chained to the one before it by a keyed hash.

An entry's `content_digest` is a SHA-256 of its summary and details; its `chain_hash` is an HMAC (key from
configuration, never in the database) over the previous entry's chain hash and every column but summary, details
and `redacted_at`. A destruction may blank summary and details (the digest stays), any other change breaks the
chain. Appends are serialised, so "the previous entry" is always the one with the highest id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.orm import Session

from engine.db import session_keys
from engine.models import AuditEvent, Instance

Outcome = Literal["allowed", "refused"]

#: The columns the chain hash covers, in this order (everything but summary, details, redacted_at, chain_hash).
CHAINED_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "instance_id",
    "task_id",
    "element_id",
    "process_version_id",
    "person_key",
    "role",
    "organisation",
    "outcome",
    "request_id",
    "client",
    "object_type",
    "object_id",
    "content_digest",
)


class Actor(Protocol):
    """What the access context needs of a user (engine.models.User)."""

    @property
    def username(self) -> str: ...
    @property
    def role_keys(self) -> frozenset[str]: ...
    @property
    def organisation(self) -> str | None: ...


@dataclass(frozen=True)
class AccessContext:
    """Where the current work comes from: a web request, a background job or the command line.

    `role` and `organisation` are those of `username`; they are written only on entries that user makes.
    """

    request_id: str | None = None
    client: str | None = None
    username: str | None = None
    role: str | None = None
    organisation: str | None = None

    @classmethod
    def of(cls, *, request_id: str | None, client: str | None = None, user: Actor | None = None) -> AccessContext:
        """The context of work done by `user` (None: nobody signed in)."""
        client = (client or "")[:45] or None
        if user is None:
            return cls(request_id=request_id, client=client)
        return cls(
            request_id=request_id,
            client=client,
            username=user.username,
            role=",".join(sorted(user.role_keys))[:255] or None,
            organisation=user.organisation,
        )


_NOBODY = AccessContext()
_ACCESS: ContextVar[AccessContext] = ContextVar("zvh_access_context", default=_NOBODY)


def current_access() -> AccessContext:
    """The access context of the work in progress (empty outside requests, jobs and commands)."""
    return _ACCESS.get()


def set_access(context: AccessContext) -> None:
    """Make `context` the access context of the rest of this request, job or command."""
    _ACCESS.set(context)


@contextmanager
def access(context: AccessContext) -> Iterator[AccessContext]:
    """Run a block (a background job, a test) under `context`, restoring the previous context afterwards."""
    token = _ACCESS.set(context)
    try:
        yield context
    finally:
        _ACCESS.reset(token)


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, integral floats as integers (JSONB may store 1e16 as 10…0)."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def content_digest(summary: str, details: Mapping[str, Any] | None) -> str:
    """SHA-256 of what an entry says (it survives a redaction, so the entry still verifies)."""
    return hashlib.sha256(canonical([summary, details]).encode("utf-8")).hexdigest()


def chain_hash(key: bytes, previous: str | None, columns: Mapping[str, Any]) -> str:
    """HMAC-SHA256 over the previous entry's chain hash and this entry's chained columns."""
    message = (previous or "") + "\n" + canonical([columns.get(name) for name in CHAINED_COLUMNS])
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


# Entries are appended at commit, after every row lock the transaction takes: the chain's lock (an advisory lock on
# PostgreSQL; SQLite writers already hold the database with BEGIN IMMEDIATE) is always the last lock taken and is
# held only for the appends and the commit, so it can never be part of a deadlock. Ids are taken under that lock, so
# they ascend in chain order.
_APPEND = insert(AuditEvent.metadata.tables[AuditEvent.__tablename__])
_LOCK = text("SELECT pg_advisory_xact_lock(75130001)")
# After the lock: the new ids and the chain's head in one round trip (its snapshot is taken after the lock).
_HEAD_AND_IDS = {
    "postgresql": text(
        "SELECT nextval('audit_events_id_seq'), "
        "(SELECT chain_hash FROM audit_events ORDER BY id DESC LIMIT 1) FROM generate_series(1, :count)"
    ),
    "sqlite": text(
        "SELECT coalesce(max(id), 0), (SELECT chain_hash FROM audit_events ORDER BY id DESC LIMIT 1) FROM audit_events"
    ),
}
_PERSON_KEY = select(Instance.person_key).where(Instance.id == bindparam("id"))
#: where a unit of work keeps the entries it will append when it commits
_PENDING = "zvh_audit_pending"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    at: datetime,
    summary: str,
    instance_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    process_version_id: int | None = None,
    details: dict[str, Any] | None = None,
    person_key: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: Outcome = "allowed",
) -> None:
    """Log one event in the caller's transaction (`Database.transaction()`, never a reader); it is appended to the
    chain when the transaction commits, and never when it rolls back."""
    if session.connection().get_execution_options().get("zvh_write") is False:
        raise RuntimeError("audit.record needs a Database.transaction(), not a reader()")
    context = _ACCESS.get()
    own = context.username == actor
    # The case row this session holds, kept alive until the commit reads its final person key (the session only
    # holds unchanged rows weakly: once the caller lets go, reading the key would load the whole row again).
    case = None
    if person_key is None and instance_id is not None:
        case = session.identity_map.get(session.identity_key(Instance, instance_id))
    session.info.setdefault(_PENDING, []).append(
        {
            "case": case,
            "at": at.astimezone(UTC),
            "actor": actor,
            "action": action,
            "instance_id": instance_id,
            "task_id": task_id,
            "element_id": element_id,
            "process_version_id": process_version_id,
            "person_key": person_key,
            "role": context.role if own else None,
            "organisation": context.organisation if own else None,
            "outcome": outcome,
            "request_id": context.request_id,
            "client": context.client,
            "object_type": object_type,
            "object_id": object_id,
            "content_digest": content_digest(summary, details),
            "summary": summary,
            "details": details,
        }
    )


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Chain and write the entries this unit of work logged, as the last thing before it commits."""
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # the cases the entries are about are written (their person keys are read below)
    for entry in pending:  # a step holds its case already: no query; a logged read asks for the one column
        case = entry.pop("case")
        if entry["person_key"] is None and entry["instance_id"] is not None:
            entry["person_key"] = (
                case.person_key if case is not None else session.scalar(_PERSON_KEY, {"id": entry["instance_id"]})
            )
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(_LOCK)
        rows = connection.execute(_HEAD_AND_IDS[dialect], {"count": len(pending)}).all()
        ids, previous = [row[0] for row in rows], rows[0][1]
    else:
        last, previous = connection.execute(_HEAD_AND_IDS[dialect]).one()
        ids = list(range(last + 1, last + 1 + len(pending)))
    key = session_keys(session).audit
    for entry_id, entry in zip(ids, pending, strict=True):
        entry["id"] = entry_id
        entry["chain_hash"] = previous = chain_hash(key, previous, entry)
    connection.execute(_APPEND, pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    """Nothing is logged of work that was not done."""
    session.info.pop(_PENDING, None)


def events_for_instance(session: Session, instance_id: int) -> list[AuditEvent]:
    """The audit trail of one instance, oldest first."""
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    return list(session.scalars(query))
