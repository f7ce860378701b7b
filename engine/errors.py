"""Exceptions that carry a user-facing message; web/ and the CLI map them to HTML, JSON or an exit code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class ZvhError(Exception):
    """Base class: `code` is a stable machine-readable identifier, `message` is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

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

    def __init__(self, message: str, fields: Mapping[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = dict(fields)

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
