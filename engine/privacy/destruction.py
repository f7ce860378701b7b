"""Destruction: lists with four eyes, and destroying one case so that its person is gone everywhere.

The Dutch archival pattern (Open Archiefbeheer): a manager proposes a list of cases whose retention passed, the
privacyfunctionaris (FG) reviews it — never the proposer — and a manager or the FG executes an approved list.
`zvh destroy` destroys one case directly for an erasure request (FG only).

What a destruction leaves is an anonymous statistical record: the instance row keeps its process, gemeente,
status, case number and timestamps (every monitor and report figure stays the same), and `completed_tasks` keeps
step, role and times (no personal data). Everything else about the person goes: the workflow state with all
task data and history, the person index, the inbox projection with its drafts, participants and their reasons,
notifications, retention extensions (their reasons), and the summaries and details of the case's audit entries.
A `destroy` entry records what, when, by whom and by which rule.

Freed space: SQLite runs with `secure_delete` (freed content is zeroed) and `purge_freed_space` truncates the WAL
after the commit. PostgreSQL keeps dead row versions until a vacuum: `purge_freed_space` vacuums the touched
tables (VACUUM FULL: a plain VACUUM leaves the bytes in the page) after a destruction run (the CLI, the web
execution, the daily job); the WAL segments, a WAL archive and backups keep them until they expire — the retention
of backups and WAL archives must be set accordingly (documented in the README).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from engine.audit import record
from engine.db import Database
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.forms import required_text
from engine.instance import TERMINATED
from engine.models import (
    ActionPoint,
    AgendaItem,
    AuditEvent,
    DeadlinePause,
    DestructionList,
    DestructionListItem,
    HumanTask,
    Instance,
    InstancePerson,
    Notification,
    Participant,
    RetentionExtension,
    User,
)
from engine.privacy.retention import ENDED_STATUSES, due_for_destruction

#: What stays in `Instance.state` of a destroyed case: no workflow, a marker that there was one.
DESTROYED_STATE = '{"vernietigd": true}'
REDACTED_SUMMARY = "Vernietigd"
PROPOSER_ROLES = frozenset({"manager"})
REVIEWER_ROLES = frozenset({"privacyfunctionaris"})
EXECUTOR_ROLES = frozenset({"manager", "privacyfunctionaris"})
DIRECT_ROLES = frozenset({"privacyfunctionaris"})
#: The tables a destruction changes: vacuumed afterwards on PostgreSQL.
TOUCHED_TABLES = (
    "instances",
    "instance_persons",
    "human_tasks",
    "drafts",
    "participants",
    "notifications",
    "retention_extensions",
    "deadline_pauses",
    "overleg_items",  # overleg (issue 14): the case's agenda items, their invitations and decisions
    "overleg_item_invites",
    "overleg_action_points",
    "audit_events",
)


@dataclass(frozen=True)
class Destroyed:
    """What one destruction did (no personal data)."""

    instance_id: int
    case_number: str
    process_key: str
    terminated: bool
    rule: str | None
    removed: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "case_number": self.case_number,
            "process_key": self.process_key,
            "terminated_first": self.terminated,
            "rule": self.rule,
            "removed": self.removed,
        }


def _require(actor: User, roles: frozenset[str], message: str) -> None:
    if not actor.role_keys & roles:
        raise PermissionDenied(message)


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def destroy_case(
    session: Session,
    *,
    instance_id: int,
    actor: User,
    reason: str,
    rule: str | None,
    at: datetime,
    list_id: int | None = None,
) -> Destroyed:
    """Destroy one case's personal data (a running case is ended first, recorded); the row stays anonymous."""
    reason = required_text(reason, field="reason", message="Geef een reden voor de vernietiging.")
    row = session.get(Instance, instance_id, with_for_update=True)
    if row is None:
        raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=instance_id)
    if row.destroyed_at is not None:
        raise Conflict("Zaak %(zaak)s is al vernietigd.", zaak=row.case_number)
    terminated = row.status not in ENDED_STATUSES
    if terminated:
        row.status, row.ended_at = TERMINATED, at
        row.next_timer_due_at = row.stall_at = None
        row.error_element = row.error_message = None
        record(
            session,
            actor=actor.username,
            action="terminate",
            at=at,
            instance_id=row.id,
            summary=f"Zaak {row.case_number} beëindigd om de gegevens te vernietigen",
            object_type="case",
            object_id=str(row.id),
        )
    rule = rule or row.retention_rule
    removed = _remove_person(session, row.id, at)
    row.state = DESTROYED_STATE
    row.subject_person = row.person_key = row.vertrouwelijkheid = None
    row.destroyed_at = at
    record(
        session,
        actor=actor.username,
        action="destroy",
        at=at,
        instance_id=row.id,
        summary=f"Zaak {row.case_number} vernietigd",
        details={"case_number": row.case_number, "rule": rule, "list_id": list_id, "reason": reason},
        object_type="case",
        object_id=str(row.id),
    )
    session.flush()
    return Destroyed(row.id, row.case_number, row.process_key, terminated, rule, removed)


