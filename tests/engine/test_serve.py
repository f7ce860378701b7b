"""`zvh serve` as it runs in production: a real gunicorn master and its worker processes, over HTTP on loopback.

Which worker answered a request is read from the operating system, not from the app: the server side of a kept-alive
connection is a socket in /proc/net/tcp, and the worker holding it has that socket among its /proc/<pid>/fd.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.services import Redis, _wait_until, children_of, free_port

ZVH = str(Path(sys.executable).with_name("zvh"))
GRACEFUL_SECONDS = 5


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def server_side_inode(server_port: int, client_port: int) -> str:
    """The inode of the accepted socket that talks to `client_port` (columns of /proc/net/tcp: see proc(5))."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        columns = line.split()
        local, remote, inode = columns[1], columns[2], columns[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return inode
    raise LookupError(f"no connection from port {client_port}")


def answering_worker(port: int, workers: set[int]) -> int:
    """Ask for the sign-in page on a new kept-alive connection and return the pid of the worker that answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/inloggen")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        inode = server_side_inode(port, connection.sock.getsockname()[1])
        (worker,) = [pid for pid in workers if inode in socket_inodes(pid)]
        return worker
    finally:
        connection.close()


def get_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/inloggen")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def prepared_env(folder: Path, redis_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "ZVH_INSTANCE_PATH": str(folder),
        "ZVH_DATABASE_URL": f"sqlite:///{folder / 'zvh.sqlite3'}",
        "ZVH_SECRET_KEY": "serve-test-secret",
    }
    env.pop("ZVH_REDIS_URL", None)
    if redis_url:
        env["ZVH_REDIS_URL"] = redis_url
    subprocess.run([ZVH, "init"], env=env, check=True, capture_output=True)
    return env


def start_server(env: dict[str, str], folder: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [ZVH, "serve", "--port", str(port), "--graceful-timeout", str(GRACEFUL_SECONDS), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    _wait_until(lambda: get_status(port) == 200, "zvh serve")
    return server, port


@pytest.fixture
def stop_afterwards() -> Iterator[list[subprocess.Popen[bytes]]]:
    servers: list[subprocess.Popen[bytes]] = []
    yield servers
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def test_serve__two_workers_answer_and_a_killed_one_is_replaced(
    tmp_path: Path, redis_server: Redis, stop_afterwards: list[subprocess.Popen[bytes]]
) -> None:
    env = prepared_env(tmp_path, redis_server.url)
    server, port = start_server(env, tmp_path, "--workers", "2", "--threads", "2")
    stop_afterwards.append(server)
    _wait_until(lambda: len(children_of(server.pid)) == 2, "two workers")
    workers = children_of(server.pid)

    answered: set[int] = set()
    _wait_until(lambda: answered.add(answering_worker(port, workers)) or answered == workers, "both workers answer")

    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    statuses: list[int] = []

    def replaced() -> bool:
        statuses.append(get_status(port))
        now = children_of(server.pid)
        return len(now) == 2 and victim not in now

    _wait_until(replaced, "a new worker in place of the killed one")
    assert set(statuses) == {200}
    survivor, newcomer = (workers - {victim}).pop(), (children_of(server.pid) - workers).pop()
    answered = set()
    _wait_until(
        lambda: answered.add(answering_worker(port, {survivor, newcomer})) or newcomer in answered,
        "the new worker answers",
    )


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def test_serve__embedded_master_has_no_thread_and_sigterm_stops_all_within_the_graceful_timeout(
    tmp_path: Path, stop_afterwards: list[subprocess.Popen[bytes]]
) -> None:
    server, port = start_server(prepared_env(tmp_path, None), tmp_path)
    stop_afterwards.append(server)
    _wait_until(lambda: len(children_of(server.pid)) == 1, "one worker")
    (worker,) = children_of(server.pid)
    assert get_status(port) == 200
    # The master never starts the job loop (or any thread) before it forks: a thread does not survive a fork.
    assert thread_count(server.pid) == 1

    server.send_signal(signal.SIGTERM)

    assert server.wait(timeout=GRACEFUL_SECONDS + 5) == 0
    assert not Path(f"/proc/{worker}").exists()
    with pytest.raises(ConnectionRefusedError):
        get_status(port)
    assert "ZVH Regie on http://127.0.0.1:" in (tmp_path / "serve.log").read_text(encoding="utf-8")


def test_serve__refuses_several_workers_without_redis(tmp_path: Path) -> None:
    env = {"ZVH_INSTANCE_PATH": str(tmp_path), "ZVH_DATABASE_URL": f"sqlite:///{tmp_path / 'zvh.sqlite3'}"}

    result = CliRunner().invoke(main, ["serve", "--workers", "2"], env={**env, "ZVH_REDIS_URL": ""})

    assert result.exit_code != 0
    assert "needs Redis: set ZVH_REDIS_URL" in result.output
    assert "--workers 1" in result.output


def test_serve__worker_count_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"ZVH_INSTANCE_PATH": str(tmp_path), "ZVH_REDIS_URL": "", "ZVH_WEB_WORKERS": "3"}

    result = CliRunner().invoke(main, ["serve"], env=env)

    assert result.exit_code != 0
    assert "zvh serve --workers 3 needs Redis" in result.output
