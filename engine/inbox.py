"""Queries on the inbox projection: never deserializes a workflow.

Each open task row carries its `audience` (`user:<id>`, `role:<role>` or `owner:<id>`), and every order the inbox
offers has an index that starts with it, so a page of "what may this person pick up" is the first rows of one index
range per audience, merged: it costs the same with a thousand open tasks as with a million, and so does every later
page (keyset pages: a cursor holds the order's key of the row a page ends at). Counts stop at `COUNT_CAP`. Statements
are built once per shape of query (which filters, which order, how many audiences) and reused with bound parameters:
building a statement costs more than running it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from engine.db import UTCDateTime
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.models import NO_DEADLINE, DeadlinePause, HumanTask, SavedFilter, User
from engine.privacy.organisations import role_queues
from engine.privacy.visibility import confidential_parameters, confidential_task_clause

COORDINATOR_ROLES = frozenset({"coordinator", "manager"})
#: Who opens the cases of every open task (engine.access.may_view): the coordinator, read-only without the role.
TEAM_CASE_READERS = frozenset({"coordinator"})

Tab = Literal["mine", "open", "team"]
#: The task's case has its legal deadlines paused (`engine.suspension`).
_PAUSED = exists().where(DeadlinePause.instance_id == HumanTask.instance_id, DeadlinePause.ended_at.is_(None))

Due = Literal["overdue", "week", "none"]
Sort = Literal["due", "received", "case", "process"]
TABS: tuple[Tab, ...] = ("mine", "open", "team")
SORTS: tuple[Sort, ...] = ("due", "received", "case", "process")
DUES: tuple[Due, ...] = ("overdue", "week", "none")

_Assignee = aliased(User)


def audiences(user: User) -> list[str]:
    """The audiences whose tasks `user` may work on: their own, their roles' (scoped) queues, their lane-less tasks."""
    return [f"user:{user.id}", f"owner:{user.id}", *(f"role:{queue}" for queue in role_queues(user))]


def tab_audiences(user: User, tab: Tab) -> list[str] | None:
    """The audiences of one inbox tab; None for the team tab (every open task, coordinators only)."""
    if tab == "mine":
        return [f"user:{user.id}"]
    if tab == "open":
        return [f"owner:{user.id}", *(f"role:{queue}" for queue in role_queues(user))]
    if not (user.role_keys & COORDINATOR_ROLES):
        raise PermissionDenied("Alleen coördinatoren en managers zien de taken van het team.")
    return None


def may_see_team(user: User) -> bool:
    """Coordinators and managers see every open task (the team tab), to divide and reassign the work."""
    return bool(user.role_keys & COORDINATOR_ROLES)


def may_read_team_cases(user: User) -> bool:
    """Whether `user` also opens the cases (and task pages, read-only) of the team's tasks: a coordinator, who
    divides the daily work. A manager sees the figures and opens a case from the Bewaking, with a reason."""
    return bool(user.role_keys & TEAM_CASE_READERS)


_ROLE_NAMES: dict[tuple[str, ...], dict[str, str]] = {}


def role_names(session: Session) -> dict[str, str]:
    """Role key → the lane name people know it by (`re_integratiecoordinator` → "Re-integratiecoördinator"), from
    the newest version of every process (parsed once and cached; a new deployment gives a new mapping)."""
    from engine.registry import list_processes, load_version  # the registry parses processes; the inbox never does
    from engine.spiff import role_key

    versions = list_processes(session)
    key = tuple(version.content_hash for version in versions)
    names = _ROLE_NAMES.get(key)
    if names is None:
        names = {}
        for version in versions:
            loaded = load_version(version)
            for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
                for task_spec in spec.task_specs.values():
                    lane = getattr(task_spec, "lane", None)
                    if lane and (role := role_key(lane)):
                        names.setdefault(role, lane)
        _ROLE_NAMES.clear()  # only the current set of versions is worth keeping
        _ROLE_NAMES[key] = names
    return names


def role_label(role: str | None, names: dict[str, str] | None = None) -> str:
    """A role as people read it: its lane name when known, else the key with spaces ("starter" for no role)."""
    if role is None:
        return "starter"
    known = (names or {}).get(role)
    return known or role.replace("_", " ").capitalize()


