"""ZVH Regie web app: delivery only; every action calls the same engine functions as the CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string

from engine.config import Settings
from engine.db import Database
from engine.registry import list_processes

_INDEX = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>ZVH Regie</title></head>
<body><h1>ZVH Regie</h1><p>Procesregie voor Zorg- en Veiligheidshuis De Baronie.</p>
<h2>Processen</h2><ul>{% for p in processes %}<li>{{ p.name }} (v{{ p.version }})</li>{% endfor %}</ul>
</body></html>"""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment (or `test_config`)."""
    settings = Settings.from_env()
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY=settings.secret_key, ZVH_DATABASE_URL=settings.database_url)
    if test_config:
        app.config.update(test_config)
    db = Database(app.config["ZVH_DATABASE_URL"])

    @app.get("/")
    def index() -> str:
        with db.reader() as session:
            return render_template_string(_INDEX, processes=list_processes(session))

    return app
