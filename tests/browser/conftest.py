"""Browser tests: a real `zvh serve` (gunicorn) on a throw-away SQLite set up with `zvh init --demo`, driven by
Playwright in Debian's Chromium (never `playwright install`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import waitress.server
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import update

from engine.clock import FixedClock
from engine.db import Database
from engine.models import User
from engine.twofactor import code_at
from tests.conftest import START
from tests.services import _wait_until, free_port
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
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


@dataclass
class SecondFactors:
    """What a test needs to compute the codes of a server's users: their secrets, its database and its clock."""

    secrets: dict[str, str]
    database_url: str
    now: Callable[[], datetime]


#: Per server (base URL): the demo users' secrets as `zvh init --demo` printed them, plus those a test enrolled.
SECOND_FACTORS: dict[str, SecondFactors] = {}
_ENROL = "/account/tweestapsverificatie/instellen"


def init_demo(env: dict[str, str]) -> dict[str, str]:
    """`zvh init --demo` on the database of `env`; the demo users' TOTP secrets it prints."""
    zvh = str(Path(sys.executable).parent / "zvh")
    done = subprocess.run([zvh, "init", "--demo", "--json"], env=env, check=True, capture_output=True, text=True)
    secrets: dict[str, str] = json.loads(done.stdout)["totp_secrets"]
    return secrets


def pass_second_factor(page: Page, username: str) -> None:
    """After the password: type the code from the authenticator app, or set the app up first (as a person would,
    from the secret the page shows). Tests sign the same person in more than once within one 30-second step; the
    replay protection (tests/web/test_twofactor.py) would refuse that code, so the last used step is forgotten."""
    page.wait_for_url(re.compile(r"/(taken|inloggen/code|account/tweestapsverificatie/instellen)(\?|$)"))
    parts = urlsplit(page.url)
    factors = SECOND_FACTORS[f"{parts.scheme}://{parts.netloc}"]
    if parts.path == "/inloggen/code":
        database = Database(factors.database_url)
        with database.transaction() as session:
            session.execute(update(User).where(User.username == username).values(totp_last_step=None))
        database.dispose()
        page.fill("#code", code_at(factors.secrets[username], factors.now()))
        page.click("main button[type=submit]")
    elif parts.path == _ENROL:
        secret = page.locator("#totp-geheim").get_attribute("data-geheim")
        assert secret
        factors.secrets[username] = secret
        page.fill("#code", code_at(secret, factors.now()))
        page.click("main button[type=submit]")
        page.click("text=Ik heb ze bewaard, verder")


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
    secrets = init_demo(env)
    port = free_port()
    log = (instance / "serve.log").open("wb")
    server = subprocess.Popen([zvh, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SECOND_FACTORS[url] = SecondFactors(secrets, env["ZVH_DATABASE_URL"], lambda: datetime.now(UTC))
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
    secrets = init_demo(env)
    clock = FixedClock(START)
    with pytest.MonkeyPatch.context() as patch:  # the keys of that instance (2FA secrets, audit chain), as `zvh serve`
        patch.setenv("ZVH_INSTANCE_PATH", str(instance))
        app = create_app({"ZVH_DATABASE_URL": url, "ZVH_CLOCK": clock, "SECRET_KEY": "browser-test-secret"})
    server = waitress.server.create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:
            # closing the listening socket from this thread can catch the loop inside select() on it (EBADF): the
            # loop ends with its socket, which is what closing asked for
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    SECOND_FACTORS[base] = SecondFactors(secrets, url, clock.now)
    yield ClockedServer(base, app, clock)
    closing.set()
    server.close()
    thread.join(timeout=10)
    app.extensions["zvh"].db.dispose()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


def assert_accessible(page: Page, *, exclude: tuple[str, ...] = ()) -> None:
    """axe-core on the page as it is now: fail on any serious or critical violation, listing them all.

    The script goes in through the DevTools protocol (Playwright's evaluate), which the page's CSP does not govern,
    so the page is checked under its real policy."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
            const outcome = await window.axe.run(context, { resultTypes: ["violations"] });
            return outcome.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
            }));
        }""",
        list(exclude),
    )
    serious = [v for v in results if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"{v['impact']} {v['id']} ({v['help']}) on {page.url}:\n    " + "\n    ".join(v["nodes"][:10]) for v in serious
    )
    assert not serious, f"axe found serious or critical violations:\n{report}"