def may_claim(user: User, row: InboxRow) -> bool:
    """Whether `user` may pick up this open task: unassigned and in one of their own queues (not only in view)."""
    return row.assignee is None and row.audience in audiences(user)


@dataclass(frozen=True)
class InboxRow:
    """One open task as the inbox shows it."""

    id: str
    instance_id: int
    element_id: str
    name: str
    role: str | None
    form: str | None
    created_at: datetime
    due_at: datetime | None
    case_number: str
    gemeente: str | None
    process_key: str
    process_name: str
    assignee: str | None
    #: the assignee as colleagues know them (display name)
    assignee_name: str | None = None
    #: whose task it is (`engine.models.task_audience`): a user may pick it up when it is one of their `audiences`
    audience: str | None = None
    #: the case is secret: only its explicit participants and assignees open it
    secret: bool = False
    #: which holders of the role (`gm:<gemeente>`, `org:<organisation>`); None: all of them
    scope: str | None = None

    @property
    def queue(self) -> str | None:
        """The role queue the task belongs to (also while someone holds it); None for a starter's own task."""
        if self.role is None:
            return None
        return f"{self.role}|{self.scope}" if self.scope else self.role

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class InboxQuery:
    """A view of the inbox: tab, filters, order and page (what a saved filter stores)."""

    tab: Tab = "open"
    process: str | None = None
    gemeente: str | None = None
    due: Due | None = None
    case_number: str | None = None
    sort: Sort = "due"
    descending: bool = False
    page: int = 1
    per_page: int = 50
    #: a keyset page: the rows after (or before) the row a cursor names (`InboxPage.next_cursor`, `previous_cursor`)
    after: str | None = None
    before: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The view without its position: what a saved filter stores and what every page link carries."""
        position = ("page", "per_page", "after", "before")
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", False) and k not in position}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboxQuery:
        """A query from untrusted input (URL parameters, a stored filter); unknown values fall back to defaults."""

        def pick(value: Any, allowed: tuple[str, ...], default: Any) -> Any:
            return value if value in allowed else default

        def text(value: Any) -> str | None:
            if not isinstance(value, str) or not value.isprintable():
                return None  # control characters (NUL) never reach the database
            return value.strip()[:100] or None

        def cursor(value: Any) -> str | None:
            return value if isinstance(value, str) and 0 < len(value) <= 1000 and value.isascii() else None

        try:
            page = max(1, int(data.get("page") or 1))
        except (TypeError, ValueError):
            page = 1
        return cls(
            tab=pick(data.get("tab"), TABS, "open"),
            process=text(data.get("process")),
            gemeente=text(data.get("gemeente")),
            due=pick(data.get("due"), DUES, None),
            case_number=text(data.get("case_number")),
            sort=pick(data.get("sort"), SORTS, "due"),
            descending=str(data.get("descending", "")).lower() in ("1", "true", "on", "yes"),
            page=min(page, 10_000),
            after=cursor(data.get("after")),
            before=cursor(data.get("before")),
        )


@dataclass(frozen=True)
class InboxPage:
    """One page of inbox rows, how many rows all pages hold, and where the pages around it start."""

    tasks: list[InboxRow]
    #: the number of rows in all pages; `COUNT_CAP` when `capped` (there are more)
    total: int
    #: more than `COUNT_CAP` rows: shown as "1.000+", as counting them all would read them all
    capped: bool = False
    #: the cursor of the next page (`InboxQuery.after`); None on the last page
    next_cursor: str | None = None
    #: the cursor of the previous page (`InboxQuery.before`); None on the first page
    previous_cursor: str | None = None


#: Counts stop here: an exact count of a million open tasks reads a million index entries on every page view.
COUNT_CAP = 1000

_COLUMNS = (
    HumanTask.id,
    HumanTask.instance_id,
    HumanTask.element_id,
    HumanTask.name,
    HumanTask.role,
    HumanTask.form,
    HumanTask.created_at,
    HumanTask.due_at,
    HumanTask.case_number,
    HumanTask.gemeente,
    HumanTask.process_key,
    HumanTask.process_name,
    _Assignee.username,
    _Assignee.display_name,
    HumanTask.audience,
    HumanTask.secret,
    HumanTask.scope,
)
#: The key of each order, unique by its last column (the id); every one has an index per audience (engine.models).
_ORDERS: dict[Sort, tuple[Any, ...]] = {
    "due": (HumanTask.due_sort, HumanTask.created_at, HumanTask.id),
    "received": (HumanTask.created_at, HumanTask.id),
    "case": (HumanTask.case_number, HumanTask.id),
    "process": (HumanTask.process_name, HumanTask.due_sort, HumanTask.id),
}


def _sort_key(row: InboxRow, sort: Sort) -> tuple[Any, ...]:
    """The row's values of the order's key columns (`due_sort` is the deadline, or NO_DEADLINE without one)."""
    return tuple(
        (row.due_at or NO_DEADLINE) if column.key == "due_sort" else getattr(row, column.key)
        for column in _ORDERS[sort]
    )


def _encode_cursor(key: tuple[Any, ...], query: InboxQuery) -> str:
    """Where a page starts or ends, as an opaque URL-safe token: the order's key of the row at its edge."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    body = json.dumps([query.sort, query.descending, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def _decode_cursor(token: str | None, query: InboxQuery) -> tuple[Any, ...] | None:
    """The key in a cursor made for this query's order; None for no cursor or one that is not (untrusted input)."""
    if not token:
        return None
    try:
        sort, descending, key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if sort != query.sort or descending != query.descending or len(key) != len(_ORDERS[query.sort]):
            return None
        values: list[Any] = []
        for column, value in zip(_ORDERS[query.sort], key, strict=True):
            if not isinstance(value, str) or len(value) > 255 or not value.isprintable():
                return None
            if isinstance(column.type, UTCDateTime):
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    return None
                values.append(moment)
            else:
                values.append(value)
        return tuple(values)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class _Shape:
    #: how many audiences the rows are in (one index range each); 0: any audience (the team view, one case, one task)
    audiences: int = 0
    by_instance: bool = False
    by_task: bool = False
    by_process: bool = False
    by_gemeente: bool = False
    due: Due | None = None
    by_case_number: bool = False
    #: a user's own view: a secret case's tasks only for its explicit participants and assignees
    confidential: bool = False
    sort: Sort = "due"
    descending: bool = False
    #: the page starts after (or, read backwards, before) a cursor's key
    keyset: bool = False


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.by_instance:
        conditions.append(HumanTask.instance_id == bindparam("instance_id"))
    if shape.by_task:
        conditions.append(HumanTask.id == bindparam("task_id"))
    if shape.by_process:
        conditions.append(HumanTask.process_key == bindparam("process"))
    if shape.by_gemeente:
        conditions.append(HumanTask.gemeente == bindparam("gemeente"))
    if shape.due == "overdue":
        conditions.append(HumanTask.due_at < bindparam("now"))
        conditions.append(~_PAUSED)  # a case whose legal deadlines are paused is not late
    elif shape.due == "week":
        conditions.append(HumanTask.due_at <= bindparam("week"))
    elif shape.due == "none":
        conditions.append(HumanTask.due_at.is_(None))
    if shape.by_case_number:
        conditions.append(HumanTask.case_number.ilike(bindparam("case_number"), escape="\\"))
    if shape.confidential:
        conditions.append(confidential_task_clause())
    return conditions


