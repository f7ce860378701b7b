"""HTTP figures for the reference workload (tests/fixtures/three-user-tasks) against a running `zvh serve`.

Starts `zvh serve` on a throw-away SQLite database (embedded mode), then measures over HTTP on loopback:
start an instance (API), complete one task (API), and the inbox page (HTML) with `--open-tasks` open tasks in the
database — medians and p95 of the round trip and of the server time the app reports (Server-Timing).

    .venv/bin/python bench/web_bench.py [--rounds 200] [--open-tasks 10000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.migrate import upgrade_to_head  # noqa: E402
from engine.registry import deploy_file  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_api_token, create_user  # noqa: E402
from tests.services import free_port  # noqa: E402

WORKLOAD = ROOT / "tests" / "fixtures" / "three-user-tasks"
PROCESS = "Process_three_user_tasks"
PASSWORD = "meet-wachtwoord-2026"  # noqa: S105 - a throw-away account in a throw-away database


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):8.3f} ms   p95 {p95:8.3f} ms   (n={len(ordered)})"


class Client:
    """A keep-alive HTTP client that records the round trip and the app's Server-Timing per request."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float, float]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        began = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - began) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        timing = re.search(r"app;dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
        return response.status, data, elapsed, float(timing.group(1)) if timing else float("nan")


def deploy_workload(url: str, work: Path, *, extra: tuple[Path, ...] = ()) -> Database:
    """Migrate the database at `url` and deploy the reference workload, and the BPMN of the `extra` folders, from
    copies in `work` (forms are found beside them)."""
    upgrade_to_head(url)
    for folder in (WORKLOAD, *extra):
        for item in folder.iterdir():
            shutil.copy(item, work / item.name)
    db = Database(url)
    with db.transaction() as session:
        deploy_file(session, work / "three_user_tasks.bpmn", actor="bench")
        for folder in extra:
            for bpmn in sorted(folder.glob("*.bpmn")):
                deploy_file(session, work / bpmn.name, actor="bench")
    return db


def prepare(work: Path, open_tasks: int) -> tuple[str, str]:
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    db = deploy_workload(url, work)
    runtime = Runtime()
    with db.transaction() as session:
        api_user = create_user(session, username="bench", display_name="Bench", roles=["melder"], password=PASSWORD)
        create_user(session, username="bench.inbox", display_name="Bench Inbox", roles=["melder"], password=PASSWORD)
        token = create_api_token(session, user=api_user, name="bench", at=SYSTEM_CLOCK.now())
    with db.reader() as session:
        from engine.users import get_user

        inbox_user = get_user(session, "bench.inbox")
    print(f"  filling the inbox projection with {open_tasks} open tasks ...", flush=True)
    for offset in range(0, open_tasks, 250):
        with db.transaction() as session:
            for _ in range(offset, min(offset + 250, open_tasks)):
                runtime.start_instance(session, process_key=PROCESS, actor=inbox_user)
    db.dispose()
    return url, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--open-tasks", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zvh-webbench-") as tmp:
        work = Path(tmp)
        url, token = prepare(work, args.open_tasks)
        port = free_port()
        env = {**os.environ, "ZVH_DATABASE_URL": url, "ZVH_INSTANCE_PATH": str(work), "ZVH_SECRET_KEY": "bench"}
        env.pop("ZVH_REDIS_URL", None)
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "zvh"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            client = Client(port)
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.request("GET", "/inloggen")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    client = Client(port)
                    time.sleep(0.1)
            run(client, token, args.rounds, args.open_tasks)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run(client: Client, token: str, rounds: int, open_tasks: int) -> None:
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    figures: dict[str, tuple[list[float], list[float]]] = {
        "start instance (API)": ([], []),
        "complete one task (API)": ([], []),
        "inbox page (HTML)": ([], []),
    }
    for _ in range(rounds):
        status, body, elapsed, server = client.request(
            "POST", f"/api/v1/processes/{PROCESS}/instances", b'{"data": {}}', api
        )
        assert status == 201, body[:300]
        figures["start instance (API)"][0].append(elapsed)
        figures["start instance (API)"][1].append(server)
        task_id = json.loads(body)["next_tasks"][0]["id"]
        for field in ("field1", "field2", "field3"):
            status, body, elapsed, server = client.request(
                "POST", f"/api/v1/tasks/{task_id}/complete", json.dumps({"data": {field: "waarde"}}).encode(), api
            )
            assert status == 200, body[:300]
            figures["complete one task (API)"][0].append(elapsed)
            figures["complete one task (API)"][1].append(server)
            following = json.loads(body)["next_tasks"]
            task_id = following[0]["id"] if following else ""
    status, body, _, _ = client.request("GET", "/inloggen")
    csrf = re.search(rb'name="csrf-token" content="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    form = urlencode({"gebruikersnaam": "bench.inbox", "wachtwoord": PASSWORD, "csrf_token": csrf}).encode()
    status, body, _, _ = client.request(
        "POST", "/inloggen", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 302, body[:300]
    for _ in range(rounds):
        status, body, elapsed, server = client.request("GET", "/taken")
        assert status == 200 and b"Form 1" in body
        figures["inbox page (HTML)"][0].append(elapsed)
        figures["inbox page (HTML)"][1].append(server)
    print()
    print(f"{'figure':28} {'':12} result")
    for name, (round_trips, server_times) in figures.items():
        print(f"{name:28} {'round trip':12} {summary(round_trips)}")
        print(f"{'':28} {'server time':12} {summary(server_times)}")
    complete = statistics.median(figures["complete one task (API)"][0])
    inbox = statistics.median(figures["inbox page (HTML)"][1])
    print(f"complete-one-task over HTTP median {complete:.2f} ms (target <= 10 ms on SQLite)")
    print(f"inbox page server time median {inbox:.2f} ms with {open_tasks:,} open tasks (target <= 20 ms)")


if __name__ == "__main__":
    main()
