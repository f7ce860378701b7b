"""Finding what to notify: new tasks, assignments, deadlines, stalled cases and incidents since the previous scan.

Reads indexed columns of the inbox projection, the instances and the audit log — never a workflow — and picks up
where the previous scan stopped (the `JobMark` "notifications"). Every notification has a key that is unique per
user, so a scan that runs twice, or two scans at once, notify once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.instance import ERROR
from engine.models import (
    AuditEvent,
    DeadlinePause,
    HumanTask,
    Instance,
    JobMark,
    Notification,
    NotificationPreference,
    Participant,
    User,
    UserRole,
)
from engine.monitor import DEFAULT_WARNING, MonitorFilter, stalled
from engine.notifications.bell import DIALECT_INSERTS, Kind
from engine.privacy.organisations import role_queues
from engine.privacy.visibility import SECRET_LEVELS, confidential_readers

#: Incidents go to the people who watch over all cases (managers, to the monitor) and to the beheerders who repair
#: them (to the list of stalled cases with its retry); never to the case itself, whose contents they may not see.
#: Someone with both roles is sent to the repair list.
INCIDENT_LINKS = {"manager": "/bewaking?categorie=incident", "beheerder": "/storingen"}

_SCAN_MARK = "notifications"
_FIRST_LOOK_BACK = timedelta(days=1)
# A row written by a transaction that began before the previous scan but committed after it carries a time before
# that scan's watermark; looking back a little further picks it up (keys make the overlap harmless).
_OVERLAP = timedelta(minutes=5)
#: Audit actions that put a task on someone's name: a coordinator's reassignment, a move to a substitute.
_ASSIGNING_ACTIONS = ("reassign", "substitute")
# Only rows that crossed their norm since the previous scan are read; the limit is a safety net, not a page.
_STALLED_LIMIT = 100_000


def _notify_statement(insert: Any) -> Any:
    return insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "key"]).returning(Notification.id)


# Built once per dialect: every scan runs it.
_NOTIFY = {dialect: _notify_statement(insert) for dialect, insert in DIALECT_INSERTS.items()}
_TASK_COLUMNS = (
    HumanTask.id,
    HumanTask.instance_id,
    HumanTask.name,
    HumanTask.case_number,
    HumanTask.role,
    HumanTask.scope,
    HumanTask.owner_id,
    HumanTask.assignee_id,
    HumanTask.due_at,
)


def _notification(user_id: int, kind: Kind, key: str, title: str, link: str, instance_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "kind": kind,
        "key": key[:160],
        "title": title[:255],
        "link": link,
        "instance_id": instance_id,
    }


def _task_title(task: Any) -> str:
    return f"{task.name} · {task.case_number}"


def _role_holders(session: Session, roles: Iterable[str]) -> dict[str, list[int]]:
    """Active users per role queue (`gemeente`, `gemeente|gm:breda`, …): who a queue's tasks reach."""
    wanted = set(roles)
    holders: dict[str, list[int]] = defaultdict(list)
    if wanted:
        query = (
            select(User)
            .where(User.active, User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(sorted(wanted)))))
            .order_by(User.id)
        )
        for user in session.scalars(query):
            for queue in role_queues(user):
                if queue.partition("|")[0] in wanted:
                    holders[queue].append(user.id)
    return holders


def _task_recipients(task: Any, holders: Mapping[str, list[int]]) -> list[int]:
    """Who works on a task: its assignee, else its queue's holders, else the starter of a lane-less task."""
    if task.assignee_id is not None:
        return [task.assignee_id]
    if task.role is not None:
        return holders.get(f"{task.role}|{task.scope}" if task.scope else task.role, [])
    return [task.owner_id] if task.owner_id is not None else []


def _task_notifications(
    session: Session, *, since: datetime, now: datetime, warning: timedelta
) -> list[dict[str, Any]]:
    """New tasks, and deadlines that came within `warning` or passed since `since` (also of tasks new since then)."""
    new = session.execute(select(*_TASK_COLUMNS).where(HumanTask.created_at > since, HumanTask.created_at <= now)).all()
    deadlines = session.execute(
        select(*_TASK_COLUMNS).where(
            HumanTask.due_at <= now + warning,
            or_(HumanTask.due_at > since, HumanTask.created_at > since),
            ~exists().where(DeadlinePause.instance_id == HumanTask.instance_id, DeadlinePause.ended_at.is_(None)),
        )
    ).all()
    holders = _role_holders(session, (t.role for t in [*new, *deadlines] if t.role and t.assignee_id is None))
    readers = _secret_case_readers(session, {t.instance_id for t in [*new, *deadlines]}, now=now)

    def recipients(task: Any) -> list[int]:
        allowed = readers.get(task.instance_id)
        return [u for u in _task_recipients(task, holders) if allowed is None or u in allowed]

    rows = [
        _notification(user_id, "new_task", f"new_task:{t.id}", _task_title(t), f"/taken/{t.id}", t.instance_id)
        for t in new
        for user_id in recipients(t)
    ]
    for t in deadlines:
        reason = "deadline_passed" if t.due_at <= now else "deadline_near"
        rows += [
            _notification(user_id, "deadline", f"{reason}:{t.id}", _task_title(t), f"/taken/{t.id}", t.instance_id)
            for user_id in recipients(t)
        ]
    return rows


def _secret_case_readers(session: Session, instance_ids: set[int], *, now: datetime) -> dict[int, frozenset[int]]:
    """Who may see each secret case among `instance_ids` (vertrouwelijkheid geheim or higher); others are absent."""
    if not instance_ids:
        return {}
    secret = session.scalars(
        select(Instance).where(Instance.id.in_(sorted(instance_ids)), Instance.vertrouwelijkheid.in_(SECRET_LEVELS))
    )
    return {case.id: confidential_readers(session, case, at=now) or frozenset() for case in secret}


