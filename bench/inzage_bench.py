"""Contactpunt figures: assembling one person's package across many cases, and rendering it as PDF and ZIP.

Builds a person (invented: Karel Testpersoon) with --cases cases of a small case process (three steps each, other
people named in every case) and --reads access-log entries per case, then times the FG's package: assembly
(every case loaded, its steps, values, participants and access log), the PDF (WeasyPrint) and the ZIP. The
issue's bar: under a minute.

    .venv/bin/python bench/inzage_bench.py [--cases 20] [--reads 25] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import FixedClock  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.privacy.accesslog import record_read  # noqa: E402
from engine.privacy.inzage_documents import package_pdf, package_zip  # noqa: E402
from engine.privacy.inzage_request import request_package  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from tests.conftest import START  # noqa: E402
from tests.engine.inzage_world import KAREL, MELDER, PIET, build_world, complete_step, start_request  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--reads", type=int, default=25, help="access-log reads per case")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/zvh.sqlite3"
        upgrade_to_head(url)
        db, clock = Database(url), FixedClock(START)
        runtime = Runtime(clock=clock)
        began = time.perf_counter()
        world = build_world(db, runtime, Path(folder))
        for number in range(args.cases - 2):
            with db.transaction() as session:
                data = {
                    "gemeente": "Breda",
                    "betrokkenen": [KAREL, {**PIET, "naam": f"Ander {number}"}],
                    "melder": MELDER,
                }
                case = runtime.start_instance(session, process_key="zorgzaak", actor=world.regisseur, data=data)
            report = {"verslag": "Gesprek " * 40, "woonplaats": "Breda"}
            complete_step(db, runtime, case.instance.id, "Task_verslag", world.partner, report)
            complete_step(
                db, runtime, case.instance.id, "Task_correctie", world.regisseur, {**report, "woonplaats": "Zundert"}
            )
            with db.transaction() as session:
                for _ in range(args.reads):
                    record_read(
                        session, user=world.partner, instance_id=case.instance.id, object_type="case", at=clock.now()
                    )
        request = start_request(world)
        print(f"built {args.cases} cases with {args.reads} reads each in {time.perf_counter() - began:.1f} s")

        assembly, pdf, archive = [], [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            with db.transaction() as session:
                found = request_package(session, runtime, instance_id=request, actor=world.fg, at=clock.now())
            t1 = time.perf_counter()
            document = package_pdf(found)
            t2 = time.perf_counter()
            bundle = package_zip(found)
            t3 = time.perf_counter()
            assembly.append(t1 - t0)
            pdf.append(t2 - t1)
            archive.append(t3 - t2)
        cases, log = len(found.package.cases), len(found.package.access_log)
        print(f"package: {cases} cases, {len(found.package.items)} items of others, {log} access-log entries")
        print(f"assembly         median {statistics.median(assembly):6.2f} s   max {max(assembly):6.2f} s")
        for name, samples, size in (("PDF", pdf, len(document)), ("ZIP", archive, len(bundle))):
            median, worst_round = statistics.median(samples), max(samples)
            print(f"{name} ({size // 1024:5d} KiB)  median {median:6.2f} s   max {worst_round:6.2f} s")
        worst = max(a + p for a, p in zip(assembly, pdf, strict=True))
        print(f"assembly + PDF, worst round: {worst:.2f} s ({'within' if worst < 60 else 'OVER'} the one-minute bar)")
        db.dispose()


if __name__ == "__main__":
    main()
