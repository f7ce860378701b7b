"""Bewaking: the manager's lists of stalled, overdue and failing cases, and the actions taken from them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitor", __name__)
