"""Sign-in and sessions: username + password (argon2), failed attempts slowed down, server-side sessions that end."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.demo import is_demo_database
from engine.errors import InvalidInput, PermissionDenied
from engine.models import User, UserSession
from engine.sessions import (
    ADMIN_ROLE,
    end_session,
    end_session_by_id,
    end_sessions_of,
    is_current,
    live_sessions,
    note_sign_in,
    start_session,
)
from engine.twofactor import has_second_factor, second_factor_required
from engine.users import (
    LANGUAGES,
    authenticate,
    change_password,
    get_user,
    password_outdated,
    rehash_if_outdated,
    set_language,
)
from web.auth import throttle
from web.auth.pending import ENROL_NEXT, await_second_factor
from web.security import EXPIRED_USER, LANGUAGE, LAST_SEEN, SERVER_SESSION, fresh_session, idle_timeout
from web.services import me, now, reader, transaction

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    # Browsers read `/\host` as `//host`: another site.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


def demo_database() -> bool:
    """Whether this is a demo database (the sign-in pages then say how demo users get their codes)."""
    with reader() as db_session:
        return is_demo_database(db_session)


def locked_out(retry_after: int | None = None) -> ResponseReturnValue:
    """The answer while failed sign-in attempts (per account or per address) make the next one wait."""
    message = _(
        "Te veel mislukte inlogpogingen voor dit account of vanaf dit adres. Wacht even en probeer het dan opnieuw."
    )
    page = render_template("auth/login.html", error=message, username=request.form.get("gebruikersnaam", ""))
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return page, 429, headers


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("auth/login.html", username="", next=request.args.get("next", ""), demo=demo_database())
    username = request.form.get("gebruikersnaam", "").strip().lower()
    password = request.form.get("wachtwoord", "")
    account, address = throttle.scopes(username=username, address=request.remote_addr)
    moment = now().timestamp()
    if wait := throttle.retry_after((account, address), now=moment):
        return locked_out(wait)
    with reader() as db_session:
        user = authenticate(db_session, username=username, password=password)
    if user is not None and password_outdated(user):  # once per user, after the hash parameters changed
        with transaction() as db_session:
            rehash_if_outdated(db_session, user=user, password=password)
    if user is None:
        delay = int(current_app.config["ZVH_SIGNIN_DELAY_SECONDS"])
        throttle.failed((account, address), base_delay=delay, now=moment)
        return render_template(
            "auth/login.html",
            error=_("Gebruikersnaam of wachtwoord klopt niet."),
            username=username,
            next=request.form.get("next", ""),
        ), 401
    target = _safe_next(request.form.get("next"))
    if has_second_factor(user):
        # The password alone signs in no one: the code page finishes the sign-in (and forgives the failures).
        await_second_factor(user, next_url=target)
        return redirect(url_for("twofactor.second_step"))
    throttle.succeeded(account)
    if second_factor_required(user):
        sign_in(user, completed=False)
        session[ENROL_NEXT] = target
        return redirect(url_for("twofactor.enrol"))
    sign_in(user)
    return redirect(target)


def sign_in(user: User, *, completed: bool = True) -> None:
    """Start a server-side session for `user`; `completed` when nothing more is asked of them (2FA done or n/a)."""
    chosen = session.get(LANGUAGE)  # chosen before signing in: the user's choice from now on
    with transaction() as db_session:
        token = start_session(
            db_session, user=user, at=now(), user_agent=request.user_agent.string, ip=request.remote_addr
        )
        if completed:
            note_sign_in(db_session, user_id=user.id, at=now())
        if chosen in LANGUAGES and chosen != user.language:
            set_language(db_session, user_id=user.id, language=chosen)
    fresh_session()  # a fresh session on sign-in (no fixation)
    login_user(user)
    if chosen not in LANGUAGES and user.language in LANGUAGES:
        session[LANGUAGE] = user.language
    session[SERVER_SESSION] = token
    session[LAST_SEEN] = time.time()
    session.permanent = True


@bp.post("/uitloggen")
def logout() -> ResponseReturnValue:
    token = session.get(SERVER_SESSION)
    if token is not None:
        with transaction() as db_session:
            end_session(db_session, token=token, at=now())
    logout_user()
    fresh_session()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("auth.login"))


def _sessions_page(rows: list[UserSession], *, everyone: bool) -> str:
    token = session.get(SERVER_SESSION)
    current = {row.id for row in rows if is_current(row, token)}
    return render_template("auth/sessions.html", rows=rows, current=current, everyone=everyone)


@bp.get("/account/sessies")
@login_required
def my_sessions() -> ResponseReturnValue:
    """Where the user is signed in, with a button to end each session."""
    with reader() as db_session:
        rows = live_sessions(db_session, at=now(), idle=idle_timeout(current_app), user=me())
    return _sessions_page(rows, everyone=False)


@bp.get("/beheer/sessies")
@login_required
def all_sessions() -> ResponseReturnValue:
    """(Beheerder) everyone's live sessions, or one user's (`?gebruiker=`)."""
    if not me().has_role(ADMIN_ROLE):
        raise PermissionDenied(_("Alleen een beheerder kan de sessies van anderen zien."))
    username = request.args.get("gebruiker", "").strip().lower()
    with reader() as db_session:
        user = get_user(db_session, username) if username else None
        rows = live_sessions(db_session, at=now(), idle=idle_timeout(current_app), user=user)
    return _sessions_page(rows, everyone=True)


@bp.post("/account/sessies/<session_id>/beeindigen")
@login_required
def end_one_session(session_id: str) -> ResponseReturnValue:
    with transaction() as db_session:
        end_session_by_id(db_session, session_id=session_id, actor=me(), at=now())
    flash(_("De sessie is beëindigd."), "success")
    return redirect(_safe_next(request.form.get("terug") or url_for("auth.my_sessions")))


@bp.post("/account/sessies/andere-beeindigen")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    with transaction() as db_session:
        end_sessions_of(db_session, user=me(), at=now(), keep_token=session.get(SERVER_SESSION))
    flash(_("U bent op alle andere plaatsen uitgelogd."), "success")
    return redirect(url_for("auth.my_sessions"))


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change one's own password; every other session of the account ends."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    try:
        with transaction() as db_session:
            change_password(
                db_session,
                user=db_session.merge(me()),
                current_password=request.form.get("huidig_wachtwoord", ""),
                new_password=request.form.get("nieuw_wachtwoord", ""),
                keep_token=session.get(SERVER_SESSION),
                at=now(),
            )
    except InvalidInput as error:
        return render_template("auth/password.html", errors=error.fields), 422
    flash(_("Uw wachtwoord is gewijzigd. U bent op alle andere plaatsen uitgelogd."), "success")
    return redirect(url_for("auth.my_sessions"))


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
    """Switch the language; a signed-in user keeps the choice for their next sign-in too."""
    language = request.form.get("taal", "nl")
    language = language if language in LANGUAGES else "nl"
    session[LANGUAGE] = language
    if current_user.is_authenticated:
        with transaction() as db_session:
            set_language(db_session, user_id=current_user.id, language=language)
    return redirect(_safe_next(request.form.get("terug")))


def expired_user_id() -> int | None:
    """Who was signed in before the idle timeout ended the session (set by web.security)."""
    value = session.get(EXPIRED_USER)
    return int(value) if value is not None else None
