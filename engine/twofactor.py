"""Two-factor sign-in (BIO 5.17.01): TOTP codes from an authenticator app (RFC 6238) and one-time recovery codes.

The TOTP secret is stored encrypted (Fernet, key from configuration: `session_keys(session).totp`), recovery codes
only as SHA-256. Codes are checked against the caller's clock (tests move a FixedClock), one step either side, and a
code is refused once a code of the same or a later step was used (no replay). Secrets and codes are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.db import session_keys
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import RecoveryCode, User
from engine.sessions import end_sessions_of

#: Roles that see many cases or manage the system: they may not sign in without a second factor.
REQUIRED_ROLES = frozenset({"procesregisseur", "manager", "privacyfunctionaris", "procesbeheerder", "beheerder"})
ISSUER = "ZVH Regie"
STEP_SECONDS = 30
DIGITS = 6
#: Steps accepted before and after the current one (clocks of phones drift a little).
WINDOW = 1
RECOVERY_CODES = 10
#: No 0/o, 1/l/i: recovery codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

Factor = Literal["totp", "recovery"]


def second_factor_required(user: User) -> bool:
    """Whether one of the user's roles needs two-factor sign-in."""
    return bool(user.role_keys & REQUIRED_ROLES)


def has_second_factor(user: User) -> bool:
    """Whether the user confirmed an authenticator app."""
    return user.totp_enabled_at is not None and user.totp_secret is not None


def _fernet(session: Session) -> Fernet:
    return Fernet(session_keys(session).totp)


def stored_secret(session: Session, user: User) -> str:
    """The user's TOTP secret (base32), decrypted."""
    if user.totp_secret is None:
        raise NotFound("Deze gebruiker heeft geen authenticator-app.")
    try:
        return _fernet(session).decrypt(user.totp_secret.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise Conflict("Het geheim van de authenticator-app kan niet worden gelezen (andere sleutel?).") from None


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: datetime) -> str:
    """The TOTP code of `secret` at the moment `at`."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(_step(at))


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG markup (no image files, no Pillow)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, title="QR-code"))


@dataclass(frozen=True)
class Enrolment:
    """A secret waiting for its first code: shown as a QR code and as text."""

    secret: str
    uri: str

    @property
    def qr_svg(self) -> str:
        return qr_svg(self.uri)

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _log(session: Session, *, user: User, action: str, at: datetime, summary: str, actor: str | None = None) -> None:
    record(
        session,
        actor=actor or user.username,
        action=action,
        at=at,
        summary=summary,
        object_type="user",
        object_id=str(user.id),
    )


def enrolment(session: Session, *, user: User, at: datetime) -> Enrolment:
    """The secret being enrolled: the one started before, or a new one (not enabled until a code confirms it)."""
    if has_second_factor(user):
        raise Conflict("U heeft de authenticator-app al ingesteld.")
    if user.totp_secret is None:
        secret = pyotp.random_base32()
        user.totp_secret = _fernet(session).encrypt(secret.encode("ascii")).decode("ascii")
        user.totp_last_step = None
        _log(session, user=user, action="totp_enrol", at=at, summary=f"{user.username} started setting up 2FA")
    else:
        secret = stored_secret(session, user)
    return Enrolment(secret, provisioning_uri(secret, user.username))


def _lock(session: Session, user: User) -> None:
    """Read the user again under a row lock: two requests with one code must not both see it unused (PostgreSQL;
    SQLite serialises writers anyway)."""
    session.flush()  # keep what this unit of work changed already (a refresh would discard it)
    session.refresh(user, with_for_update=True)


def _check_totp(session: Session, *, user: User, code: str, at: datetime) -> bool:
    """True for a code of an unused step within the window; remembers the step (a code works once)."""
    _lock(session, user)
    if user.totp_secret is None or len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(stored_secret(session, user), digits=DIGITS, interval=STEP_SECONDS)
    now = _step(at)
    last = user.totp_last_step if user.totp_last_step is not None else -1
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("utf-8")).hexdigest()


def _new_recovery_codes(session: Session, *, user: User, at: datetime) -> list[str]:
    """Replace the user's recovery codes by ten new ones (returned once; only their hashes are kept)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c), created_at=at) for c in codes)
    return codes


