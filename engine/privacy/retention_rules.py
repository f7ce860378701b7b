"""Retention rules as a process model states them (read at deploy, validated like norms).

The process property `bewaartermijn` (an ISO 8601 duration: `P2Y`, `P6M`, `P0D`) is the default retention period
of a process, counted from the moment the case ends; the same property on an end event overrides it for cases
that end there. `bewaartermijn_vanaf` names a date field of the case data (dotted for nested fields:
`detentie.datum_uit`; several separated by commas, the first one present wins) from which the period counts even
while the case still runs: the purpose ends then, whatever path the case took.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent

from engine.monitor.norms import LOCAL
from engine.spiff import timer_due

PERIOD_PROPERTY = "bewaartermijn"
FROM_PROPERTY = "bewaartermijn_vanaf"


def parse_period(properties: Mapping[str, str]) -> str | None:
    """The `bewaartermijn` of an element's properties, None when it has none; ValueError when malformed."""
    value = (properties.get(PERIOD_PROPERTY) or "").strip().upper()
    if not value:
        return None
    problem = f"bewaartermijn '{value}' is not an ISO 8601 duration such as P2Y, P6M or P0D"
    if not value.startswith("P") or "T" in value:
        raise ValueError(problem)
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:
        raise ValueError(problem) from None
    return value


def parse_from_fields(properties: Mapping[str, str]) -> tuple[str, ...]:
    """The date fields of `bewaartermijn_vanaf`; ValueError when one is not a (dotted) field name."""
    value = (properties.get(FROM_PROPERTY) or "").strip()
    if not value:
        return ()
    fields = tuple(part.strip() for part in value.split(","))
    for name in fields:
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"bewaartermijn_vanaf '{value}': name date fields, e.g. detentie.datum_uit")
    return fields


@dataclass(frozen=True)
class RetentionRules:
    """A process version's retention: its default period, the periods of its end events, and the `vanaf` fields."""

    process_key: str = ""
    default: str | None = None
    by_end_event: dict[str, str] = field(default_factory=dict)
    from_fields: tuple[str, ...] = ()

    def from_date(self, data: Mapping[str, Any]) -> tuple[str, date] | None:
        """The first `vanaf` field set in the case data, with its date."""
        for name in self.from_fields:
            value: Any = data
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if isinstance(value, str):
                try:
                    return name, date.fromisoformat(value[:10])
                except ValueError:
                    continue
        return None

    def due_from(self, data: Mapping[str, Any]) -> tuple[datetime, str] | None:
        """While the case runs: the due moment counted from its `vanaf` date (default period), and the rule."""
        found = self.from_date(data) if self.default else None
        if found is None or self.default is None:
            return None
        name, day = found
        start = datetime.combine(day, time.min, tzinfo=LOCAL)
        return timer_due(self.default, start), f"{self.process_key}/proces {self.default} vanaf {name}"

    def due_at_end(self, end_events: list[str], ended_at: datetime) -> tuple[datetime, str] | None:
        """For an ended case: the longest period of the end events it reached, else the default, from the end."""
        reached = sorted(
            ((timer_due(self.by_end_event[e], ended_at), e) for e in end_events if e in self.by_end_event),
            reverse=True,
        )
        if reached:
            due, element = reached[0]
            return due, f"{self.process_key}/{element} {self.by_end_event[element]} vanaf einde"
        if self.default is None:
            return None
        return timer_due(self.default, ended_at), f"{self.process_key}/proces {self.default} vanaf einde"


def retention_rules(process_key: str, spec: Any, process_properties: Mapping[str, Mapping[str, str]]) -> RetentionRules:
    """The retention rules of a validated process: its own properties and those of its end events."""
    own = process_properties.get(process_key, {})
    return RetentionRules(
        process_key=process_key,
        default=parse_period(own),
        by_end_event={
            str(task_spec.bpmn_id): period
            for task_spec in spec.task_specs.values()
            if isinstance(task_spec, EndEvent)
            and (period := parse_period(getattr(task_spec, "extensions", {}).get("properties", {})))
        },
        from_fields=parse_from_fields(own),
    )
