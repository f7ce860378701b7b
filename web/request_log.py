"""One log line per request: method, route template, endpoint, status, duration, user id and request id.

The line names the route (`/taken/<task_id>`), never the path with its query string, and the user by numeric id:
what the request carried stays out of the log (see engine.ops.logs for what a log line may hold). Static files are not
logged, and the probes of the ops blueprint (/healthz, /readyz, /metrics, asked every few seconds) only at DEBUG.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from flask.logging import default_handler

from engine.models import User
from web.security import request_seconds

log = logging.getLogger("zvh.request")


def _user_id() -> int | None:
    """The user the request was answered for, if it was looked up: never a database query of its own (the line is
    also written when the database is away, and for probes that need no user)."""
    api_user = g.get("api_user")
    if isinstance(api_user, User):
        return api_user.id
    loaded = g.get("_login_user")  # where Flask-Login keeps the user once `current_user` was first used
    return loaded.id if isinstance(loaded, User) else None


def _log_request(response: Response) -> Response:
    seconds = request_seconds()
    if request.endpoint == "static" or seconds is None:
        return response
    rule = request.url_rule
    log.log(
        logging.DEBUG if request.blueprint == "ops" else logging.INFO,
        "request",
        extra={
            "method": request.method,
            "route": rule.rule if rule is not None else None,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": _user_id(),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Log every request but those for static files; the app's own records go to the root logger's handler."""
    app.after_request(_log_request)
    # Flask adds a plain stderr handler to the app's logger; the root logger's handler writes its records instead.
    app.logger.removeHandler(default_handler)
