"""Step norms: how long a step (or a whole process without progress) may take before it counts as stalled.

A user task's `spiffworkflow:property` `norm` is an ISO 8601 duration (`P5D`, `PT4H`); `norm_werkdagen` counts
working days instead — either a number of working days (`norm_werkdagen` = `5`) or `ja`, to read the days of
`norm` as working days. The same properties on the process element are the default for its steps and the norm
for an instance that makes no progress at all. Both count in Breda's calendar: working days skip the days off of
`engine.holidays`, and days of a duration keep the local time of day across a change to or from summer time
(`engine.spiff.timer_due`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.holidays import LOCAL, is_working_day
from engine.holidays import add_working_days_to_moment as add_working_days
from engine.spiff import timer_due

__all__ = ["LOCAL", "Norm", "add_working_days", "is_working_day", "parse_norm"]
_YES = frozenset({"ja", "true", "yes"})


@dataclass(frozen=True)
class Norm:
    """A parsed norm: an ISO duration, or a number of working days."""

    duration: str | None = None
    working_days: int | None = None

    @property
    def label(self) -> str:
        """How the norm reads in lists and exports (`P5D`, `5 werkdagen`)."""
        if self.working_days is not None:
            return f"{self.working_days} werkdag" + ("en" if self.working_days != 1 else "")
        return str(self.duration)

    def due(self, start: datetime) -> datetime:
        """When a step that started waiting at `start` has waited longer than this norm (UTC)."""
        if self.working_days is not None:
            return add_working_days(start, self.working_days)
        return timer_due(str(self.duration), start)


def parse_norm(properties: dict[str, str]) -> Norm | None:
    """The norm the properties of an element give, None when they give none; ValueError when malformed."""
    duration = (properties.get("norm") or "").strip().upper() or None
    working = (properties.get("norm_werkdagen") or "").strip().lower()
    if duration is not None:
        if not duration.startswith("P"):
            raise ValueError(f"norm '{duration}' is not an ISO 8601 duration such as P5D or PT4H")
        try:
            TimerEventDefinition.parse_iso_duration(duration)
        except Exception:
            raise ValueError(f"norm '{duration}' is not an ISO 8601 duration such as P5D or PT4H") from None
    if not working:
        return Norm(duration=duration) if duration else None
    if working.isdigit() and int(working) > 0:
        return Norm(working_days=int(working))
    if working in _YES and duration is not None:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
        if set(parsed) - {"days", "weeks"}:
            raise ValueError(f"norm_werkdagen needs a norm in days or weeks, not '{duration}'")
        return Norm(working_days=int(parsed.get("days", 0) + 5 * parsed.get("weeks", 0)))
    raise ValueError("norm_werkdagen is a number of working days, or 'ja' to count the days of 'norm' as working days")
