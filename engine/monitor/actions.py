"""What a manager does from the monitor besides reassigning and retrying: note, escalate, open a case. All logged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.access import emergency_access
from engine.audit import record
from engine.errors import Conflict, NotFound
from engine.forms import required_text
from engine.instance import ACTIVE_STATUSES
from engine.models import Instance, User
from engine.monitor.scan import require_monitor
from engine.runtime import Runtime

#: The message that starts the escalation process (processes/bewaking_escalatie.bpmn) as a follow-up of a case.
ESCALATION_MESSAGE = "bewaking_escalatie"


def _instance(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("Deze zaak bestaat niet.")
    return instance


def add_note(session: Session, *, instance_id: int, actor: User, text: str, at: datetime) -> None:
    """A manager's note on a case in the monitor (kept in the audit log, shown on the case timeline)."""
    require_monitor(actor)
    note = required_text(text, field="notitie", message="Schrijf een notitie.")
    instance = _instance(session, instance_id)
    record(
        session,
        actor=actor.username,
        action="note",
        at=at,
        instance_id=instance.id,
        process_version_id=instance.process_version_id,
        summary=f"Note from monitoring: {note}",
        details={"note": note},
    )


def escalate(
    session: Session, runtime: Runtime, *, instance_id: int, actor: User, reason: str, step: str | None = None
) -> Instance:
    """Ask the procesregisseur to get a stalled case moving: starts the escalation process for the same case."""
    require_monitor(actor)
    why = required_text(reason, field="reden", message="Geef de reden van de escalatie.")
    instance = _instance(session, instance_id)
    if instance.status not in ACTIVE_STATUSES and instance.status != "error":
        raise Conflict("Deze zaak is afgerond; er valt niets te escaleren.")
    escalation = runtime.start_follow_up(
        session,
        instance_id=instance.id,
        message=ESCALATION_MESSAGE,
        actor=actor,
        data={"escalatie_reden": why, "escalatie_stap": step or "onbekend", "escalatie_zaak": instance.id},
    )
    record(
        session,
        actor=actor.username,
        action="escalate",
        at=runtime.clock.now(),
        instance_id=instance.id,
        process_version_id=instance.process_version_id,
        summary=f"Escalated to the procesregisseur (instance {escalation.id}): {why}",
        details={"reason": why, "step": step, "instance_id": escalation.id},
    )
    return escalation


def open_case(session: Session, *, instance_id: int, actor: User, reason: str, at: datetime) -> None:
    """Give a manager access to a case from the monitor: noodtoegang with its reason, flagged for the FG."""
    require_monitor(actor)
    emergency_access(session, instance_id=instance_id, actor=actor, reason=reason, at=at, via="monitor")
