"""`zvh backup`, `zvh restore` and `zvh ready`: operations commands on the same engine functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import create_engine

from engine.cli import Context, command_output, pass_context
from engine.ops import health
from engine.ops.backup import BackupSummary, backup, display_url, key_locations, restore


def _contents(summary: BackupSummary) -> str:
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in summary.counts.items())
    return f"{summary.database}, {summary.size} bytes, revision {summary.revision or '-'}; {counts}"


def _keys_line(ctx: Context) -> str:
    keys = ", ".join(key_locations(ctx.settings.instance_path))
    return f"The keys are not in the backup; back them up apart from it: {keys}"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@command_output
@pass_context
def backup_command(ctx: Context, file: Path) -> tuple[Any, str]:
    """Write a consistent copy of the database to FILE while ZVH Regie runs (readable by its owner only)."""
    summary = backup(ctx.settings.database_url, file)
    payload = {**summary.as_dict(), "keys_not_included": key_locations(ctx.settings.instance_path)}
    return payload, "\n".join([f"Backup written to {file}: {_contents(summary)}", _keys_line(ctx)])


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@command_output
@pass_context
def restore_command(ctx: Context, file: Path) -> tuple[Any, str]:
    """Load the backup FILE into the configured database, which must be empty (no tables)."""
    summary = restore(ctx.settings.database_url, file)
    lines = [f"Restored {file} into {display_url(ctx.settings.database_url)}: {_contents(summary)}"]
    if summary.at_head:
        lines.append(f"Schema revision {summary.revision} is this release's newest: ready to serve.")
    else:
        lines.append(
            f"Schema revision {summary.revision or '-'} is not this release's newest ({summary.head}): "
            "run `zvh init` to migrate it before serving."
        )
    keys = ", ".join(key_locations(ctx.settings.instance_path))
    lines.append(f"The restored database needs the keys of the database backed up: {keys}")
    return summary.as_dict(), "\n".join(lines)


@click.command("ready")
@command_output
@pass_context
def ready_command(ctx: Context) -> tuple[Any, str, int]:
    """The checks of /readyz from this process's settings (beat's healthcheck, and an operator's): exit 0 when ready."""
    engine = create_engine(ctx.settings.database_url, connect_args=_connect_timeout(ctx.settings.database_url))
    try:
        outcome = health.check(engine, ctx.settings.redis_url)
    finally:
        engine.dispose()
    lines = [f"{name}: {result}" for name, result in outcome.checks.items()]
    return outcome.as_dict(), "\n".join(lines), 0 if outcome.ready else 1


def _connect_timeout(url: str) -> dict[str, Any]:
    """A healthcheck must answer in time, also when the database host does not."""
    return {"connect_timeout": int(health.CHECK_TIMEOUT)} if url.startswith("postgresql") else {}


def register(main: click.Group) -> None:
    """Add the operations commands to the `zvh` command group."""
    main.add_command(backup_command)
    main.add_command(restore_command)
    main.add_command(ready_command)
