"""The privacy officer's (FG) pages: search the access log, one person's history, noodtoegang, refusals, quarters.

A person is looked up by BSN, or name and birth date, posted in a form (never in a URL, so never in a server log);
the page then continues with the pseudonymous person key only.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from engine.errors import InvalidInput
from engine.privacy.logbook import (
    OUTCOMES,
    LogFilter,
    emergency_accesses,
    event_types,
    key_of_person,
    person_history,
    quarterly_counts,
    refused_accesses,
    require_privacy_officer,
    search_log,
)
from engine.privacy.organisations import ORGANISATIONS
from web.services import me, now, reader, transaction

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _page_number() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))


def _person_key_from_form() -> tuple[str | None, dict[str, list[str]]]:
    """The person key for what the FG typed (BSN, or name and birth date), or the errors to show."""
    require_privacy_officer(me())
    try:
        with reader() as session:
            key = key_of_person(
                session,
                bsn=request.form.get("bsn", ""),
                name=request.form.get("naam", ""),
                birth_date=request.form.get("geboortedatum", ""),
            )
    except InvalidInput as invalid:
        return None, invalid.fields
    return key, {}


@bp.get("/logboek")
@login_required
def logbook() -> ResponseReturnValue:
    query = LogFilter.from_dict(request.args.to_dict())
    with transaction() as session:
        found = search_log(session, user=me(), query=query, at=now())
        actions = event_types(session)
    return render_template(
        "privacy/logbook.html",
        query=query,
        found=found,
        actions=actions,
        outcomes=OUTCOMES,
        organisations=ORGANISATIONS,
        errors={},
    )


@bp.post("/logboek")
@login_required
def logbook_person() -> ResponseReturnValue:
    """Search the log by person: the typed BSN or name becomes a person key in the (GET) search."""
    key, errors = _person_key_from_form()
    query = LogFilter.from_dict(request.form.to_dict())
    if key is None:
        with reader() as session:
            actions = event_types(session)
        return render_template(
            "privacy/logbook.html",
            query=query,
            found=None,
            actions=actions,
            outcomes=OUTCOMES,
            organisations=ORGANISATIONS,
            errors=errors,
        ), 422
    return redirect(url_for("privacy.logbook", persoon=key, **query.as_dict()))


@bp.get("/persoon")
@login_required
def person() -> ResponseReturnValue:
    """Wie heeft de gegevens van persoon X gezien: every read and change of their data, oldest first."""
    require_privacy_officer(me())
    key = LogFilter.from_dict(request.args.to_dict()).person_key
    if key is None:
        return render_template("privacy/person.html", found=None, key=None, errors={})
    with transaction() as session:
        found = person_history(session, user=me(), key=key, at=now(), page=_page_number())
    return render_template("privacy/person.html", found=found, key=key, errors={})


@bp.post("/persoon")
@login_required
def person_lookup() -> ResponseReturnValue:
    key, errors = _person_key_from_form()
    if key is None:
        return render_template("privacy/person.html", found=None, key=None, errors=errors), 422
    return redirect(url_for("privacy.person", persoon=key))


@bp.get("/noodtoegang")
@login_required
def emergencies() -> ResponseReturnValue:
    with transaction() as session:
        found = emergency_accesses(session, user=me(), at=now(), page=_page_number())
    return render_template("privacy/emergencies.html", found=found)


@bp.get("/geweigerd")
@login_required
def refusals() -> ResponseReturnValue:
    with transaction() as session:
        found = refused_accesses(session, user=me(), at=now(), page=_page_number())
    return render_template("privacy/refusals.html", found=found)


@bp.get("/kwartalen")
@login_required
def quarters() -> ResponseReturnValue:
    with transaction() as session:
        actions, counts = quarterly_counts(session, user=me(), at=now())
    return render_template("privacy/quarters.html", actions=actions, counts=counts)
