"""Overleg objects as JSON (the API and `zvh overleg ... --json`): no case content, only what the viewer may see."""

from __future__ import annotations

from typing import Any

from engine.overleg.meetings import Agenda


def agenda_dict(view: Agenda) -> dict[str, Any]:
    """An agenda as JSON: the meeting and the items the viewer may see (no case content)."""
    meeting = view.meeting
    return {
        "id": meeting.id,
        "type": view.kind.key,
        "name": view.kind.name,
        "starts_at": meeting.starts_at.isoformat(),
        "status": meeting.status,
        "by_hand": meeting.by_hand,
        "cutoff": view.cutoff.isoformat(),
        "items": [
            {
                "position": item.item.position,
                "instance_id": item.item.instance_id,
                "case_number": item.case_number,
                "process": item.process_name,
                "step": item.item.step_name,
                "source": item.item.source,
                "waiting": item.waiting,
                "decided_here": item.item.outcome_at is not None,
                "invited": [user.username for user in item.invitees],
                "open_action_points": sum(1 for point in item.action_points if point.status == "open"),
            }
            for item in view.items
        ],
    }
