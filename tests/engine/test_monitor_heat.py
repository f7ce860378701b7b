"""The heat map and the throughput figures: counts, medians, bands and months from the indexed columns."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.db import Database
from engine.inbox import list_tasks
from engine.models import User
from engine.monitor import Series, bar_chart, heat_map, throughput, waiting_at
from engine.monitor.charts import nice_ceiling
from engine.monitor.heat import band
from engine.monitor.throughput import month_starts
from engine.registry import deploy_file
from engine.runtime import Runtime
from tests.conftest import AMSTERDAM, START, UserFactory
from tests.engine.bpmn import linear, write

HOUR = 3600.0
DAY = 24 * HOUR


def normed_task(task_id: str, name: str, norm: str) -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="norm" value="{norm}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


@pytest.fixture
def process(db: Database, tmp_path: Path) -> str:
    xml = linear(
        normed_task("T1", "Beoordelen", "P2D"),
        normed_task("T2", "Afronden", "PT8H"),
        process_id="warmte",
        name="Warmte",
    )
    with db.transaction() as session:
        deploy_file(session, write(tmp_path, "warmte.bpmn", xml), actor="tester")
    return "warmte"


@pytest.fixture
def melder(make_user: UserFactory) -> User:
    return make_user("mila", "melder")


class Cases:
    """Start and advance instances of the test process at the clock's current time."""

    def __init__(self, db: Database, runtime: Runtime, clock: FixedClock, user: User) -> None:
        self.db, self.runtime, self.clock, self.user = db, runtime, clock, user

    def start(self, at: datetime | None = None) -> int:
        if at is not None:
            self.clock.set(at)
        with self.db.transaction() as session:
            return self.runtime.start_instance(session, process_key="warmte", actor=self.user).instance.id

    def complete(self, instance_id: int, at: datetime | None = None) -> None:
        if at is not None:
            self.clock.set(at)
        with self.db.transaction() as session:
            task = list_tasks(session, instance_id=instance_id).tasks[0]
            self.runtime.complete_task(session, task_id=task.id, actor=self.user)


@pytest.fixture
def cases(db: Database, runtime: Runtime, clock: FixedClock, melder: User) -> Cases:
    return Cases(db, runtime, clock, melder)


@pytest.mark.parametrize(
    ("with_norm", "past_half", "stalled", "expected"),
    [
        (4, 2, 0, "ok"),
        (3, 2, 0, "warn"),
        (4, 3, 0, "warn"),
        (4, 4, 1, "over"),
        (4, 0, 1, "over"),
        (0, 0, 0, "ok"),
    ],
)
def test_band__the_median_case_against_its_norm(with_norm: int, past_half: int, stalled: int, expected: str) -> None:
    assert band(with_norm=with_norm, past_half=past_half, stalled=stalled) == expected


def test_heat_map__counts_and_median_wait_per_step(db: Database, process: str, cases: Cases, clock: FixedClock) -> None:
    cases.start(START)
    cases.start(START + timedelta(hours=5))
    cases.start(START + timedelta(hours=30))
    clock.set(START + timedelta(hours=30))

    with db.reader() as session:
        heat = heat_map(session, process_key=process, now=clock.now())

    assert list(heat) == ["T1"]
    step = heat["T1"]
    assert (step.name, step.waiting, step.norm, step.stalled) == ("Beoordelen", 3, "P2D", 0)
    assert step.median_wait == 25 * HOUR and step.past_half == 2
    assert step.band == "warn", "the median case used more than half of its norm"


def test_heat_map__a_case_past_its_norm_turns_the_step_red(
    db: Database, process: str, cases: Cases, clock: FixedClock
) -> None:
    cases.start(START)
    cases.start(START + timedelta(days=2))
    cases.start(START + timedelta(days=2))
    clock.set(START + timedelta(days=2, hours=1))

    with db.reader() as session:
        step = heat_map(session, process_key=process, now=clock.now())["T1"]

    assert (step.waiting, step.stalled, step.median_wait) == (3, 1, HOUR)
    assert step.band == "over", "any case past the norm"


def test_heat_map__follows_cases_to_the_next_step(db: Database, process: str, cases: Cases, clock: FixedClock) -> None:
    first = cases.start(START)
    cases.start(START)
    cases.complete(first, START + timedelta(hours=2))
    clock.set(START + timedelta(hours=12))

    with db.reader() as session:
        heat = heat_map(session, process_key=process, now=clock.now())
        other = heat_map(session, process_key="bestaat_niet", now=clock.now())

    assert [(s.element_id, s.waiting) for s in heat.values()] == [("T2", 1), ("T1", 1)], "ordered by step name"
    assert heat["T2"].median_wait == 10 * HOUR and heat["T2"].band == "over", "10 hours on an 8-hour norm"
    assert heat["T1"].band == "ok"
    assert other == {}


def test_heat_map__a_step_across_versions_shows_its_newest_name_and_most_common_norm(
    db: Database, process: str, cases: Cases, clock: FixedClock, tmp_path: Path
) -> None:
    cases.start(START)
    cases.start(START)
    xml = linear(normed_task("T1", "Beoordelen en wegen", "P1D"), process_id="warmte", name="Warmte")
    with db.transaction() as session:
        deploy_file(session, write(tmp_path, "warmte.bpmn", xml), actor="tester")
    cases.start(START + timedelta(hours=1))

    with db.reader() as session:
        step = heat_map(session, process_key=process, now=clock.now())["T1"]

    assert (step.waiting, step.name, step.norm) == (3, "Beoordelen en wegen", "P2D")


