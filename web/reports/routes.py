"""The managers' report pages: meldingen and casussen per gemeente, activities against their prognoses, lead times
and the kengetallen for the national picture. Every route checks the manager role on the server first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from engine.errors import InvalidInput
from engine.i18n import translated
from engine.monitor.charts import Series, bar_chart, line_chart
from engine.registry import list_processes
from engine.reports import durations, tables
from engine.reports.definitions import FIGURES, THEMES, Figure, Theme
from engine.reports.faciliteiten import faciliteiten_table  # overleg (H3)
from engine.reports.kengetallen import FIELDS, kengetallen
from engine.reports.prognoses import require_reports, set_prognoses
from engine.reports.tables import Cell, Table
from web.reports.period import ReportParams, report_params
from web.services import me, now, reader, transaction

bp = Blueprint("reports", __name__)

COUNT_TABLES = {"meldingen": tables.meldingen, "casussen": tables.casussen}
#: The grouped bars show at most this many years (the table shows them all).
CHART_YEARS = 4
#: How many kengetallen records the page shows before the download.
PREVIEW = 40


def report_request() -> ReportParams:
    """The manager's report parameters (anyone else is refused here, before anything is read)."""
    require_reports(me())
    return report_params(request.args)


def _svg(svg: str) -> Markup:
    # the chart functions escape every text they draw
    return Markup(svg)  # noqa: S704


def _plotted(cells: Iterable[Cell]) -> list[float]:
    """A chart never shows a suppressed figure: it is drawn as 0 (the page says so)."""
    return [0.0 if cell.suppressed or cell.value is None else float(cell.value) for cell in cells]


def _figure(key: str) -> Figure:
    """A report's figure in the page's language."""
    return FIGURES[key].in_language(translated)


def _themes() -> list[Theme]:
    """The activity themes in the page's language."""
    return [theme.in_language(translated) for theme in THEMES]


def _invalid(template: str, params: ReportParams, **context: Any) -> ResponseReturnValue:
    return render_template(template, params=params, **context), 400


@bp.get("/rapportages")
@login_required
def index() -> ResponseReturnValue:
    params = report_request()
    figures = {key: _figure(key) for key in FIGURES}
    return render_template("reports/index.html", params=params, figures=figures), 400 if params.error else 200


def _count_charts(table: Table) -> dict[str, Markup]:
    shown = list(range(len(table.columns)))[-CHART_YEARS:]
    places = [row for row in table.rows if not row.total]
    total = next(row for row in table.rows if row.total)
    bars = bar_chart(
        chart_id="grafiek-gemeenten",
        title=_("%(titel)s, per gemeente", titel=table.figure.title),
        labels=[row.label for row in places],
        series=[Series(table.columns[c], _plotted(row.cells[c] for row in places)) for c in shown],
        table_id="rapport-tabel",
    )
    line = line_chart(
        chart_id="grafiek-totaal",
        title=_("Totaal per jaar"),
        labels=list(table.columns),
        series=[Series(_("Totaal"), _plotted(total.cells))],
        table_id="rapport-tabel",
    )
    return {"gemeenten": _svg(bars), "totaal": _svg(line)}


@bp.get("/rapportages/<any(meldingen, casussen):naam>")
@login_required
def counts(naam: str) -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _invalid("reports/counts.html", params, naam=naam, figure=_figure(naam))
    with reader() as session:
        table = COUNT_TABLES[naam](session, params.years, suppress_small=params.suppress, translate=translated)
    return render_template(
        "reports/counts.html",
        params=params,
        naam=naam,
        figure=table.figure,
        table=table,
        charts=_count_charts(table),
        limited=len(table.columns) > CHART_YEARS,
        chart_years=CHART_YEARS,
    )


@bp.get("/rapportages/activiteiten")
@login_required
def activities() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _invalid("reports/activities.html", params, figure=_figure("activiteiten"))
    with reader() as session:
        year = tables.activity_year(session, params.year, suppress_small=params.suppress, translate=translated)
        period = tables.activiteiten(session, params.years, suppress_small=params.suppress, translate=translated)
        support = faciliteiten_table(session, params.year, translate=translated)  # overleg (H3): faciliteiten
    themes = [row for row in year.rows if row.level == 0]
    chart = bar_chart(
        chart_id="grafiek-activiteiten",
        title=_("Prognose en resultaat per thema, %(jaar)s", jaar=params.year),
        labels=[row.label for row in themes],
        series=[
            Series(_("Prognose"), _plotted(row.cells[0] for row in themes)),
            Series(_("Resultaat"), _plotted(row.cells[1] for row in themes)),
        ],
        table_id="rapport-tabel",
    )
    return render_template(
        "reports/activities.html",
        params=params,
        figure=year.figure,
        table=year,
        period=period,
        themes=_themes(),
        chart=_svg(chart),
        faciliteiten=support,  # overleg (H3)
    )


