"""JSON API (/api/v1): personal API tokens, the same authorization rules and engine calls as the web pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from uuid import UUID

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import UnsupportedMediaType

from engine.access import may_view, visible_instance
from engine.errors import Conflict, InvalidInput, NotFound
from engine.inbox import InboxQuery, InboxRow, inbox, list_tasks, may_see_team
from engine.models import AuditEvent, Meeting, OverlegType, User
from engine.overleg.meetings import agenda, meetings_for  # overleg (H3)
from engine.overleg.present import agenda_dict  # overleg (H3)
from engine.present import instance_dict, task_dict
from engine.privacy.accesslog import record_read, record_search
from engine.privacy.visibility import form_values, may_see_confidential, redact_case_data
from engine.registry import list_processes, load_version
from engine.runtime import Outcome
from engine.users import note_token_use, token_holder
from web.api.openapi import MAX_INSTANCE_ID, OPENAPI, PROCESS_KEY_PATTERN
from web.privacy.context import api_user_signed_in
from web.services import now, queue_timers, reader, runtime, transaction
from web.tasks.instructions import render_instructions

bp = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

_PROCESS_KEY = re.compile(PROCESS_KEY_PATTERN.removeprefix("^").removesuffix("$"))
_CHALLENGE = 'Bearer realm="zvh-regie"'
_COMPLETED_IN = (
    select(AuditEvent.instance_id)
    .where(AuditEvent.task_id == bindparam("task_id"), AuditEvent.action == "complete")
    .limit(1)
)


def _unauthorized(message: str, *, invalid_token: bool = False) -> ResponseReturnValue:
    response = jsonify({"error": "unauthorized", "message": message})
    response.headers["WWW-Authenticate"] = f'{_CHALLENGE}, error="invalid_token"' if invalid_token else _CHALLENGE
    return response, 401


def token_required(view: F) -> F:
    """Only `Authorization: Bearer <token>`; session cookies are not accepted here (no CSRF exposure)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("Send a personal API token as 'Authorization: Bearer <token>'.")
        with reader() as session:  # a read: a GET never waits for the write lock
            holder = token_holder(session, token.strip(), at=now())
        if holder is None:
            return _unauthorized("The token is unknown, revoked, or belongs to an inactive user.", invalid_token=True)
        if holder.use_due:
            with transaction() as session:
                note_token_use(session, holder.token_id, at=now())
        user = holder.user
        g.api_user = user
        api_user_signed_in(user)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _user() -> User:
    user: User = g.api_user
    return user


def _locale() -> str:
    """The language of validation messages: what the client prefers, Dutch by default (as in the web app)."""
    return request.accept_languages.best_match(("nl", "en")) or "nl"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_body() -> dict[str, Any]:
    """The request body: nothing, or a JSON object whose optional "data" is an object."""
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH this raises 413
    if not raw.strip():
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        # NaN and Infinity are not JSON, and would come back out of the process state as invalid JSON.
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise InvalidInput("The body is not valid JSON.", {"_body": ["Send a JSON object."]}) from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", {"_body": ["Send a JSON object."]})
    if not isinstance(body.get("data", {}), dict):
        raise InvalidInput("'data' must be an object.", {"data": ["Expected an object."]})
    return body


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {"instance": instance_dict(outcome.instance), "next_tasks": [task_dict(t) for t in outcome.next_tasks]}


def _known_task(session: Session, user: User, task_id: str, *, team: bool = False) -> InboxRow | None:
    """The open task, or None once it was completed, if the caller may know of it; otherwise `NotFound`.

    As in the web app an open task is known when it is in the caller's inbox, or — with `team`, for claiming and
    completing, never for reading its data — when the caller sees the team's tasks. A completed task is known to
    whoever may see its case (engine.access), so doing it again is a conflict instead of a "not found".
    """
    audience = None if team and may_see_team(user) else user
    rows = list_tasks(session, user=audience, task_id=task_id, with_total=False).tasks
    if rows:
        return rows[0]
    instance_id = session.scalar(_COMPLETED_IN, {"task_id": task_id})
    if instance_id is None or not may_view(session, user, instance_id, at=now()):
        raise NotFound("This task does not exist or is not visible to you.")
    return None


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(OPENAPI)


@bp.get("/processes")
@token_required
def processes() -> ResponseReturnValue:
    user = _user()
    with reader() as session:
        result = []
        for version in list_processes(session):
            loaded = load_version(version)
            startable = loaded.may_be_started_by(user.role_keys)
            result.append(
                {"key": version.process_key, "name": version.name, "version": version.version, "startable": startable}
            )
    return jsonify(result)


@bp.post("/processes/<key>/instances")
@token_required
def start_instance(key: str) -> ResponseReturnValue:
    if not _PROCESS_KEY.fullmatch(key):
        raise NotFound(f"No process with key '{key[:128]}' is deployed.")
    body = _json_body()
    with transaction() as session:
        outcome = runtime().start_instance(
            session, process_key=key, actor=_user(), data=body.get("data", {}), locale=_locale()
        )
        payload = _outcome(outcome)
    queue_timers(outcome)
    return jsonify(payload), 201


