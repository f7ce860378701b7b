"""The outputs of an inzageverzoek: the package as HTML, PDF and ZIP, and the standaardbrieven for the decision.

These are documents for the data subject, written in Dutch whatever language the FG's screen is in (like the
content of processes and forms). Every output is made from the redacted package, so a withheld item never
leaves the ZVH; the list of items itself (which names other people) is for the FG's screen only.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from engine.errors import NotFound
from engine.privacy.inzage import Package
from engine.privacy.inzage_request import RequestPackage

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LETTER_KINDS = ("toegewezen", "deels", "afgewezen", "verlenging")
_STATUS = {"running": "lopend", "waiting": "lopend", "completed": "afgesloten", "terminated": "beëindigd"}
_REQUESTS = {"inzage": "inzage in", "vernietiging": "vernietiging van", "rectificatie": "rectificatie van"}
_KINDS = {"inzage": "inzage", "vernietiging": "vernietiging", "rectificatie": "rectificatie"}
_MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(AMSTERDAM) if moment is not None else None


def _datum(value: datetime | date | str | None) -> str:
    """A date as a letter writes it: 2 maart 2026."""
    if value is None or value == "":
        return "…"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(AMSTERDAM).date()
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def _datum_tijd(value: datetime) -> str:
    local = value.astimezone(AMSTERDAM)
    return f"{_datum(local)} {local:%H:%M}"


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_TEMPLATES.filters.update(datum=_datum, datum_tijd=_datum_tijd, status=lambda s: _STATUS.get(s, s))


def package_html(found: RequestPackage, *, standalone: bool = True) -> str:
    """The redacted package as an HTML document (or, not standalone, as a fragment for the FG's preview)."""
    return _TEMPLATES.get_template("inzage_pakket.html").render(
        package=found.redacted,
        subject=found.data.get("naam_betrokkene"),
        reference=found.data.get("kenmerk") or found.request.case_number,
        standalone=standalone,
    )


def render_pdf(html: str) -> bytes:
    """An HTML document as PDF (WeasyPrint; no network: a document names no outside resource)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # imported here: loading Pango takes a moment that only PDF requests should pay

    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf


def package_pdf(found: RequestPackage) -> bytes:
    """The redacted package as a PDF."""
    return render_pdf(package_html(found))


def package_data(package: Package) -> dict[str, Any]:
    """The redacted package as plain data (no item ids, no list of the items of others)."""
    cases = []
    for case in package.cases:
        record = asdict(case)
        record["participants"] = [{"organisatie": org, "rol": role} for org, role in case.participants]
        for step in record["steps"]:
            for value in step["fields"]:
                value.pop("item")
        cases.append(record)
    return {
        "samengesteld_op": package.assembled_at,
        "zaken": cases,
        "toegangslogging": [asdict(entry) for entry in package.access_log],
        "afgeschermde_onderdelen": len(package.redactions),
    }


def access_log_csv(package: Package) -> str:
    """The access log of the person's data as CSV (one line per entry, local time)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tijdstip", "zaak", "wat", "organisatie", "rol", "resultaat"])
    for entry in package.access_log:
        local = _local(entry.at)
        assert local is not None
        writer.writerow(
            [local.isoformat(timespec="seconds"), entry.case_number or "", entry.action, entry.organisation,
             entry.role, entry.outcome]
        )  # fmt: skip
    return out.getvalue()


def package_zip(found: RequestPackage) -> bytes:
    """The PDF, the data as JSON and the access log as CSV, in one ZIP."""
    buffer = io.BytesIO()
    data = json.dumps(package_data(found.redacted), ensure_ascii=False, indent=2, default=_json_default)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inzagepakket.pdf", package_pdf(found))
        archive.writestr("gegevens.json", data)
        archive.writestr("toegangslogging.csv", access_log_csv(found.redacted))
    return buffer.getvalue()


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@dataclass(frozen=True)
class Letter:
    """A standaardbrief, filled in from the request."""

    kind: str
    addressee: str
    address: tuple[str, ...]
    date: str
    reference: str
    subject: str
    paragraphs: tuple[str, ...]
    signatory: str


def letter(found: RequestPackage, kind: str, *, today: date) -> Letter:
    """The standaardbrief `kind` (toegewezen, deels, afgewezen, verlenging) for this request."""
    if kind not in LETTER_KINDS:
        raise NotFound("Deze standaardbrief bestaat niet.")
    data = found.data
    requester = _mapping(data.get("verzoeker"))
    address = _mapping(requester.get("adres"))
    street = " ".join(str(address.get(k, "")) for k in ("straat", "huisnummer")).strip()
    town = " ".join(str(address.get(k, "")) for k in ("postcode", "woonplaats")).strip()
    asked = _REQUESTS.get(str(data.get("soort")), "inzage in")
    received = _datum(data.get("ontvangen"))
    opening = f"Op {received} ontvingen wij uw verzoek om {asked} uw persoonsgegevens."
    return Letter(
        kind=kind,
        addressee=str(requester.get("naam") or data.get("naam_betrokkene") or ""),
        address=tuple(line for line in (street, town) if line) or (str(requester.get("email") or ""),),
        date=_datum(data.get("brief_datum") or today),
        reference=str(data.get("kenmerk") or found.request.case_number),
        subject="Verlenging van de beslistermijn"
        if kind == "verlenging"
        else f"Besluit op uw verzoek om {_KINDS.get(str(data.get('soort')), 'inzage')}",
        paragraphs=(opening, *_body(kind, found, data)),
        signatory=str(data.get("ondertekenaar") or "De functionaris gegevensbescherming van ZVH De Baronie"),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _body(kind: str, found: RequestPackage, data: Mapping[str, Any]) -> tuple[str, ...]:
    appeal = str(
        data.get("bezwaarclausule")
        or "Bent u het niet eens met dit besluit? Dan kunt u binnen zes weken na de dag van verzending van deze brief "
        "bezwaar maken (artikel 6:7 Algemene wet bestuursrecht). U kunt ook een klacht indienen bij de Autoriteit "
        "Persoonsgegevens."
    )
    ground = found.refusal_grounds.get(str(data.get("weigeringsgrond")), str(data.get("weigeringsgrond") or "…"))
    reason = str(data.get("besluit_motivering") or "…")
    count = len(found.redacted.cases)
    cases = f"{count} {'zaak' if count == 1 else 'zaken'}"
    count = len(found.redacted.redactions)
    withheld = f"{count} {'onderdeel' if count == 1 else 'onderdelen'}"
    if kind == "verlenging":
        first_due = _datum(data.get("oorspronkelijke_uiterste_datum") or data.get("uiterste_datum"))
        return (
            f"De wettelijke termijn om op uw verzoek te beslissen loopt tot {first_due}. "
            f"Wij verlengen deze termijn met {_months(data.get('verlenging_maanden'))} "
            "(artikel 12 lid 3 AVG).",
            f"De reden: {data.get('reden_verlenging') or '…'}",
            f"U ontvangt ons besluit uiterlijk op {_datum(data.get('uiterste_datum'))}.",
        )
    if kind == "toegewezen":
        return (
            "Wij wijzen uw verzoek toe.",
            f"Bij deze brief ontvangt u een overzicht van uw gegevens in {cases} bij het Zorg- en "
            "Veiligheidshuis en zijn partners, met een overzicht van wie uw gegevens heeft ingezien.",
            appeal,
        )
    if kind == "deels":
        return (
            "Wij wijzen uw verzoek gedeeltelijk toe.",
            f"Bij deze brief ontvangt u een overzicht van uw gegevens in {cases}. Afgeschermd zijn {withheld} met "
            "gegevens over anderen of waarvoor een uitzondering geldt.",
            f"Grond: {ground}",
            reason,
            appeal,
        )
    return ("Wij wijzen uw verzoek af.", f"Grond: {ground}", reason, appeal)


def _months(count: object) -> str:
    """`1 maand`, `2 maanden`; `…` while the number is not known."""
    if not isinstance(count, int) or isinstance(count, bool):
        return "… maand(en)"
    return f"{count} {'maand' if count == 1 else 'maanden'}"


def letter_pdf(found: RequestPackage, kind: str, *, today: date) -> bytes:
    """A standaardbrief as PDF."""
    html = _TEMPLATES.get_template("inzage_brief.html").render(letter=letter(found, kind, today=today))
    return render_pdf(html)
