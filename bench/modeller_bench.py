"""Process owner figures: open and validate the largest ZVH diagram, publish a version, migrate 1,000 cases.

On SQLite (a temporary file) and on PostgreSQL (a throw-away cluster unless --postgres-url is given or
--no-postgres), with processes/inzageverzoek.bpmn and its forms:

* open: read the BPMN and collect its forms (what the modeller page's server part does before rendering);
* validate: `registry.validate_bundle` (the "Valideren" button and the first half of publishing);
* publish: `registry.deploy_bundle` of a changed copy (a renamed task) in its own transaction;
* migrate: --instances cases waiting at their first task (with its deadline timer), moved to the new version:
  a dry run, then the real run (each instance in its own savepoint), each in one transaction.

Targets: validate < 1 s, publish < 2 s, 1,000 instances migrated < 20 s.

    .venv/bin/python bench/modeller_bench.py [--instances 1000] [--runs 5] [--no-postgres] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.bundles import Bundle, collect_bundle  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.modelling.migrate import migrate_instances  # noqa: E402
from engine.registry import deploy_bundle  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_user  # noqa: E402
from engine.validation import validate_bundle  # noqa: E402

DIAGRAM = ROOT / "processes" / "inzageverzoek.bpmn"
FORMS = ROOT / "forms"
#: Monday 2 March 2026, 09:00 in Breda: the day the requests came in.
START = datetime.fromisoformat("2026-03-02T09:00:00+01:00")
KEY = "inzageverzoek"
WAITING_TASK = 'name="Identiteit verzoeker vaststellen"'
VERZOEK = {
    "ontvangen": "2026-03-02",
    "soort": "inzage",
    "kanaal": "post",
    "verzoeker": {
        "naam": "Karel Testpersoon",
        "hoedanigheid": "betrokkene_zelf",
        "adres": {"straat": "Voorbeeldstraat", "huisnummer": "12", "postcode": "4811 AB", "woonplaats": "Breda"},
    },
    "naam_betrokkene": "Karel Testpersoon",
    "gemeente": "Breda",
}


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def median_of(runs: int, action: Callable[[], Any]) -> tuple[float, float]:
    samples = [timed(action)[0] for _ in range(runs)]
    return statistics.median(samples), max(samples)


def open_diagram() -> Bundle:
    """What the modeller's server part reads: the XML and the forms it refers to."""
    DIAGRAM.read_text(encoding="utf-8")
    return collect_bundle(DIAGRAM, search_paths=[FORMS])


def changed_copy(bundle: Bundle, label: str) -> Bundle:
    main = bundle.bpmn[bundle.main]
    assert WAITING_TASK in main, "the bench renames the first task of inzageverzoek"
    changed = main.replace(WAITING_TASK, f'name="Identiteit verzoeker vaststellen ({label})"')
    return Bundle(main=bundle.main, bpmn={**bundle.bpmn, bundle.main: changed}, dmn=bundle.dmn, forms=bundle.forms)


def bench(label: str, url: str, *, instances: int, runs: int) -> None:
    upgrade_to_head(url)
    db = Database(url)
    runtime = Runtime(clock=FixedClock(START))
    print(f"\n== {label} ==")

    open_median, open_max = median_of(runs, open_diagram)
    bundle = open_diagram()
    validate_median, validate_max = median_of(runs, lambda: validate_bundle(bundle))
    print(f"open {DIAGRAM.name} (read + forms)   median {open_median * 1000:8.1f} ms   max {open_max * 1000:8.1f} ms")
    print(
        f"validate (registry.validate_bundle)        median {validate_median * 1000:8.1f} ms   "
        f"max {validate_max * 1000:8.1f} ms   target < 1000 ms"
    )

    with db.transaction() as session:
        deploy_bundle(session, bundle, actor="bench")
        owner = create_user(
            session, username="pf", display_name="Privacy", roles=["privacyfunctionaris", "procesbeheerder"]
        )
    ids: list[int] = []
    began = time.perf_counter()
    for offset in range(0, instances, 100):
        with db.transaction() as session:
            for _ in range(min(100, instances - offset)):
                ids.append(runtime.start_instance(session, process_key=KEY, actor=owner, data=VERZOEK).instance.id)
    print(f"started {len(ids)} instances on version 1 in {time.perf_counter() - began:.1f} s (setup, not a target)")

    def publish() -> None:
        with db.transaction() as session:
            deploy_bundle(session, changed_copy(bundle, "nieuw"), actor="bench")

    publish_seconds, _ = timed(publish)
    print(f"publish (deploy_bundle of a changed copy)  {publish_seconds * 1000:8.1f} ms   target < 2000 ms")

    def migrate(dry_run: bool) -> list[Any]:
        with db.transaction() as session:
            return migrate_instances(
                session, runtime, instance_ids=ids, to_version=2, actor=owner, at=START, dry_run=dry_run
            )

    for dry_run in (True, False):
        seconds, steps = timed(lambda dry_run=dry_run: migrate(dry_run))
        ok = sum(step.ok for step in steps)
        print(
            f"{'dry run' if dry_run else 'migrate'} {len(steps)} instances v1 → v2              "
            f"{seconds:8.2f} s   ({seconds / len(steps) * 1000:.1f} ms each, {ok} ok)   target < 20 s"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="repetitions of open and validate (median, max)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", help="use this (empty) PostgreSQL database instead of a throw-away cluster")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zvh-modeller-bench-") as folder:
        bench("SQLite", f"sqlite:///{folder}/zvh.sqlite3", instances=args.instances, runs=args.runs)
    if args.no_postgres:
        return
    url, server = args.postgres_url, None
    if url is None:
        from tests.services import Postgres

        server = Postgres.start()
        url = server.create_database("zvh_modeller_bench")
    try:
        bench("PostgreSQL", url, instances=args.instances, runs=args.runs)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
