"""Vervanging: absence cover set by a user or a coordinator, and moving assigned tasks to the substitute."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("substitutions", __name__)
