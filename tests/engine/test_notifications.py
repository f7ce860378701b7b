"""The bell and the e-mail digest: who is told what, once, without personal data; a real SMTP server on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from engine.audit import record
from engine.clock import FixedClock
from engine.config import Settings
from engine.db import Database
from engine.errors import InvalidInput, NotFound
from engine.models import Notification, Participant, User
from engine.monitor import stalled
from engine.notifications import (
    KINDS,
    SmtpSettings,
    list_notifications,
    mark_read,
    open_notification,
    preferences,
    run_notification_jobs,
    scan_notifications,
    send_digests,
    set_preferences,
    unread_count,
)
from engine.runtime import Runtime
from tests.conftest import START, UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_monitor import normed_task, with_process_norm
from tests.engine.test_runtime import SCRIPT_AFTER_TASK, complete, deploy, open_tasks, start
from tests.engine.test_timers import boundary
from tests.services import free_port

# The test SMTP server takes a login over plain text on loopback; aiosmtpd rightly warns about that elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
BASE_URL = "https://zvh.example.org"
#: What a case knows about a person: never in a title, never in an e-mail.
PERSON = {"naam": "Fenna Fictief", "bsn": "111222333"}
STEP = "Beoordeel de melding"


def notify_process() -> str:
    """Screeners assess a report: a deadline after 5 days, a norm of 1 day, then a step that closes it."""
    start_form = (
        '<bpmn:startEvent id="S"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="persoon.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>"
    )
    body = (
        start_form
        + normed_task("T1", STEP, norm="P1D")
        + boundary("Late", "T1", '"P5D"', interrupting=False)
        + user_task("T2", "Rond af")
        + '<bpmn:endEvent id="E"/><bpmn:endEvent id="E2"/>'
        + flow("F1", "S", "T1")
        + flow("F2", "T1", "T2")
        + flow("F3", "T2", "E")
        + flow("F4", "Late", "E2")
    )
    return process(body, process_id="notify", lanes={"Melder": ["S"], "Screener": ["T1", "T2", "E"]})


def waiting_process() -> str:
    """No task, only a wait for a message: the instance stalls when the process norm (2 days) passes."""
    body = (
        '<bpmn:startEvent id="S"/>'
        '<bpmn:intermediateCatchEvent id="Wacht"><bpmn:messageEventDefinition messageRef="Bericht"/>'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="E"/>' + flow("F1", "S", "Wacht") + flow("F2", "Wacht", "E")
    )
    xml = with_process_norm(process(body, process_id="waiting"), norm="P2D")
    return xml.replace("<bpmn:process ", '<bpmn:message id="Bericht" name="bericht"/><bpmn:process ', 1)


@pytest.fixture
def notify(db: Database, tmp_path: Path) -> str:
    write(tmp_path, "persoon.json", {"type": "object", "properties": {k: {"type": "string"} for k in PERSON}})
    deploy(db, write(tmp_path, "notify.bpmn", notify_process()), search_paths=[tmp_path])
    return "notify"


@pytest.fixture
def team(make_user: UserFactory) -> dict[str, User]:
    return {
        "mila": make_user("mila", "melder"),
        "sven": make_user("sven", "screener"),
        "sanne": make_user("sanne", "screener"),
        "coen": make_user("coen", "coordinator"),
        "mariska": make_user("mariska", "manager"),
    }


def scan(db: Database, now: Any = START, **kw: Any) -> int:
    with db.transaction() as session:
        return scan_notifications(session, now=now, **kw)


def bell(db: Database, user: User) -> list[tuple[str, str, str]]:
    """(reason, title, link) of a user's notifications, oldest first."""
    with db.reader() as session:
        return [(n.reason, n.title, n.link) for n in reversed(list_notifications(session, user=user))]


def set_user(db: Database, user: User, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(update(User).where(User.id == user.id).values(**values))
        session.expire_all()


def choose(db: Database, user: User, **values: tuple[bool, bool]) -> None:
    with db.transaction() as session:
        set_preferences(session, user=session.get(User, user.id), values=values, at=START)


# --- the scan --------------------------------------------------------------------------------------------------


def test_scan__a_new_role_task_notifies_the_active_role_holders_once(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], make_user: UserFactory
) -> None:
    set_user(db, make_user("sep", "screener"), active=False)
    outcome = start(db, runtime, notify, team["mila"], PERSON)
    [task] = open_tasks(db, outcome.instance.id)
    expected = [("new_task", f"{STEP} · {outcome.instance.case_number}", f"/taken/{task.id}")]

    assert scan(db) == 2
    assert bell(db, team["sven"]) == expected
    assert bell(db, team["sanne"]) == expected
    assert bell(db, team["mila"]) == [], "the starter holds no screener role"
    assert bell(db, team["coen"]) == []
    assert scan(db) == 0, "a second scan notifies nothing twice"
    assert scan(db, START + timedelta(minutes=1)) == 0, "nor does the next one that looks back over it"


