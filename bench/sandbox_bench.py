"""What the script budget costs: one evaluation, and completing a task whose step runs a script and a gateway.

Prints medians and p95 of
* a gateway condition that is bounded by its form (evaluated in-process),
* an expression and a small script that go to the evaluation process (a pickle round trip over a pipe),
* the same script over process data of about 100 KB,
* complete-one-task (in-process runtime on SQLite) for a process whose step runs one script task and one
  exclusive gateway with two conditions: the work the budget adds to a real request.

    .venv/bin/python bench/sandbox_bench.py [--rounds 2000] [--tasks 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.registry import deploy_file  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.sandbox import Sandbox  # noqa: E402
from engine.users import create_user  # noqa: E402
from tests.engine.bpmn import flow, process, user_task, write  # noqa: E402

DATA = {"besluit": "oppakken", "bedrag": 1200, "aanvraag": {"soort": "a", "regels": list(range(20))}}
LARGE = {**DATA, "notities": [{"regel": i, "tekst": "x" * 80} for i in range(1000)]}


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms   (n={len(ordered)})"


def sample(action: Callable[[], object], rounds: int) -> list[float]:
    action()  # warm up: compile caches, the evaluation process
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return samples


def evaluations(rounds: int) -> None:
    sandbox = Sandbox()
    figures = {
        "bounded condition": lambda: sandbox.evaluate("besluit == 'oppakken' and bedrag > 1000", DATA),
        "expression (budgeted)": lambda: sandbox.evaluate("bedrag * 2 > 3000", DATA),
        "script (budgeted)": lambda: sandbox.execute("totaal = bedrag * 3", dict(DATA)),
        "script, 100 KB data": lambda: sandbox.execute("totaal = bedrag * 3", dict(LARGE)),
    }
    for name, action in figures.items():
        print(f"{name:28} {summary(sample(action, rounds))}", flush=True)


def scripted_process() -> str:
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T1", "Invullen", "invullen")
        + '<bpmn:scriptTask id="Reken"><bpmn:script>totaal = bedrag * 3\nhoog = totaal &gt; 3000</bpmn:script>'
        "</bpmn:scriptTask>"
        + '<bpmn:exclusiveGateway id="G"/>'
        + user_task("Hoog", "Hoog bedrag")
        + user_task("Laag", "Laag bedrag")
        + '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "Reken")
        + flow("F3", "Reken", "G")
        + flow("Ja", "G", "Hoog", "hoog and besluit == 'oppakken'")
        + flow("Nee", "G", "Laag", "not hoog or besluit != 'oppakken'")
        + flow("F4", "Hoog", "E1")
        + flow("F5", "Laag", "E2")
    )
    return process(body, process_id="rekenen")


def complete_task(tasks: int) -> None:
    with tempfile.TemporaryDirectory(prefix="zvh-sandboxbench-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'zvh.sqlite3'}"
        upgrade_to_head(url)
        db, runtime = Database(url), Runtime()
        form = {"type": "object", "properties": {"bedrag": {"type": "integer"}, "besluit": {"type": "string"}}}
        write(work, "invullen.json", form)
        with db.transaction() as session:
            deploy_file(session, write(work, "rekenen.bpmn", scripted_process()), actor="bench")
            user = create_user(session, username="bench", display_name="Bench", roles=["melder"])
        task_ids = []
        for _ in range(tasks + 1):
            with db.transaction() as session:
                outcome = runtime.start_instance(session, process_key="rekenen", actor=user)
                task_ids.append(outcome.next_tasks[0].id)
        samples = []
        for task_id in task_ids:
            began = time.perf_counter()
            with db.transaction() as session:
                runtime.complete_task(
                    session, task_id=task_id, actor=user, data={"bedrag": 1200, "besluit": "oppakken"}
                )
            samples.append(time.perf_counter() - began)
        db.dispose()
    print(f"{'complete task (script+gw)':28} {summary(samples[1:])}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    evaluations(args.rounds)
    complete_task(args.tasks)


if __name__ == "__main__":
    main()
