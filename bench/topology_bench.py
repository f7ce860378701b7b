"""Figures for the production topology: completed tasks per second over HTTP, and the memory of its processes.

Starts a durable PostgreSQL (fsync on) and a Redis on loopback, deploys the reference workload
(tests/fixtures/three-user-tasks: start + 3 user tasks), fills the inbox with `--open-tasks` open tasks, and starts
one `zvh worker` and three web servers side by side: A and B (`zvh serve`, one worker process each) and C
(`zvh serve --workers 2`). Clients (threads, each with its own keep-alive connections and API token) then start
instances and complete their three tasks for `--seconds` per configuration:

    1 web process (A), 2 web processes (A + B, each client alternating between them), 1 process with 2 workers (C)
    × 1, 2 and 4 concurrent clients

and the table shows completed tasks per second, requests per second, p50/p95 of one completion's round trip and the
error count. Then A alone completes tasks until it has done `--completions`, and the resident memory (VmRSS) of A's
master and worker, C's workers and the Celery worker's processes is read from /proc (with PSS beside it:
VmRSS counts the pages a worker shares with its master in both).

    .venv/bin/python bench/topology_bench.py [--open-tasks 100000] [--completions 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_bench import PASSWORD, PROCESS, WORKLOAD, Client  # noqa: E402
from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.registry import deploy_file  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.users import create_api_token, create_user, get_user  # noqa: E402
from tests.services import Postgres, Redis, _wait_until, children_of, free_port  # noqa: E402

ZVH = str(ROOT / ".venv" / "bin" / "zvh")
CLIENT_COUNTS = (1, 2, 4)
SEED_BATCH = 500
INBOX_USER = "bench.inbox"


def prepare(url: str, work: Path, open_tasks: int) -> list[str]:
    """Deploy the workload, create one API client per concurrent client, fill the inbox; return the tokens."""
    for item in WORKLOAD.iterdir():
        shutil.copy(item, work / item.name)
    db = Database(url)
    with db.transaction() as session:
        deploy_file(session, work / "three_user_tasks.bpmn", actor="bench")
        tokens = []
        for number in range(1, max(CLIENT_COUNTS) + 1):
            user = create_user(
                session, username=f"bench.{number}", display_name=f"Bench {number}", roles=["melder"], password=PASSWORD
            )
            tokens.append(create_api_token(session, user=user, name="bench", at=SYSTEM_CLOCK.now()))
        create_user(session, username=INBOX_USER, display_name="Bench Inbox", roles=["melder"], password=PASSWORD)
    db.dispose()
    began = time.perf_counter()
    seed_open_tasks(url, open_tasks)
    print(f"  {open_tasks} open tasks seeded in {time.perf_counter() - began:.0f} s", flush=True)
    return tokens


def seed_open_tasks(url: str, count: int) -> None:
    """Start `count` instances for the inbox user, in transactions of SEED_BATCH."""
    db = Database(url)
    runtime = Runtime()
    began = time.perf_counter()
    for offset in range(0, count, SEED_BATCH):
        with db.transaction() as session:
            inbox_user = get_user(session, INBOX_USER)
            for _ in range(offset, min(offset + SEED_BATCH, count)):
                runtime.start_instance(session, process_key=PROCESS, actor=inbox_user)
        if offset and offset % 10_000 == 0:
            print(f"  {offset:>7} open tasks ({time.perf_counter() - began:.0f} s)", flush=True)
    db.dispose()


@dataclass
class Tally:
    """What the clients of one run did, added up under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    completions: int = 0
    requests: int = 0
    errors: int = 0
    by_port: dict[int, int] = field(default_factory=dict)

    def record(self, port: int, latencies: list[float], requests: int, errors: int) -> None:
        with self.lock:
            self.latencies += latencies
            self.completions += len(latencies)
            self.requests += requests
            self.errors += errors
            self.by_port[port] = self.by_port.get(port, 0) + len(latencies)


def one_instance(client: Client, token: str) -> tuple[list[float], int]:
    """Start an instance and complete its three tasks; the completions' round trips (ms) and the requests made."""
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, body, _, _ = client.request("POST", f"/api/v1/processes/{PROCESS}/instances", b'{"data": {}}', api)
    if status != 201:
        raise RuntimeError(f"start answered {status}")
    task_id = json.loads(body)["next_tasks"][0]["id"]
    latencies = []
    for name in ("field1", "field2", "field3"):
        payload = json.dumps({"data": {name: "waarde"}}).encode()
        status, body, elapsed, _ = client.request("POST", f"/api/v1/tasks/{task_id}/complete", payload, api)
        if status != 200:
            raise RuntimeError(f"complete answered {status}")
        latencies.append(elapsed)
        following = json.loads(body)["next_tasks"]
        task_id = following[0]["id"] if following else ""
    return latencies, 1 + len(latencies)