def _audience_ranges(shape: _Shape) -> list[list[ColumnElement[bool]]]:
    """One list of conditions per index range: `audience = :audience_<n>` each, or one range over all tasks. The
    tasks of one case or one task id are few: there one `audience IN (…)` reads them."""
    if not shape.audiences:
        return [[]]
    if shape.by_instance or shape.by_task:
        return [[HumanTask.audience.in_([bindparam(f"audience_{n}") for n in range(shape.audiences)])]]
    return [[HumanTask.audience == bindparam(f"audience_{n}")] for n in range(shape.audiences)]


@cache
def _statements(shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    """The capped count and the page statements for one shape of query, built once.

    A page is the first `:window` rows of each audience's index range, in the order's key (after the cursor's key
    when there is one), merged and cut to `:limit` after `:offset`: it reads at most (offset + limit) index entries per
    audience, however many tasks wait. The count reads at most `COUNT_CAP + 1` entries.
    """
    conditions = _conditions(shape)
    key = _ORDERS[shape.sort]
    order = [column.desc() if shape.descending else column for column in key]
    cursor = tuple_(*(bindparam(f"key_{n}", type_=column.type) for n, column in enumerate(key)))
    ranges = []
    for audience in _audience_ranges(shape):
        branch = select(HumanTask.id).where(*audience, *conditions)
        if shape.keyset:
            branch = branch.where(tuple_(*key) < cursor if shape.descending else tuple_(*key) > cursor)
        ranges.append(branch.order_by(*order).limit(bindparam("window")).subquery())
    ids = union_all(*(select(r.c.id) for r in ranges)).subquery() if len(ranges) > 1 else ranges[0]
    page = (
        select(*_COLUMNS)
        .join(ids, ids.c.id == HumanTask.id)
        .outerjoin(_Assignee, _Assignee.id == HumanTask.assignee_id)
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    # The count, too, reads each audience's range only up to the cap (an IN over all of them may become a bitmap
    # scan on PostgreSQL, which reads the whole range before any limit applies).
    counted = [
        select(HumanTask.id).where(*audience, *conditions).limit(COUNT_CAP + 1).subquery()
        for audience in _audience_ranges(shape)
    ]
    capped = union_all(*(select(c.c.id) for c in counted)).subquery() if len(counted) > 1 else counted[0]
    count = select(func.count()).select_from(capped)
    return count, page


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _count(session: Session, shape: _Shape, parameters: dict[str, Any]) -> tuple[int, bool]:
    """How many rows (at most COUNT_CAP) and whether there are more."""
    counted = session.scalar(_statements(replace(shape, keyset=False))[0], parameters) or 0
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def _rows(session: Session, shape: _Shape, parameters: dict[str, Any], *, limit: int, offset: int) -> list[InboxRow]:
    window = {"window": offset + limit, "limit": limit, "offset": offset}
    return [InboxRow(*row) for row in session.execute(_statements(shape)[1], {**parameters, **window})]


def _with_audiences(parameters: dict[str, Any], audience: list[str] | None) -> dict[str, Any]:
    named = {f"audience_{n}": value for n, value in enumerate(audience or [])}
    return {**parameters, **named}


# Secret cases are rare: one probe of a small partial index decides whether a page needs the filter at all, so the
# common inbox keeps its index-only count.
_ANY_SECRET = (
    select(HumanTask.id)
    .where(HumanTask.secret, HumanTask.audience.in_(bindparam("audiences", expanding=True)))
    .limit(1)
)


def _any_secret(session: Session, audience: list[str] | None) -> bool:
    """Whether any task of a secret case waits in these audiences (None: the team view, which sees them all)."""
    return audience is not None and session.scalar(_ANY_SECRET, {"audiences": audience}) is not None


def inbox(session: Session, *, user: User, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of a user's inbox tab with the query's filters and order: the first, the one after `query.after` or
    before `query.before` (keyset pages, whatever their depth), or the query's numbered page."""
    audience = tab_audiences(user, query.tab)
    if audience == []:
        return InboxPage([], 0)
    shape = _Shape(
        audiences=0 if audience is None else len(audience),
        confidential=_any_secret(session, audience),
        by_process=query.process is not None,
        by_gemeente=query.gemeente is not None,
        due=query.due,
        by_case_number=query.case_number is not None,
        sort=query.sort,
        descending=query.descending,
    )
    parameters = _with_audiences(
        {
            "process": query.process,
            "gemeente": query.gemeente,
            "now": now,
            "week": now + timedelta(days=7),
            "case_number": _like(query.case_number or ""),
            **confidential_parameters(user, at=now),
        },
        audience,
    )
    total, capped = _count(session, shape, parameters)
    rows, previous, following = _page(session, shape, parameters, query)
    return InboxPage(
        rows,
        total,
        capped,
        next_cursor=None if following is None else _encode_cursor(following, query),
        previous_cursor=None if previous is None else _encode_cursor(previous, query),
    )


def _keyed(key: tuple[Any, ...]) -> dict[str, Any]:
    return {f"key_{n}": value for n, value in enumerate(key)}


def _page(
    session: Session, shape: _Shape, parameters: dict[str, Any], query: InboxQuery
) -> tuple[list[InboxRow], tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """The rows of the query's page, and the keys the previous and the next page are read from (None: no such page).

    One row more than the page is read to know whether another page follows, in the direction of reading.
    """
    limit, sort = query.per_page, query.sort
    after = _decode_cursor(query.after, query)
    before = None if after is not None else _decode_cursor(query.before, query)
    if before is not None:  # read backwards from the cursor, then turn the rows around
        back = replace(shape, descending=not shape.descending, keyset=True)
        rows = _rows(session, back, {**parameters, **_keyed(before)}, limit=limit + 1, offset=0)
        if rows:
            earlier = len(rows) > limit
            rows = rows[:limit][::-1]
            return rows, _sort_key(rows[0], sort) if earlier else None, _sort_key(rows[-1], sort)
        # nothing before it (any more): the first page
    elif after is not None:
        rows = _rows(session, replace(shape, keyset=True), {**parameters, **_keyed(after)}, limit=limit + 1, offset=0)
        if rows:
            following = _sort_key(rows[limit - 1], sort) if len(rows) > limit else None
            return rows[:limit], _sort_key(rows[0], sort), following
        # nothing after it (any more, colleagues completed those tasks): the last page
        back = replace(shape, descending=not shape.descending)
        rows = _rows(session, back, parameters, limit=limit + 1, offset=0)
        earlier = len(rows) > limit
        rows = rows[:limit][::-1]
        return rows, _sort_key(rows[0], sort) if earlier and rows else None, None
    offset = (query.page - 1) * limit
    rows = _rows(session, shape, parameters, limit=limit + 1, offset=offset)
    following = _sort_key(rows[limit - 1], sort) if len(rows) > limit else None
    return rows[:limit], _sort_key(rows[0], sort) if rows and offset else None, following


@dataclass(frozen=True)
class Count:
    """How many tasks a tab holds: `total`, or more than that when `capped` (shown as "1.000+")."""

    total: int
    capped: bool = False


def tab_counts(session: Session, *, user: User) -> dict[str, Count]:
    """How many tasks each inbox tab holds for `user` (the team tab only for coordinators), up to COUNT_CAP."""
    counts: dict[str, Count] = {}
    for tab in TABS:
        if tab == "team" and not may_see_team(user):
            continue
        audience = tab_audiences(user, tab)
        shape = _Shape(audiences=0 if audience is None else len(audience), confidential=_any_secret(session, audience))
        parameters = _with_audiences(confidential_parameters(user), audience)
        counts[tab] = Count(*_count(session, shape, parameters))
    return counts


def list_tasks(
    session: Session,
    *,
    user: User | None = None,
    instance_id: int | None = None,
    task_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
) -> InboxPage:
    """Open tasks, earliest deadline first; only those `user` may work on when a user is given."""
    audience = audiences(user) if user is not None else None
    shape = _Shape(
        audiences=0 if audience is None else len(audience),
        # one task: its own row says whether it is secret, so the clause is checked instead of probing for any
        confidential=audience is not None and (task_id is not None or _any_secret(session, audience)),
        by_instance=instance_id is not None,
        by_task=task_id is not None,
    )
    parameters = _with_audiences(
        {
            "instance_id": instance_id,
            "task_id": task_id,
            **(confidential_parameters(user) if user is not None else {}),
        },
        audience,
    )
    rows = _rows(session, shape, parameters, limit=limit, offset=offset)
    if not with_total:
        return InboxPage(rows, len(rows))
    return InboxPage(rows, *_count(session, shape, parameters))


def task_row(session: Session, task_id: str) -> InboxRow:
    """One open task as the inbox shows it (after a claim or reassignment)."""
    return list_tasks(session, task_id=task_id, with_total=False).tasks[0]


def save_filter(session: Session, *, user: User, name: str, query: InboxQuery, at: datetime) -> SavedFilter:
    """Store (or overwrite) a named inbox filter for `user`."""
    name = name.strip()[:80]
    if not name:
        raise InvalidInput("Geef het filter een naam.", {"naam": ["Dit veld is verplicht."]})
    saved = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if saved is None:
        saved = SavedFilter(user_id=user.id, name=name, query=query.as_dict(), created_at=at)
        session.add(saved)
    else:
        saved.query = query.as_dict()
    session.flush()
    return saved


def saved_filters(session: Session, *, user: User) -> list[SavedFilter]:
    """A user's saved inbox filters by name."""
    return list(session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name)))


def delete_filter(session: Session, *, user: User, filter_id: int) -> None:
    """Remove one of the user's own saved filters."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound("Dit filter bestaat niet.")
    session.delete(saved)
