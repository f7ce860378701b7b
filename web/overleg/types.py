"""Soorten overleg (beheer): the list of overleg types and the form to create or change one.

Only a beheerder (engine.overleg.types.TYPE_ADMIN_ROLES) configures types: the engine refuses a save by anyone else,
and these pages refuse the others before reading anything (403). What a type may hold is decided by
`engine.overleg.types.save_type`; the web side adds one check the engine cannot make from text alone: every feeding
step names a deployed process and a user task in it (`unknown_feeds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.demo import roles_in_use
from engine.errors import InvalidInput
from engine.i18n import N_
from engine.inbox import role_label, role_names
from engine.models import OverlegType, OverlegTypeMember, User
from engine.overleg.types import TYPE_ADMIN_ROLES, get_type, list_types, member_ids, save_type
from engine.privacy.organisations import ORGANISATIONS, organisation_name
from engine.registry import list_processes, load_version
from web.overleg import bp
from web.services import me, now, reader, transaction

#: ISO weekday → its Dutch name (msgids: the English catalogue translates them).
WEEKDAYS = {
    1: N_("maandag"),
    2: N_("dinsdag"),
    3: N_("woensdag"),
    4: N_("donderdag"),
    5: N_("vrijdag"),
    6: N_("zaterdag"),
    7: N_("zondag"),
}
#: The form's fields in the order the page shows them (for the error summary's links).
FIELDS = (
    "key",
    "name",
    "description",
    "organisation",
    "chair_role",
    "weekday",
    "start_time",
    "duration_minutes",
    "interval_weeks",
    "anchor",
    "cutoff_working_days",
    "cutoff_time",
    "feeds",
    "secretariaat_hours",
    "active",
    "members",
)


@dataclass(frozen=True)
class Step:
    """A user task of a deployed process that can feed an overleg: `process:element`."""

    process_key: str
    process_name: str
    element_id: str
    name: str

    @property
    def feed(self) -> str:
        return f"{self.process_key}:{self.element_id}"


def _weekday_name(day: int) -> str:
    return _(WEEKDAYS[day])


def deployed_steps(session: Session) -> dict[str, Step]:
    """Every user task of the newest version of every deployed process, by `process:element`."""
    steps: dict[str, Step] = {}
    for version in list_processes(session):
        loaded = load_version(version)
        for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                if not getattr(task_spec, "manual", False):
                    continue
                element = str(getattr(task_spec, "bpmn_id", None) or task_spec.name)
                name = str(getattr(task_spec, "bpmn_name", None) or element)
                step = Step(version.process_key, version.name, element, name)
                steps.setdefault(step.feed, step)
    return dict(sorted(steps.items(), key=lambda item: (item[1].process_name, item[1].name)))


def unknown_feeds(feeds: Sequence[str], steps: Mapping[str, Step]) -> list[str]:
    """The feeding steps that do not name a user task of a deployed process (pure: `steps` from `deployed_steps`)."""
    return [feed for feed in feeds if feed not in steps]


def frequency_text(kind: OverlegType) -> str:
    """How often the type meets, in words: "elke dinsdag 10:00", "elke 3 weken op donderdag 13:30", "op afspraak"."""
    if kind.weekday is None or kind.weekday not in WEEKDAYS:
        return _("op afspraak")
    day = _weekday_name(kind.weekday)
    if kind.interval_weeks <= 1:
        return _("elke %(dag)s %(tijd)s", dag=day, tijd=kind.start_time)
    return _("elke %(n)s weken op %(dag)s %(tijd)s", n=kind.interval_weeks, dag=day, tijd=kind.start_time)


def cutoff_text(kind: OverlegType) -> str:
    """Until when a case reaches the agenda, in words: "1 werkdag ervoor, 12:00"."""
    days = kind.cutoff_working_days
    if not days:
        return _("dezelfde dag, %(tijd)s", tijd=kind.cutoff_time)
    if days == 1:
        return _("1 werkdag ervoor, %(tijd)s", tijd=kind.cutoff_time)
    return _("%(n)s werkdagen ervoor, %(tijd)s", n=days, tijd=kind.cutoff_time)


def _feed_label(feed: str, steps: Mapping[str, Step]) -> str:
    step = steps.get(feed)
    return f"{step.process_name}: {step.name}" if step else feed


def _require_admin() -> None:
    if not me().role_keys & TYPE_ADMIN_ROLES:
        abort(403)


def _form_values(kind: OverlegType, members: Sequence[str]) -> dict[str, Any]:
    """A stored type as the form shows it (text values, lists for the multiple choices)."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    hours = kind.secretariaat_hours
    return {
        "key": kind.key,
        "name": kind.name,
        "description": text(kind.description),
        "organisation": kind.organisation,
        "chair_role": kind.chair_role,
        "weekday": text(kind.weekday),
        "start_time": kind.start_time,
        "duration_minutes": text(kind.duration_minutes),
        "interval_weeks": text(kind.interval_weeks),
        "anchor": kind.anchor.isoformat() if kind.anchor else "",
        "cutoff_working_days": text(kind.cutoff_working_days),
        "cutoff_time": kind.cutoff_time,
        "feeds": list(kind.feeds or []),
        "secretariaat_hours": "" if hours is None else f"{hours:g}",
        "active": "1" if kind.active else "",
        "members": list(members),
    }


