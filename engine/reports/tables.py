"""The report tables, counted from `report_facts` with grouped queries on its index (never from a workflow).

Every table comes with its figure's written definition (engine.reports.definitions); `suppress=True` applies the
small-cell suppression for tables shared outside the ZVH. The CLI, the web pages and the exports all print these
same tables; `translate` gives the texts (title, headers, labels) in the language of the page, Dutch by default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.i18n import N_
from engine.models import ReportFact, ReportPrognosis
from engine.reports.definitions import (
    ACTIVITEITEN,
    CASUSSEN,
    GEMEENTE_ROWS,
    MELDINGEN,
    THEMES,
    Figure,
    Part,
    Theme,
    Translate,
    dutch,
)
from engine.reports.facts import OVERIG
from engine.reports.suppression import shown, suppress


@dataclass(frozen=True)
class Cell:
    """One figure: its value (None: nothing to show, e.g. no prognosis), how it is written, and why it is hidden."""

    value: float | None
    text: str
    suppressed: str | None = None


@dataclass(frozen=True)
class Row:
    """A table row: a key (gemeente, theme or process), its label and one cell per column."""

    key: str
    label: str
    cells: tuple[Cell, ...]
    #: the totals row
    total: bool = False
    #: 1 for a part shown under its theme
    level: int = 0


@dataclass(frozen=True)
class Table:
    """A report table with the definition of its figure."""

    figure: Figure
    row_header: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    suppressed: bool = False
    #: definitions and seed notes per row key (activities), shown with the table
    row_notes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def records(self) -> list[list[str]]:
        """Header and rows as text (CSV): the row label first, then one column per column."""
        return [[self.row_header, *self.columns], *([row.label, *(c.text for c in row.cells)] for row in self.rows)]


#: The longest period a report covers.
MAX_YEARS = 50


def year_span(first: int, last: int) -> list[int]:
    """The years from `first` to `last`; refused when reversed or longer than `MAX_YEARS`."""
    if last < first:
        raise ValueError(f"--from {first} komt na --to {last}")
    if last - first >= MAX_YEARS:
        raise ValueError(f"Kies hoogstens {MAX_YEARS} jaren.")
    return list(range(first, last + 1))


def _counts(session: Session, kengetal: str, years: Sequence[int]) -> dict[tuple[str | None, int], int]:
    query = (
        select(ReportFact.gemeente, ReportFact.jaar, func.count())
        .where(ReportFact.kengetal == kengetal, ReportFact.jaar.between(years[0], years[-1]))
        .group_by(ReportFact.gemeente, ReportFact.jaar)
    )
    return {(gemeente, jaar): count for gemeente, jaar, count in session.execute(query)}


def _count_table(
    session: Session, figure: Figure, kengetal: str, years: Sequence[int], *, hide: bool, translate: Translate
) -> Table:
    counts = _counts(session, kengetal, years)
    keys = list(GEMEENTE_ROWS)
    grid = [[counts.get((key, year), 0) for year in years] for key in keys]
    grid.append([sum(column) for column in zip(*grid, strict=True)] if grid else [])
    hidden = suppress(grid, total_row=True) if hide else {}
    # a gemeente's name is a proper name; only Overig is a message
    labels = [translate(name) if key == OVERIG else name for key, name in GEMEENTE_ROWS.items()]
    labels.append(translate(N_("Totaal")))
    rows = tuple(
        Row(
            key=[*keys, "totaal"][r],
            label=labels[r],
            cells=tuple(Cell(v, shown(v, hidden.get((r, c))), hidden.get((r, c))) for c, v in enumerate(values)),
            total=r == len(keys),
        )
        for r, values in enumerate(grid)
    )
    columns = tuple(str(y) for y in years)
    return Table(figure.in_language(translate), translate(N_("Gemeente")), columns, rows, suppressed=hide)


def meldingen(
    session: Session, years: Sequence[int], *, suppress_small: bool = False, translate: Translate = dutch
) -> Table:
    """Report 1: referrals offered to triage, per gemeente per year."""
    return _count_table(session, MELDINGEN, "melding", years, hide=suppress_small, translate=translate)


def casussen(
    session: Session, years: Sequence[int], *, suppress_small: bool = False, translate: Translate = dutch
) -> Table:
    """Report 2: new procesregie cases, per gemeente per year."""
    return _count_table(session, CASUSSEN, "casus", years, hide=suppress_small, translate=translate)


def _part_counts(session: Session, years: Sequence[int]) -> dict[tuple[str, str | None, int], int]:
    kengetallen = sorted({part.kengetal for theme in THEMES for part in theme.parts})
    query = (
        select(ReportFact.kengetal, ReportFact.uitsplitsing, ReportFact.jaar, func.count())
        .where(ReportFact.kengetal.in_(kengetallen), ReportFact.jaar.between(years[0], years[-1]))
        .group_by(ReportFact.kengetal, ReportFact.uitsplitsing, ReportFact.jaar)
    )
    counts: dict[tuple[str, str | None, int], int] = defaultdict(int)
    for kengetal, split, jaar, count in session.execute(query):
        counts[(kengetal, split, jaar)] += count
        if split is not None:  # (kengetal, None, jaar) is the kengetal's total, whatever the split
            counts[(kengetal, None, jaar)] += count
    return counts


def _part_count(counts: dict[tuple[str, str | None, int], int], part: Part, year: int) -> int:
    return counts.get((part.kengetal, part.uitsplitsing, year), 0)


def _theme_grid(counts: dict[tuple[str, str | None, int], int], theme: Theme, years: Sequence[int]) -> list[list[int]]:
    """A theme's rows: its parts when it is split, and last its total (the sum of its parts)."""
    parts = [[_part_count(counts, part, year) for year in years] for part in theme.parts]
    total = [sum(column) for column in zip(*parts, strict=True)]
    return [*parts, total] if theme.split else [total]


