"""Faciliteiten (engine.reports.faciliteiten): the secretariaat's hours per supported overleg type, with the meetings
held and the cases discussed in the period — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.clock import FixedClock
from engine.db import Database
from engine.models import AgendaItem, Meeting, OverlegType
from engine.overleg.types import seed_types
from engine.registry import deploy_file
from engine.reports.faciliteiten import Faciliteit, faciliteiten, faciliteiten_table, year_period
from engine.runtime import Runtime
from engine.users import create_user
from tests.conftest import START
from tests.engine.bpmn import linear, user_task, write

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def cases(db: Database, clock: FixedClock, tmp_path: Path) -> list[int]:
    """The seeded overleg types and three cases to put on agendas."""
    runtime = Runtime(clock=clock, script_time_budget=1.0)
    with db.transaction() as session:
        seed_types(session, at=START)
        starter = create_user(session, username="mila", display_name="Mila", roles=["melder"])
        deploy_file(session, write(tmp_path, "p.bpmn", linear(user_task("T1", "Stap"), process_id="p")), actor="t")
        return [runtime.start_instance(session, process_key="p", actor=starter).instance.id for _ in range(3)]


def meeting(db: Database, type_key: str, starts_at: datetime, status: str, instances: list[int]) -> None:
    with db.transaction() as session:
        kind = session.scalars(select(OverlegType).where(OverlegType.key == type_key)).one()
        row = Meeting(
            type_id=kind.id, starts_at=starts_at, status=status, by_hand=False, planned_by="t", planned_at=START
        )
        session.add(row)
        session.flush()
        for position, instance_id in enumerate(instances, start=1):
            session.add(
                AgendaItem(
                    meeting_id=row.id,
                    instance_id=instance_id,
                    source="handmatig",
                    position=position,
                    added_by="t",
                    added_at=START,
                    updated_at=START,
                    updated_by="t",
                )
            )


def test_faciliteiten__counts_held_meetings_and_their_cases_in_the_period(db: Database, cases: list[int]) -> None:
    a, b, c = cases
    meeting(db, "mass", local(2026, 3, 4, 9, 0), "gehouden", [a, b])
    meeting(db, "mass", local(2026, 3, 11, 9, 0), "gesloten", [a])
    meeting(db, "mass", local(2026, 3, 18, 9, 0), "gepland", [c])  # not held: not counted
    meeting(db, "mass", local(2025, 12, 31, 23, 30), "gehouden", [a, b, c])  # 2025 in Dutch time
    meeting(db, "kr8", local(2026, 1, 1, 0, 30), "gesloten", [c])  # 2026 in Dutch time, 2025 in UTC
    meeting(db, "triagetafel", local(2026, 3, 3, 10, 0), "gehouden", [a, b, c])  # no secretariaat hours
    start, end = year_period(2026)

    with db.reader() as session:
        rows = faciliteiten(session, start=start, end=end)

    assert rows == [
        Faciliteit("huiselijk_geweld", "Casusoverleg huiselijk geweld", "veilig_thuis", "Veilig Thuis", 32.0, 0, 0),
        Faciliteit("mass", "Casusoverleg MaSS", "mass", "MaSS (Maatschappelijke Steunsystemen)", 8.0, 2, 3),
        Faciliteit("kr8", "KR8-kollektief", "ggz", "GGZ", 11.0, 1, 1),
    ]
    start, end = year_period(2025)
    with db.reader() as session:
        last_year = {row.key: row.meetings_held for row in faciliteiten(session, start=start, end=end)}
    assert last_year == {"huiselijk_geweld": 0, "mass": 1, "kr8": 0}


def test_faciliteiten__a_type_without_hours_is_left_out_and_hours_can_change(db: Database, cases: list[int]) -> None:
    with db.transaction() as session:
        kinds = {kind.key: kind for kind in session.scalars(select(OverlegType))}
        kinds["mass"].secretariaat_hours = None
        kinds["leerplicht"].secretariaat_hours = 2.5
    start, end = year_period(2026)

    with db.reader() as session:
        keys = {row.key: row.hours_per_week for row in faciliteiten(session, start=start, end=end)}

    assert keys == {"huiselijk_geweld": 32.0, "kr8": 11.0, "leerplicht": 2.5}


def test_faciliteiten_table__one_row_per_type_and_the_totals(db: Database, cases: list[int]) -> None:
    meeting(db, "huiselijk_geweld", local(2026, 5, 4, 13, 0), "gehouden", cases)

    with db.reader() as session:
        table = faciliteiten_table(session, 2026)

    assert table.figure.title == "Faciliteiten: administratieve ondersteuning"
    assert table.columns == ("Organisatie", "Uren per week", "Gehouden overleggen", "Besproken casussen")
    assert [row.key for row in table.rows] == ["huiselijk_geweld", "mass", "kr8", "totaal"]
    assert [c.text for c in table.rows[0].cells] == ["Veilig Thuis", "32", "1", "3"]
    total = table.rows[-1]
    assert total.total and [c.text for c in total.cells] == ["", "51", "1", "3"]
    assert table.records()[0][0] == "Soort overleg"
