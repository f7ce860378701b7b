"""Account review for the beheerder: roles, organisation, 2FA, last sign-in; idle accounts to disable."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.accounts import INACTIVE_AFTER, disable_account, reset_account_second_factor, review_accounts
from web.services import me, now, reader, transaction

bp = Blueprint("accounts", __name__)


@bp.get("/beheer/accounts")
@login_required
def review() -> ResponseReturnValue:
    with reader() as db_session:
        rows = review_accounts(db_session, actor=me(), at=now())
    return render_template("accounts/review.html", rows=rows, inactive_days=INACTIVE_AFTER.days)


@bp.post("/beheer/accounts/<username>/uitschakelen")
@login_required
def disable(username: str) -> ResponseReturnValue:
    with transaction() as db_session:
        disable_account(db_session, actor=me(), username=username, at=now())
    flash(_("Het account %(naam)s is uitgeschakeld.", naam=username), "success")
    return redirect(url_for("accounts.review"))


@bp.post("/beheer/accounts/<username>/tweestapsverificatie-herstellen")
@login_required
def reset_second_factor(username: str) -> ResponseReturnValue:
    with transaction() as db_session:
        reset_account_second_factor(db_session, actor=me(), username=username, at=now())
    flash(
        _(
            "De tweestapsverificatie van %(naam)s is gewist; bij het volgende inloggen stelt die een nieuwe app in.",
            naam=username,
        ),
        "success",
    )
    return redirect(url_for("accounts.review"))
