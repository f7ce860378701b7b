"""Sign-in and sessions: username + password (argon2), rate-limited per account and per address, idle timeout."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from engine.models import User
from engine.users import verify_password
from web.extensions import limiter
from web.security import EXPIRED_USER, LAST_SEEN
from web.services import reader

bp = Blueprint("auth", __name__)

FAILED_LOGIN = "login-failed"


def _account_key() -> str:
    return "account:" + request.form.get("gebruikersnaam", "").strip().lower()[:64]


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) == 401


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


def locked_out() -> tuple[str, int]:
    """The answer when too many sign-in attempts failed (per account or per address)."""
    message = _(
        "Te veel mislukte inlogpogingen voor dit account of vanaf dit adres. Probeer het over 15 minuten "
        "opnieuw of neem contact op met beheer."
    )
    return render_template("auth/login.html", error=message, username=request.form.get("gebruikersnaam", "")), 429


@bp.route("/inloggen", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_failed)
@limiter.limit("5 per 15 minutes", key_func=_account_key, methods=["POST"], deduct_when=_failed)
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("auth/login.html", username="", next=request.args.get("next", ""))
    username = request.form.get("gebruikersnaam", "").strip().lower()
    password = request.form.get("wachtwoord", "")
    with reader() as db_session:
        user = db_session.scalar(select(User).where(User.username == username))
        valid = user is not None and user.active and verify_password(user, password)
    if not valid or user is None:
        return render_template(
            "auth/login.html",
            error=_("Gebruikersnaam of wachtwoord klopt niet."),
            username=username,
            next=request.form.get("next", ""),
        ), 401
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user)
    session[LAST_SEEN] = time.time()
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/uitloggen")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/sessie")
def session_status() -> ResponseReturnValue:
    """Seconds until the idle timeout (read by the warning in the page; does not extend the session)."""
    if not current_user.is_authenticated:
        return jsonify({"ingelogd": False, "resterend": 0})
    idle = 60 * int(current_app.config["ZVH_IDLE_MINUTES"])
    remaining = max(0, int(idle - (time.time() - float(session.get(LAST_SEEN, time.time())))))
    return jsonify({"ingelogd": True, "resterend": remaining})


@bp.post("/sessie/verlengen")
@login_required
def extend_session() -> ResponseReturnValue:
    """'Blijf ingelogd': any authenticated request resets the idle timer; this one does nothing else."""
    return jsonify({"ingelogd": True})


@bp.post("/taal")
def choose_language() -> ResponseReturnValue:
    language = request.form.get("taal", "nl")
    session["taal"] = language if language in ("nl", "en") else "nl"
    return redirect(_safe_next(request.form.get("terug")))


def expired_user_id() -> int | None:
    """Who was signed in before the idle timeout ended the session (set by web.security)."""
    value = session.get(EXPIRED_USER)
    return int(value) if value is not None else None
