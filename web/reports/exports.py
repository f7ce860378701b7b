"""The report downloads: each table as CSV or XLSX, and the kengetallen as CSV or JSON, for the chosen period."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from engine.reports.catalog import TABLE_NAMES, report_table
from engine.reports.export import to_csv, to_xlsx
from engine.reports.kengetallen import document, kengetallen, records_csv
from web.reports.period import ReportParams
from web.reports.routes import report_request, zvh_name
from web.services import reader

bp = Blueprint("report_exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NAMES = f"any({', '.join(TABLE_NAMES)})"


def _bad_period(params: ReportParams) -> ResponseReturnValue:
    """The error page (400) that says what is wrong with the period asked for."""
    return render_template("errors/error.html", status=400, message=params.error), 400


def _file_name(naam: str, params: ReportParams, extension: str) -> str:
    suffix = "-onderdrukt" if params.suppress and naam != "doorlooptijden" else ""
    return f"{naam}-{params.years[0]}-{params.years[-1]}{suffix}.{extension}"


def _download(body: str | bytes, mimetype: str, file_name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/rapportages/<{_NAMES}:naam>.csv")
@login_required
def table_csv(naam: str) -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _bad_period(params)
    with reader() as session:
        table = report_table(session, naam, params.years, suppress_small=params.suppress)
    # the byte order mark makes Excel read the file as UTF-8 (gemeente and theme names have accents)
    return _download("\ufeff" + to_csv(table), "text/csv", _file_name(naam, params, "csv"))


@bp.get(f"/rapportages/<{_NAMES}:naam>.xlsx")
@login_required
def table_xlsx(naam: str) -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _bad_period(params)
    with reader() as session:
        table = report_table(session, naam, params.years, suppress_small=params.suppress)
    return _download(to_xlsx([table]), XLSX, _file_name(naam, params, "xlsx"))


@bp.get("/rapportages/kengetallen.csv")
@login_required
def figures_csv() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _bad_period(params)
    with reader() as session:
        records = kengetallen(session, params.years, zvh=zvh_name())
    return _download(records_csv(records), "text/csv", _file_name("kengetallen", params, "csv"))


@bp.get("/rapportages/kengetallen.json")
@login_required
def figures_json() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _bad_period(params)
    with reader() as session:
        records = kengetallen(session, params.years, zvh=zvh_name())
    body = json.dumps(document(records, params.years, zvh=zvh_name()), ensure_ascii=False, indent=1)
    return _download(body, "application/json", _file_name("kengetallen", params, "json"))
