"""Publishing a draft: the change note, four eyes (approve or reject by a second process owner), discarding."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import DeploymentRefused, InvalidInput
from engine.modelling.drafts import discard_draft, get_draft
from engine.modelling.publish import approve_draft, reject_draft, submit_draft
from web.modeller.routes import bp
from web.services import me, now, reader, transaction


def _page(draft_id: int, *, status: int = 200, problem: dict[str, Any] | None = None) -> ResponseReturnValue:
    """The draft's publishing page; `problem` shows why the last action was refused, with what was typed."""
    with reader() as session:
        draft = get_draft(session, draft_id=draft_id)
    mine = me().id in (draft.author_id, draft.updated_by_id, draft.submitted_by_id)  # who may not approve
    return render_template("modeller/publish.html", draft=draft, mine=mine, problem=problem or {}), status


def _refusal(refused: InvalidInput | DeploymentRefused, action: str, typed: str) -> dict[str, Any]:
    if isinstance(refused, DeploymentRefused):
        messages = [str(problem) for problem in refused.problems]
    else:
        messages = [m for ms in refused.fields.values() for m in ms] or [refused.message]
    return {"action": action, "typed": typed, "messages": messages}


@bp.get("/concepten/<int:draft_id>/publiceren")
@login_required
def publish_page(draft_id: int) -> ResponseReturnValue:
    return _page(draft_id)


@bp.post("/concepten/<int:draft_id>/publiceren")
@login_required
def publish(draft_id: int) -> ResponseReturnValue:
    """Validate and publish, or hand the draft to a second process owner when four eyes apply."""
    note = request.form.get("toelichting", "")
    try:
        with transaction() as session:
            outcome = submit_draft(session, draft_id=draft_id, actor=me(), change_note=note, at=now())
            key, version = outcome.draft.process_key, outcome.version.version if outcome.version else None
    except (InvalidInput, DeploymentRefused) as refused:
        return _page(draft_id, status=422, problem=_refusal(refused, "publiceren", note))
    if version is None:
        flash(_("Het concept wacht op goedkeuring door een tweede procesbeheerder."), "success")
        return redirect(url_for("modeller.publish_page", draft_id=draft_id))
    flash(_("Gepubliceerd als versie %(n)s.", n=version), "success")
    return redirect(url_for("modeller.process", key=key))


@bp.post("/concepten/<int:draft_id>/goedkeuren")
@login_required
def approve(draft_id: int) -> ResponseReturnValue:
    """A second process owner approves: the draft goes live (the author is refused by the engine: 403)."""
    note = request.form.get("opmerking") or None
    try:
        with transaction() as session:
            version = approve_draft(session, draft_id=draft_id, actor=me(), at=now(), note=note)
            key, number = version.process_key, version.version
    except (InvalidInput, DeploymentRefused) as refused:
        return _page(draft_id, status=422, problem=_refusal(refused, "goedkeuren", note or ""))
    flash(_("Goedgekeurd en gepubliceerd als versie %(n)s.", n=number), "success")
    return redirect(url_for("modeller.process", key=key))


@bp.post("/concepten/<int:draft_id>/afwijzen")
@login_required
def reject(draft_id: int) -> ResponseReturnValue:
    reason = request.form.get("reden", "")
    try:
        with transaction() as session:
            draft = reject_draft(session, draft_id=draft_id, actor=me(), at=now(), note=reason)
            key = draft.process_key
    except InvalidInput as refused:
        return _page(draft_id, status=422, problem=_refusal(refused, "afwijzen", reason))
    flash(_("Het concept is afgewezen en terug bij de auteur."), "success")
    return redirect(url_for("modeller.process", key=key))


@bp.post("/concepten/<int:draft_id>/verwijderen")
@login_required
def discard(draft_id: int) -> ResponseReturnValue:
    with transaction() as session:
        key = get_draft(session, draft_id=draft_id).process_key
        discard_draft(session, draft_id=draft_id, actor=me(), at=now())
    flash(_("Het concept is verwijderd."), "success")
    return redirect(url_for("modeller.process", key=key))