def _prognoses_page(params: ReportParams, values: dict[str, str], errors: dict[str, list[str]], status: int) -> Any:
    page = render_template("reports/prognoses.html", params=params, themes=_themes(), values=values, errors=errors)
    return page, status


@bp.get("/rapportages/prognoses")
@login_required
def prognoses() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _prognoses_page(params, {}, {}, 400)
    with reader() as session:
        stored = tables.prognoses(session, params.year)
    return _prognoses_page(params, {key: str(value) for key, value in stored.items()}, {}, 200)


@bp.post("/rapportages/prognoses")
@login_required
def save_prognoses() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _prognoses_page(params, {}, {}, 400)
    typed = {theme.key: request.form.get(theme.key, "") for theme in THEMES}
    try:
        with transaction() as session:
            changed = set_prognoses(session, year=params.year, values=typed, actor=me(), at=now())
    except InvalidInput as refused:
        flash(refused.message, "error")
        return _prognoses_page(params, typed, refused.fields, 422)
    flash(_("Prognoses %(jaar)s opgeslagen (%(n)s gewijzigd).", jaar=params.year, n=changed), "success")
    return redirect(url_for(".activities", **params.query(jaar=params.year)))


@bp.get("/rapportages/doorlooptijden")
@login_required
def lead_times() -> ResponseReturnValue:
    params = report_request()
    with reader() as session:
        processes = {version.process_key: version.name for version in list_processes(session)}
        chosen = request.args.get("proces") or next(iter(processes), "")
        if params.error or chosen not in processes:
            error = params.error or _("Kies een proces uit de lijst.")
            return _invalid(
                "reports/lead_times.html", replace(params, years=[], error=error), processes=processes, chosen=chosen
            )
        table = durations.doorlooptijden(session, params.years, translate=translated)
        # The chart's year is usually a column of the period's table; only a year outside it is counted again.
        inside = params.year in params.years
        year = table if inside else durations.doorlooptijden(session, [params.year], translate=translated)
        steps = durations.step_durations(session, chosen, params.year)
    column = params.years.index(params.year) if inside else 0
    medians = [row for row in year.rows if row.key.endswith("/mediaan")]
    p90s = [row for row in year.rows if row.key.endswith("/p90")]
    chart = bar_chart(
        chart_id="grafiek-doorlooptijden",
        title=_("Doorlooptijd per proces in dagen, %(jaar)s", jaar=params.year),
        labels=[processes[row.key.split("/")[0]] for row in medians],
        series=[
            Series(_("Mediaan"), _plotted(row.cells[column] for row in medians)),
            Series(_("90e percentiel"), _plotted(row.cells[column] for row in p90s)),
        ],
        table_id="rapport-tabel",
        value_label=durations.days,
    )
    return render_template(
        "reports/lead_times.html",
        params=params,
        figure=table.figure,
        table=table,
        processes=processes,
        chosen=chosen,
        steps=steps,
        days=lambda seconds: durations.days(seconds / 86400),
        chart=_svg(chart),
    )


@bp.get("/rapportages/kengetallen")
@login_required
def figures() -> ResponseReturnValue:
    params = report_request()
    if params.error:
        return _invalid("reports/kengetallen.html", params, figure=_figure("kengetallen"), fields=FIELDS)
    with reader() as session:
        records = kengetallen(session, params.years, zvh=zvh_name())
    return render_template(
        "reports/kengetallen.html",
        params=params,
        figure=_figure("kengetallen"),
        fields=FIELDS,
        records=records[:PREVIEW],
        total=len(records),
    )


def zvh_name() -> str:
    """The name of this Zorg- en Veiligheidshuis in the kengetallen (app config `ZVH_NAME`)."""
    return str(current_app.config["ZVH_NAME"])