def confirm_enrolment(session: Session, *, user: User, code: str, at: datetime) -> list[str]:
    """Enable the second factor with a first valid code; returns the recovery codes (shown once)."""
    if has_second_factor(user):
        raise Conflict("U heeft de authenticator-app al ingesteld.")
    if not _check_totp(session, user=user, code=_normalise(code), at=at):
        raise InvalidInput("De code klopt niet.", {"code": ["De code klopt niet. Probeer de volgende code."]})
    user.totp_enabled_at = at
    codes = _new_recovery_codes(session, user=user, at=at)
    _log(session, user=user, action="totp_confirm", at=at, summary=f"{user.username} turned 2FA on")
    return codes


def _use_recovery_code(session: Session, *, user: User, code: str, at: datetime) -> bool:
    digest = _code_hash(code)
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None)
        )
    )
    if row is None:
        return False
    row.used_at = at
    left = unused_recovery_codes(session, user=user) - 1
    _log(
        session,
        user=user,
        action="totp_recovery",
        at=at,
        summary=f"{user.username} signed in with a recovery code ({left} left)",
    )
    return True


def verify_second_factor(session: Session, *, user: User, code: str, at: datetime) -> Factor | None:
    """Check a code from the app or a recovery code; which one worked, or None. A used code is spent."""
    _lock(session, user)
    if not has_second_factor(user):
        return None
    given = _normalise(code)
    if len(given) == DIGITS and given.isdigit():
        return "totp" if _check_totp(session, user=user, code=given, at=at) else None
    return "recovery" if given and _use_recovery_code(session, user=user, code=given, at=at) else None


def unused_recovery_codes(session: Session, *, user: User) -> int:
    """How many recovery codes the user has left."""
    rows = session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return len(list(rows))


def regenerate_recovery_codes(session: Session, *, user: User, code: str, at: datetime) -> list[str]:
    """New recovery codes for the user (the old ones stop working); needs a valid code from the app."""
    if not has_second_factor(user) or not _check_totp(session, user=user, code=_normalise(code), at=at):
        raise InvalidInput("De code klopt niet.", {"code": ["De code uit uw authenticator-app klopt niet."]})
    codes = _new_recovery_codes(session, user=user, at=at)
    _log(session, user=user, action="totp_recovery_new", at=at, summary=f"{user.username} made new recovery codes")
    return codes


def reset_second_factor(session: Session, *, user: User, actor: str, at: datetime) -> None:
    """(Beheerder) remove the user's authenticator app and recovery codes and end their sessions; they enrol anew."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = end_sessions_of(session, user=user, at=at)
    _log(
        session,
        user=user,
        action="totp_reset",
        at=at,
        actor=actor,
        summary=f"Reset the 2FA of {user.username} ({ended} session(s) ended)",
    )


def enrol_now(session: Session, *, user: User, at: datetime) -> str:
    """Enrol and confirm at once, returning the secret: for demo set-ups and test fixtures that print or keep it."""
    secret = enrolment(session, user=user, at=at).secret
    confirm_enrolment(session, user=user, code=code_at(secret, at), at=at)
    user.totp_last_step = None  # no person saw that code: the current one must still work for them
    return secret


def next_unused_code(session: Session, *, user: User, at: datetime) -> str:
    """A code the user can sign in with at `at`: the current step's, or the next one's when that was just used."""
    now = _step(at)
    last = user.totp_last_step if user.totp_last_step is not None else -1
    step = next((s for s in range(now, now + WINDOW + 1) if s > last), None)
    if step is None:
        raise Conflict(
            "Elke code van dit moment is al gebruikt; probeer het over %(seconden)s seconden opnieuw.",
            seconden=STEP_SECONDS,
        )
    return pyotp.TOTP(stored_secret(session, user), digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)
