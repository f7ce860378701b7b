"""E-mail digests by SMTP: per user one mail with counts per kind and a link to the bell, never case data."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db import Database
from engine.models import Notification, NotificationPreference, User
from engine.notifications.bell import BELL_LINK, KINDS
from engine.notifications.scan import job_mark, scan_notifications, set_job_mark
from engine.overleg.outcomes import remind_action_points

log = logging.getLogger(__name__)

#: Digests go out at most this often, so a busy morning is one e-mail, not twenty.
DIGEST_INTERVAL = timedelta(hours=1)

_DIGEST_MARK = "notification_digest"
# Per kind: (one, many) — how a digest counts what is waiting; no step names, case numbers or people.
_DIGEST_WORDS: dict[str, tuple[str, str]] = {
    "new_task": ("nieuwe taak", "nieuwe taken"),
    "assigned": ("taak aan u toegewezen", "taken aan u toegewezen"),
    "deadline": ("termijn die nadert of verlopen is", "termijnen die naderen of verlopen zijn"),
    "stalled": ("vastgelopen zaak of stap", "vastgelopen zaken of stappen"),
    "incident": ("incident", "incidenten"),
    "retention": ("zaak over de bewaartermijn", "zaken over de bewaartermijn"),
    "overleg": ("uitnodiging of actiepunt uit een overleg", "uitnodigingen of actiepunten uit een overleg"),
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where digests are sent from; STARTTLS and login only when configured."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "zvh-regie@localhost"
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings | None:
        """The SMTP settings of the environment, or None when no SMTP host is configured."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
        )


@dataclass
class _Digest:
    address: str
    counts: Counter[str] = field(default_factory=Counter)
    notification_ids: list[int] = field(default_factory=list)


def _pending_digests(session: Session) -> dict[int, _Digest]:
    """Per user with an address: the unread notifications not mailed yet, of the kinds they want by e-mail."""
    query = (
        select(Notification.id, Notification.user_id, Notification.kind, User.email)
        .join(
            NotificationPreference,
            and_(
                NotificationPreference.user_id == Notification.user_id,
                NotificationPreference.kind == Notification.kind,
            ),
        )
        .join(User, User.id == Notification.user_id)
        .where(
            NotificationPreference.email.is_(True),
            Notification.read_at.is_(None),
            Notification.emailed_at.is_(None),
            User.active,
            User.email.is_not(None),
        )
        .order_by(Notification.user_id, Notification.id)
    )
    digests: dict[int, _Digest] = {}
    for notification_id, user_id, kind, address in session.execute(query).tuples():
        digest = digests.setdefault(user_id, _Digest(str(address)))
        digest.counts[kind] += 1
        digest.notification_ids.append(notification_id)
    return digests


def _digest_message(digest: _Digest, *, sender: str, base_url: str, now: datetime) -> EmailMessage:
    """Counts per kind and a link; deliberately nothing about the cases themselves."""
    total = sum(digest.counts.values())
    lines = [f"- {count} {_DIGEST_WORDS[kind][count != 1]}" for kind in KINDS if (count := digest.counts[kind])]
    message = EmailMessage()
    message["Subject"] = f"ZVH Regie: {total} nieuwe melding{'en' if total != 1 else ''}"
    message["From"] = sender
    message["To"] = digest.address
    message["Date"] = formatdate(now.timestamp())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(
        "\n".join(
            [
                "Er staan nieuwe meldingen voor u klaar in ZVH Regie:",
                "",
                *lines,
                "",
                f"Bekijk ze na inloggen op {base_url.rstrip('/')}{BELL_LINK}",
                "",
                "Om privacyredenen staat in deze e-mail niets over de zaken zelf.",
                f"Welke meldingen u krijgt, stelt u in op {base_url.rstrip('/')}{BELL_LINK}/instellingen",
            ]
        )
    )
    return message


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            connection.starttls(context=ssl.create_default_context())
        if smtp.username:
            connection.login(smtp.username, smtp.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def send_digests(session: Session, *, now: datetime, smtp: SmtpSettings, base_url: str) -> int:
    """Mail each user one digest of what waits for them; returns how many e-mails were sent.

    A failed send is logged and its notifications stay unmarked, so the next digest carries them; it never raises.
    """
    digests = _pending_digests(session)
    if not digests:
        return 0
    sent = 0
    try:
        with _connect(smtp) as connection:
            for user_id, digest in digests.items():
                try:
                    connection.send_message(_digest_message(digest, sender=smtp.sender, base_url=base_url, now=now))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
                    log.warning("notification digest refused", extra={"user_id": user_id})
                    continue
                session.execute(
                    update(Notification).where(Notification.id.in_(digest.notification_ids)).values(emailed_at=now)
                )
                sent += 1
    except (smtplib.SMTPException, OSError):
        log.exception("sending notification digests failed; the next digest tries again")
    return sent


def run_notification_jobs(
    db: Database, settings: Settings, *, now: datetime, digest_every: timedelta = DIGEST_INTERVAL
) -> None:
    """The background job: scan, then (with SMTP configured, at most every `digest_every`) send digests."""
    with db.transaction() as session:
        created = scan_notifications(session, now=now)
        created += remind_action_points(session, now=now)
    log.info("notifications scanned", extra={"notifications": created})
    smtp = SmtpSettings.from_settings(settings)
    if smtp is None:
        return
    # Its own transaction: the scan stays committed whatever the mail server does.
    with db.transaction() as session:
        last = job_mark(session, _DIGEST_MARK)
        if last is not None and now - last < digest_every:
            return
        sent = send_digests(session, now=now, smtp=smtp, base_url=settings.base_url)
        set_job_mark(session, _DIGEST_MARK, now)
    log.info("notification digests sent", extra={"sent": sent})
