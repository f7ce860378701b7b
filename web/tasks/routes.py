"""The task page: the form rendered from its JSON Schema, drafts, completion, and starting processes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from engine.access import visible_instance
from engine.context import in_form_order, is_repeated_round, starts_empty, task_context
from engine.db import session_keys
from engine.drafts import discard_start_draft, load_draft, save_draft
from engine.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from engine.forms import Form
from engine.inbox import InboxRow, list_tasks, may_read_team_cases, may_see_team
from engine.models import CompletedTask, User
from engine.monitor.scan import MONITOR_ROLES
from engine.privacy.accesslog import record_read
from engine.privacy.bekendheid import PersonAnswer, check_persons, persons_field, task_reason
from engine.privacy.visibility import case_classes, form_values, may_see_confidential, redact, redact_case_data
from engine.registry import latest_version, load_version, startable
from web.auth.routes import expired_user_id
from web.form_submission import apply_row_action, parse_submission
from web.schema_form import field_id, field_labels, label_for, render_form_fields
from web.services import me, now, queue_timers, reader, runtime, transaction
from web.tasks.instructions import render_instructions

bp = Blueprint("tasks", __name__)

COMPLETE, DRAFT = "afronden", "concept"


def _login_redirect() -> ResponseReturnValue:
    return redirect(url_for("auth.login", next=request.path))


def _my_task(session: Any, user: User, task_id: str) -> InboxRow:
    """An open task the user may work on; anything else is 'not found' (existence is not revealed)."""
    rows = list_tasks(session, user=user, task_id=task_id, with_total=False).tasks
    if not rows:
        raise NotFound(_("Deze taak bestaat niet (meer) of u heeft er geen toegang toe."))
    return rows[0]


def _team_task(session: Any, user: User, task_id: str) -> InboxRow:
    """(Coordinator) an open task of the team in a case the user may see, to look at: never to work on."""
    rows = list_tasks(session, task_id=task_id, with_total=False).tasks if may_read_team_cases(user) else []
    if not rows:
        raise NotFound(_("Deze taak bestaat niet (meer) of u heeft er geen toegang toe."))
    visible_instance(session, user, rows[0].instance_id, at=now())
    return rows[0]


def _open_task(session: Any, user: User, task_id: str, *, to_view: bool = False) -> tuple[InboxRow, Any, Any, bool]:
    """The task's inbox row, its case loaded, its SpiffWorkflow task and whether it is only to look at (`to_view`:
    a coordinator may look at a team task they cannot work on); `NotFound` for anything the user may not open."""
    read_only = False
    try:
        row = _my_task(session, user, task_id)
    except NotFound:
        if not to_view:
            raise
        row, read_only = _team_task(session, user, task_id), True
    loaded = runtime().load(session, row.instance_id)
    spiff_task = loaded.find_task(task_id)
    if spiff_task is None or not may_see_confidential(session, user, loaded.row, at=now()):
        raise NotFound(_("Deze taak bestaat niet (meer) of u heeft er geen toegang toe."))
    return row, loaded, spiff_task, read_only


def _task_form(session: Any, user: User, task_id: str) -> tuple[InboxRow, Form]:
    """The task and its form, as a submit needs them: the rest of the page only when it is shown again."""
    row, loaded, spiff_task, _ = _open_task(session, user, task_id)
    return row, loaded.version.form_for(spiff_task.task_spec)


def _task_context(session: Any, user: User, task_id: str, *, to_view: bool = False) -> dict[str, Any]:
    """What the task page shows; `to_view`: a coordinator may look at a team task they cannot work on (read-only)."""
    row, loaded, spiff_task, read_only = _open_task(session, user, task_id, to_view=to_view)
    form = loaded.version.form_for(spiff_task.task_spec)
    data = dict(spiff_task.data)
    sections = task_context(session, loaded, spiff_task, user, now=now())
    return {
        "task": row,
        "instance": loaded.row,
        "form": form,
        "data": data,
        "read_only": read_only,
        "sections": sections,
        "repeated": is_repeated_round(loaded, spiff_task) and starts_empty(spiff_task.task_spec),
        "classes": case_classes(session, user, loaded.row, at=now()),
        "bekendheid_field": persons_field(spiff_task.task_spec),
        "may_reassign": may_see_team(user),
        "may_monitor": bool(user.role_keys & MONITOR_ROLES),
        "instructions": render_instructions(
            spiff_task.task_spec.extensions.get("instructionsForEndUser"),
            redact_case_data(loaded.version.forms.values(), data, user),
        ),
    }


def _check_answers(session: Any, user: User, context: dict[str, Any]) -> list[PersonAnswer] | None:
    """A check task's answer per person, asked (and logged) as the viewer; None for other tasks."""
    field, instance = context["bekendheid_field"], context["instance"]
    if field is None:
        return None
    return check_persons(
        session,
        keys=session_keys(session),
        asker=user,
        reason=task_reason(context["task"].name, instance.case_number),
        persons=context["data"].get(field),
        exclude_case=instance.case_number,
        at=now(),
    )


