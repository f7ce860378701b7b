"""Processen beheren: the modeller, drafts, comparison, impact, publishing with four eyes, forms and migration.

Only process owners know these pages exist: `_process_owners_only` answers 404 to everyone else before any route
runs. The routes the modeller's JavaScript calls answer errors as JSON (`_JSON_ENDPOINTS`), the others as a page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Conflict, InvalidInput, NotFound
from engine.modelling import require_process_owner
from engine.modelling.choices import modeller_choices
from engine.modelling.compare import compare_draft, compare_versions
from engine.modelling.drafts import (
    get_draft,
    import_draft,
    managed_processes,
    open_drafts,
    save_draft,
    start_draft,
    validate_xml,
    version_by_number,
    versions,
)
from engine.modelling.impact import impact
from engine.modelling.publish import four_eyes_setting, set_four_eyes
from engine.models import ProcessDraft, ProcessVersion
from web.services import me, now, reader, transaction

bp = Blueprint("modeller", __name__, url_prefix="/beheer")


@bp.before_request
def _process_owners_only() -> None:
    if current_user.is_authenticated:  # anonymous visitors are sent to sign in by `login_required`
        require_process_owner(me())


def bpmn_of(files: dict[str, dict[str, str]], main_file: str) -> str:
    return files["bpmn"][main_file]


def _xml_response(xml: str, filename: str) -> Response:
    response = Response(xml, mimetype="application/xml")
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


# --- overview ---------------------------------------------------------------------------------------------------


def _index_page(*, status: int = 200, problem: dict[str, Any] | None = None) -> ResponseReturnValue:
    with reader() as session:
        processes = managed_processes(session)
    return render_template("modeller/index.html", processes=processes, problem=problem or {}), status


@bp.get("/processen")
@login_required
def index() -> ResponseReturnValue:
    return _index_page()


@bp.post("/importeren")
@login_required
def import_file() -> ResponseReturnValue:
    """A .bpmn file (e.g. from Camunda Modeler) becomes a draft of the process it defines."""
    upload = request.files.get("bestand")
    if upload is None or not upload.filename:
        return _index_page(status=422, problem={"filename": "", "messages": [_("Kies een BPMN-bestand.")]})
    try:
        with transaction() as session:
            draft = import_draft(session, actor=me(), filename=upload.filename, content=upload.read(), at=now())
            key, draft_id = draft.process_key, draft.id
    except InvalidInput as refused:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
        return _index_page(status=422, problem={"filename": upload.filename, "messages": messages})
    flash(_("%(bestand)s is ingelezen als concept.", bestand=upload.filename), "success")
    return redirect(url_for("modeller.modeller", key=key, concept=draft_id))


@bp.get("/processen/<key>")
@login_required
def process(key: str) -> ResponseReturnValue:
    with reader() as session:
        history = versions(session, process_key=key)
        drafts = open_drafts(session, process_key=key)
        four_eyes = four_eyes_setting(session, process_key=key)
    return render_template("modeller/process.html", key=key, history=history, drafts=drafts, four_eyes=four_eyes)


@bp.post("/processen/<key>/vier-ogen")
@login_required
def four_eyes(key: str) -> ResponseReturnValue:
    with transaction() as session:
        set_four_eyes(session, process_key=key, value=request.form.get("vier_ogen", ""), actor=me(), at=now())
    flash(_("De instelling voor goedkeuring is opgeslagen."), "success")
    return redirect(url_for("modeller.process", key=key))


# --- the modeller and its calls ---------------------------------------------------------------------------------


@bp.get("/processen/<key>/modeller")
@login_required
def modeller(key: str) -> ResponseReturnValue:
    """The live version, a chosen version (`versie`) or a draft (`concept`) in bpmn-js."""
    draft_id = request.args.get("concept", type=int)
    draft, version = None, None
    with reader() as session:
        if draft_id is not None:
            draft = _draft_of(session, key, draft_id)
            xml_url = url_for("modeller.draft_xml", draft_id=draft_id)
        else:
            version = _version(session, key, request.args.get("versie", type=int))
            xml_url = url_for("modeller.version_xml", key=key, number=version.version)
    return render_template("modeller/modeller.html", key=key, draft=draft, version=version, xml_url=xml_url)


def _draft_of(session: Any, key: str, draft_id: int) -> ProcessDraft:
    draft = get_draft(session, draft_id=draft_id)
    if draft.process_key != key:
        raise NotFound(_("Dit concept bestaat niet."))
    return draft


def _version(session: Any, key: str, number: int | None) -> ProcessVersion:
    """Version `number`, or the live one."""
    if number is not None:
        return version_by_number(session, process_key=key, version=number)
    history = versions(session, process_key=key)
    if not history:
        raise NotFound(_("Dit proces heeft nog geen gepubliceerde versie."))
    return history[0]


@bp.get("/processen/<key>/versies/<int:number>.bpmn")
@login_required
def version_xml(key: str, number: int) -> ResponseReturnValue:
    with reader() as session:
        version = version_by_number(session, process_key=key, version=number)
        xml = bpmn_of(version.files, version.main_file)
    return _xml_response(xml, f"{key}-v{number}.bpmn")


@bp.get("/concepten/<int:draft_id>.bpmn")
@login_required
def draft_xml(draft_id: int) -> ResponseReturnValue:
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
        xml = bpmn_of(draft.files, draft.main_file)
    return _xml_response(xml, f"{draft.process_key}-concept-{draft_id}.bpmn")


@bp.get("/modeller-gegevens")
@login_required
def metadata() -> ResponseReturnValue:
    """What the properties panel offers: the known roles, lanes and forms."""
    with reader() as session:
        return jsonify(modeller_choices(session).as_dict())


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise InvalidInput(_("Stuur het diagram als JSON met het veld xml."), {"xml": [_("Ontbreekt.")]})
    return body


@bp.post("/processen/<key>/valideren")
@login_required
def validate(key: str) -> ResponseReturnValue:
    """The deploy checks on the diagram as it is in the browser; nothing is stored."""
    xml = _json_body()["xml"]
    with reader() as session:
        problems = validate_xml(session, process_key=key, bpmn_xml=xml)
    listed = [{"element": p.element, "message": p.message, "file": p.file} for p in problems]
    return jsonify({"ok": not problems, "problems": listed})


@bp.post("/processen/<key>/concepten")
@login_required
def save(key: str) -> ResponseReturnValue:
    """Save the diagram as a draft: a new one from the live version, or the next revision of an open one."""
    body = _json_body()
    draft_id, revision = body.get("draft_id"), body.get("revision")
    if not all(value is None or type(value) is int for value in (draft_id, revision)):
        raise InvalidInput(_("Concept en revisie moeten getallen zijn."), {"draft_id": [_("Geen getal.")]})
    try:
        with transaction() as session:
            if draft_id is None:
                started = start_draft(session, process_key=key, actor=me(), at=now())
                draft_id, revision = started.id, started.revision
            else:
                _draft_of(session, key, draft_id)
            xml, at = body["xml"], now()
            draft = save_draft(session, draft_id=draft_id, actor=me(), bpmn_xml=xml, revision=revision or 0, at=at)
            answer = {
                "draft_id": draft.id,
                "revision": draft.revision,
                "saved_at": draft.updated_at.isoformat(),
                "saved_by": draft.updated_by.display_name,
            }
    except Conflict as stale:  # what the other saved, against the live version; this diagram stays in the browser
        return jsonify({**stale.as_dict(), "compare_url": url_for("modeller.comparison", draft_id=draft_id)}), 409
    return jsonify(answer)


# --- comparison and impact --------------------------------------------------------------------------------------


@bp.get("/concepten/<int:draft_id>/vergelijken")
@login_required
def comparison(draft_id: int) -> ResponseReturnValue:
    """The draft against the live version (or `versie`), listed and coloured on the diagram."""
    if request.accept_mimetypes.best == "application/json":
        return comparison_json(draft_id)
    number = request.args.get("versie", type=int)
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
        changes = compare_draft(session, draft_id=draft_id, version=number)
        old = _version(session, draft.process_key, number)
    urls = {
        "old": url_for("modeller.version_xml", key=draft.process_key, number=old.version),
        "new": url_for("modeller.draft_xml", draft_id=draft_id),
        "comparison": url_for("modeller.comparison_json", draft_id=draft_id, versie=number),
    }
    title = _("Concept %(id)s vergeleken met versie %(n)s", id=draft_id, n=old.version)
    return render_template(
        "modeller/compare.html", key=draft.process_key, draft=draft, changes=changes, urls=urls, title=title
    )


@bp.get("/concepten/<int:draft_id>/vergelijken.json")
@login_required
def comparison_json(draft_id: int) -> ResponseReturnValue:
    number = request.args.get("versie", type=int)
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
        changes = compare_draft(session, draft_id=draft_id, version=number)
        old = _version(session, draft.process_key, number)
        xml = {"old_xml": bpmn_of(old.files, old.main_file), "new_xml": bpmn_of(draft.files, draft.main_file)}
    return jsonify({**changes.as_dict(), **xml})


@bp.get("/processen/<key>/vergelijken")
@login_required
def version_comparison(key: str) -> ResponseReturnValue:
    """Two versions from the history (default: the live one against the one before it)."""
    with reader() as session:
        right = _version(session, key, request.args.get("rechts", type=int)).version
        left = request.args.get("links", type=int) or max(right - 1, 1)
        changes = compare_versions(session, process_key=key, left=left, right=right)
    urls = {
        "old": url_for("modeller.version_xml", key=key, number=left),
        "new": url_for("modeller.version_xml", key=key, number=right),
        "comparison": "",
    }
    title = _("Versie %(links)s vergeleken met versie %(rechts)s", links=left, rechts=right)
    return render_template("modeller/compare.html", key=key, draft=None, changes=changes, urls=urls, title=title)


@bp.get("/concepten/<int:draft_id>/impact")
@login_required
def draft_impact(draft_id: int) -> ResponseReturnValue:
    """Per changed or removed element: how many running cases wait there, and how many would be stranded."""
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
        rows = impact(session, process_key=draft.process_key, comparison=compare_draft(session, draft_id=draft_id))
    return render_template("modeller/impact.html", key=draft.process_key, draft=draft, rows=rows)


# The publishing, form editor and migration pages register their routes on `bp` too.
from web.modeller import forms, migration, publishing  # noqa: E402, F401
