"""The form editor: JSON Schema and UI schema side by side, a live preview by the task page's renderer, test data.

Forms live in the draft (`files["forms"]`) and are published with the process version that uses them. The preview
is rendered by web/schema_form.py and the test data checked by `engine.forms.Form.validate`, exactly as a task.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from engine.errors import Conflict, InvalidInput
from engine.forms import DRAFT_2020_12, Form, check_schema
from engine.modelling.drafts import get_draft, save_draft
from engine.models import ProcessDraft
from web.modeller.routes import bp, bpmn_of
from web.schema_form import render_form_fields
from web.services import me, now, reader, transaction

_FORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.json$")
NEW_FORM = json.dumps({"$schema": DRAFT_2020_12, "title": "", "type": "object", "properties": {}}, indent=2)
PREVIEW = "voorbeeld"


def ui_name(name: str) -> str:
    """The UI schema beside a form: `datalek_melding.json` → `datalek_melding.ui.json`."""
    return name.removesuffix(".json") + ".ui.json"


@dataclass
class Preview:
    """What the editor shows under its text fields: problems with the schema, the form, and the test data verdict."""

    problems: list[str] = field(default_factory=list)
    fields: Markup | None = None
    test_problems: list[str] = field(default_factory=list)
    test_errors: dict[str, list[str]] = field(default_factory=dict)
    tested: bool = False


def _parse(text: str, what: str, problems: list[str]) -> Any:
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(
            _("%(wat)s is geen geldige JSON (regel %(regel)s): %(fout)s", wat=what, regel=error.lineno, fout=error.msg)
        )
        return None


def _resources(draft_forms: dict[str, str], name: str) -> dict[str, Any]:
    """The draft's other schemas a form may `$ref` (definities.json and the like)."""
    resources = {}
    for other, text in draft_forms.items():
        if other != name:
            try:
                resources[other] = json.loads(text)
            except json.JSONDecodeError:
                continue
    return resources


def preview(name: str, schema_text: str, ui_text: str, test_text: str, draft_forms: dict[str, str]) -> Preview:
    """Check the typed schema, render it as the task page would, and validate the test data against it."""
    result = Preview()
    schema = _parse(schema_text, _("Het JSON Schema"), result.problems)
    ui_schema = _parse(ui_text, _("Het UI-schema"), result.problems)
    resources = _resources(draft_forms, name)
    if schema is not None and (reason := check_schema(schema, name=name, resources=resources)):
        result.problems.append(_("Het JSON Schema is niet bruikbaar: %(reden)s", reden=reason))
    if ui_schema is not None and not isinstance(ui_schema, dict):
        result.problems.append(_("Het UI-schema moet een JSON-object zijn."))
    if result.problems:
        return result
    form = Form(name=name, schema=schema, ui_schema=ui_schema, resources=resources)
    test_data = _parse(test_text, _("De testgegevens"), result.test_problems) if test_text.strip() else None
    if test_data is not None and not isinstance(test_data, dict):
        result.test_problems.append(_("De testgegevens moeten een JSON-object zijn."))
    elif test_data is not None:
        result.tested = True
        try:
            form.validate(test_data)
        except InvalidInput as invalid:
            result.test_errors = invalid.fields
    values = test_data if isinstance(test_data, dict) else {}
    result.fields = render_form_fields(form.resolved_schema, form.ui_schema, values, result.test_errors)
    return result


def _draft_forms(draft_id: int, name: str) -> tuple[ProcessDraft, dict[str, str]]:
    if not _FORM_NAME.match(name) or name.endswith(".ui.json"):
        abort(404)
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
        return draft, dict(draft.files.get("forms", {}))


def _editor(
    draft: ProcessDraft,
    name: str,
    typed: dict[str, str],
    forms: dict[str, str],
    *,
    status: int = 200,
    message: str | None = None,
) -> ResponseReturnValue:
    result = preview(name, typed["schema"], typed["ui_schema"], typed["testgegevens"], forms)
    return render_template(
        "modeller/form_editor.html", draft=draft, name=name, typed=typed, preview=result, message=message
    ), status


def _typed() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in ("schema", "ui_schema", "testgegevens", "revision")}


@bp.get("/concepten/<int:draft_id>/formulieren/<name>")
@login_required
def form_editor(draft_id: int, name: str) -> ResponseReturnValue:
    draft, forms = _draft_forms(draft_id, name)
    typed = {
        "schema": forms.get(name, NEW_FORM),
        "ui_schema": forms.get(ui_name(name), "{}"),
        "testgegevens": "",
        "revision": str(draft.revision),
    }
    return _editor(draft, name, typed, forms)


@bp.post("/concepten/<int:draft_id>/formulieren/<name>")
@login_required
def save_form(draft_id: int, name: str) -> ResponseReturnValue:
    """Save the schema (and UI schema) into the draft; an unusable schema is shown with its reason, nothing saved."""
    draft, forms = _draft_forms(draft_id, name)
    typed = _typed()
    if request.form.get("_actie") == PREVIEW:
        return _editor(draft, name, typed, forms)
    if preview(name, typed["schema"], typed["ui_schema"], "", forms).problems:
        return _editor(draft, name, typed, forms, status=422, message=_("Het formulier is niet opgeslagen."))
    updated = {**forms, name: typed["schema"]}
    if typed["ui_schema"].strip() not in ("", "{}") or ui_name(name) in forms:
        updated[ui_name(name)] = typed["ui_schema"]
    revision = int(typed["revision"]) if typed["revision"].isdigit() else draft.revision
    try:
        with transaction() as session:
            xml = bpmn_of(draft.files, draft.main_file)
            save_draft(session, draft_id=draft_id, actor=me(), bpmn_xml=xml, revision=revision, at=now(), forms=updated)
    except (Conflict, InvalidInput) as refused:
        # The user has now seen who saved in between: the next save from this page may replace it.
        typed["revision"] = str(draft.revision)
        status = 409 if isinstance(refused, Conflict) else 422
        return _editor(draft, name, typed, forms, status=status, message=refused.message)
    flash(_("Formulier %(naam)s is opgeslagen in het concept.", naam=name), "success")
    return redirect(url_for("modeller.form_editor", draft_id=draft_id, name=name))


@bp.post("/concepten/<int:draft_id>/formulieren/<name>/voorbeeld")
@login_required
def form_preview(draft_id: int, name: str) -> ResponseReturnValue:
    """The preview and the test data verdict for htmx, as the user types; nothing is saved."""
    _draft, forms = _draft_forms(draft_id, name)
    typed = _typed()
    result = preview(name, typed["schema"], typed["ui_schema"], typed["testgegevens"], forms)
    return render_template("modeller/_form_preview.html", preview=result, oob=True)