def _assignment_notifications(session: Session, *, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """Tasks handed to someone since `since` (by a coordinator, or to a substitute) and still open, for them."""
    events = session.execute(
        select(
            AuditEvent.id,
            AuditEvent.actor,
            AuditEvent.details,
            HumanTask.id,
            HumanTask.instance_id,
            HumanTask.name,
            HumanTask.case_number,
        )
        .join(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(AuditEvent.action.in_(_ASSIGNING_ACTIONS), AuditEvent.at > since, AuditEvent.at <= now)
    ).all()
    targets = {_receiver(event.details) for event in events} - {None}
    user_ids = dict(
        session.execute(select(User.username, User.id).where(User.username.in_(targets), User.active)).tuples().all()
    )
    rows = []
    for event_id, actor, details, task_id, instance_id, name, case_number in events:
        to = _receiver(details)
        if to in user_ids and to != actor:  # nobody needs telling what they did themselves
            title = f"{name} · {case_number}"
            rows.append(
                _notification(user_ids[to], "assigned", f"assigned:{event_id}", title, f"/taken/{task_id}", instance_id)
            )
    return rows


def _receiver(details: dict[str, Any] | None) -> str | None:
    """Who an assigning audit event handed the task to (None: back to the role's queue)."""
    to = (details or {}).get("to")
    return to if isinstance(to, str) else None


def _stalled_notifications(session: Session, *, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """What the monitor lists as stalled and became so since `since`, for the participants of its case."""
    rows = stalled(session, now=now, filters=MonitorFilter(crossed_after=since, limit=_STALLED_LIMIT))
    taking_part = _participants(session, {row.instance_id for row in rows}, now=now)
    notifications = []
    for row in rows:
        if row.task_id is not None:
            key, title = f"stalled:{row.task_id}", f"{row.step} · {row.case_number}"
        else:  # a case can stall again after it moved on: its norm's moment is part of the key
            key, title = f"stalled:{row.instance_id}:{row.due_at:%Y%m%d%H%M%S}", row.case_number
        notifications += [
            _notification(user_id, "stalled", key, title, f"/zaken/{row.instance_id}", row.instance_id)
            for user_id in taking_part.get(row.instance_id, [])
        ]
    return notifications


def _participants(session: Session, instance_ids: set[int], *, now: datetime) -> dict[int, list[int]]:
    """The active users who take part in each instance (access that expired does not count)."""
    taking_part: dict[int, list[int]] = defaultdict(list)
    if instance_ids:
        query = (
            select(Participant.instance_id, Participant.user_id)
            .join(User, User.id == Participant.user_id)
            .where(
                Participant.instance_id.in_(sorted(instance_ids)),
                or_(Participant.expires_at.is_(None), Participant.expires_at > now),
                User.active,
            )
            .order_by(Participant.user_id)
        )
        for instance_id, user_id in session.execute(query).tuples():
            taking_part[instance_id].append(user_id)
    return taking_part


def _incident_notifications(session: Session, *, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """Instances that went into error since `since` (and still are), for the managers and the beheerders."""
    errors = session.execute(
        select(AuditEvent.id, Instance.id, Instance.case_number)
        .join(Instance, Instance.id == AuditEvent.instance_id)
        .where(AuditEvent.action == "error", AuditEvent.at > since, AuditEvent.at <= now, Instance.status == ERROR)
    ).all()
    holders = _role_holders(session, INCIDENT_LINKS if errors else [])
    links = {user_id: link for role, link in INCIDENT_LINKS.items() for user_id in holders.get(role, [])}
    return [
        _notification(user_id, "incident", f"incident:{event_id}", case_number, link, instance_id)
        for event_id, instance_id, case_number in errors
        for user_id, link in links.items()
    ]


def _wanted(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose user did not switch their kind off in the app, once per (user, key)."""
    users = sorted({row["user_id"] for row in rows})
    switched_off = (
        set(
            session.execute(
                select(NotificationPreference.user_id, NotificationPreference.kind).where(
                    NotificationPreference.user_id.in_(users), NotificationPreference.in_app.is_(False)
                )
            ).tuples()
        )
        if users
        else set()
    )
    unique = {(row["user_id"], row["key"]): row for row in rows if (row["user_id"], row["kind"]) not in switched_off}
    return list(unique.values())


def job_mark(session: Session, name: str) -> datetime | None:
    """Where the background job `name` got to, None before its first run."""
    return session.scalar(select(JobMark.at).where(JobMark.name == name))


def set_job_mark(session: Session, name: str, at: datetime) -> None:
    """Record where the background job `name` got to (two runs at once: the last one wins)."""
    insert = DIALECT_INSERTS[session.get_bind().dialect.name]
    statement = insert(JobMark).values(name=name, at=at)
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"at": statement.excluded.at}))


def scan_notifications(session: Session, *, now: datetime, warning: timedelta = DEFAULT_WARNING) -> int:
    """Notify what happened since the previous scan; returns how many notifications were created."""
    mark = job_mark(session, _SCAN_MARK)
    since = (mark or now - _FIRST_LOOK_BACK) - _OVERLAP
    rows = _wanted(
        session,
        [
            *_task_notifications(session, since=since, now=now, warning=warning),
            *_assignment_notifications(session, since=since, now=now),
            *_stalled_notifications(session, since=since, now=now),
            *_incident_notifications(session, since=since, now=now),
        ],
    )
    created = 0
    if rows:
        statement = _NOTIFY[session.get_bind().dialect.name]
        created = len(session.execute(statement, [{**row, "created_at": now} for row in rows]).all())
    set_job_mark(session, _SCAN_MARK, max(now, mark) if mark else now)
    return created
