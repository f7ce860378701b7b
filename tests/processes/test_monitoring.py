"""The monitor on the real ZVH processes: what a year of ZVH work showed slipping through is caught.

Deadlines set on a sub-process are the due date of every task inside it, escalation tasks have a norm of their own,
and a referral nobody picks up stalls against the process norm — without any timer behind it.
"""

from __future__ import annotations

from typing import Any

from engine.monitor import MonitorFilter, MonitorRow, monitor_rows
from tests.processes.harness import ProcessDriver, days
from tests.processes.test_aanmelding_triage import AANMELDING
from tests.processes.test_procesregie import INTAKE, handover  # noqa: F401 - the fixture is used by name


def signals(driver: ProcessDriver, instance: int) -> set[tuple[str, str, str | None]]:
    with driver.db.reader() as session:
        rows: list[MonitorRow] = monitor_rows(session, now=driver.clock.now(), filters=MonitorFilter())
    return {(row.reason, row.element_id or "", row.norm) for row in rows if row.instance_id == instance}


def test_monitor__a_late_first_overleg_shows_as_overdue_and_its_escalation_stalls_on_its_own_norm(
    driver: ProcessDriver,
    handover: Any,  # noqa: F811 - the fixture imported above
) -> None:
    _, instance = handover()
    driver.complete(instance, "Task_intake", INTAKE)

    driver.advance(days(19))
    assert ("deadline_near", "Task_voorbereiden", "P3W") in signals(driver, instance)

    driver.advance(days(2))  # the P3W deadline on the sub-process passes: the manager gets the escalation
    assert driver.open(instance) == {"Task_voorbereiden", "Task_escalatie_eerste_overleg"}
    assert ("deadline_passed", "Task_voorbereiden", "P3W") in signals(driver, instance)
    assert not any(element == "Task_escalatie_eerste_overleg" for _, element, _ in signals(driver, instance))

    driver.advance(days(2) + days(0.01))  # nobody picks up the escalation within its own norm
    assert ("task_norm", "Task_escalatie_eerste_overleg", "P2D") in signals(driver, instance)


def test_monitor__a_referral_nobody_picks_up_stalls_without_any_timer(driver: ProcessDriver) -> None:
    instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
    assert driver.open(instance) == {"Task_volledigheid"}
    assert driver.instance(instance).next_timer_due_at is None

    driver.advance(days(6))
    assert signals(driver, instance) == set()

    driver.advance(days(2))
    assert signals(driver, instance) == {("task_norm", "Task_volledigheid", "P7D")}