def _remove_person(session: Session, instance_id: int, at: datetime) -> dict[str, int]:
    """Delete every copy of the case's person outside the instance row; redact its audit entries."""
    # Drafts of the case's tasks go with their inbox rows (ON DELETE CASCADE).
    removed = {
        table: _count(session.execute(delete(model).where(model.instance_id == instance_id)))
        for table, model in (
            ("instance_persons", InstancePerson),
            ("human_tasks", HumanTask),
            ("participants", Participant),
            ("notifications", Notification),
            ("retention_extensions", RetentionExtension),
            ("deadline_pauses", DeadlinePause),  # their reasons are free text about the person
            # overleg (issue 14): action points, then the agenda items with their decisions (the invitations go
            # with them: ON DELETE CASCADE); the meetings stay, without this case
            ("overleg_action_points", ActionPoint),
            ("overleg_items", AgendaItem),
        )
    }
    removed["audit_events_redacted"] = _count(
        session.execute(
            update(AuditEvent)
            .where(
                or_(
                    AuditEvent.instance_id == instance_id,
                    (AuditEvent.object_type == "case") & (AuditEvent.object_id == str(instance_id)),
                ),
                AuditEvent.redacted_at.is_(None),
            )
            .values(summary=REDACTED_SUMMARY, details=None, redacted_at=at)
            .execution_options(synchronize_session=False)
        )
    )
    return removed


def purge_freed_space(db: Database, tables: Iterable[str] = TOUCHED_TABLES) -> None:
    """After a committed destruction: truncate SQLite's WAL, or vacuum PostgreSQL's touched tables."""
    if db.dialect == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    # A plain VACUUM marks dead row versions free but leaves their bytes in the page (the destruction tests found
    # the name there); VACUUM FULL rewrites each table into a new file. It locks the table while it runs, which is
    # why it runs once after a destruction run (CLI, daily job), not per case. VACUUM cannot run in a transaction.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(text(f"VACUUM FULL {table}"))


# --- destruction lists --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListItem:
    instance_id: int
    case_number: str
    process_key: str
    rule: str | None
    destroyed_at: datetime | None


def propose_list(session: Session, *, actor: User, instance_ids: list[int], note: str, at: datetime) -> DestructionList:
    """A manager proposes a list of cases whose retention passed (each with the rule that made it due)."""
    _require(actor, PROPOSER_ROLES, "Alleen een manager stelt een vernietigingslijst voor.")
    due = {case.instance_id: case for case in due_for_destruction(session, at)}
    chosen = sorted(set(instance_ids))
    if not chosen:
        raise InvalidInput("Kies ten minste één zaak.", {"instance_ids": ["Verplicht."]})
    not_due = [str(i) for i in chosen if i not in due]
    if not_due:
        raise InvalidInput(
            "Alleen zaken waarvan de bewaartermijn verstreken is en die op geen open lijst staan, kunnen op de lijst.",
            {"instance_ids": [f"Niet te vernietigen: {', '.join(not_due)}"]},
        )
    listing = DestructionList(status="proposed", note=note.strip() or None, proposed_by_id=actor.id, proposed_at=at)
    session.add(listing)
    session.flush()
    session.add_all(DestructionListItem(list_id=listing.id, instance_id=i, rule=due[i].rule) for i in chosen)
    record(
        session,
        actor=actor.username,
        action="destruction_propose",
        at=at,
        summary=f"Vernietigingslijst {listing.id} voorgesteld ({len(chosen)} zaken)",
        details={"list_id": listing.id, "cases": [due[i].case_number for i in chosen]},
        object_type="destruction_list",
        object_id=str(listing.id),
    )
    session.flush()
    return listing


def get_list(session: Session, list_id: int, *, for_update: bool = False) -> DestructionList:
    listing = session.get(DestructionList, list_id, with_for_update=for_update)
    if listing is None:
        raise NotFound("Vernietigingslijst %(lijst)s bestaat niet.", lijst=list_id)
    return listing


