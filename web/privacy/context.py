"""Who is asking, from where, under which request id: the access context of every audit entry of a request.

Set before each request (engine.audit keeps it in a context variable, so engine code needs no Flask); the API sets
the token's user once it is known. A refused case, task or privacy page is logged from the one error handler.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request
from flask_login import current_user

from engine.audit import AccessContext, current_access, set_access
from engine.errors import NotFound, PermissionDenied, ZvhError
from engine.models import User
from engine.privacy.accesslog import record_refusal
from web.services import now, transaction

#: A request id a proxy or client may pass on (anything else is replaced by our own).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
#: The object a refused page of a blueprint is about, when it is not one case or task.
_OBJECTS = {"privacy": "accesslog"}


def _start_request() -> None:
    if request.endpoint == "static":
        return
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    user = current_user._get_current_object() if current_user.is_authenticated else None
    set_access(AccessContext.of(request_id=request_id, client=request.remote_addr, user=user))


def _tag_response(response: Response) -> Response:
    request_id = current_access().request_id
    if request_id and request.endpoint != "static":
        response.headers["X-Request-Id"] = request_id
    return response


def api_user_signed_in(user: User) -> None:
    """The API's user (known from its token once the request began) is the one its entries are about."""
    context = current_access()
    set_access(AccessContext.of(request_id=context.request_id, client=context.client, user=user))


def _requester() -> User | None:
    api_user = g.get("api_user")
    if isinstance(api_user, User):
        return api_user
    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[no-any-return]


def log_refusal(error: ZvhError) -> None:
    """Log a refused case, task or privacy page (NEN 7513: refusals are access events too)."""
    if not isinstance(error, NotFound | PermissionDenied):
        return
    user = _requester()
    args = request.view_args or {}
    instance_id, task_id = args.get("instance_id"), args.get("task_id")
    if user is None or (instance_id is None and task_id is None and not isinstance(error, PermissionDenied)):
        return
    if instance_id is not None:
        object_type, object_id = "case", None
    elif task_id is not None:
        object_type, object_id = "task", None
    else:
        object_type, object_id = _OBJECTS.get(request.blueprint or "", "page"), request.endpoint
    with transaction() as session:
        record_refusal(
            session,
            user=user,
            object_type=object_type,
            instance_id=instance_id if isinstance(instance_id, int) else None,
            task_id=str(task_id) if task_id is not None else None,
            object_id=object_id,
            at=now(),
        )


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_tag_response)