def _form_values(form: Form, data: dict[str, Any], *, repeated: bool = False) -> dict[str, Any]:
    """What the form shows at first: values the case already has for its fields.

    A repeated round (the step completed earlier in the case) starts with its editable fields empty: the previous
    round's decision is shown beside the form as context, never silently submitted again.
    """
    keys = form.read_only_fields if repeated else form.fields
    return {key: data[key] for key in keys if key in data}


def _render_form(
    template: str,
    context: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    message: str | None = None,
) -> ResponseReturnValue:
    """A task or start page: the fields from the form's schema, an error summary, what the user typed."""
    form: Form = context["form"]
    # Read-only context fields are never posted back: they always show what the case holds.
    data = context.get("data", {})
    values = {**values, **{k: data[k] for k in form.read_only_fields if k in data}}
    # Read-only context in a field class the user lacks shows as "afgeschermd" (engine.privacy.visibility).
    values = form_values(form, values, me())
    labels = field_labels(form.resolved_schema)
    fields = render_form_fields(form.resolved_schema, form.ui_schema, values, errors)

    def place(path: str) -> int:
        """Where the field (or the group holding it) stands in the rendered form; unknown ones last."""
        at = fields.find(f'id="{field_id(path)}"')
        return at if at >= 0 else len(fields)

    # The error summary follows the form's order, not the order in which validation found the errors.
    summary = [(path, label_for(labels, path), text) for path in sorted(errors, key=place) for text in errors[path]]
    return render_template(
        template,
        fields=fields,
        summary=summary,
        message=message,
        field_labels=field_labels,
        label_for=label_for,
        **context,
    ), status


_render_task = partial(_render_form, "tasks/task.html")


