"""Every link leads somewhere the user may go: per user, a walk from Mijn taken over every same-origin link.

The world: the web tests' processes (tests/web/conftest.py: `melding`, and the matrix's `gemeentetaak`) with cases in
Breda and Zundert started by the demo melder, one user for every demo role (engine/demo.py: its organisation and
gemeenten), a ketenpartner and a procesregisseur added as participants, a notification and a saved filter, and the
inzage world (tests/engine/inzage_world.py: zorgzaken and an inzageverzoek at the search, with its own FG,
regisseurs and partner). Every demo person walks, and the inzage FG and a gemeente user of Zundert: from /taken,
breadth-first and each URL once, every `<a href>` and `hx-get` that stays on this site, and every redirect. A page
the app itself links to must open: a 404, 403 or 500 there is a dead or forbidden link. GETs change nothing, so one
walk never spoils the next.

Users are signed in by starting their server-side session directly (the sign-in itself is tested in test_auth.py):
hashing a password per user would take most of the time budget.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from engine.access import take_part
from engine.clock import FixedClock
from engine.demo import DEMO_ORGANISATIONS, DEMO_OWN_GEMEENTE, DEMO_PEOPLE
from engine.inbox import InboxQuery, save_filter
from engine.models import Notification, User
from engine.privacy.organisations import DEFAULT_SCOPES, GEMEENTEN
from engine.registry import deploy_file
from engine.sessions import note_sign_in, start_session
from engine.twofactor import enrol_now, second_factor_required
from engine.users import create_user
from tests.conftest import START
from tests.engine.bpmn import write
from tests.engine.inzage_world import build_world as build_inzage_world
from tests.engine.inzage_world import start_request
from tests.web.authz_world import GEMEENTETAAK, MELDING_BREDA
from tests.web.conftest import MELDING
from web import create_app
from web.security import LAST_SEEN, SERVER_SESSION

#: Links not followed: signing out (a form anyway), and documents that take seconds to make (the inzage PDF and
#: ZIP, tested in tests/web/test_inzage_pages.py).
SKIPPED_ENDPOINTS = frozenset(
    {"auth.logout", "inzage.package_as_pdf", "inzage.package_as_zip", "inzage.letter", "static"}
)
#: A generous bound per user: the walk must end even if a page grows links without end (filters, pages).
MAX_PAGES = 400
LINK = re.compile(r"""<a\b[^>]*?\shref="([^"]*)"|\shx-get="([^"]*)\"""")
ORIGIN = "http://localhost"


#: Who walks besides the demo people: the FG who handles the inzageverzoek, and a gemeente user of Zundert (the
#: other users of the world hold the same roles as a demo person, in the same places).
WALKERS = ("fenna", "otto")


@dataclass
class Walk:
    app: Flask
    #: username → the roles they hold
    users: dict[str, frozenset[str]]


def _demo_gemeenten(role: str) -> tuple[str, ...]:
    if role in DEMO_OWN_GEMEENTE:
        return (DEMO_OWN_GEMEENTE[role],)
    return tuple(GEMEENTEN) if role in DEFAULT_SCOPES else ()


@pytest.fixture(scope="module")
def world(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    folder = tmp_path_factory.mktemp("walk")
    path = folder / "zvh.sqlite3"
    shutil.copyfile(web_template, path)
    clock = FixedClock(START)
    app = create_app(
        {"ZVH_DATABASE_URL": f"sqlite:///{path}", "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "walk-secret"}
    )
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        write(folder, "melding.json", MELDING)
        forms = Path(__file__).resolve().parents[2] / "forms"
        deploy_file(session, write(folder, "gemeentetaak.bpmn", GEMEENTETAAK), actor="tests", search_paths=[forms])
        people = {
            role: create_user(
                session,
                username=f"demo.{role}",
                display_name=name,
                roles=[role],
                organisation=DEMO_ORGANISATIONS.get(role, "zvh"),
                gemeenten=_demo_gemeenten(role),
            )
            for role, name in DEMO_PEOPLE.items()
        }
        melder = people["melder"]
        cases = {}
        for key, gemeente in (("melding", "Breda"), ("gemeentetaak", "Breda"), ("gemeentetaak", "Zundert")):
            data = {**MELDING_BREDA, "gemeente": gemeente}
            started = services.runtime.start_instance(session, process_key=key, actor=melder, data=data)
            cases[(key, gemeente)] = started.instance.id
        take_part(
            session,
            instance_id=cases[("melding", "Breda")],
            user_id=people["ketenpartner"].id,
            reason="added",
            at=clock.now(),
        )
        take_part(
            session,
            instance_id=cases[("gemeentetaak", "Breda")],
            user_id=people["procesregisseur"].id,
            reason="added",
            at=clock.now(),
        )
        screener = people["screener"]
        save_filter(session, user=screener, name="Breda", query=InboxQuery(gemeente="Breda"), at=clock.now())
        session.add(
            Notification(
                user_id=screener.id,
                kind="taak",
                key="walk",
                title="Nieuwe taak",
                link=f"/zaken/{cases[('melding', 'Breda')]}",
                instance_id=cases[("melding", "Breda")],
                created_at=clock.now(),
            )
        )
    (folder / "inzage").mkdir()
    start_request(build_inzage_world(services.db, services.runtime, folder / "inzage"))
    with services.db.transaction() as session:
        users = {}
        for user in session.scalars(
            select(User).where(User.username.in_([*WALKERS, *(p.username for p in people.values())]))
        ):
            if second_factor_required(user) and user.totp_enabled_at is None:
                enrol_now(session, user=user, at=clock.now())
            users[user.username] = user.role_keys
    yield Walk(app, users)
    services.db.dispose()


def signed_in(world: Walk, username: str) -> FlaskClient:
    """A client with a live server-side session for `username`, as signing in leaves it."""
    client = world.app.test_client()
    services = world.app.extensions["zvh"]
    with services.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        token = start_session(session, user=user, at=services.runtime.clock.now())
        note_sign_in(session, user_id=user.id, at=services.runtime.clock.now())
        user_id = str(user.id)
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user_id
        cookie["_fresh"] = True
        cookie[SERVER_SESSION] = token
        cookie[LAST_SEEN] = time.time()
    return client


def _endpoint(world: Walk, path: str) -> str | None:
    try:
        endpoint, _ = world.app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None  # no such route: requested anyway, so the walk reports the 404
    return str(endpoint)


def _links(base: str, html: str) -> Iterator[str]:
    for match in LINK.finditer(html):
        raw = unescape(match.group(1) or match.group(2) or "")
        if not raw or raw.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        url, _ = urldefrag(urljoin(ORIGIN + base, raw))
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
            continue  # another site
        yield parts.path + (f"?{parts.query}" if parts.query else "")


def walk(world: Walk, client: FlaskClient) -> tuple[set[str], list[str]]:
    """Every page reachable from /taken for one signed-in user; the visited URLs and the broken ones."""
    queue: deque[tuple[str, str]] = deque([("/taken", "start")])
    seen = {"/taken"}
    broken = []
    while queue and len(seen) <= MAX_PAGES:
        url, found_on = queue.popleft()
        response = client.get(url)
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(ORIGIN + url, response.headers["Location"]))
            location = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc in ("", "localhost") and location not in seen:
                seen.add(location)
                queue.append((location, url))
            continue
        if status >= 400:
            broken.append(f"{url} ({status}), linked from {found_on}")
            continue
        if "text/html" not in response.content_type:
            continue
        for link in _links(url, response.get_data(as_text=True)):
            if link in seen or _endpoint(world, urlsplit(link).path) in SKIPPED_ENDPOINTS:
                continue
            seen.add(link)
            queue.append((link, url))
    return seen, broken


def test_every_link_opens_for_every_user(world: Walk) -> None:
    problems = []
    visited = {}
    for username in sorted(world.users):
        seen, broken = walk(world, signed_in(world, username))
        visited[username] = seen
        assert len(seen) <= MAX_PAGES, f"{username}: more than {MAX_PAGES} pages; do links multiply without end?"
        problems += [f"{username:<28} {line}" for line in broken]
    assert not problems, "links that lead nowhere the user may go:\n  " + "\n  ".join(problems)
    # The walk reached what each kind of user works with, not only the start page.
    assert any(url.startswith("/zaken/") for url in visited["demo.coordinator"]), "the team view's case links"
    assert any(re.match(r"/taken/[0-9a-f-]{36}$", url) for url in visited["demo.screener"])
    assert "/starten" in visited["demo.melder"] and "/starten" not in visited["demo.screener"]