def review_list(
    session: Session, *, list_id: int, actor: User, approve: bool, note: str, at: datetime
) -> DestructionList:
    """The FG approves or rejects a proposed list; the proposer never reviews their own list."""
    _require(actor, REVIEWER_ROLES, "Alleen de privacyfunctionaris beoordeelt een vernietigingslijst.")
    listing = get_list(session, list_id, for_update=True)
    if listing.status != "proposed":
        raise Conflict("Vernietigingslijst %(lijst)s is al beoordeeld.", lijst=list_id)
    if listing.proposed_by_id == actor.id:
        raise PermissionDenied("Wie een lijst voorstelt, beoordeelt hem niet (vier ogen).")
    if not approve and not note.strip():
        raise InvalidInput("Geef bij afwijzen een toelichting.", {"note": ["Verplicht."]})
    listing.status = "approved" if approve else "rejected"
    listing.reviewed_by_id, listing.reviewed_at, listing.review_note = actor.id, at, note.strip() or None
    record(
        session,
        actor=actor.username,
        action="destruction_review",
        at=at,
        summary=f"Vernietigingslijst {list_id} {'goedgekeurd' if approve else 'afgewezen'}",
        details={"list_id": list_id, "approved": approve},
        object_type="destruction_list",
        object_id=str(list_id),
    )
    session.flush()
    return listing


def execute_list(session: Session, *, list_id: int, actor: User, at: datetime) -> list[Destroyed]:
    """Destroy every case of an approved list (a manager or the FG); the list keeps the report."""
    _require(actor, EXECUTOR_ROLES, "Alleen een manager of de privacyfunctionaris voert een lijst uit.")
    listing = get_list(session, list_id, for_update=True)
    if listing.status != "approved":
        raise Conflict(
            "Vernietigingslijst %(lijst)s is niet goedgekeurd; hij kan niet worden uitgevoerd.", lijst=list_id
        )
    items = session.scalars(
        select(DestructionListItem)
        .where(DestructionListItem.list_id == list_id)
        .order_by(DestructionListItem.instance_id)
    ).all()
    reason = f"Bewaartermijn verstreken (vernietigingslijst {list_id})"
    done = [
        destroy_case(
            session, instance_id=item.instance_id, actor=actor, reason=reason, rule=item.rule, at=at, list_id=list_id
        )
        for item in items
        if session.scalar(select(Instance.destroyed_at).where(Instance.id == item.instance_id)) is None
    ]
    listing.status, listing.executed_by_id, listing.executed_at = "executed", actor.id, at
    session.flush()
    return done


def list_lists(session: Session) -> list[DestructionList]:
    """All destruction lists, newest first."""
    return list(
        session.scalars(select(DestructionList).order_by(DestructionList.proposed_at.desc(), DestructionList.id.desc()))
    )


def list_items(session: Session, list_id: int) -> list[ListItem]:
    """The cases of a list, with when each was destroyed: the destruction report (no personal data)."""
    get_list(session, list_id)
    rows = session.execute(
        select(Instance.id, Instance.case_number, Instance.process_key, DestructionListItem.rule, Instance.destroyed_at)
        .join(DestructionListItem, DestructionListItem.instance_id == Instance.id)
        .where(DestructionListItem.list_id == list_id)
        .order_by(Instance.case_number, Instance.id)
    ).tuples()
    return [ListItem(*row) for row in rows]


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the people on lists."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).tuples().all())


def resolve_case(session: Session, case: str) -> list[int]:
    """The instances a CASE argument names: an instance id, or every instance of a case number (hand-overs too)."""
    if case.isdigit():
        if session.get(Instance, int(case)) is None:
            raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=case)
        return [int(case)]
    ids = list(session.scalars(select(Instance.id).where(Instance.case_number == case).order_by(Instance.id)))
    if not ids:
        raise NotFound("Zaak %(zaak)s bestaat niet.", zaak=case)
    return ids


def destroy_directly(session: Session, *, case: str, actor: User, reason: str, at: datetime) -> list[Destroyed]:
    """An erasure request: the FG destroys a case (all its instances) without a list."""
    _require(actor, DIRECT_ROLES, "Alleen de privacyfunctionaris vernietigt een zaak rechtstreeks.")
    ids = resolve_case(session, case)
    pending = [i for i in ids if (row := session.get(Instance, i)) is not None and row.destroyed_at is None]
    if not pending:
        raise Conflict("Zaak %(zaak)s is al vernietigd.", zaak=case)
    return [
        destroy_case(session, instance_id=i, actor=actor, reason=reason, rule="verzoek tot vernietiging", at=at)
        for i in pending
    ]


def run_list(db: Database, *, list_id: int, actor: User, at: datetime) -> list[Destroyed]:
    """Execute an approved list in its own unit of work, then clear the freed space (web and CLI)."""
    with db.transaction() as session:
        done = execute_list(session, list_id=list_id, actor=actor, at=at)
    purge_freed_space(db)
    return done
