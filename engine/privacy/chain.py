"""Checking the audit log's keyed hash chain (`zvh audit verify`) and anchoring its head outside the database.

The chain shows that no entry was changed, removed or slipped in between — also by someone who first dropped the
append-only triggers — as long as they lack the audit key. Removing the newest entries leaves a shorter chain that
is still whole: an anchor file (`zvh audit anchor`) kept apart from the database shows that too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from engine.audit import CHAINED_COLUMNS, chain_hash, content_digest
from engine.db import Database, session_keys
from engine.errors import InvalidInput, NotFound
from engine.models import AuditEvent

BATCH = 2000
_COLUMNS = [getattr(AuditEvent, name) for name in (*CHAINED_COLUMNS, "summary", "details", "chain_hash", "redacted_at")]


@dataclass(frozen=True)
class Break:
    """The first entry that does not verify, and why."""

    id: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found."""

    #: entries written before the chain existed (chain_hash NULL, before the first chained entry)
    before_chain: int
    #: chained entries that verified
    verified: int
    #: the id of the last entry that verified
    last_id: int | None
    #: anchored entries checked against the anchor file
    anchors_checked: int
    #: verified entries whose summary and details a destruction blanked (to compare with the destruction records)
    redacted: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class Anchor:
    """One line of an anchor file: the chain hash an entry had when it was anchored."""

    id: int
    chain_hash: str
    at: str

    def line(self) -> str:
        return f"{self.id}\t{self.chain_hash}\t{self.at}\n"


def read_anchors(path: Path) -> dict[int, Anchor]:
    """The anchors in an anchor file, by entry id (`InvalidInput` for a line that is not an anchor)."""
    anchors: dict[int, Anchor] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64:
            raise InvalidInput(
                "%(bestand)s: regel %(regel)s is geen anker (id, ketenhash, moment).",
                {"anchor": [line[:80]]},
                bestand=str(path),
                regel=number,
            )
        anchors[int(parts[0])] = Anchor(int(parts[0]), parts[1], parts[2])
    return anchors


def _entries(session: Session) -> Iterator[Row[Any]]:
    """Every audit entry in id order, fetched in batches."""
    last = 0
    while True:
        rows = session.execute(select(*_COLUMNS).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(BATCH))
        batch = rows.all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _problem(key: bytes, previous: str | None, entry: Row[Any]) -> str | None:
    """Why a chained entry does not verify after `previous`, or None."""
    if entry.redacted_at is None and entry.content_digest != content_digest(entry.summary, entry.details):
        return "summary or details were changed (content digest does not match)"
    if entry.content_digest is None:
        return "content digest is missing"
    columns = {name: getattr(entry, name) for name in CHAINED_COLUMNS}
    if chain_hash(key, previous, columns) != entry.chain_hash:
        return "chain hash does not match: this entry was changed, or the entry before it was removed or changed"
    return None


def verify_chain(db: Database, *, anchors: dict[int, Anchor] | None = None) -> ChainReport:
    """Walk the whole audit log in id order, recompute every digest and keyed hash; stop at the first break."""
    anchors = anchors or {}
    before = verified = checked = redacted = 0
    previous: str | None = None
    chained = False
    last_id: int | None = None
    broken: Break | None = None
    with db.reader() as session:
        key = session_keys(session).audit
        for entry in _entries(session):
            if entry.chain_hash is None and not chained:
                before += 1
                continue
            chained = True
            problem = "chain hash is missing after the chain began" if entry.chain_hash is None else None
            problem = problem or _problem(key, previous, entry)
            anchor = anchors.get(entry.id)
            if problem is None and anchor is not None:
                checked += 1
                if anchor.chain_hash != entry.chain_hash:
                    problem = f"chain hash differs from the one anchored at {anchor.at}"
            if problem is not None:
                broken = Break(entry.id, problem)
                break
            previous, last_id = entry.chain_hash, entry.id
            verified += 1
            redacted += entry.redacted_at is not None
    if broken is None:
        missing = sorted(i for i in anchors if last_id is None or i > last_id)
        if missing:
            anchor = anchors[missing[0]]
            broken = Break(anchor.id, f"entry anchored at {anchor.at} is gone (the log was cut short)")
    return ChainReport(before, verified, last_id, checked, redacted, broken)


def anchor_chain(db: Database, path: Path, *, at: datetime) -> Anchor:
    """Append the newest entry's id and chain hash to an append-only file kept apart from the database."""
    with db.reader() as session:
        newest = session.execute(
            select(AuditEvent.id, AuditEvent.chain_hash)
            .where(AuditEvent.chain_hash.is_not(None))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).first()
    if newest is None:
        raise NotFound("Het auditlog heeft nog geen geketende regels.")
    anchor = Anchor(newest.id, newest.chain_hash, at.isoformat())
    with path.open("a", encoding="utf-8") as file:
        file.write(anchor.line())
    return anchor