def test_waiting_at__lists_the_cases_longest_waiting_first(
    db: Database, process: str, cases: Cases, clock: FixedClock, runtime: Runtime, melder: User
) -> None:
    late = cases.start(START)
    recent = cases.start(START + timedelta(days=3))
    with db.transaction() as session:
        task = list_tasks(session, instance_id=recent).tasks[0]
        runtime.claim_task(session, task_id=task.id, actor=melder)

    with db.reader() as session:
        rows = waiting_at(session, process_key=process, element_id="T1", now=clock.now())
        elsewhere = waiting_at(session, process_key=process, element_id="T2", now=clock.now())

    assert [row.instance_id for row in rows] == [late, recent]
    first, second = rows
    assert first.case_number.startswith("ZVH-2026-") and first.step == "Beoordelen"
    assert first.waiting_since == START and first.waited == 3 * DAY
    assert first.norm == "P2D" and first.norm_due_at == START + timedelta(days=2) and first.stalled
    assert first.assignee is None and first.role is None
    assert second.assignee == "Mila" and not second.stalled
    assert elsewhere == []


def test_month_starts__are_local_calendar_months() -> None:
    starts = month_starts(datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM), 3)

    assert [s.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2026-01-01 00:00",
        "2026-02-01 00:00",
        "2026-03-01 00:00",
        "2026-04-01 00:00",
    ]
    assert starts[2].isoformat() == "2026-02-28T23:00:00+00:00", "midnight in Breda is 23:00 UTC in winter"


def test_throughput__started_finished_and_running_per_month(
    db: Database, process: str, cases: Cases, clock: FixedClock
) -> None:
    january = cases.start(datetime(2026, 1, 15, 10, tzinfo=AMSTERDAM))
    cases.complete(january, datetime(2026, 2, 10, 10, tzinfo=AMSTERDAM))
    cases.start()
    # 00:30 on 1 March in Breda is still February in UTC: it counts as March.
    cases.start(datetime(2026, 3, 1, 0, 30, tzinfo=AMSTERDAM))
    cases.complete(january)
    clock.set(START)

    with db.reader() as session:
        figures = throughput(session, process_key=process, now=clock.now(), months=3)
        year = throughput(session, process_key=process, now=clock.now())

    assert [(m.month.isoformat(), m.started, m.finished, m.running) for m in figures.months] == [
        ("2026-01-01", 1, 0, 1),
        ("2026-02-01", 1, 0, 2),
        ("2026-03-01", 1, 1, 2),
    ]
    t1, t2 = sorted(figures.steps, key=lambda step: step.element_id)
    assert (t1.name, t1.completed) == ("Beoordelen", 1)
    assert t1.median == t1.p90 == pytest.approx(26 * DAY)
    waited = datetime(2026, 3, 1, 0, 30, tzinfo=AMSTERDAM) - datetime(2026, 2, 10, 10, tzinfo=AMSTERDAM)
    assert t2.median == pytest.approx(waited.total_seconds())
    assert len(year.months) == 12 and year.months[0].month.isoformat() == "2025-04-01"
    assert sum(m.started for m in year.months) == 3


def test_throughput__median_and_p90_lead_time_per_step(
    db: Database, process: str, cases: Cases, clock: FixedClock
) -> None:
    for hours in (1, 2, 10, 20):
        instance_id = cases.start(START)
        cases.complete(instance_id, START + timedelta(hours=hours))

    with db.reader() as session:
        figures = throughput(session, process_key=process, now=clock.now())

    [step] = figures.steps
    assert (step.element_id, step.completed) == ("T1", 4)
    assert step.median == pytest.approx(6 * HOUR), "between the middle two"
    assert step.p90 == pytest.approx(17 * HOUR), "70% of the way from 10 to 20 hours"
    assert figures.months[-1].started == 4 and figures.months[-1].running == 4


def test_bar_chart__an_image_described_by_its_table_with_every_text_escaped() -> None:
    svg = bar_chart(
        chart_id="grafiek",
        title='Gestart & "afgerond"',
        labels=["<script>alert(1)</script>", "mrt 2026"],
        series=[Series("Gestart", [3, 7]), Series("Afgerond <b>", [1, 0])],
        table_id="tabel",
    )

    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="grafiek-titel"' in svg and 'aria-describedby="tabel"' in svg
    assert '<title id="grafiek-titel">Gestart &amp; &quot;afgerond&quot;</title>' in svg
    assert "<script>" not in svg and "<b>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="zvh-chart__bar zvh-chart__bar--') == 4, "one bar per label and series"
    assert "<title>mrt 2026 – Gestart: 7</title>" in svg


@pytest.mark.parametrize(("value", "top"), [(0, 1), (7, 10), (12, 20), (171, 200), (0.4, 0.5), (500, 500)])
def test_nice_ceiling__rounds_the_axis_up(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


@pytest.mark.parametrize(("largest", "ticks"), [(1, ["0", "1", "2", "3", "4"]), (37, ["0", "10", "20", "30", "40"])])
def test_bar_chart__counts_get_whole_distinct_ticks(largest: int, ticks: list[str]) -> None:
    svg = bar_chart(chart_id="c", title="t", labels=["a", "b"], series=[Series("n", [0, largest])], table_id="tabel")
    assert re.findall(r'class="zvh-chart__tick"[^>]*>([^<]*)<', svg) == ticks
