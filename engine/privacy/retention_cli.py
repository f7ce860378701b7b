"""`zvh destroy` and `zvh retention due|uncomputable` (registered on the main CLI group in engine/cli.py)."""

from __future__ import annotations

from typing import Any

import click

from engine.cli import Context, command_output, pass_context
from engine.clock import SYSTEM_CLOCK
from engine.privacy.destruction import destroy_directly, purge_freed_space
from engine.privacy.retention import RetentionCase, due_for_destruction, uncomputable
from engine.users import get_user


@click.command()
@click.argument("case")
@click.option("--as", "username", required=True, help="The privacyfunctionaris who destroys the case.")
@click.option("--reason", required=True, help="Why (e.g. the erasure request it answers).")
@command_output
@pass_context
def destroy(ctx: Context, case: str, username: str, reason: str) -> tuple[Any, str]:
    """Destroy a case's personal data now (CASE: case number or instance id); a running case is ended first."""
    now = SYSTEM_CLOCK.now()
    with ctx.db.transaction() as session:
        done = destroy_directly(session, case=case, actor=get_user(session, username), reason=reason, at=now)
    purge_freed_space(ctx.db)
    lines = [
        f"Vernietigd: zaak {d.case_number} (instance {d.instance_id}, {d.process_key})"
        + (", eerst beëindigd" if d.terminated else "")
        + "; verwijderd: "
        + ", ".join(f"{table} {count}" for table, count in d.removed.items())
        for d in done
    ]
    return [d.as_dict() for d in done], "\n".join(lines)


@click.group()
def retention() -> None:
    """Retention periods: cases due for destruction, cases whose retention cannot be computed."""


def _listing(cases: list[RetentionCase], empty: str) -> tuple[Any, str]:
    lines = [
        f"{c.instance_id:>6} {c.case_number}  {c.process_key}  {c.status}  "
        + (f"bewaren tot {c.retention_due_at:%Y-%m-%d}  {c.rule}" if c.retention_due_at else str(c.reason))
        for c in cases
    ]
    return [c.as_dict() for c in cases], "\n".join(lines) or empty


@retention.command("due")
@command_output
@pass_context
def retention_due(ctx: Context) -> tuple[Any, str]:
    """Cases whose retention has passed and that are on no open destruction list."""
    with ctx.db.reader() as session:
        return _listing(due_for_destruction(session, SYSTEM_CLOCK.now()), "Geen zaken te vernietigen.")


@retention.command("uncomputable")
@command_output
@pass_context
def retention_uncomputable(ctx: Context) -> tuple[Any, str]:
    """Cases whose retention date cannot be computed (so none is kept forever by accident)."""
    with ctx.db.reader() as session:
        return _listing(uncomputable(session, SYSTEM_CLOCK.now()), "Geen zaken zonder bewaartermijn.")


def register(group: click.Group) -> None:
    """Add `destroy` and `retention` to the main command group."""
    group.add_command(destroy)
    group.add_command(retention)
