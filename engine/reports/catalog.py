"""The report tables by name, as `zvh report NAME` and the downloads ask for them (one way to get a table)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from engine.reports.definitions import Translate, dutch
from engine.reports.durations import doorlooptijden
from engine.reports.tables import Table, activiteiten, casussen, meldingen

#: The tables with a row label and one column per year (the kengetallen are records: engine.reports.kengetallen).
TABLE_NAMES = ("meldingen", "casussen", "activiteiten", "doorlooptijden")


def report_table(
    session: Session, name: str, years: Sequence[int], *, suppress_small: bool = False, translate: Translate = dutch
) -> Table:
    """The table `name` over `years` (lead times are never small-cell suppressed: they are not counts).

    `translate`: the language of its texts (Dutch unless a page passes `engine.i18n.translated`).
    """
    if name == "meldingen":
        return meldingen(session, years, suppress_small=suppress_small, translate=translate)
    if name == "casussen":
        return casussen(session, years, suppress_small=suppress_small, translate=translate)
    if name == "activiteiten":
        return activiteiten(session, years, suppress_small=suppress_small, translate=translate)
    if name == "doorlooptijden":
        return doorlooptijden(session, list(years), translate=translate)
    raise ValueError(f"unknown report '{name}'; choose one of {', '.join(TABLE_NAMES)}")
