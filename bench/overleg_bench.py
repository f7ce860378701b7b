"""The meeting view at a busy triage table: planning, the page, autosave, the besluitenlijst.

Drives --cases real referrals (aanmelding_triage) to "Triage en besluit" on a throw-away SQLite database (the
embedded default), plans the triage table (its agenda fills with every waiting referral and invites the chair and
the secretariaat per case), and times, in-process with Flask's test client:

* planning the meeting (agenda filled, invitations and their participant rows and audit entries written);
* the meeting page for the chair (every case with its shared picture and the step's form) and for a member invited
  for one case;
* one autosave of the decisions (JSON, with the version check);
* the besluitenlijst.

Each figure is the median (and max) of --runs runs. The target: the chair's page of a 40-case agenda under 1 s, an
autosave under 50 ms.

    .venv/bin/python bench/overleg_bench.py [--cases 40] [--runs 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from engine.clock import FixedClock  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.models import AgendaItem  # noqa: E402
from engine.overleg.meetings import add_member, invite, plan_meeting  # noqa: E402
from engine.overleg.types import seed_types  # noqa: E402
from engine.registry import deploy_file  # noqa: E402
from engine.users import create_user, get_user  # noqa: E402
from tests.conftest import START  # noqa: E402
from tests.processes.harness import FORMS, PROCESSES, ProcessDriver  # noqa: E402
from tests.processes.test_aanmelding_triage import AANMELDING, screen  # noqa: E402
from tests.web.conftest import PASSWORD, login, seed_web_database  # noqa: E402
from web import create_app  # noqa: E402


def timed(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Median and max in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="zvh-overleg-bench-"))
    url = f"sqlite:///{folder / 'zvh.sqlite3'}"
    clock = FixedClock(START)
    upgrade_to_head(url)
    seed_web_database(url, folder)
    db = Database(url)
    with db.transaction() as session:
        deploy_file(session, PROCESSES / "aanmelding_triage.bpmn", actor="bench", search_paths=[FORMS])
        seed_types(session, at=clock.now())
        for username, name, role, organisation in (
            ("tafel", "Tessa Tafel", "triagetafel", "zvh"),
            ("secr", "Sem Secretariaat", "secretariaat", "zvh"),
            ("pol", "Pieter Politie", "politie", "politie"),
        ):
            create_user(
                session,
                username=username,
                display_name=name,
                roles=[role],
                password=PASSWORD,
                organisation=organisation,
                gemeenten=("breda",) if role == "politie" else (),
            )
    app = create_app({"ZVH_DATABASE_URL": url, "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "bench"})
    zvh = app.extensions["zvh"]
    driver = ProcessDriver(zvh.db, zvh.runtime, clock)
    started = time.perf_counter()
    cases = []
    for _ in range(args.cases):
        instance = driver.start("aanmelding_triage", AANMELDING, as_role="melder")
        screen(driver, instance)
        cases.append(instance)
    driver.advance(timedelta(hours=25))  # the weekly triage timer opens every referral's triage step
    print(f"{args.cases} referrals driven to 'Triage en besluit' in {time.perf_counter() - started:.1f} s")

    with zvh.db.transaction() as session:
        chair = get_user(session, "tafel")
        planning_started = time.perf_counter()
        meeting = plan_meeting(session, type_key="triagetafel", actor=chair, at=None, now=clock.now())
        add_member(session, meeting_id=meeting.id, user=get_user(session, "secr"), actor=chair, at=clock.now())
        meeting_id = meeting.id
    planned_ms = (time.perf_counter() - planning_started) * 1000
    with zvh.db.transaction() as session:
        invite(
            session,
            meeting_id=meeting_id,
            case=cases[0],
            user=get_user(session, "pol"),
            actor=get_user(session, "tafel"),
            at=clock.now(),
        )
        item_id = session.scalars(
            select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position).limit(1)
        ).one()

    chair_client, member_client = app.test_client(), app.test_client()
    login(chair_client, "tafel")
    login(member_client, "pol")
    page = chair_client.get(f"/overleggen/{meeting_id}").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token, "no CSRF token on the meeting page"
    assert page.count('<section class="zvh-agenda-item"') == args.cases, "every case on the chair's agenda"
    version = [1]

    def autosave() -> None:
        response = chair_client.post(
            f"/overleggen/{meeting_id}/punten/{item_id}/opslaan",
            json={"version": version[0], "decision": f"Besluit {version[0]}"},
            headers={"X-CSRFToken": token.group(1), "Accept": "application/json"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        version[0] = response.get_json()["version"]

    def ok(client: object, path: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(path)  # type: ignore[attr-defined]
            assert response.status_code == 200, path

        return get

    print(f"plan the meeting ({args.cases} cases on the agenda): {planned_ms:.0f} ms")
    figures = {
        f"meeting page, chair ({args.cases} cases)": timed(args.runs, ok(chair_client, f"/overleggen/{meeting_id}")),
        "meeting page, member (1 case)": timed(args.runs, ok(member_client, f"/overleggen/{meeting_id}")),
        "autosave of the decisions": timed(args.runs, autosave),
        f"besluitenlijst, chair ({args.cases} cases)": timed(
            args.runs, ok(chair_client, f"/overleggen/{meeting_id}/besluitenlijst")
        ),
    }
    for name, (median, worst) in figures.items():
        print(f"{name}: median {median:.0f} ms, max {worst:.0f} ms")
    zvh.db.dispose()
    db.dispose()


if __name__ == "__main__":
    main()
