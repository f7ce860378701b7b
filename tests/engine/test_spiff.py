"""SpiffWorkflow wiring: role keys from lane names and timer due dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.spiff import role_key, timer_due

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lane", "role"),
    [
        ("Procesregisseur", "procesregisseur"),
        ("Lokale driehoek", "lokale_driehoek"),
        ("Re-integratiecoördinator", "re_integratiecoordinator"),
        ("  DJI ", "dji"),
        ("Starter", None),
        ("", None),
        (None, None),
    ],
)
def test_role_key__lane_names_become_plain_role_keys(lane: str | None, role: str | None) -> None:
    assert role_key(lane) == role


@pytest.mark.parametrize(
    ("value", "due"),
    [
        ("P5D", datetime(2026, 2, 5, 12, 0, tzinfo=UTC)),
        ("PT72H", datetime(2026, 2, 3, 12, 0, tzinfo=UTC)),
        ("P1M", datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        ("2026-03-01T09:00:00+01:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_timer_due__durations_count_from_now_and_dates_are_utc(value: str, due: datetime) -> None:
    assert timer_due(value, NOW) == due


def test_timer_due__refuses_a_date_without_offset() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        timer_due("2026-03-01T09:00:00", NOW)
