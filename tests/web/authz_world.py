"""The world the authorization matrix runs in: one user per role, cases in Breda and Zundert, and the objects
route parameters point at (tasks, a participant, a draft, a filter, a notification, a session, a cover, a destruction
list, and an inzageverzoek from tests/engine/inzage_world.py).

It is built once per module on a copy of the web tests' template; every subject signs in once (with the second factor
where the role needs one, through tests/web/conftest.py's `login`), and the database file is put back before a POST
whenever the previous one may have changed something, so no request changes what the next one sees.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.access import take_part
from engine.clock import FixedClock
from engine.inbox import InboxQuery, list_tasks, save_filter
from engine.modelling.drafts import start_draft
from engine.models import DestructionList, Notification, UserSession
from engine.overleg.meetings import add_case, invite, plan_meeting
from engine.overleg.outcomes import add_action_point
from engine.overleg.types import seed_types
from engine.registry import deploy_file
from engine.runtime import Runtime
from engine.substitutions import set_substitution
from engine.users import create_api_token, create_user, get_user, hash_password
from tests.conftest import START
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.inzage_world import build_world as build_inzage_world
from tests.engine.inzage_world import start_request
from tests.web.conftest import MELDING, PASSWORD, START_FORM, login
from web import create_app

COOKIE = "zvh_sessie"

#: Who signs in as which subject (username, display name, roles, organisation, gemeenten); None: already in the
#: web tests' template (tests/web/conftest.py).
SUBJECTS: dict[str, tuple[str, str | None, tuple[str, ...], str | None, tuple[str, ...]]] = {
    "melder": ("mila", None, (), None, ()),
    "screener": ("sven", None, (), None, ()),
    "triagetafel": ("tess", "Tess Tafel", ("triagetafel",), "zvh", ()),
    "ketenpartner": ("kees", "Kees Keten", ("ketenpartner",), "ggz", ("breda",)),
    "procesregisseur": ("pim", None, (), None, ()),
    "casusregisseur": ("cas", "Cas Regie", ("casusregisseur",), "zvh", ("breda",)),
    "gemeente_breda": ("gijs", "Gijs Gemeente", ("gemeente",), "gemeente", ("breda",)),
    "gemeente_zundert": ("otto", None, (), None, ()),
    "reclassering": ("ruben", "Ruben Reclassering", ("reclassering",), "reclassering", ("breda",)),
    "politie": ("pol", "Pol Politie", ("politie",), "politie", ("breda",)),
    "coordinator": ("coen", None, (), None, ()),
    "manager": ("mariska", None, (), None, ()),
    "privacyfunctionaris": ("fien", "Fien Functionaris", ("privacyfunctionaris",), "zvh", ()),
    "beheerder": ("bea", "Bea Beheer", ("beheerder",), "zvh", ()),
    "procesbeheerder": ("pieter", "Pieter Proces", ("procesbeheerder",), "zvh", ()),
    # a ketenpartner added to the Breda case (need-to-know) — the same role as `ketenpartner`, who is not
    "deelnemer": ("dirk", "Dirk Deelnemer", ("ketenpartner",), "ggz", ("breda",)),
}
ANONYMOUS = "anoniem"

GEMEENTETAAK = process(
    f'<bpmn:startEvent id="S">{START_FORM}</bpmn:startEvent>'
    + user_task("Gemeentetaak", "Beoordeel voor de gemeente")
    + '<bpmn:endEvent id="E"/>'
    + flow("F1", "S", "Gemeentetaak")
    + flow("F2", "Gemeentetaak", "E"),
    process_id="gemeentetaak",
    name="Gemeentetaak",
    lanes={"Melder": ["S"], "Gemeente": ["Gemeentetaak", "E"]},
)
MELDING_BREDA = {
    "gemeente": "Breda",
    "betrokkenen": [{"naam": "Fenna Fictief", "bsn": "111222333", "rol": "hoofdbetrokkene"}],
    "aanleiding": "Zorgen over overlast en schulden in de wijk.",
}


@dataclass
class Signed:
    """A subject's session: the signed cookie and a CSRF token that belongs to it (API: the bearer token)."""

    cookie: str | None
    csrf: str
    token: str | None = None


@dataclass
class World:
    app: Flask
    path: Path
    snapshot: Path
    ids: dict[str, Any] = field(default_factory=dict)
    signed: dict[str, Signed] = field(default_factory=dict)

    def restore(self) -> None:
        """Put the database back as it was when everyone had signed in."""
        self.app.extensions["zvh"].db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.snapshot, self.path)

    def request(
        self, subject: str, method: str, url: str, *, data: Any = None, api: bool = False, csrf: bool = True
    ) -> TestResponse:
        """One request as `subject`, with a valid CSRF token (forms; unless `csrf` is False) or bearer token (API)."""
        client = self.app.test_client()
        signed = self.signed[subject]
        if signed.cookie is not None:
            client.set_cookie(COOKIE, signed.cookie)
        if api:
            headers = {"Authorization": f"Bearer {signed.token}"} if signed.token is not None else {}
            return client.open(url, method=method, headers=headers, json=data if method == "POST" else None)
        token = signed.csrf if csrf else ""
        if method == "POST":
            if isinstance(data, dict) and "__json__" in data:
                return client.post(url, json=data["__json__"], headers={"X-CSRFToken": token})
            return client.post(url, data={"csrf_token": token, **(data or {})})
        return client.open(url, method=method)


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def build_overleg(session: Session, runtime: Runtime, at: datetime) -> dict[str, int]:
    """(overleg, issue 14) The seeded overleg types and a triagetafel planned by its chair Tess (3 March 2026 10:00)
    with one case of its own (so the invitations make no one a participant of the cases above): the screener Sven is
    invited for it and owns an open action point on it. Ids: `meeting`, `agenda_item`, `action_point`."""
    seed_types(session, at=at)
    tess, sven = get_user(session, "tess"), get_user(session, "sven")
    case_id = runtime.start_instance(
        session, process_key="melding", actor=get_user(session, "mila"), data=MELDING_BREDA
    ).instance.id
    take_part(session, instance_id=case_id, user_id=tess.id, reason="added", at=at)
    meeting = plan_meeting(session, type_key="triagetafel", actor=tess, at=None, now=at)
    item = add_case(session, meeting_id=meeting.id, case=case_id, actor=tess, reason="Matrix", at=at)
    invite(session, meeting_id=meeting.id, case=case_id, user=sven, actor=tess, at=at)
    point = add_action_point(
        session,
        item_id=item.id,
        actor=tess,
        description="Matrix-actiepunt",
        owner_organisation="zvh",
        owner=sven,
        deadline=(at + timedelta(days=4)).date(),
        at=at,
    )
    return {"meeting": meeting.id, "agenda_item": item.id, "action_point": point.id}


