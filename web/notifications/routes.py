"""The bell: a user's notifications, marking them read, and the per-kind preferences (app, e-mail)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from engine.errors import InvalidInput
from engine.notifications import (
    KINDS,
    list_notifications,
    mark_read,
    open_notification,
    preferences,
    set_preferences,
    unread_count,
)
from web.services import me, now, reader, transaction

bp = Blueprint("notifications", __name__)

#: Checkbox values a browser sends for a ticked box; nothing is sent for an unticked one.
_TICKED = ("1", "on")


def _unread() -> int:
    with reader() as session:
        return unread_count(session, user=me())


@bp.app_context_processor
def bell() -> dict[str, Callable[[], int]]:
    """The unread count for the bell in the header, counted only when a page for a signed-in user shows it."""
    return {"unread_notifications": _unread} if current_user.is_authenticated else {}


def _safe_link(link: str) -> str:
    """Only a path on this site: never a redirect to another host (`//host`, `/\\host`)."""
    if link.startswith("/") and not link.startswith(("//", "/\\")):
        return link
    return url_for("notifications.index")


@bp.get("/meldingen")
@login_required
def index() -> ResponseReturnValue:
    with reader() as session:
        rows = list_notifications(session, user=me())
    return render_template("notifications/index.html", notifications=rows)


@bp.get("/meldingen/<int:notification_id>")
@login_required
def open_one(notification_id: int) -> ResponseReturnValue:
    with transaction() as session:
        link = open_notification(session, user=me(), notification_id=notification_id, at=now())
    return redirect(_safe_link(link))


@bp.post("/meldingen/gelezen")
@login_required
def read_all() -> ResponseReturnValue:
    with transaction() as session:
        count = mark_read(session, user=me(), notification_id=None, at=now())
    flash(_("%(aantal)s melding(en) als gelezen gemarkeerd.", aantal=count), "success")
    return redirect(url_for("notifications.index"))


def _chosen(form: MultiDict[str, str]) -> tuple[dict[str, tuple[bool, bool]], dict[str, list[str]]]:
    """Per kind (app, e-mail) from the form's checkboxes, and the fields whose value no checkbox sends."""
    values: dict[str, tuple[bool, bool]] = {}
    problems: dict[str, list[str]] = {}
    for kind in KINDS:
        ticks = [form.get(f"{kind}-{channel}") for channel in ("app", "email")]
        if any(tick not in (None, *_TICKED) for tick in ticks):
            problems[kind] = [_("Ongeldige keuze.")]
        values[kind] = (ticks[0] in _TICKED, ticks[1] in _TICKED)
    return values, problems


def _settings_page(
    values: dict[str, tuple[bool, bool]], errors: dict[str, list[str]], status: int = 200
) -> tuple[str, int]:
    page = render_template("notifications/settings.html", values=values, errors=errors, has_email=bool(me().email))
    return page, status


@bp.route("/meldingen/instellingen", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    if request.method == "GET":
        with reader() as session:
            return _settings_page(preferences(session, user=me()), {})
    values, problems = _chosen(request.form)
    if problems:
        return _settings_page(values, problems, 422)
    try:
        with transaction() as session:
            set_preferences(session, user=me(), values=values, at=now())
    except InvalidInput as refused:
        return _settings_page(values, refused.fields, 422)
    flash(_("Uw instellingen voor meldingen zijn opgeslagen."), "success")
    return redirect(url_for("notifications.settings"))
