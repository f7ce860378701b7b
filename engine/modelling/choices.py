"""What the modeller offers to pick from: the roles a lane can name, the lanes in use, the forms a task can use."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.models import UserRole
from engine.registry import list_processes, load_version
from engine.spiff import role_key


@dataclass(frozen=True)
class ModellerChoices:
    """Roles held by users or named by a lane, lane names with their role, and the form files."""

    roles: list[str]
    lanes: dict[str, str | None]
    forms: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def modeller_choices(session: Session, *, forms_path: Path | None = None) -> ModellerChoices:
    """The choices of the properties panel, from the deployed versions, the users' roles and `forms/`."""
    roles = set(session.scalars(select(UserRole.role).distinct()))
    lanes: dict[str, str | None] = {}
    names = {path.name for path in (forms_path or Settings.from_env().forms_path).glob("*.json") if _is_form(path)}
    for version in list_processes(session):
        loaded = load_version(version)
        roles |= loaded.roles
        names |= set(loaded.forms)
        for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
            lanes.update({lane: role_key(lane) for t in spec.task_specs.values() if (lane := getattr(t, "lane", None))})
    return ModellerChoices(
        roles=sorted(roles),
        lanes=dict(sorted(lanes.items())),
        forms=sorted(name for name in names if not name.endswith(".ui.json")),
    )


def _is_form(path: Path) -> bool:
    """A form is a schema of an object with fields; shared definitions (`definities.json`) are not."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("properties"), dict)
