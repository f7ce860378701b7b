"""Throw-away PostgreSQL and Redis servers on loopback for the test session (see ../shared/notes/toolchain.md)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid` (gunicorn's workers when `pid` is the master)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        # pid (comm) state ppid …; comm may hold spaces and parentheses, so split after its last ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.add(int(entry.name))
    return children


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found; run `make system-deps` (apt package postgresql)")
    return Path(found[-1]).parent


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _wait_until(check, what: str, timeout: float = 30.0) -> None:
    """Poll a readiness check (a server coming up), failing loudly after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not ready yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s")
        time.sleep(0.05)


@dataclass
class Postgres:
    root: Path
    port: int
    bindir: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    @classmethod
    def start(cls, *, durable: bool = False) -> Postgres:
        """Start a cluster; `durable=False` turns fsync off (tests only, never for figures about durability)."""
        bindir = _postgres_bin()
        root = Path(tempfile.mkdtemp(prefix="zvh-pg-"))
        os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach the socket directory
        data = root / "data"
        data.mkdir(mode=0o700)
        log = root / "pg.log"
        log.touch()
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(log, "postgres", "postgres")
            shutil.chown(root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        port = free_port()
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return cls(root=root, port=port, bindir=bindir)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls) -> Redis:
        root = Path(tempfile.mkdtemp(prefix="zvh-redis-"))
        port = free_port()
        return cls(root=root, port=port, process=_launch_redis(root, port))

    def halt(self) -> None:
        """Stop the server as in an outage, keeping its port and directory for `restart`."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start the server again on the same port, empty (it runs without persistence)."""
        self.process = _launch_redis(self.root, self.port)

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


def _launch_redis(root: Path, port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server not found; run `make system-deps` (apt package redis-server)")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(root),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(root / "redis.log"),
        ],
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    _wait_until(lambda: client.ping(), "redis-server")
    client.close()
    return process