@bp.get("/tasks")
@token_required
def tasks() -> ResponseReturnValue:
    query = InboxQuery.from_dict(request.args.to_dict())
    with reader() as session:  # a read never waits for the write lock (SQLite has one for the whole database)
        page = inbox(session, user=_user(), query=query, now=now())  # the team tab is refused to non-coordinators
    if query.case_number:  # as in the web inbox: a search for a case is logged, its number is not
        with transaction() as session:
            record_search(
                session, user=_user(), object_type="tasks", filters=query.as_dict(), at=now(), found=page.total
            )
    return jsonify(
        {
            "tasks": [task_dict(t) for t in page.tasks],
            "total": page.total,
            "total_capped": page.capped,
            "page": query.page,
            "per_page": query.per_page,
            "next": page.next_cursor,
            "previous": page.previous_cursor,
        }
    )


@bp.get("/tasks/<uuid:task_id>")
@token_required
def task(task_id: UUID) -> ResponseReturnValue:
    user = _user()
    with reader() as session:  # read without the write lock; only the access log below writes
        row = _known_task(session, user, str(task_id))
        if row is None:
            raise Conflict("This task has already been completed.")
        loaded = runtime().load(session, row.instance_id)
        spiff_task = loaded.find_task(row.id)
        if spiff_task is None or not may_see_confidential(session, user, loaded.row, at=now()):
            raise NotFound("This task does not exist or is not visible to you.")
        form = loaded.version.form_for(spiff_task.task_spec)
        instructions = render_instructions(
            spiff_task.task_spec.extensions.get("instructionsForEndUser"),
            redact_case_data(loaded.version.forms.values(), spiff_task.data, user),
        )
        payload = {
            **task_dict(row),
            "lock_version": loaded.row.lock_version,
            "form_schema": form.resolved_schema,
            "ui_schema": form.ui_schema,
            # Read-only context in a field class the caller lacks: "afgeschermd" (sent back, the value is kept).
            "data": form_values(form, {k: spiff_task.data[k] for k in form.fields if k in spiff_task.data}, user),
            "instructions": None if instructions is None else str(instructions),
        }
    with transaction() as session:
        record_read(session, user=user, instance_id=row.instance_id, object_type="task", task_id=row.id, at=now())
    return jsonify(_jsonable(payload))


@bp.post("/tasks/<uuid:task_id>/claim")
@token_required
def claim(task_id: UUID) -> ResponseReturnValue:
    user = _user()
    with transaction() as session:
        _known_task(session, user, str(task_id), team=True)
        row = runtime().claim_task(session, task_id=str(task_id), actor=user)
    return jsonify(task_dict(row))


@bp.post("/tasks/<uuid:task_id>/complete")
@token_required
def complete(task_id: UUID) -> ResponseReturnValue:
    body = _json_body()
    lock_version = body.get("lock_version")
    if lock_version is not None and (not isinstance(lock_version, int) or isinstance(lock_version, bool)):
        raise InvalidInput("'lock_version' must be an integer.", {"lock_version": ["Expected an integer."]})
    user = _user()
    with transaction() as session:
        _known_task(session, user, str(task_id), team=True)
        outcome = runtime().complete_task(
            session,
            task_id=str(task_id),
            actor=user,
            data=body.get("data", {}),
            lock_version=lock_version,
            locale=_locale(),
        )
        payload = _outcome(outcome)
    queue_timers(outcome)
    return jsonify(payload)


@bp.get(f"/instances/<int(max={MAX_INSTANCE_ID}):instance_id>")
@token_required
def instance(instance_id: int) -> ResponseReturnValue:
    with reader() as session:  # read without the write lock; only the access log below writes
        row = visible_instance(session, _user(), instance_id, at=now())
        if not may_see_confidential(session, _user(), row, at=now()):
            raise NotFound("Deze zaak bestaat niet of u heeft er geen toegang toe.")
        payload = {
            **instance_dict(row),
            "tasks": [task_dict(t) for t in list_tasks(session, instance_id=instance_id).tasks],
        }
    with transaction() as session:
        record_read(session, user=_user(), instance_id=instance_id, object_type="case", at=now())
    return jsonify(payload)


def _jsonable(value: Any) -> Any:
    """Process data as JSON: dates and times in ISO 8601 (Flask would write them as HTTP dates)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- overleg (H3): the meetings a user takes part in, and a meeting's agenda as the user may see it -----------------


#: How far back the list of meetings goes (older meetings stay readable by their id).
MEETINGS_SINCE = timedelta(days=90)


def _meeting_dict(meeting: Meeting, kind: OverlegType) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "type": kind.key,
        "name": kind.name,
        "organisation": kind.organisation,
        "starts_at": meeting.starts_at.isoformat(),
        "status": meeting.status,
        "by_hand": meeting.by_hand,
    }


@bp.get("/overleggen")
@token_required
def overleg_meetings() -> ResponseReturnValue:
    """The meetings the caller is a member of or may plan, from `MEETINGS_SINCE` ago on, the soonest first."""
    with reader() as session:
        found = meetings_for(session, _user(), since=now() - MEETINGS_SINCE)
        payload = [_meeting_dict(meeting, kind) for meeting, kind in found]
    return jsonify(payload)


@bp.get(f"/overleggen/<int(max={MAX_INSTANCE_ID}):meeting_id>")
@token_required
def overleg_agenda(meeting_id: int) -> ResponseReturnValue:
    """A meeting's agenda with only the items the caller is invited for; 404 when the caller may not see it."""
    with reader() as session:
        payload = agenda_dict(agenda(session, meeting_id=meeting_id, viewer=_user()))
    return jsonify(payload)
