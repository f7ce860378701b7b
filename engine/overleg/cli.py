"""`zvh overleg plan|agenda|invite|types` (registered on the main group in engine/cli.py): the same engine functions
as the pages; the agenda printed for a user holds only the items that user is invited for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from engine.cli import Context, _moment, command_output, pass_context
from engine.clock import SYSTEM_CLOCK
from engine.dates import local_moment
from engine.overleg.meetings import Agenda, agenda, invite, plan_meeting
from engine.overleg.present import agenda_dict
from engine.overleg.types import list_types
from engine.users import get_user


def _agenda_text(view: Agenda) -> str:
    head = (
        f"Overleg {view.meeting.id}: {view.kind.name}, {local_moment(view.meeting.starts_at)} ({view.meeting.status})"
    )
    lines = [head, f"Agenda sluit: {local_moment(view.cutoff)}"]
    for item in view.items:
        step = f" — {item.item.step_name}" if item.item.step_name else ""
        lines.append(f"{item.item.position:>3}. {item.case_number}  {item.process_name}{step} [{item.item.source}]")
    if not view.items:
        lines.append("  (geen agendapunten voor u)")
    return "\n".join(lines)


@click.group()
def overleg() -> None:
    """Casusoverleg: plan meetings, print an agenda, invite per case."""


@overleg.command("types")
@command_output
@pass_context
def overleg_types(ctx: Context) -> tuple[Any, str]:
    """The overleg types."""
    with ctx.db.reader() as session:
        kinds = list_types(session)
        payload = [
            {
                "key": k.key,
                "name": k.name,
                "organisation": k.organisation,
                "chair_role": k.chair_role,
                "weekday": k.weekday,
                "start_time": k.start_time,
                "interval_weeks": k.interval_weeks,
                "feeds": list(k.feeds),
                "secretariaat_hours": k.secretariaat_hours,
                "active": k.active,
            }
            for k in kinds
        ]
    return payload, "\n".join(f"{k['key']:28} {k['name']}" for k in payload)


@overleg.command("plan")
@click.argument("type_key")
@click.option("--at", "at_text", help="ISO 8601 moment; without it: the type's next regular moment.")
@click.option("--by-hand", is_flag=True, help="Mark the meeting as planned by hand.")
@click.option("--as", "username", required=True, help="The chair or the secretariaat.")
@command_output
@pass_context
def overleg_plan(ctx: Context, type_key: str, at_text: str | None, by_hand: bool, username: str) -> tuple[Any, str]:
    """Plan a meeting and fill its agenda."""
    at: datetime | None = _moment("--at", at_text)
    now = SYSTEM_CLOCK.now()
    with ctx.db.transaction() as session:
        actor = get_user(session, username)
        meeting = plan_meeting(session, type_key=type_key, actor=actor, at=at, now=now, by_hand=by_hand)
        view = agenda(session, meeting_id=meeting.id, viewer=actor)
        payload = agenda_dict(view)
        text = _agenda_text(view)
    return payload, text


@overleg.command("agenda")
@click.argument("meeting_id", type=int)
@click.option("--as", "username", required=True, help="Whose agenda: only the items they are invited for.")
@command_output
@pass_context
def overleg_agenda(ctx: Context, meeting_id: int, username: str) -> tuple[Any, str]:
    """Print a meeting's agenda as the user may see it."""
    with ctx.db.reader() as session:
        view = agenda(session, meeting_id=meeting_id, viewer=get_user(session, username))
        return agenda_dict(view), _agenda_text(view)


@overleg.command("invite")
@click.argument("meeting_id", type=int)
@click.argument("case")
@click.argument("invitee")
@click.option("--as", "username", required=True, help="The chair or the secretariaat.")
@command_output
@pass_context
def overleg_invite(ctx: Context, meeting_id: int, case: str, invitee: str, username: str) -> tuple[Any, str]:
    """Invite a user for one case on the agenda (CASE: case number or instance id)."""
    with ctx.db.transaction() as session:
        invited = invite(
            session,
            meeting_id=meeting_id,
            case=case,
            user=get_user(session, invitee),
            actor=get_user(session, username),
            at=SYSTEM_CLOCK.now(),
        )
    text = f"{invitee} uitgenodigd voor {case}" if invited else f"{invitee} was al uitgenodigd voor {case}"
    return {"meeting": meeting_id, "case": case, "user": invitee, "invited": invited}, text


def register(group: click.Group) -> None:
    """Add `overleg` to the main command group."""
    group.add_command(overleg)
