"""The heat map on the process diagram and the throughput per process (managers and coordinators)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitor_analysis", __name__)
