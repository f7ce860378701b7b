"""JSON API (/api/v1): personal API tokens, the same authorization rules and engine calls as the web pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.access import visible_instance
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.inbox import InboxQuery, inbox, list_tasks
from engine.models import AuditEvent, User
from engine.present import instance_dict, task_dict
from engine.registry import latest_version, list_processes, load_version
from engine.users import user_for_token
from web.api.openapi import OPENAPI
from web.services import now, reader, runtime, transaction

bp = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def _unauthorized(message: str) -> ResponseReturnValue:
    response = jsonify({"error": "unauthorized", "message": message})
    response.headers["WWW-Authenticate"] = 'Bearer realm="zvh-regie"'
    return response, 401


def token_required(view: F) -> F:
    """Only `Authorization: Bearer <token>`; session cookies are not accepted here (no CSRF exposure)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("Send a personal API token as 'Authorization: Bearer <token>'.")
        with transaction() as session:
            user = user_for_token(session, token.strip(), at=now())
        if user is None:
            return _unauthorized("The token is unknown, revoked, or belongs to an inactive user.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _user() -> User:
    user: User = g.api_user
    return user


def _json_body() -> dict[str, Any]:
    """The request body as a JSON object with an optional object under "data"."""
    body = request.get_json(silent=True)
    if body is None:
        body = {}
        if request.data.strip():
            raise InvalidInput("The body is not valid JSON.", {"_body": ["Send a JSON object."]})
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", {"_body": ["Send a JSON object."]})
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise InvalidInput("'data' must be an object.", {"data": ["Expected an object."]})
    return body


def _task_for(session: Any, user: User, task_id: str) -> Any:
    rows = list_tasks(session, user=user, task_id=task_id, with_total=False).tasks
    if rows:
        return rows[0]
    mine = session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.task_id == task_id, AuditEvent.action == "complete", AuditEvent.actor == user.username
        )
    )
    if mine is not None:
        raise Conflict("You already completed this task.")
    raise NotFound("This task does not exist or is not visible to you.")


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
            startable = loaded.user_startable and (not loaded.start_roles or bool(loaded.start_roles & user.role_keys))
            result.append({"key": version.process_key, "name": version.name, "version": version.version,
                           "startable": startable})
    return jsonify(result)


@bp.post("/processes/<key>/instances")
@token_required
def start_instance(key: str) -> ResponseReturnValue:
    body = _json_body()
    user = _user()
    with transaction() as session:
        try:
            latest_version(session, key)
        except NotFound:
            raise NotFound(f"No process '{key}' is deployed.") from None
        outcome = runtime().start_instance(session, process_key=key, actor=user, data=body.get("data", {}))
        payload = {"instance": instance_dict(outcome.instance), "next_tasks": [task_dict(t) for t in outcome.next_tasks]}
    return jsonify(payload), 201


@bp.get("/tasks")
@token_required
def tasks() -> ResponseReturnValue:
    user = _user()
    query = InboxQuery.from_dict(request.args.to_dict())
    if query.tab == "team" and not (user.role_keys & {"coordinator", "manager"}):
        raise PermissionDenied("Only coordinators and managers see the team's tasks.")
    with reader() as session:
        page = inbox(session, user=user, query=query, now=now())
    return jsonify({"tasks": [task_dict(t) for t in page.tasks], "total": page.total, "page": query.page,
                    "per_page": query.per_page})


@bp.get("/tasks/<task_id>")
@token_required
def task(task_id: str) -> ResponseReturnValue:
    user = _user()
    with reader() as session:
        row = _task_for(session, user, task_id)
        loaded = runtime().load(session, row.instance_id)
        spiff_task = loaded.find_task(task_id)
        if spiff_task is None:
            raise NotFound("This task does not exist or is not visible to you.")
        form = loaded.version.form_for(spiff_task.task_spec)
        data = {key: spiff_task.data[key] for key in form.fields if key in spiff_task.data}
        payload = {
            **task_dict(row),
            "lock_version": loaded.row.lock_version,
            "form_schema": form.resolved_schema,
            "ui_schema": form.ui_schema,
            "data": data,
            "instructions": spiff_task.task_spec.extensions.get("instructionsForEndUser"),
        }
    return jsonify(_jsonable(payload))


@bp.post("/tasks/<task_id>/claim")
@token_required
def claim(task_id: str) -> ResponseReturnValue:
    user = _user()
    with transaction() as session:
        _task_for(session, user, task_id)
        row = runtime().claim_task(session, task_id=task_id, actor=user)
    return jsonify(task_dict(row))


@bp.post("/tasks/<task_id>/complete")
@token_required
def complete(task_id: str) -> ResponseReturnValue:
    body = _json_body()
    user = _user()
    lock_version = body.get("lock_version")
    if lock_version is not None and (not isinstance(lock_version, int) or isinstance(lock_version, bool)):
        raise InvalidInput("'lock_version' must be an integer.", {"lock_version": ["Expected an integer."]})
    with transaction() as session:
        _task_for(session, user, task_id)
        outcome = runtime().complete_task(
            session, task_id=task_id, actor=user, data=body.get("data", {}), lock_version=lock_version,
            locale="en" if request.accept_languages.best_match(["nl", "en"]) == "en" else "nl",
        )
        payload = {"instance": instance_dict(outcome.instance), "next_tasks": [task_dict(t) for t in outcome.next_tasks]}
    return jsonify(payload)


@bp.get("/instances/<int:instance_id>")
@token_required
def instance(instance_id: int) -> ResponseReturnValue:
    user = _user()
    with reader() as session:
        row = visible_instance(session, user, instance_id)
        payload = {**instance_dict(row), "tasks": [task_dict(t) for t in list_tasks(session, instance_id=instance_id).tasks]}
    return jsonify(payload)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