_NEW_TYPE = {
    "organisation": "zvh",
    "weekday": "",
    "start_time": "10:00",
    "duration_minutes": "90",
    "interval_weeks": "1",
    "cutoff_working_days": "1",
    "cutoff_time": "12:00",
    "feeds": [],
    "members": [],
    "active": "1",
}


def _typed() -> dict[str, Any]:
    """What the beheerder posted, as `save_type` reads it (the feeds as lines of text, members as usernames)."""
    form = request.form
    values: dict[str, Any] = {name: form.get(name, "") for name in FIELDS if name not in ("feeds", "members")}
    values["feeds"] = [feed for feed in form.getlist("feeds") if feed.strip()]
    values["members"] = [name for name in form.getlist("members") if name.strip()]
    return values


def _form_page(
    *, key: str | None, values: Mapping[str, Any], errors: Mapping[str, list[str]], status: int = 200
) -> ResponseReturnValue:
    with reader() as session:
        steps = deployed_steps(session)
        names = role_names(session)
        roles = sorted(roles_in_use(session) | {str(values.get("chair_role") or "")} - {""})
        users = list(session.scalars(select(User).where(User.active).order_by(User.display_name)))
    chosen_feeds = list(values.get("feeds") or [])
    # a stored step that is no longer deployed stays visible (by its raw key), so the beheerder sees what to remove
    extra_feeds = [feed for feed in chosen_feeds if feed not in steps]
    grouped: dict[str, list[Step]] = {}
    for step in steps.values():
        grouped.setdefault(step.process_name, []).append(step)
    page = render_template(
        "overleg/type_form.html",
        key=key,
        values=values,
        errors=errors,
        organisations=[(org.key, org.name) for org in ORGANISATIONS.values()],
        org_names={org.key: org.name for org in ORGANISATIONS.values()},
        roles=[(role, role_label(role, names)) for role in roles],
        weekdays=[(str(day), _weekday_name(day)) for day in WEEKDAYS],
        grouped_steps=grouped,
        extra_feeds=extra_feeds,
        users=users,
    )
    return page, status


def _save(key: str | None) -> ResponseReturnValue:
    values = _typed()
    try:
        with transaction() as session:
            unknown = unknown_feeds(values["feeds"], deployed_steps(session))
            if unknown:
                raise InvalidInput(
                    _("Het soort overleg is niet opgeslagen; verbeter de gemarkeerde velden."),
                    {
                        "feeds": [
                            _(
                                "Deze stappen bestaan niet in een uitgerold proces: %(stappen)s",
                                stappen=", ".join(unknown),
                            )
                        ]
                    },
                )
            saved = save_type(
                session, actor=me(), values={**values, "feeds": "\n".join(values["feeds"])}, at=now(), key=key
            )
            name = saved.name
    except InvalidInput as refused:
        flash(refused.message, "error")
        return _form_page(key=key, values=values, errors=refused.fields, status=422)
    flash(_("Soort overleg %(naam)s opgeslagen.", naam=name), "success")
    return redirect(url_for("overleg.types"))


@bp.get("/beheer/overleggen")
@login_required
def types() -> ResponseReturnValue:
    """Every overleg type with its owner, chair, frequency, cut-off, feeding steps, support hours and members."""
    _require_admin()
    with reader() as session:
        kinds = list_types(session)
        steps = deployed_steps(session)
        names = role_names(session)
        counts = dict(
            session.execute(
                select(OverlegTypeMember.type_id, func.count())
                .join(User, User.id == OverlegTypeMember.user_id)
                .where(User.active)
                .group_by(OverlegTypeMember.type_id)
            )
            .tuples()
            .all()
        )
    rows = [
        {
            "kind": kind,
            "organisation": organisation_name(kind.organisation),
            "chair": role_label(kind.chair_role, names),
            "frequency": frequency_text(kind),
            "cutoff": cutoff_text(kind),
            "feeds": [_feed_label(feed, steps) for feed in kind.feeds or []],
            "members": counts.get(kind.id, 0),
        }
        for kind in kinds
    ]
    return render_template("overleg/types.html", rows=rows)


@bp.route("/beheer/overleggen/nieuw", methods=["GET", "POST"])
@login_required
def new_type() -> ResponseReturnValue:
    _require_admin()
    if request.method == "POST":
        return _save(None)
    return _form_page(key=None, values=_NEW_TYPE, errors={})


@bp.route("/beheer/overleggen/<type_key>", methods=["GET", "POST"])
@login_required
def edit_type(type_key: str) -> ResponseReturnValue:
    _require_admin()
    with reader() as session:
        kind = get_type(session, type_key)  # an unknown type is a 404, also for a POST
        ids = member_ids(session, kind.id)
        usernames = list(session.scalars(select(User.username).where(User.id.in_(ids)).order_by(User.username)))
        values = _form_values(kind, usernames)
    if request.method == "POST":
        return _save(type_key)
    return _form_page(key=type_key, values=values, errors={})
