"""Monitoring for managers: step norms, and what is stalled, overdue or failing (from indexed columns only)."""

from engine.monitor.charts import Series, bar_chart
from engine.monitor.heat import ElementHeat, WaitingInstance, heat_map, waiting_at
from engine.monitor.norms import Norm, add_working_days, is_working_day, parse_norm
from engine.monitor.scan import (
    CATEGORIES,
    DEFAULT_WARNING,
    MONITOR_ROLES,
    Category,
    MonitorCounts,
    MonitorFilter,
    MonitorRow,
    incidents,
    monitor_counts,
    monitor_rows,
    overdue,
    require_monitor,
    stalled,
)
from engine.monitor.throughput import MonthFigures, StepLeadTime, Throughput, throughput

__all__ = [
    "CATEGORIES",
    "DEFAULT_WARNING",
    "MONITOR_ROLES",
    "Category",
    "ElementHeat",
    "MonitorCounts",
    "MonitorFilter",
    "MonitorRow",
    "MonthFigures",
    "Norm",
    "Series",
    "StepLeadTime",
    "Throughput",
    "WaitingInstance",
    "add_working_days",
    "bar_chart",
    "heat_map",
    "incidents",
    "is_working_day",
    "monitor_counts",
    "monitor_rows",
    "overdue",
    "parse_norm",
    "require_monitor",
    "stalled",
    "throughput",
    "waiting_at",
]
