"""The query parameters of the report pages: a period of years, one year, and whether to suppress small cells.

A wrong value is answered with the page and a Dutch message (400), never a server error: `ReportParams.error` says
what is wrong and the pages show what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from engine.monitor.norms import LOCAL
from engine.reports.tables import MAX_YEARS
from web.services import now

#: The default period: this many years, ending this year.
DEFAULT_YEARS = 6
FIRST_YEAR, LAST_YEAR = 1900, 2200


@dataclass(frozen=True)
class ReportParams:
    """What the manager asked for, as typed, and the years it means (empty when `error` says what is wrong)."""

    van: str
    tot: str
    jaar: str
    suppress: bool
    years: list[int] = field(default_factory=list)
    year: int = 0
    error: str | None = None

    def query(self, **extra: object) -> dict[str, object]:
        """The parameters for a link to another report page or a download (the same period and choice)."""
        values: dict[str, object] = {"van": self.van, "tot": self.tot}
        if self.suppress:
            values["onderdrukken"] = "1"
        return {**values, **extra}


def this_year() -> int:
    return now().astimezone(LOCAL).year


def _year(text: str) -> int:
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValueError(_("Vul een jaartal tussen %(van)s en %(tot)s in.", van=FIRST_YEAR, tot=LAST_YEAR))
    return int(text)


def _span(van: int, tot: int) -> list[int]:
    if tot < van:
        raise ValueError(_("Het jaar 'van' (%(van)s) komt na het jaar 'tot' (%(tot)s).", van=van, tot=tot))
    if tot - van >= MAX_YEARS:
        raise ValueError(_("Kies een periode van hoogstens %(n)s jaar.", n=MAX_YEARS))
    return list(range(van, tot + 1))


def report_params(args: Mapping[str, str]) -> ReportParams:
    """The period (`van`, `tot`: default the last six years), the year (`jaar`: default `tot`) and `onderdrukken`."""
    current = this_year()
    tot = (args.get("tot") or str(current)).strip()
    van = (args.get("van") or "").strip() or (str(int(tot) - DEFAULT_YEARS + 1) if tot.isdigit() else "")
    jaar = (args.get("jaar") or tot).strip()
    suppress = args.get("onderdrukken") in ("1", "on", "ja")
    try:
        years = _span(_year(van), _year(tot))
        year = _year(jaar)
    except ValueError as wrong:
        return ReportParams(van[:10], tot[:10], jaar[:10], suppress, error=str(wrong))
    return ReportParams(van, tot, jaar, suppress, years, year)
