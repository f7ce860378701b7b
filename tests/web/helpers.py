"""Small helpers for the web tests: start a case through the engine, find tasks, read forms."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from engine.inbox import list_tasks
from engine.models import User
from engine.users import get_user

MELDING_DATA: dict[str, Any] = {
    "gemeente": "Breda",
    "betrokkenen": [{"naam": "Fenna Fictief", "bsn": "111222333", "rol": "hoofdbetrokkene"}],
    "aanleiding": "Zorgen over overlast en schulden in de wijk.",
}


def user(app: Flask, username: str) -> User:
    with app.extensions["zvh"].db.reader() as session:
        return get_user(session, username)


def start_melding(app: Flask, by: str = "mila", data: dict[str, Any] | None = None) -> int:
    """Start the test process `melding` as `by`; returns the instance id."""
    with app.extensions["zvh"].db.transaction() as session:
        outcome = app.extensions["zvh"].runtime.start_instance(
            session, process_key="melding", actor=get_user(session, by), data=data or MELDING_DATA
        )
        return outcome.instance.id


def open_task_id(app: Flask, instance_id: int, element_id: str | None = None) -> str:
    with app.extensions["zvh"].db.reader() as session:
        tasks = list_tasks(session, instance_id=instance_id).tasks
    matching = [t for t in tasks if element_id is None or t.element_id == element_id]
    assert matching, f"no open task {element_id} in {instance_id}"
    return matching[0].id


def page_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def lock_version(html: str) -> str:
    match = re.search(r'name="_lock_version" value="(\d+)"', html)
    assert match
    return match.group(1)
