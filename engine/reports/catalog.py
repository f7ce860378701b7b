"""The report tables by name, as `zvh report NAME` and the downloads ask for them (one way to get a table)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from engine.reports.durations import doorlooptijden
from engine.reports.tables import Table, activiteiten, casussen, meldingen

#: The tables with a row label and one column per year (the kengetallen are records: engine.reports.kengetallen).
TABLE_NAMES = ("meldingen", "casussen", "activiteiten", "doorlooptijden")


def report_table(session: Session, name: str, years: Sequence[int], *, suppress_small: bool = False) -> Table:
    """The table `name` over `years` (lead times are never small-cell suppressed: they are not counts)."""
    if name == "meldingen":
        return meldingen(session, years, suppress_small=suppress_small)
    if name == "casussen":
        return casussen(session, years, suppress_small=suppress_small)
    if name == "activiteiten":
        return activiteiten(session, years, suppress_small=suppress_small)
    if name == "doorlooptijden":
        return doorlooptijden(session, list(years))
    raise ValueError(f"unknown report '{name}'; choose one of {', '.join(TABLE_NAMES)}")