def drive(ports: list[int], tokens: list[str], *, seconds: float = 0, completions: int = 0) -> tuple[Tally, float]:
    """Clients (one thread and token each) cycling over `ports` until `seconds` passed or `completions` were done."""
    tally = Tally()
    deadline = time.monotonic() + seconds if seconds else float("inf")

    def finished() -> bool:
        return time.monotonic() >= deadline or (completions > 0 and tally.completions >= completions)

    def client(number: int, token: str) -> None:
        connections = {port: Client(port) for port in ports}
        cycle = number
        while not finished():
            port = ports[cycle % len(ports)]
            cycle += 1
            try:
                latencies, requests = one_instance(connections[port], token)
                tally.record(port, latencies, requests, 0)
            except (OSError, RuntimeError, KeyError, ValueError):
                tally.record(port, [], 1, 1)
                connections[port] = Client(port)

    threads = [threading.Thread(target=client, args=(n, token)) for n, token in enumerate(tokens)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - began


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def memory_mb(pid: int) -> tuple[float, float]:
    """VmRSS, and PSS (shared pages, such as those a gunicorn worker shares with its master, split between sharers)."""
    rss = _kilobytes(Path(f"/proc/{pid}/status"), "VmRSS:")
    pss = _kilobytes(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
    return rss / 1024, pss / 1024


def _kilobytes(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    raise LookupError(f"no {key} in {path}")


@dataclass
class Processes:
    """The processes of the topology, stopped with SIGTERM (as compose does) when the bench ends."""

    env: dict[str, str]
    work: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.work / f"{name}.log").open("wb") as log:
            process = subprocess.Popen([ZVH, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def serve(self, name: str, workers: int) -> tuple[int, subprocess.Popen[bytes]]:
        port = free_port()
        process = self.start(name, "serve", "--port", str(port), "--workers", str(workers))
        _wait_until(lambda: Client(port).request("GET", "/inloggen")[0] == 200, f"zvh serve ({name})", timeout=60)
        _wait_until(lambda: len(children_of(process.pid)) == workers, f"{workers} workers of {name}")
        return port, process

    def worker(self) -> subprocess.Popen[bytes]:
        process = self.start("worker", "worker", "--loglevel", "INFO")
        _wait_until(lambda: "ready." in (self.work / "worker.log").read_text(), "zvh worker", timeout=60)
        return process

    def stop(self) -> None:
        for process in self.started:
            process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def services() -> Iterator[tuple[Postgres, Redis]]:
    postgres = Postgres.start(durable=True)
    try:
        redis = Redis.start()
        try:
            yield postgres, redis
        finally:
            redis.stop()
    finally:
        postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--completions", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    args = parser.parse_args()
    with services() as (postgres, redis), tempfile.TemporaryDirectory(prefix="zvh-topology-") as tmp:
        work = Path(tmp)
        url = postgres.create_database("zvh_bench")
        env = {
            **os.environ,
            "ZVH_DATABASE_URL": url,
            "ZVH_REDIS_URL": redis.url,
            "ZVH_INSTANCE_PATH": str(work),
            "ZVH_SECRET_KEY": "topology-bench",
        }
        subprocess.run([ZVH, "init"], env=env, check=True, capture_output=True)
        print(f"PostgreSQL (durable) on port {postgres.port}, Redis on port {redis.port}", flush=True)
        tokens = prepare(url, work, args.open_tasks)
        processes = Processes(env, work)
        try:
            run(processes, tokens, args)
        finally:
            processes.stop()


def run(processes: Processes, tokens: list[str], args: argparse.Namespace) -> None:
    celery = processes.worker()
    port_a, serve_a = processes.serve("serve-a", 1)
    port_b, _ = processes.serve("serve-b", 1)
    port_c, serve_c = processes.serve("serve-c", 2)
    topologies = {"1 web process": [port_a], "2 web processes": [port_a, port_b], "1 process, --workers 2": [port_c]}
    done_by_a = 0
    print()
    print(f"{'web':24} {'clients':>7} {'tasks/s':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}")
    for name, ports in topologies.items():
        for clients in CLIENT_COUNTS:
            tally, elapsed = drive(ports, tokens[:clients], seconds=args.seconds)
            done_by_a += tally.by_port.get(port_a, 0)
            print(
                f"{name:24} {clients:>7} {tally.completions / elapsed:>8.1f} {tally.requests / elapsed:>7.1f}"
                f" {percentile(tally.latencies, 0.5):>7.1f} {percentile(tally.latencies, 0.95):>7.1f}"
                f" {tally.errors:>6}",
                flush=True,
            )
    if done_by_a < args.completions:
        print(f"\ncompleting {args.completions - done_by_a} more tasks through web process A ...", flush=True)
        tally, elapsed = drive([port_a], tokens[:2], completions=args.completions - done_by_a)
        done_by_a += tally.completions
        print(
            f"  {tally.completions / elapsed:.1f} tasks/s, p50 {percentile(tally.latencies, 0.5):.1f} ms,"
            f" {tally.errors} errors",
            flush=True,
        )
    print(f"\nresident memory (VmRSS) with {args.open_tasks} open tasks, after {done_by_a} completions through A:")
    (worker_a,) = children_of(serve_a.pid)
    rows = [("web process A: gunicorn master", serve_a.pid), ("web process A: its worker", worker_a)]
    rows += [("web process C (--workers 2): a worker", pid) for pid in sorted(children_of(serve_c.pid))]
    rows += [("celery worker: main process", celery.pid)]
    rows += [("celery worker: pool process", pid) for pid in sorted(children_of(celery.pid))]
    print(f"  {'process':40} {'VmRSS':>9} {'PSS':>9}")
    for label, pid in rows:
        rss, pss = memory_mb(pid)
        print(f"  {label:40} {rss:6.1f} MB {pss:6.1f} MB  (pid {pid})")


if __name__ == "__main__":
    main()
