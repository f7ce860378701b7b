"""The Bekendheidscheck page for the ZVH roles that may ask: BSN, or name and birth date, and a reason.

The person is posted in a form (never in a URL, so never in a server log); the answer names contacts, never cases.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from engine.db import session_keys
from engine.errors import InvalidInput
from engine.privacy.bekendheid import check_known, may_ask, require_may_ask
from web.services import me, now, transaction

bp = Blueprint("bekendheid", __name__, url_prefix="/bekendheid")

FIELDS = ("bsn", "naam", "geboortedatum", "reden")


@bp.app_context_processor
def _menu() -> dict[str, Any]:
    return {"may_ask_bekendheid": lambda: current_user.is_authenticated and may_ask(current_user)}


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    require_may_ask(me())
    return render_template("bekendheid/index.html", typed={}, errors={}, answer=None)


@bp.post("")
@login_required
def check() -> ResponseReturnValue:
    require_may_ask(me())
    typed = {name: request.form.get(name, "")[:2000] for name in FIELDS}
    try:
        with transaction() as session:
            answer = check_known(
                session,
                keys=session_keys(session),
                asker=me(),
                reason=typed["reden"],
                bsn=typed["bsn"],
                name=typed["naam"],
                birth_date=typed["geboortedatum"],
                at=now(),
            )
    except InvalidInput as invalid:
        errors = invalid.fields or {"bsn": [invalid.message]}
        return render_template("bekendheid/index.html", typed=typed, errors=errors, answer=None), 422
    return render_template("bekendheid/index.html", typed={}, errors={}, answer=answer)
