"""`zvh report NAME` prints a report for scripts; `zvh demo --history` makes the synthetic history.

Registered on the main CLI group in engine/cli.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from engine.cli import Context, command_output, pass_context
from engine.clock import SYSTEM_CLOCK
from engine.monitor.norms import LOCAL
from engine.reports.catalog import TABLE_NAMES, report_table
from engine.reports.export import to_csv, to_json
from engine.reports.kengetallen import document, kengetallen, records_csv
from engine.reports.tables import year_span

REPORTS = (*TABLE_NAMES, "kengetallen")


def years_of(year: int | None, first: int | None, last: int | None, *, this_year: int) -> list[int]:
    """The years asked for: `--year`, or `--from`/`--to` (either may be left out), else the last six."""
    if year is not None and (first is not None or last is not None):
        raise click.UsageError("Give --year or --from/--to, not both.")
    if year is not None:
        first = last = year
    last = last if last is not None else (first + 5 if first is not None and first + 5 < this_year else this_year)
    first = first if first is not None else last - 5
    try:
        return year_span(first, last)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@click.command()
@click.argument("name", type=click.Choice(REPORTS))
@click.option("--year", type=int, help="One year.")
@click.option("--from", "first", type=int, help="First year (default: five years before --to).")
@click.option("--to", "last", type=int, help="Last year (default: this year).")
@click.option("--format", "output", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--suppress-small", is_flag=True, help="Hide cells below 5 (for reports shared outside the ZVH).")
@pass_context
def report(
    ctx: Context, name: str, year: int | None, first: int | None, last: int | None, output: str, suppress_small: bool
) -> None:
    """Print a management report: first column the row label (gemeente, theme or process), one column per year."""
    years = years_of(year, first, last, this_year=SYSTEM_CLOCK.now().astimezone(LOCAL).year)
    with ctx.db.reader() as session:
        if name == "kengetallen":
            records = kengetallen(session, years, zvh=ctx.settings.zvh_name)
            if output == "json":
                text = json.dumps(document(records, years, zvh=ctx.settings.zvh_name), ensure_ascii=False, indent=2)
            else:
                text = records_csv(records)
        else:
            table = report_table(session, name, years, suppress_small=suppress_small)
            text = json.dumps(to_json(table), ensure_ascii=False, indent=2) if output == "json" else to_csv(table)
    click.echo(text, nl=output == "json")


@click.command()
@click.option("--history", is_flag=True, required=True, help="Generate the synthetic cases 2016–2021.")
@click.option("--seed", type=int, default=2021, show_default=True, help="Random seed (same seed, same cases).")
@command_output
@pass_context
def demo(ctx: Context, history: bool, seed: int) -> tuple[Any, str]:
    """(Demo databases only) fill the database with synthetic cases that reproduce the 2021 annual report."""
    from engine.reports.history import generate_history

    started = time.perf_counter()
    made = generate_history(ctx.db, ctx.runtime, seed=seed)
    seconds = time.perf_counter() - started
    lines = [f"Synthetic history generated in {seconds:.1f} s:"] + [f"  {key}: {count}" for key, count in made.items()]
    lines.append("See the figures with `zvh report meldingen --from 2016 --to 2021` or on /rapportages.")
    return {"made": made, "seconds": round(seconds, 1)}, "\n".join(lines)


def register(main: click.Group) -> None:
    """Add the report commands to the `zvh` group."""
    main.add_command(report)
    main.add_command(demo)
