"""Browser tests: a real `zvh serve` (waitress) on a throw-away SQLite set up with `zvh init --demo`, driven by
Playwright in Debian's Chromium (never `playwright install`)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import waitress.server
from flask import Flask

from engine.clock import FixedClock
from tests.conftest import START
from tests.services import _wait_until, free_port
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The app as it runs after `make run`: demo users, every process of processes/ deployed."""
    assert (ROOT / "web" / "static" / "build" / "app.js").exists(), "front-end not built: run `make setup`"
    instance = Path(tempfile.mkdtemp(prefix="zvh-browser-"))
    env = {
        **os.environ,
        "ZVH_INSTANCE_PATH": str(instance),
        "ZVH_DATABASE_URL": f"sqlite:///{instance / 'zvh.sqlite3'}",
    }
    env.pop("ZVH_REDIS_URL", None)
    zvh = str(Path(sys.executable).parent / "zvh")
    subprocess.run([zvh, "init", "--demo"], env=env, check=True, capture_output=True)
    port = free_port()
    log = (instance / "serve.log").open("wb")
    server = subprocess.Popen([zvh, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_until(lambda: urllib.request.urlopen(f"{url}/inloggen", timeout=2).status == 200, "zvh serve")  # noqa: S310
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@dataclass
class ClockedServer:
    """The app served in this process by waitress with an injected clock, so a test can move time."""

    url: str
    app: Flask
    clock: FixedClock


@pytest.fixture(scope="module")
def clocked_server() -> Iterator[ClockedServer]:
    instance = Path(tempfile.mkdtemp(prefix="zvh-browser-monitor-"))
    url = f"sqlite:///{instance / 'zvh.sqlite3'}"
    env = {**os.environ, "ZVH_INSTANCE_PATH": str(instance), "ZVH_DATABASE_URL": url}
    env.pop("ZVH_REDIS_URL", None)
    subprocess.run(
        [str(Path(sys.executable).parent / "zvh"), "init", "--demo"], env=env, check=True, capture_output=True
    )
    clock = FixedClock(START)
    app = create_app({"ZVH_DATABASE_URL": url, "ZVH_CLOCK": clock, "SECRET_KEY": "browser-test-secret"})
    server = waitress.server.create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield ClockedServer(f"http://127.0.0.1:{server.effective_port}", app, clock)
    server.close()
    thread.join(timeout=10)
    app.extensions["zvh"].db.dispose()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