def test_scan__the_first_run_looks_back_one_day_and_later_runs_from_the_watermark(
    db: Database, runtime: Runtime, clock: FixedClock, notify: str, team: dict[str, User]
) -> None:
    start(db, runtime, notify, team["mila"])
    clock.advance(timedelta(days=3))
    later = start(db, runtime, notify, team["mila"])

    scan(db, START + timedelta(days=3, hours=1))

    assert [link for reason, _, link in bell(db, team["sven"]) if reason == "new_task"] == [
        f"/taken/{open_tasks(db, later.instance.id)[0].id}"
    ]


def test_scan__a_reassignment_notifies_the_new_assignee_only(
    db: Database, runtime: Runtime, clock: FixedClock, notify: str, team: dict[str, User]
) -> None:
    [task_id] = [t.id for t in open_tasks(db, start(db, runtime, notify, team["mila"]).instance.id)]
    scan(db)
    clock.advance(timedelta(minutes=10))
    with db.transaction() as session:
        sanne = session.get(User, team["sanne"].id)
        runtime.reassign_task(session, task_id=task_id, actor=team["coen"], assignee=sanne, reason="werkverdeling")

    assert scan(db, clock.now()) == 1
    assert [(r, link) for r, _, link in bell(db, team["sanne"])] == [
        ("new_task", f"/taken/{task_id}"),
        ("assigned", f"/taken/{task_id}"),
    ]
    assert [r for r, _, _ in bell(db, team["sven"])] == ["new_task"]


def test_scan__a_task_moved_to_a_substitute_notifies_the_substitute_and_a_return_to_the_queue_nobody(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    [task] = open_tasks(db, start(db, runtime, notify, team["mila"]).instance.id)
    scan(db)
    for to in ("sanne", None):
        with db.transaction() as session:
            record(
                session,
                actor="coen",
                action="substitute",
                at=START + timedelta(minutes=1),
                instance_id=task.instance_id,
                task_id=task.id,
                summary="Moved",
                details={"covering_for": "sven", "to": to},
            )

    assert scan(db, START + timedelta(minutes=2)) == 1
    assert [r for r, _, _ in bell(db, team["sanne"])] == ["new_task", "assigned"]


def test_scan__a_deadline_notifies_when_near_and_when_passed_the_assignee_once_claimed(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    [task_id] = [t.id for t in open_tasks(db, start(db, runtime, notify, team["mila"]).instance.id)]
    scan(db)
    scan(db, START + timedelta(days=2, hours=23))
    assert [r for r, _, _ in bell(db, team["sanne"]) if r.startswith("deadline")] == [], "5 days is not near yet"

    scan(db, START + timedelta(days=3, hours=1))
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=team["sven"])
    scan(db, START + timedelta(days=5, minutes=1))

    assert [r for r, _, _ in bell(db, team["sanne"]) if r.startswith("deadline")] == ["deadline_near"]
    assert [r for r, _, _ in bell(db, team["sven"]) if r.startswith("deadline")] == [
        "deadline_near",
        "deadline_passed",
    ]


def test_scan__a_task_past_its_norm_notifies_the_participants_whose_access_lasts(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], make_user: UserFactory
) -> None:
    outcome = start(db, runtime, notify, team["mila"])
    former = make_user("fenna", "melder")
    with db.transaction() as session:
        session.add(
            Participant(
                instance_id=outcome.instance.id,
                user_id=former.id,
                reason="cover",
                added_at=START,
                expires_at=START + timedelta(hours=2),
            )
        )
    now = START + timedelta(days=1, minutes=1)

    scan(db, now)

    link = f"/zaken/{outcome.instance.id}"
    assert ("stalled", f"{STEP} · {outcome.instance.case_number}", link) in bell(db, team["mila"])
    assert [r for r, _, _ in bell(db, former)] == [], "expired access: not a participant any more"
    assert "stalled" not in [r for r, _, _ in bell(db, team["sven"])], "not a participant"
    with db.reader() as session:
        assert {row.instance_id for row in stalled(session, now=now)} == {outcome.instance.id}


