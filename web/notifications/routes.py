"""The bell: a user's notifications, marking them read, and the per-kind preferences (app, e-mail)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)
