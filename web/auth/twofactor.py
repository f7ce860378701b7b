"""The second step of signing in, setting up an authenticator app, and recovery codes.

Users whose role needs two-factor sign-in (engine.twofactor.REQUIRED_ROLES) and who have no app yet are signed in
after their password only to set one up: `_require_enrolment` sends every other request there, server-side.
The API is not affected: it takes personal tokens only, which a beheerder issues (`zvh users token`), never a cookie.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Conflict, InvalidInput
from engine.models import User
from engine.sessions import note_sign_in
from engine.twofactor import (
    confirm_enrolment,
    enrolment,
    has_second_factor,
    regenerate_recovery_codes,
    second_factor_required,
    unused_recovery_codes,
    verify_second_factor,
)
from web.auth import throttle
from web.auth.pending import ENROL_NEXT, PENDING, pending_sign_in
from web.auth.routes import demo_database, sign_in
from web.services import me, now, reader, transaction

bp = Blueprint("twofactor", __name__)

#: What a user who still has to set up their app may do meanwhile.
_OPEN_DURING_ENROLMENT = frozenset(
    {
        "twofactor.enrol",
        "auth.logout",
        "auth.choose_language",
        "auth.session_status",
        "auth.extend_session",
    }
)


@bp.before_app_request
def _require_enrolment() -> ResponseReturnValue | None:
    """A signed-in user who needs a second factor and has none can only set one up (checked on every request)."""
    if request.blueprint == "api" or request.endpoint == "static" or not current_user.is_authenticated:
        return None
    user: User = current_user._get_current_object()  # type: ignore[assignment]
    if not second_factor_required(user) or has_second_factor(user):
        return None
    g.zvh_enrolling = True  # the page header then offers no menu
    return None if request.endpoint in _OPEN_DURING_ENROLMENT else redirect(url_for("twofactor.enrol"))


def _code_page(
    error: str | None = None, status: int = 200, headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    return render_template("auth/second_step.html", error=error, demo=demo_database()), status, headers or {}


@bp.route("/inloggen/code", methods=["GET", "POST"])
def second_step() -> ResponseReturnValue:
    """After the right password: a code from the authenticator app (or a recovery code) finishes signing in."""
    pending = pending_sign_in()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Log opnieuw in: het inloggen duurde te lang of is niet begonnen."), "warning")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return _code_page()
    account, address = throttle.scopes(username=pending.username, address=request.remote_addr)
    moment = now()
    if wait := throttle.retry_after((account, address), now=moment.timestamp()):
        message = _("Te veel onjuiste codes voor dit account of vanaf dit adres. Wacht even en probeer het opnieuw.")
        return _code_page(message, 429, {"Retry-After": str(wait)})
    with transaction() as db_session:
        user = db_session.get(User, pending.user_id)
        factor = None
        if user is not None and user.active:
            factor = verify_second_factor(db_session, user=user, code=request.form.get("code", ""), at=moment)
        left = unused_recovery_codes(db_session, user=user) if user is not None and factor == "recovery" else None
    if user is None or factor is None:
        delay = int(current_app.config["ZVH_SIGNIN_DELAY_SECONDS"])
        throttle.failed((account, address), base_delay=delay, now=moment.timestamp())
        return _code_page(_("Deze code klopt niet. Gebruik de code die nu in uw app staat."), 401)
    throttle.succeeded(account)
    sign_in(user)
    if left is not None:
        flash(
            _(
                "U bent ingelogd met een herstelcode; u heeft er nog %(aantal)s. Maak nieuwe herstelcodes aan als "
                "u er weinig over heeft.",
                aantal=left,
            ),
            "warning",
        )
    return redirect(pending.next_url)


@bp.route("/account/tweestapsverificatie/instellen", methods=["GET", "POST"])
@login_required
def enrol() -> ResponseReturnValue:
    """Set up an authenticator app: scan the QR code (or type the secret), then confirm with a first code."""
    if has_second_factor(me()):
        return redirect(url_for("twofactor.manage"))
    required = second_factor_required(me())
    if request.method == "POST":
        try:
            with transaction() as db_session:
                user = db_session.get(User, me().id)
                assert user is not None  # the signed-in user exists
                codes = confirm_enrolment(db_session, user=user, code=request.form.get("code", ""), at=now())
                note_sign_in(db_session, user_id=user.id, at=now())
        except InvalidInput as error:
            return _enrol_page(required=required, errors=error.fields), 422
        flash(_("Tweestapsverificatie staat aan."), "success")
        return render_template(
            "auth/recovery_codes.html", codes=codes, next_url=session.pop(ENROL_NEXT, None) or url_for("inbox.index")
        )
    return _enrol_page(required=required, errors={})


def _enrol_page(*, required: bool, errors: dict[str, list[str]]) -> str:
    with transaction() as db_session:
        user = db_session.get(User, me().id)
        assert user is not None
        started = enrolment(db_session, user=user, at=now())
    return render_template("auth/enrol.html", enrolment=started, required=required, errors=errors)


@bp.get("/account/tweestapsverificatie")
@login_required
def manage() -> ResponseReturnValue:
    """Whether two-factor sign-in is on, how many recovery codes are left, and making new ones."""
    with reader() as db_session:
        left = unused_recovery_codes(db_session, user=me())
    return render_template(
        "auth/twofactor.html", enabled=has_second_factor(me()), required=second_factor_required(me()), left=left
    )


@bp.post("/account/tweestapsverificatie/herstelcodes")
@login_required
def new_recovery_codes() -> ResponseReturnValue:
    """New recovery codes (the old ones stop working); a code from the app proves it is the user."""
    try:
        with transaction() as db_session:
            user = db_session.get(User, me().id)
            assert user is not None
            codes = regenerate_recovery_codes(db_session, user=user, code=request.form.get("code", ""), at=now())
    except (InvalidInput, Conflict):
        flash(_("De code uit uw authenticator-app klopt niet; er zijn geen nieuwe herstelcodes gemaakt."), "error")
        return redirect(url_for("twofactor.manage"))
    return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("twofactor.manage"))
