"""Small-cell suppression for tables shared outside the ZVH: no count of 1–4 people, and none that can be worked out.

Primary suppression hides every cell from 1 to 4 (zero is shown: it names nobody). A hidden cell could be worked
out from its row or column total when it is the only hidden cell of that line, so secondary (complementary)
suppression also hides the smallest other cell of such a line, until no line has exactly one hidden cell. Totals
are cells of their lines too (a total of 1–4 is hidden like any other cell).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.reports.definitions import SMALL_CELL

PRIMARY, SECONDARY = "primair", "secundair"
Position = tuple[int, int]


def suppress(grid: Sequence[Sequence[int]], *, total_row: bool, total_column: bool = False) -> dict[Position, str]:
    """Which cells of `grid` to hide, and why; `total_row`/`total_column`: the last row/column holds the totals.

    A column adds up to its total in the total row, a row to its total in the total column: those are the lines a
    hidden cell could be worked out from (without totals only primary suppression applies).
    """
    hidden = {(r, c): PRIMARY for r, row in enumerate(grid) for c, value in enumerate(row) if 0 < value < SMALL_CELL}
    if not grid:
        return hidden
    rows, columns = len(grid), len(grid[0])
    lines = [[(r, c) for c in range(columns)] for r in range(rows)] if total_column else []
    lines += [[(r, c) for r in range(rows)] for c in range(columns)] if total_row else []
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for cell in line if cell in hidden) != 1:
                continue
            visible = [cell for cell in line if cell not in hidden]
            if not visible:
                continue

            # The smallest other cell, preferring counts over zeros and data cells over the line's total.
            def rank(p: Position) -> tuple[bool, bool, int]:
                is_total = (total_row and p[0] == rows - 1) or (total_column and p[1] == columns - 1)
                return grid[p[0]][p[1]] == 0, is_total, grid[p[0]][p[1]]

            hidden[min(visible, key=rank)] = SECONDARY
            changed = True
    return hidden


def shown(value: int, reason: str | None) -> str:
    """How a count is written in a shared table: the number, `<5` (too small) or `×` (hidden so `<5` stays hidden)."""
    if reason == PRIMARY:
        return f"<{SMALL_CELL}"
    if reason == SECONDARY:
        return "×"
    return str(value)
