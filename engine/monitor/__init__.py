"""Monitoring for managers: step norms, and what is stalled, overdue or failing (from indexed columns only)."""

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

__all__ = [
    "CATEGORIES",
    "DEFAULT_WARNING",
    "MONITOR_ROLES",
    "Category",
    "MonitorCounts",
    "MonitorFilter",
    "MonitorRow",
    "Norm",
    "add_working_days",
    "incidents",
    "is_working_day",
    "monitor_counts",
    "monitor_rows",
    "overdue",
    "parse_norm",
    "require_monitor",
    "stalled",
]
