"""The heat map on the process diagram and the throughput per process (managers and coordinators)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from engine.monitor import Series, bar_chart, heat_map, require_monitor, throughput, waiting_at
from engine.monitor.heat import Band
from engine.monitor.scan import step_name
from engine.registry import latest_version
from web.services import me, now, reader

bp = Blueprint("monitor_analysis", __name__)

DAY = 86_400.0


def duration_label(seconds: float) -> str:
    """A waiting or lead time as people say it: minutes, hours up to two days, then days."""
    if seconds < 3600:
        return _("%(n)s min", n=round(seconds / 60))
    if seconds < 2 * DAY:
        return _("%(n)s uur", n=round(seconds / 3600))
    return _("%(n)s dagen", n=format_decimal(seconds / DAY, "0.#"))


def band_label(band: Band | Literal["none"]) -> str:
    """How a step's colour reads; "none" is a step without a norm (always within it)."""
    labels = {
        "none": _("geen norm"),
        "ok": _("binnen de norm"),
        "warn": _("meer dan de helft van de norm"),
        "over": _("over de norm"),
    }
    return labels[band]


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"duration_label": duration_label, "band_label": band_label}


@bp.get("/bewaking/processen/<process_key>/heatmap")
@login_required
def heatmap(process_key: str) -> ResponseReturnValue:
    require_monitor(me())
    with reader() as session:
        version = latest_version(session, process_key)
        heat = heat_map(session, process_key=process_key, now=now())
    return render_template("monitor/heatmap.html", version=version, heat=heat)


@bp.get("/bewaking/processen/<process_key>/heatmap.json")
@login_required
def heatmap_data(process_key: str) -> ResponseReturnValue:
    """The newest diagram and, per step with waiting cases, the figures the viewer shows on it."""
    require_monitor(me())
    with reader() as session:
        version = latest_version(session, process_key)
        diagram = version.files["bpmn"][version.main_file]
        heat = heat_map(session, process_key=process_key, now=now())
    elements = {
        element_id: {
            **step.as_dict(),
            "median_label": duration_label(step.median_wait),
            "band_label": band_label(step.band if step.norm else "none"),
            "url": url_for(".waiting", process_key=process_key, element_id=element_id),
        }
        for element_id, step in heat.items()
    }
    return jsonify({"process_key": process_key, "version": version.version, "xml": diagram, "elements": elements})


@bp.get("/bewaking/processen/<process_key>/stap/<element_id>")
@login_required
def waiting(process_key: str, element_id: str) -> ResponseReturnValue:
    require_monitor(me())
    with reader() as session:
        version = latest_version(session, process_key)
        rows = waiting_at(session, process_key=process_key, element_id=element_id, now=now())
        step = rows[0].step if rows else step_name(version, element_id) or element_id
    return render_template("monitor/waiting.html", version=version, element_id=element_id, step=step, rows=rows)


@bp.get("/bewaking/processen/<process_key>/doorstroom")
@login_required
def throughput_page(process_key: str) -> ResponseReturnValue:
    require_monitor(me())
    with reader() as session:
        version = latest_version(session, process_key)
        figures = throughput(session, process_key=process_key, now=now())
    months = [format_date(month.month, "MMM yyyy") for month in figures.months]
    per_month = bar_chart(
        chart_id="grafiek-maanden",
        title=_("Gestart en afgerond per maand"),
        labels=months,
        series=[
            Series(_("Gestart"), [month.started for month in figures.months]),
            Series(_("Afgerond"), [month.finished for month in figures.months]),
        ],
        table_id="tabel-maanden",
    )
    running = bar_chart(
        chart_id="grafiek-lopend",
        title=_("Lopende zaken aan het eind van de maand"),
        labels=months,
        series=[Series(_("Lopend"), [month.running for month in figures.months])],
        table_id="tabel-maanden",
    )
    lead_times = bar_chart(
        chart_id="grafiek-stappen",
        title=_("Doorlooptijd per stap in dagen"),
        labels=[step.name for step in figures.steps],
        series=[
            Series(_("Mediaan"), [step.median / DAY for step in figures.steps]),
            Series(_("90e percentiel"), [step.p90 / DAY for step in figures.steps]),
        ],
        table_id="tabel-stappen",
        value_label=lambda days: format_decimal(days, "0.#"),
    )
    return render_template(
        "monitor/throughput.html",
        version=version,
        figures=figures,
        months=months,
        # bar_chart escapes every text it draws
        charts={"maanden": Markup(per_month), "lopend": Markup(running), "stappen": Markup(lead_times)},  # noqa: S704
    )
