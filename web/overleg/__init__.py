"""Casusoverleg pages: meetings and their agenda (web.overleg.meeting), planning, the besluitenlijst and the action
points (web.overleg.planning), and the overleg types a beheerder configures (web.overleg.types). The engine
(engine.overleg) decides who may see and do what; these routes only translate requests."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("overleg", __name__)

# The route modules register on `bp` when imported.
from web.overleg import meeting, planning, types  # noqa: E402, F401