def test_scan__an_instance_without_progress_past_its_process_norm_notifies_its_participants(
    db: Database, runtime: Runtime, team: dict[str, User], tmp_path: Path
) -> None:
    deploy(db, write(tmp_path, "waiting.bpmn", waiting_process()))
    outcome = start(db, runtime, "waiting", team["mila"])
    scan(db, START + timedelta(days=1))
    assert bell(db, team["mila"]) == []

    scan(db, START + timedelta(days=2, hours=1))

    assert bell(db, team["mila"]) == [
        ("stalled", outcome.instance.case_number, f"/zaken/{outcome.instance.id}"),
    ]


def test_scan__an_instance_in_error_notifies_the_managers(
    db: Database, runtime: Runtime, clock: FixedClock, team: dict[str, User], tmp_path: Path
) -> None:
    write(tmp_path, "deler.json", {"type": "object", "properties": {"deler": {"type": "integer"}}})
    deploy(db, write(tmp_path, "s.bpmn", SCRIPT_AFTER_TASK))
    outcome = start(db, runtime, "script_error", team["mila"])
    clock.advance(timedelta(minutes=5))
    failed = complete(db, runtime, outcome.next_tasks[0].id, team["mila"], {"deler": 0})
    assert failed.instance.status == "error"

    scan(db, clock.now())

    assert [(r, title) for r, title, _ in bell(db, team["mariska"])] == [("incident", failed.instance.case_number)]
    assert "incident" not in [r for r, _, _ in bell(db, team["coen"])]


def test_scan__an_instance_in_error_notifies_the_beheerders_with_a_link_to_the_repair_list(
    db: Database,
    runtime: Runtime,
    clock: FixedClock,
    team: dict[str, User],
    make_user: UserFactory,
    tmp_path: Path,
) -> None:
    bea, both = make_user("bea", "beheerder"), make_user("bram", "beheerder", "manager")
    set_user(db, make_user("bep", "beheerder"), active=False)
    write(tmp_path, "deler.json", {"type": "object", "properties": {"deler": {"type": "integer"}}})
    deploy(db, write(tmp_path, "s.bpmn", SCRIPT_AFTER_TASK))
    outcome = start(db, runtime, "script_error", team["mila"])
    clock.advance(timedelta(minutes=5))
    failed = complete(db, runtime, outcome.next_tasks[0].id, team["mila"], {"deler": 0})

    assert scan(db, clock.now()) == 3

    case_number = failed.instance.case_number
    assert bell(db, bea) == [("incident", case_number, "/storingen")]
    assert bell(db, both) == [("incident", case_number, "/storingen")], "once, to the list both roles may use"
    assert bell(db, team["mariska"]) == [("incident", case_number, "/bewaking?categorie=incident")]


