"""Exceptions that carry a user-facing message; web/ and the CLI map them to HTML, JSON or an exit code.

A message is written in Dutch, the source language of the translation catalogue, as a template with named
placeholders (`"Zaak %(nummer)s bestaat niet."`, nummer=...), never as an f-string: `message` is translated into the
language of the request that shows it (engine.i18n; web/ installs the translator), and the catalogue test extracts
every message raised here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.i18n import translated


class ZvhError(Exception):
    """Base class: `code` is a stable machine-readable identifier, `message` is for people (in their language)."""

    code = "error"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params

    @property
    def message(self) -> str:
        return translated(self.template, **self.params)

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message}


class NotFound(ZvhError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"


class PermissionDenied(ZvhError):
    """The actor is known to see the object but may not perform this action on it."""

    code = "forbidden"


class Conflict(ZvhError):
    """The action lost a race or was based on stale state; nothing was changed."""

    code = "conflict"


class InvalidInput(ZvhError):
    """Submitted data failed validation; `fields` maps a field path to its messages."""

    code = "validation"

    def __init__(self, message: str, fields: Mapping[str, list[str]], **params: object) -> None:
        super().__init__(message, **params)
        self._fields = {path: list(texts) for path, texts in fields.items()}

    @property
    def fields(self) -> dict[str, list[str]]:
        """Per field path its messages, in the language of the moment (a message the catalogue knows)."""
        return {path: [translated(text) for text in texts] for path, texts in self._fields.items()}

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, "fields": self.fields}


@dataclass(frozen=True)
class Problem:
    """One reason a deployment was refused, located as precisely as the input allows."""

    file: str
    element: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, element {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


class DeploymentRefused(ZvhError):
    """A process (BPMN, DMN or form) was refused; nothing was stored."""

    code = "deployment_refused"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": self.message,
            "problems": [{"file": p.file, "element": p.element, "message": p.message} for p in self.problems],
        }


class ConfigurationError(ZvhError):
    """The deployed processes do not fit together (e.g. nothing receives a hand-over); nothing was changed."""

    code = "configuration"


class SandboxViolation(ZvhError):
    """A script or expression tried something the sandbox does not allow, or ran out of budget."""

    code = "sandbox_violation"