@bp.get("/taken/<task_id>")
def task(task_id: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _login_redirect()
    user = me()
    with reader() as session:  # the page is read without the write lock; only the access log below writes
        context = _task_context(session, user, task_id, to_view=True)
        draft = None if context["read_only"] else load_draft(session, task_id=task_id, user=user)
    with transaction() as session:
        record_read(
            session, user=user, instance_id=context["instance"].id, object_type="task", task_id=task_id, at=now()
        )
        context["bekendheid"] = _check_answers(session, user, context)  # asks the person index and logs each ask
    if context["read_only"]:
        form = context["form"]
        shown = in_form_order(form, redact(form, _form_values(form, context["data"]), user, classes=context["classes"]))
        return render_template(
            "tasks/task.html",
            fields=None,
            summary=[],
            message=None,
            shown=shown,
            field_labels=field_labels,
            label_for=label_for,
            **context,
        )
    values = _form_values(context["form"], context["data"], repeated=context["repeated"])
    message = None
    if draft is not None:
        values.update(draft.data)
        message = _("U werkt verder aan uw concept van %(moment)s.", moment=draft.saved_at.strftime("%d-%m-%Y %H:%M"))
    return _render_task(context, values, {}, message=message)


@bp.post("/taken/<task_id>")
def submit(task_id: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _keep_as_draft_after_expiry(
            lambda session, user: _task_context(session, user, task_id)["form"], task_id=task_id
        )
    user = me()
    action = request.form.get("_actie", COMPLETE)
    # Only the task and its form before the step: the page around it (context sections, instructions) is built
    # when it is shown again, after a refused or other action, not for every completion.
    with reader() as session:
        try:
            row, form = _task_form(session, user, task_id)
        except NotFound:
            if not _completed_by(session, user, task_id):
                raise
            # A second submit of what this user already completed (a double click, or a retry after a lost answer).
            message = _("U heeft deze taak al afgerond; er is niets opnieuw opgeslagen.")
            return render_template("tasks/gone.html", message=message), 409
    values = parse_submission(form.resolved_schema, request.form)
    if action == DRAFT:
        with transaction() as session:
            save_draft(session, task_id=task_id, user=user, data=values, at=now())
        flash(_("Concept opgeslagen. U kunt later verder."), "success")
        return redirect(url_for("tasks.task", task_id=task_id))
    if action != COMPLETE:
        return _show_again(task_id, apply_row_action(form.resolved_schema, values, action), {})
    lock_version = request.form.get("_lock_version", type=int)
    try:
        with transaction() as session:
            outcome = runtime().complete_task(
                session,
                task_id=task_id,
                actor=user,
                data=values,
                lock_version=lock_version,
                locale=_locale(),
            )
    except InvalidInput as invalid:  # without fields the case as a whole was refused (e.g. its data grew too large)
        # Nothing was stored (the transaction rolled back): the page is the one the user sent the form from.
        return _show_again(
            task_id, values, invalid.fields, status=422, message=None if invalid.fields else invalid.message
        )
    except (Conflict, ConfigurationError) as problem:
        return _after_conflict(task_id, values, problem.message)
    queue_timers(outcome)
    if outcome.instance.status == "error":
        flash(_("Uw stap is opgeslagen, maar het proces liep daarna vast; beheer is op de hoogte."), "warning")
    else:
        flash(_("Taak '%(naam)s' afgerond.", naam=row.name), "success")
    if outcome.next_tasks:
        return redirect(url_for("tasks.task", task_id=outcome.next_tasks[0].id))
    return redirect(url_for("inbox.index"))


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "nl")


def _completed_by(session: Session, user: User, task_id: str) -> bool:
    """Whether `user` completed task `task_id` (only they learn that it was completed, no one else)."""
    done = session.get(CompletedTask, task_id) if len(task_id) <= 36 else None
    return done is not None and done.completed_by_id == user.id


def _show_again(
    task_id: str, values: dict[str, Any], fields: dict[str, list[str]], *, status: int = 200, message: str | None = None
) -> ResponseReturnValue:
    """The task page again with what was typed, read now; if a colleague completed the task meanwhile, that is said
    as any conflict is (409), never a bare "not found"."""
    try:
        with reader() as session:
            context = _task_context(session, me(), task_id)
    except NotFound:
        return _after_conflict(
            task_id, values, _("Deze taak is intussen door iemand anders afgerond; er is niets opgeslagen.")
        )
    return _render_task(context, values, fields, status=status, message=message)


def _after_conflict(task_id: str, values: dict[str, Any], message: str) -> ResponseReturnValue:
    """A colleague was first, the user submitted twice, or the case changed: say so, keep what was typed."""
    with reader() as session:
        still_open = bool(list_tasks(session, user=me(), task_id=task_id, with_total=False).tasks)
        if still_open:
            fresh = _task_context(session, me(), task_id)
    if not still_open:
        return render_template("tasks/gone.html", message=message), 409
    return _render_task(fresh, values, {}, status=409, message=message)


def _keep_as_draft_after_expiry(form_of: Callable[[Any, User], Form], **key: str) -> ResponseReturnValue:
    """A form posted after the idle timeout: keep what was typed as the (expired) user's draft, then ask to sign
    in. `form_of` finds the form the way the page does, so a task or process the user may not use keeps nothing."""
    user_id = expired_user_id()
    if user_id is not None:
        with transaction() as session:
            user = session.get(User, user_id)
            try:
                form = form_of(session, user) if user is not None else None
            except NotFound:
                form = None
            if user is not None and form is not None:
                data = parse_submission(form.resolved_schema, request.form)
                save_draft(session, user=user, data=data, at=now(), **key)
                flash(_("Wat u invulde is bewaard als concept. Log opnieuw in om verder te gaan."), "warning")
    return _login_redirect()


def csrf_failed_on_task(error: CSRFError) -> ResponseReturnValue | None:
    """A task form with an expired or missing CSRF token: show it again with what was typed, save nothing."""
    if request.endpoint != "tasks.submit" or not current_user.is_authenticated:
        return None
    task_id = (request.view_args or {}).get("task_id", "")
    try:
        with reader() as session:
            context = _task_context(session, me(), task_id)
    except NotFound:  # not theirs, or gone: the plain refusal, which tells nothing about the task
        return None
    values = parse_submission(context["form"].resolved_schema, request.form)
    return _render_task(
        context,
        values,
        {},
        status=400,
        message=_("Het formulier was verlopen. Controleer uw invoer en verstuur het opnieuw."),
    )


# --- starting processes -----------------------------------------------------------------------------------------


@bp.get("/starten")
def start_list() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _login_redirect()
    with reader() as session:
        processes = startable(session, me().role_keys)
    return render_template("tasks/start_list.html", processes=processes)


def _start_context(session: Any, user: User, process_key: str) -> dict[str, Any]:
    if process_key not in dict(startable(session, user.role_keys)):
        raise NotFound(_("Dit proces bestaat niet of u mag het niet starten."))
    stored = latest_version(session, process_key)
    loaded = load_version(stored)
    return {"process_key": process_key, "process_name": loaded.name, "form": loaded.start_form}


_render_start = partial(_render_form, "tasks/start.html")


@bp.get("/starten/<process_key>")
def start_form(process_key: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _login_redirect()
    with reader() as session:
        context = _start_context(session, me(), process_key)
        draft = load_draft(session, process_key=process_key, user=me())
    return _render_start(context, dict(draft.data) if draft else {}, {})


@bp.post("/starten/<process_key>")
def start(process_key: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _keep_as_draft_after_expiry(
            lambda session, user: _start_context(session, user, process_key)["form"], process_key=process_key
        )
    user = me()
    with reader() as session:
        context = _start_context(session, user, process_key)
    form: Form = context["form"]
    values = parse_submission(form.resolved_schema, request.form)
    action = request.form.get("_actie", COMPLETE)
    if action == DRAFT:
        with transaction() as session:
            save_draft(session, process_key=process_key, user=user, data=values, at=now())
        flash(_("Concept opgeslagen. U kunt later verder."), "success")
        return redirect(url_for("tasks.start_form", process_key=process_key))
    if action != COMPLETE:
        return _render_start(context, apply_row_action(form.resolved_schema, values, action), {})
    try:
        with transaction() as session:
            outcome = runtime().start_instance(
                session, process_key=process_key, actor=user, data=values, locale=_locale()
            )
            discard_start_draft(session, user=user, process_key=process_key)
    except InvalidInput as invalid:
        return _render_start(
            context, values, invalid.fields, status=422, message=None if invalid.fields else invalid.message
        )
    except (Conflict, ConfigurationError) as problem:
        return _render_start(context, values, {}, status=409, message=problem.message)
    queue_timers(outcome)
    flash(
        _(
            "%(proces)s gestart als zaak %(nummer)s.",
            proces=context["process_name"],
            nummer=outcome.instance.case_number,
        ),
        "success",
    )
    if outcome.next_tasks:
        return redirect(url_for("tasks.task", task_id=outcome.next_tasks[0].id))
    return redirect(url_for("cases.case", instance_id=outcome.instance.id))