def test_scan__a_kind_switched_off_in_the_app_is_not_created(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    choose(db, team["sven"], new_task=(False, False))
    start(db, runtime, notify, team["mila"])

    assert scan(db) == 1
    assert bell(db, team["sven"]) == []
    assert [r for r, _, _ in bell(db, team["sanne"])] == ["new_task"]


def test_scan__titles_name_the_step_and_the_case_number_only(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    start(db, runtime, notify, team["mila"], PERSON)
    scan(db, START + timedelta(days=6))

    with db.reader() as session:
        texts = [f"{n.title} {n.link}" for n in session.scalars(select(Notification))]
    assert texts
    for text in texts:
        assert "Fenna" not in text
        assert "111222333" not in text
        assert "Mila" not in text


# --- the bell ------------------------------------------------------------------------------------------------


def test_bell__counts_unread_and_marks_one_or_all_read(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    for _ in range(3):
        start(db, runtime, notify, team["mila"])
    scan(db)
    sven = team["sven"]
    with db.reader() as session:
        first = list_notifications(session, user=sven)[-1]
        assert unread_count(session, user=sven) == 3

    with db.transaction() as session:
        assert open_notification(session, user=sven, notification_id=first.id, at=START) == first.link
    with db.transaction() as session:
        assert unread_count(session, user=sven) == 2
        assert mark_read(session, user=sven, notification_id=None, at=START) == 2
    with db.reader() as session:
        assert unread_count(session, user=sven) == 0
        assert unread_count(session, user=team["sanne"]) == 3, "only one's own"
        assert all(not n.unread for n in list_notifications(session, user=sven))


def test_bell__another_users_notification_is_not_found(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User]
) -> None:
    start(db, runtime, notify, team["mila"])
    scan(db)
    with db.reader() as session:
        svens = list_notifications(session, user=team["sven"])[0]

    with db.transaction() as session, pytest.raises(NotFound):
        mark_read(session, user=team["sanne"], notification_id=svens.id, at=START)
    with db.transaction() as session, pytest.raises(NotFound):
        open_notification(session, user=team["sanne"], notification_id=svens.id, at=START)
    with db.reader() as session:
        assert unread_count(session, user=team["sven"]) == 1


# --- preferences ---------------------------------------------------------------------------------------------


def test_preferences__default_to_the_app_only_and_are_stored_per_kind(db: Database, team: dict[str, User]) -> None:
    sven = team["sven"]
    with db.reader() as session:
        assert preferences(session, user=sven) == dict.fromkeys(KINDS, (True, False))
    set_user(db, sven, email="sven@example.org")

    choose(db, sven, deadline=(True, True), stalled=(False, False))
    choose(db, sven, deadline=(True, True))

    with db.reader() as session:
        assert preferences(session, user=sven) == {
            "new_task": (True, False),
            "assigned": (True, False),
            "deadline": (True, True),
            "stalled": (False, False),
            "incident": (True, False),
            "retention": (True, False),
            "overleg": (True, False),
        }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"verjaardag": (True, False)}, "verjaardag"),
        ({"deadline": (False, True)}, "deadline"),
        ({"new_task": (True, True)}, "new_task"),
    ],
    ids=["unknown kind", "e-mail without the app", "e-mail without an address"],
)
def test_set_preferences__refuses_what_cannot_work(
    db: Database, team: dict[str, User], values: dict[str, tuple[bool, bool]], field: str
) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        set_preferences(session, user=team["sven"], values=values, at=START)

    assert list(refused.value.fields) == [field]
    with db.reader() as session:
        assert preferences(session, user=team["sven"]) == dict.fromkeys(KINDS, (True, False))


# --- e-mail digests over a real SMTP server ------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what arrives."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class SmtpServer:
    settings: SmtpSettings
    mailbox: Mailbox


def _login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"zvh", b"geheim")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """SMTP on loopback that requires a login (over plain text: this is a test)."""
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_login,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    settings = SmtpSettings(
        host="127.0.0.1", port=controller.port, username="zvh", password="geheim", sender="zvh@example.org"
    )
    yield SmtpServer(settings, mailbox)
    controller.stop()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_send_digests__one_mail_per_user_with_counts_and_a_link_and_no_case_data(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], smtp_server: SmtpServer
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    choose(db, team["sven"], new_task=(True, True), deadline=(True, True))
    outcomes = [start(db, runtime, notify, team["mila"], PERSON) for _ in range(2)]
    scan(db)
    scan(db, START + timedelta(days=5, minutes=1))

    with db.transaction() as session:
        sent = send_digests(session, now=START, smtp=smtp_server.settings, base_url=BASE_URL)

    assert sent == 1
    [message] = smtp_server.mailbox.messages
    body = _body(message)
    assert message["To"] == "sven@example.org"
    assert message["From"] == "zvh@example.org"
    assert "2 nieuwe taken" in body
    assert "2 termijnen die naderen of verlopen zijn" in body
    assert f"{BASE_URL}/meldingen" in body
    mail = message.as_string()
    for secret in ("Fenna", "111222333", STEP, "Sven", "Mila", "/taken/", *(o.instance.case_number for o in outcomes)):
        assert secret not in mail, secret
    with db.transaction() as session:
        assert send_digests(session, now=START, smtp=smtp_server.settings, base_url=BASE_URL) == 0, "mailed once"
    assert len(smtp_server.mailbox.messages) == 1


def test_send_digests__skips_read_notifications_and_users_without_e_mail_preference(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], smtp_server: SmtpServer
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    set_user(db, team["sanne"], email="sanne@example.org")
    choose(db, team["sven"], new_task=(True, True))
    start(db, runtime, notify, team["mila"])
    scan(db)
    with db.transaction() as session:
        mark_read(session, user=team["sven"], notification_id=None, at=START)

    with db.transaction() as session:
        assert send_digests(session, now=START, smtp=smtp_server.settings, base_url=BASE_URL) == 0

    assert smtp_server.mailbox.messages == []


