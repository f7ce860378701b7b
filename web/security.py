"""Security headers, the session cookie, and the idle timeout."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, Response, current_app, flash, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from engine.sessions import end_session
from web.services import now, transaction

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # bpmn-js sets style attributes on the SVG it draws; scripts stay strictly 'self'.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Set in the session when an idle session was ended, so a form posted after expiry can be kept as a draft.
EXPIRED_USER = "verlopen_gebruiker"
LAST_SEEN = "laatst_actief"
#: The token of the server-side session (engine.sessions); without a live session row the cookie signs in no one.
SERVER_SESSION = "sessie"
#: The language shown (`nl`, `en`); not personal, so it outlives the session it was chosen in.
LANGUAGE = "taal"


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came in over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def idle_timeout(app: Flask) -> timedelta:
    """How long a session may go unused (ZVH_IDLE_MINUTES)."""
    return timedelta(minutes=int(app.config["ZVH_IDLE_MINUTES"]))


def _start_timer() -> None:
    """The one clock of a request: Server-Timing, the request log line and the request metrics all read it."""
    g.zvh_started = time.perf_counter()


def request_seconds() -> float | None:
    """Seconds since the request began (None before the timer ran, e.g. when a hook before it failed)."""
    started = g.get("zvh_started")
    return None if started is None else time.perf_counter() - started


def _security_headers(response: Response) -> Response:
    seconds = request_seconds()
    if seconds is not None:  # lets monitoring (and bench/web_bench.py) see the server time of each request
        response.headers["Server-Timing"] = f"app;dur={seconds * 1000:.2f}"
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _enforce_idle_timeout() -> None:
    """End a session that was idle longer than ZVH_IDLE_MINUTES; remember who it was (for draft rescue)."""
    # The API authenticates every request with a token and has no session to time out.
    if request.blueprint == "api" or request.endpoint in ("static", "auth.session_status"):
        return
    if not current_user.is_authenticated:
        return
    moment = time.time()
    last_seen = session.get(LAST_SEEN)
    if last_seen is not None and moment - float(last_seen) > idle_timeout(current_app).total_seconds():
        user_id = current_user.id
        _end_server_session()
        logout_user()
        session.pop(LAST_SEEN, None)
        session[EXPIRED_USER] = user_id
        flash(_("Uw sessie was verlopen omdat u een tijd niets heeft gedaan. Log opnieuw in."), "warning")
        return
    session[LAST_SEEN] = moment
    session.permanent = True


def _end_server_session() -> None:
    token = session.pop(SERVER_SESSION, None)
    if token is not None:
        with transaction() as db_session:
            end_session(db_session, token=token, at=now())


def init_app(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    # First of all before-request hooks, so the time covers them all.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.before_request(_enforce_idle_timeout)
    app.after_request(_security_headers)


def fresh_session() -> None:
    """Start a new session (sign-in, sign-out, a pending second factor): nothing carries over but the language."""
    language = session.get(LANGUAGE)
    session.clear()
    if language is not None:
        session[LANGUAGE] = language