def build_world(template: Path, folder: Path) -> World:
    """Users, cases, tasks and the objects routes refer to; every subject signed in; a snapshot to restore."""
    path = folder / "zvh.sqlite3"
    shutil.copyfile(template, path)
    clock = FixedClock(START)
    app = create_app(
        {"ZVH_DATABASE_URL": f"sqlite:///{path}", "ZVH_CLOCK": clock, "TESTING": True, "SECRET_KEY": "matrix-secret"}
    )
    world = World(app, path, folder / "snapshot.sqlite3")
    services = app.extensions["zvh"]
    ids = world.ids
    with services.db.transaction() as session:
        write(folder, "melding.json", MELDING)
        forms = Path(__file__).resolve().parents[2] / "forms"
        deploy_file(session, write(folder, "gemeentetaak.bpmn", GEMEENTETAAK), actor="tests", search_paths=[forms])
        password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
        for username, name, roles, organisation, gemeenten in SUBJECTS.values():
            if name is not None:
                create_user(
                    session,
                    username=username,
                    display_name=name,
                    roles=roles,
                    organisation=organisation,
                    gemeenten=gemeenten,
                ).password_hash = password_hash
    with services.db.transaction() as session:
        mila = get_user(session, "mila")
        runtime = services.runtime
        ids["case_breda"] = runtime.start_instance(
            session, process_key="melding", actor=mila, data=MELDING_BREDA
        ).instance.id
        for gemeente in ("Breda", "Zundert"):
            data = {**MELDING_BREDA, "gemeente": gemeente}
            started = runtime.start_instance(session, process_key="gemeentetaak", actor=mila, data=data)
            ids[f"gm_{gemeente.lower()}"] = started.instance.id
        dirk = get_user(session, "dirk")
        take_part(session, instance_id=ids["case_breda"], user_id=dirk.id, reason="added", at=clock.now())
        ids["participant"] = dirk.id
        pim = get_user(session, "pim")
        take_part(session, instance_id=ids["gm_breda"], user_id=pim.id, reason="added", at=clock.now())
        for case in ("case_breda", "gm_breda", "gm_zundert"):
            ids[f"task_{case}"] = list_tasks(session, instance_id=ids[case]).tasks[0].id
        sven = get_user(session, "sven")
        sanne = get_user(session, "sanne")
        ids["filter"] = save_filter(
            session, user=sven, name="Mijn filter", query=InboxQuery.from_dict({}), at=clock.now()
        ).id
        notification = Notification(
            user_id=sven.id,
            kind="taak",
            key="matrix",
            title="Nieuwe taak",
            link=f"/zaken/{ids['case_breda']}",
            instance_id=ids["case_breda"],
            created_at=clock.now(),
        )
        session.add(notification)
        session.flush()
        ids["notification"] = notification.id
        ids["substitution"] = set_substitution(
            session,
            actor=sven,
            absent=sven,
            substitute=sanne,
            starts_at=clock.now() + timedelta(days=1),
            ends_at=clock.now() + timedelta(days=8),
            reason="Vakantie",
            at=clock.now(),
        ).id
        listing = DestructionList(
            status="proposed", note="Matrix", proposed_by_id=get_user(session, "mariska").id, proposed_at=clock.now()
        )
        session.add(listing)
        session.flush()
        ids["destruction_list"] = listing.id
        ids["draft"] = start_draft(session, process_key="melding", actor=get_user(session, "pieter"), at=clock.now()).id
        tokens = {
            subject: create_api_token(session, user=get_user(session, username), name="matrix", at=clock.now())
            for subject, (username, *_rest) in SUBJECTS.items()
        }
    with services.db.transaction() as session:
        ids.update(build_overleg(session, services.runtime, clock.now()))  # overleg (issue 14)
    (folder / "inzage").mkdir()
    inzage = build_inzage_world(services.db, services.runtime, folder / "inzage")
    ids["inzageverzoek"] = start_request(inzage)
    anonymous = app.test_client()
    world.signed[ANONYMOUS] = Signed(None, _csrf(anonymous, "/inloggen"))
    world.signed[ANONYMOUS].cookie = _cookie(anonymous)
    for subject, (username, *_rest) in SUBJECTS.items():
        client = app.test_client()
        login(client, username)
        csrf = _csrf(client, "/account/sessies")
        world.signed[subject] = Signed(_cookie(client), csrf, tokens[subject])
    with services.db.reader() as session:
        sven_id = get_user(session, "sven").id
        ids["session"] = session.query(UserSession.id).filter_by(user_id=sven_id).order_by(UserSession.id).first()[0]
    services.db.dispose()
    shutil.copyfile(path, world.snapshot)
    return world
