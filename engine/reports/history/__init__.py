"""`zvh demo --history`: synthetic cases 2016–2021, driven through the real processes, that reproduce the report.

The complex-case part (engine.reports.history.complex) makes the referrals, triage decisions, Weegploeg weighings
and procesregie cases of the municipal tables; the activity part (engine.reports.history.activities) the 2021
activities of the other processes. Both only start processes and complete tasks through the runtime on a clock set
in the past; the reports then count what the runtime recorded. The 2021 prognoses of the annual report are
entered as a manager would. A database gets the history once (an audit entry marks it).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select

from engine.audit import record
from engine.db import Database
from engine.errors import Conflict, PermissionDenied
from engine.models import AuditEvent
from engine.monitor.norms import LOCAL
from engine.reports.definitions import PROGNOSES_2021
from engine.reports.history.activities import generate_activities
from engine.reports.history.complex import generate_complex
from engine.reports.history.driver import HistoryDriver
from engine.reports.prognoses import set_prognoses
from engine.runtime import Runtime

HISTORY_MARK = "demo_history"
FIRST_DAY = datetime(2016, 1, 4, 9, 0, tzinfo=LOCAL)


def generate_history(db: Database, runtime: Runtime, *, seed: int = 2021, demo_only: bool = True) -> dict[str, int]:
    """Generate the history once; returns what was made. Refused outside a demo database (unless told otherwise)."""
    from engine.demo import is_demo_database  # the demo module imports the registry; keep this import light

    with db.reader() as session:
        if demo_only and not is_demo_database(session):
            raise PermissionDenied(
                "Een verzonnen geschiedenis komt alleen in een demodatabase (gemaakt met `zvh init --demo`)."
            )
        if session.scalar(select(AuditEvent.id).where(AuditEvent.action == HISTORY_MARK).limit(1)) is not None:
            raise Conflict("Deze database heeft de verzonnen geschiedenis al.")
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, reproducible by seed; nothing secret
    driver = HistoryDriver(db, runtime, start=FIRST_DAY)
    made = generate_complex(driver, rng) | generate_activities(driver, rng)
    manager = driver.user("manager")
    entered = datetime(2021, 1, 12, 10, 0, tzinfo=LOCAL)
    with db.transaction() as session:
        set_prognoses(
            session, year=2021, values={k: str(v) for k, v in PROGNOSES_2021.items()}, actor=manager, at=entered
        )
        record(
            session,
            actor="zvh-demo-history",
            action=HISTORY_MARK,
            at=runtime.clock.now(),
            summary=f"Synthetic history generated (seed {seed})",
            details=dict(made),
        )
    return made
