"""Processen beheren: the modeller, drafts, comparison, impact, publishing with four eyes, forms and migration."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("modeller", __name__)