def _theme_rows(theme: Theme, grid: list[list[int]], *, hide: bool, translate: Translate) -> list[Row]:
    """The theme's total row, then its parts; a split theme's parts add up to its total (one suppression line).

    The keys stay the Dutch part labels whatever the language (they name the row, e.g. `triage/door de Weegploeg`).
    """
    hidden = suppress(grid, total_row=theme.split) if hide else {}

    def cells(r: int) -> tuple[Cell, ...]:
        return tuple(Cell(v, shown(v, hidden.get((r, c))), hidden.get((r, c))) for c, v in enumerate(grid[r]))

    rows = [Row(theme.key, f"{translate(theme.title)} ({translate(theme.unit)})", cells(len(grid) - 1))]
    if theme.split:
        rows += [
            Row(f"{theme.key}/{part.label}", f"– {translate(part.label)}", cells(r), level=1)
            for r, part in enumerate(theme.parts)
        ]
    return rows


def _notes(translate: Translate) -> dict[str, tuple[str, str]]:
    return {theme.key: (translate(theme.definition), translate(theme.note)) for theme in THEMES}


def activiteiten(
    session: Session, years: Sequence[int], *, suppress_small: bool = False, translate: Translate = dutch
) -> Table:
    """Report 3 over several years: the result of every theme (and its parts) per year."""
    counts = _part_counts(session, years)
    rows = [
        row
        for theme in THEMES
        for row in _theme_rows(theme, _theme_grid(counts, theme, years), hide=suppress_small, translate=translate)
    ]
    return Table(
        ACTIVITEITEN.in_language(translate),
        translate(N_("Thema")),
        tuple(str(y) for y in years),
        tuple(rows),
        suppressed=suppress_small,
        row_notes=_notes(translate),
    )


def prognoses(session: Session, year: int) -> dict[str, int]:
    """The prognoses entered for `year`, by theme."""
    query = select(ReportPrognosis.thema, ReportPrognosis.waarde).where(ReportPrognosis.jaar == year)
    return {thema: waarde for thema, waarde in session.execute(query)}


def activity_year(session: Session, year: int, *, suppress_small: bool = False, translate: Translate = dutch) -> Table:
    """Report 3 for one year: prognosis, result and difference per theme (parts: result only)."""
    results = activiteiten(session, [year], suppress_small=suppress_small, translate=translate)
    planned = prognoses(session, year)
    rows = []
    for row in results.rows:
        result = row.cells[0]
        prognosis = planned.get(row.key) if row.level == 0 else None
        visible = result.suppressed is None and result.value is not None
        difference = int(result.value or 0) - prognosis if prognosis is not None and visible else None
        rows.append(
            Row(
                key=row.key,
                label=row.label,
                cells=(
                    Cell(prognosis, str(prognosis) if prognosis is not None else "–"),
                    result,
                    Cell(difference, f"{difference:+d}" if difference is not None else "–"),
                ),
                level=row.level,
            )
        )
    return Table(
        results.figure,
        translate(N_("Thema (%(jaar)s)"), jaar=year),
        (translate(N_("Prognose")), translate(N_("Resultaat")), translate(N_("Verschil"))),
        tuple(rows),
        suppressed=suppress_small,
        row_notes=results.row_notes,
    )