def test_send_digests__a_server_that_is_down_is_logged_and_retried_next_run(
    db: Database,
    runtime: Runtime,
    notify: str,
    team: dict[str, User],
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    choose(db, team["sven"], new_task=(True, True))
    start(db, runtime, notify, team["mila"])
    scan(db)
    down = SmtpSettings(host="127.0.0.1", port=free_port())

    with caplog.at_level(logging.ERROR, logger="engine.notifications"), db.transaction() as session:
        assert send_digests(session, now=START, smtp=down, base_url=BASE_URL) == 0
    assert "sending notification digests failed" in caplog.text
    with db.transaction() as session:
        assert send_digests(session, now=START, smtp=smtp_server.settings, base_url=BASE_URL) == 1

    assert len(smtp_server.mailbox.messages) == 1


def test_send_digests__a_wrong_password_sends_nothing_and_marks_nothing(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], smtp_server: SmtpServer
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    choose(db, team["sven"], new_task=(True, True))
    start(db, runtime, notify, team["mila"])
    scan(db)
    wrong = SmtpSettings(host="127.0.0.1", port=smtp_server.settings.port, username="zvh", password="fout")

    with db.transaction() as session:
        assert send_digests(session, now=START, smtp=wrong, base_url=BASE_URL) == 0

    assert smtp_server.mailbox.messages == []
    with db.reader() as session:
        assert session.scalars(select(Notification.emailed_at)).all() == [None, None]


def test_run_notification_jobs__scans_and_mails_at_most_once_per_interval(
    db: Database,
    runtime: Runtime,
    clock: FixedClock,
    notify: str,
    team: dict[str, User],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    choose(db, team["sven"], new_task=(True, True))
    smtp = smtp_server.settings
    settings = Settings(
        database_url=db.url,
        redis_url=None,
        instance_path=tmp_path,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_user=smtp.username,
        smtp_password=smtp.password,
        smtp_from="zvh@example.org",
        base_url=BASE_URL,
    )
    start(db, runtime, notify, team["mila"])

    run_notification_jobs(db, settings, now=START)
    clock.advance(timedelta(minutes=10))
    start(db, runtime, notify, team["mila"])
    run_notification_jobs(db, settings, now=START + timedelta(minutes=10))

    assert len(smtp_server.mailbox.messages) == 1, "the second new task waits for the next digest"
    with db.reader() as session:
        assert unread_count(session, user=team["sven"]) == 2

    run_notification_jobs(db, settings, now=START + timedelta(hours=1, minutes=1))

    assert len(smtp_server.mailbox.messages) == 2
    assert "1 nieuwe taak" in _body(smtp_server.mailbox.messages[1])


def test_run_notification_jobs__without_smtp_only_scans(
    db: Database, runtime: Runtime, notify: str, team: dict[str, User], tmp_path: Path
) -> None:
    start(db, runtime, notify, team["mila"])

    run_notification_jobs(db, Settings(database_url=db.url, redis_url=None, instance_path=tmp_path), now=START)

    with db.reader() as session:
        assert unread_count(session, user=team["sven"]) == 1


def test_send_digests__every_kind_is_counted_in_words_also_retention_and_overleg(
    db: Database, team: dict[str, User], smtp_server: SmtpServer
) -> None:
    set_user(db, team["sven"], email="sven@example.org")
    choose(db, team["sven"], retention=(True, True), overleg=(True, True))
    with db.transaction() as session:
        for kind, key in (
            ("retention", "retention:1"),
            ("overleg", "overleg:1:uitnodiging"),
            ("overleg", "actiepunt:1"),
        ):
            session.add(
                Notification(
                    user_id=team["sven"].id, kind=kind, key=key, title="Titel", link="/meldingen", created_at=START
                )
            )

    with db.transaction() as session:
        assert send_digests(session, now=START, smtp=smtp_server.settings, base_url=BASE_URL) == 1

    body = _body(smtp_server.mailbox.messages[0])
    assert "1 zaak over de bewaartermijn" in body
    assert "2 uitnodigingen of actiepunten uit een overleg" in body
    from engine.notifications.digest import _DIGEST_WORDS

    assert set(_DIGEST_WORDS) == set(KINDS), "every kind a user can choose by e-mail has its words"
