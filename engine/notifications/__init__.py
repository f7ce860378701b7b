"""Notifications: the bell (new tasks, assignments, deadlines, stalled cases, incidents) and e-mail digests.

`scan` finds what to notify from indexed columns and a watermark; `bell` is one user's list, unread count and
preferences; `digest` mails counts and a link by SMTP. Titles name the step and the case number only; an e-mail
carries no case data at all.
"""

from engine.notifications.bell import (
    BELL_LINK,
    DEFAULT_PREFERENCE,
    KINDS,
    Kind,
    NotificationRow,
    list_notifications,
    mark_read,
    open_notification,
    preferences,
    set_preferences,
    unread_count,
)
from engine.notifications.digest import DIGEST_INTERVAL, SmtpSettings, run_notification_jobs, send_digests
from engine.notifications.scan import INCIDENT_LINKS, scan_notifications

__all__ = [
    "BELL_LINK",
    "DEFAULT_PREFERENCE",
    "DIGEST_INTERVAL",
    "INCIDENT_LINKS",
    "KINDS",
    "Kind",
    "NotificationRow",
    "SmtpSettings",
    "list_notifications",
    "mark_read",
    "open_notification",
    "preferences",
    "run_notification_jobs",
    "scan_notifications",
    "send_digests",
    "set_preferences",
    "unread_count",
]
