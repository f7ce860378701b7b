"""The contactpunt pages of an inzageverzoek: the package as preview, PDF and ZIP, the letters, and the FG's
search and redaction steps completed from the package.

Only the privacy officer, and only for a person an actual inzageverzoek names (the page is reached through the
request, never by a person key or BSN in the URL); the engine refuses everyone else.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine.privacy.destruction import purge_freed_space
from engine.privacy.inzage import GROUNDS
from engine.privacy.inzage_documents import LETTER_KINDS, letter_pdf, package_html, package_pdf, package_zip
from engine.privacy.inzage_request import erase_for_request, record_redactions, record_search, request_package
from engine.privacy.organisations import organisation_name
from web.services import me, now, runtime, services, transaction

bp = Blueprint("inzage", __name__, url_prefix="/inzage")


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verzoek/<int:instance_id>")
@login_required
def package(instance_id: int) -> ResponseReturnValue:
    with transaction() as session:
        found = request_package(session, runtime(), instance_id=instance_id, actor=me(), at=now())
    return render_template(
        "inzage/package.html",
        found=found,
        document=package_html(found, standalone=False),
        grounds=GROUNDS,
        letters=LETTER_KINDS,
        partners=[organisation_name(key) for key in found.package.organisations],
    )


@bp.get("/verzoek/<int:instance_id>/pakket.pdf")
@login_required
def package_as_pdf(instance_id: int) -> ResponseReturnValue:
    with transaction() as session:
        found = request_package(session, runtime(), instance_id=instance_id, actor=me(), at=now())
    return _download(package_pdf(found), "application/pdf", f"inzagepakket-{found.request.case_number}.pdf")


@bp.get("/verzoek/<int:instance_id>/pakket.zip")
@login_required
def package_as_zip(instance_id: int) -> ResponseReturnValue:
    with transaction() as session:
        found = request_package(session, runtime(), instance_id=instance_id, actor=me(), at=now())
    return _download(package_zip(found), "application/zip", f"inzagepakket-{found.request.case_number}.zip")


@bp.get("/verzoek/<int:instance_id>/brief/<kind>.pdf")
@login_required
def letter(instance_id: int, kind: str) -> ResponseReturnValue:
    with transaction() as session:
        found = request_package(session, runtime(), instance_id=instance_id, actor=me(), at=now())
    content = letter_pdf(found, kind, today=now().date())
    return _download(content, "application/pdf", f"brief-{kind}-{found.request.case_number}.pdf")


@bp.post("/verzoek/<int:instance_id>/zoekresultaat")
@login_required
def search_result(instance_id: int) -> ResponseReturnValue:
    with transaction() as session:
        record_search(session, runtime(), instance_id=instance_id, actor=me(), at=now())
    flash(_("Het zoekresultaat is vastgelegd; de partners die gegevens leverden, zijn om hun standpunt gevraagd."))
    return redirect(url_for("inzage.package", instance_id=instance_id))


@bp.post("/verzoek/<int:instance_id>/afscherming")
@login_required
def redaction(instance_id: int) -> ResponseReturnValue:
    chosen = {
        item: request.form.get(f"grond-{item}", "") for item in request.form.getlist("onderdeel") if len(item) <= 40
    }
    with transaction() as session:
        record_redactions(session, runtime(), instance_id=instance_id, actor=me(), at=now(), choices=chosen)
    flash(_("De afscherming is vastgelegd in het verzoek."))
    return redirect(url_for("inzage.package", instance_id=instance_id))


@bp.post("/verzoek/<int:instance_id>/vernietigen/<int:case_instance_id>")
@login_required
def erase(instance_id: int, case_instance_id: int) -> ResponseReturnValue:
    """A granted request for erasure: destroy one of the person's cases, with the reason, then free the space."""
    with transaction() as session:
        destroyed = erase_for_request(
            session,
            runtime(),
            instance_id=instance_id,
            case_instance_id=case_instance_id,
            actor=me(),
            reason=request.form.get("reden", ""),
            at=now(),
        )
    purge_freed_space(services().db)
    flash(_("Zaak %(nummer)s is vernietigd.", nummer=destroyed.case_number))
    return redirect(url_for("inzage.package", instance_id=instance_id))
