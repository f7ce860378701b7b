"""A simulated 2027 through the calendar rules (issue 13): prints figures, asserts nothing but the schedule's promise.

    .venv/bin/python bench/calendar_2027.py

1. Every working day of 2027 starts a "5 werkdagen" deadline: how many end on another day than the old count
   (Monday to Friday, no holidays) gave, and which.
2. The weekly triage (Tuesday 10:00, cut-off Monday 12:00): which weeks would meet on a day off, and that none does
   once the meeting moves with `next_working_day` (the cut-off with it to the working day before, when it is off).
3. Legal terms: how many of the 365 days of 2027 end a term on another day under the Algemene termijnenwet.
"""

from __future__ import annotations

from datetime import date, timedelta

from engine.holidays import add_working_days, days_off_in, is_working_day, legal_term_end, next_working_day

YEAR = 2027


def old_add_working_days(day: date, count: int) -> date:
    """The count before issue 13: Monday to Friday only."""
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def main() -> None:
    days = [date(YEAR, 1, 1) + timedelta(days=n) for n in range((date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days)]
    print(
        f"days off in {YEAR} (holidays and configured days off):",
        ", ".join(d.strftime("%d-%m %a") for d in sorted(days_off_in(YEAR))),
    )

    starts = [day for day in days if is_working_day(day)]
    moved = [(day, old_add_working_days(day, 5), add_working_days(day, 5)) for day in starts]
    changed = [(start, old, new) for start, old, new in moved if old != new]
    print(f"\n'5 werkdagen' from {len(starts)} working days: {len(changed)} end later than the Monday-Friday count")
    for start, old, new in changed:
        print(f"  {start:%d-%m %a} -> {new:%d-%m %a} (was {old:%d-%m %a})")

    tuesdays = [day for day in days if day.weekday() == 1]
    clashes, problems = [], []
    for tuesday in tuesdays:
        meeting = next_working_day(tuesday)
        cut_off = tuesday - timedelta(days=1)
        if not is_working_day(cut_off):
            cut_off = add_working_days(cut_off, -1)
        if meeting != tuesday or cut_off != tuesday - timedelta(days=1):
            clashes.append(
                f"  week of {tuesday:%d-%m}: triage {meeting:%d-%m %a} 10:00, cut-off {cut_off:%d-%m %a} 12:00"
            )
        if not (is_working_day(meeting) and is_working_day(cut_off) and cut_off < meeting):
            problems.append(tuesday)
    print(
        f"\nweekly triage: {len(clashes)} of {len(tuesdays)} weeks move off a day off; on a day off after moving: "
        f"{len(problems)}"
    )
    print("\n".join(clashes))
    assert not problems, problems

    legal = [day for day in days if legal_term_end(day) != day]
    weekday_holidays = [day for day in legal if day.weekday() < 5]
    print(
        f"\nlegal terms: {len(legal)} days of {YEAR} move on (of which {len(weekday_holidays)} feestdagen on a "
        f"weekday: {', '.join(f'{d:%d-%m}' for d in weekday_holidays)})"
    )
    print(f"  e.g. a term ending Sunday 28-02 ends {legal_term_end(date(YEAR, 2, 28)):%a %d-%m}")


if __name__ == "__main__":
    main()
