"""Users and their roles; passwords are stored as argon2 hashes only."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload

from engine.audit import record
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import ApiToken, User, UserGemeente, UserRole
from engine.privacy.organisations import GEMEENTEN, ORGANISATIONS, gemeente_key
from engine.sessions import end_sessions_of

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
#: argon2id at the OWASP Password Storage Cheat Sheet minimum (m=19 MiB, t=2, p=1). The budget: a 2-core
#: machine whose web processes run 8 threads each; with the library defaults (64 MiB, t=3, p=4) four sign-ins
#: at once took 364 MB. Changing these rehashes each user at their next sign-in (`rehash_if_outdated`).
PASSWORD_MEMORY_KIB = 19 * 1024
PASSWORD_TIME_COST = 2
PASSWORD_PARALLELISM = 1
_HASHER = PasswordHasher(
    time_cost=PASSWORD_TIME_COST, memory_cost=PASSWORD_MEMORY_KIB, parallelism=PASSWORD_PARALLELISM
)
#: At most this many argon2 computations per process (one per core); other threads wait their turn, so the
#: hashing memory of a process is at most HASHING_PERMITS x PASSWORD_MEMORY_KIB = 38 MiB, not 8 threads x m.
#: (glibc keeps a freed 19 MiB buffer in each thread's arena unless MALLOC_MMAP_THRESHOLD_ is fixed below it,
#: as the Dockerfile does; bench/password_bench.py shows both.)
HASHING_PERMITS = 2
_HASHING = threading.BoundedSemaphore(HASHING_PERMITS)
MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    with _HASHING:
        return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    """Always one argon2 verification: a missing hash is checked against a dummy, so it costs the same time."""
    checked = password_hash or _dummy_hash()
    try:
        with _HASHING:
            return _HASHER.verify(checked, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def verify_password(user: User, password: str) -> bool:
    """True when `password` matches the user's stored hash (constant-time inside argon2)."""
    return _verify(user.password_hash, password)


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    An unknown or disabled user costs the same argon2 verification as a wrong password, so the answer time does
    not tell which usernames exist.
    """
    user = session.scalar(select(User).where(User.username == username))
    valid = _verify(user.password_hash if user is not None else None, password)
    return user if valid and user is not None and user.active else None


def password_outdated(user: User) -> bool:
    """Whether the user's stored hash was made with other parameters than today's (rehash it at sign-in)."""
    return user.password_hash is not None and _HASHER.check_needs_rehash(user.password_hash)


def rehash_if_outdated(session: Session, *, user: User, password: str) -> None:
    """After a successful sign-in: store a hash with today's parameters when the user's was made with others. A
    write of its own, so that signing in stays a read otherwise (`authenticate`).

    The update only applies while the stored hash is still the one just verified: a password changed meanwhile wins.
    """
    old = user.password_hash
    if old is None or not password_outdated(user):
        return
    session.execute(
        update(User).where(User.id == user.id, User.password_hash == old).values(password_hash=hash_password(password))
    )


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, *, username: str) -> list[str]:
    """Why `password` may not be used by `username` (Dutch, for the form); empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Gebruik minstens {MIN_PASSWORD_LENGTH} tekens.")
    if password.lower() in _common_passwords():
        problems.append("Dit wachtwoord staat in de lijst van veelgebruikte wachtwoorden; kies een ander.")
    if username and username.lower() in password.lower():
        problems.append("Het wachtwoord mag uw gebruikersnaam niet bevatten.")
    return problems


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    roles: Iterable[str],
    password: str | None = None,
    email: str | None = None,
    organisation: str | None = None,
    gemeenten: Iterable[str] = (),
    actor: str = "system",
    clock: Clock = SYSTEM_CLOCK,
) -> User:
    """Add a user with one or more roles, the organisation they work for and the gemeenten they work in."""
    role_list = sorted(set(roles))
    fields: dict[str, list[str]] = {}
    if organisation is not None and organisation not in ORGANISATIONS:
        fields["organisation"] = [f"Unknown organisation '{organisation}'; choose one of {', '.join(ORGANISATIONS)}."]
    gemeente_list = sorted({gemeente_key(g) or g for g in gemeenten})
    if unknown := [g for g in gemeente_list if g not in GEMEENTEN]:
        fields["gemeenten"] = [f"Unknown gemeente(n): {', '.join(unknown)}; choose from {', '.join(GEMEENTEN)}."]
    if not _USERNAME.match(username):
        fields["username"] = ["Use 2-64 lower-case letters, digits, '.', '_' or '-'."]
    bad_roles = [r for r in role_list if not _ROLE.match(r)]
    if bad_roles or not role_list:
        fields["roles"] = [f"Invalid role(s): {', '.join(bad_roles)}" if bad_roles else "Give at least one role."]
    if password is not None and (problems := password_problems(password, username=username)):
        fields["password"] = problems
    if fields:
        raise InvalidInput("De gebruiker is niet aangemaakt.", fields)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict("Er is al een gebruiker met de naam '%(naam)s'.", naam=username)
    now = clock.now()
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email,
        password_hash=hash_password(password) if password else None,
        created_at=now,
        organisation=organisation,
        roles=[UserRole(role=role) for role in role_list],
        gemeenten=[UserGemeente(gemeente=gemeente) for gemeente in gemeente_list],
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user_add",
        at=now,
        summary=f"Added user {username} ({', '.join(role_list)}; {organisation or 'no organisation'})",
    )
    return user


#: The languages of the app (Dutch first: the default).
LANGUAGES = ("nl", "en")


def set_language(session: Session, *, user_id: int, language: str) -> None:
    """Remember the language a user chose, so it is theirs at the next sign-in too."""
    if language not in LANGUAGES:
        raise InvalidInput("Onbekende taal '%(taal)s'.", {"taal": [f"Kies uit {', '.join(LANGUAGES)}."]}, taal=language)
    session.execute(update(User).where(User.id == user_id).values(language=language))


def get_user(session: Session, username: str) -> User:
    """The user with this username."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("Er is geen gebruiker met de naam '%(naam)s'.", naam=username)
    return user


def list_users(session: Session) -> list[User]:
    """All users by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, user: User, name: str, at: datetime, actor: str = "system") -> str:
    """A new personal API token for `user`; the token is returned once, only its hash is stored."""
    token = "zvh_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, name=name.strip()[:80] or "token", token_hash=_token_hash(token), created_at=at)
    )
    record(session, actor=actor, action="token", at=at, summary=f"Issued API token '{name}' for {user.username}")
    return token


#: How stale `last_used_at` may get before a request writes it again (keeps API calls read-only mostly).
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenHolder:
    """Whose API token it is, and whether the token's last use is due to be written down."""

    user: User
    token_id: int
    use_due: bool


# Built once, and one statement: the user with their roles and gemeenten joined in (every API call runs it).
_TOKEN_HOLDER = (
    select(ApiToken.id, ApiToken.last_used_at, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.active)
    .options(joinedload(User.roles), joinedload(User.gemeenten))
)


def token_holder(session: Session, token: str, *, at: datetime) -> TokenHolder | None:
    """The active user a (non-revoked) API token belongs to, or None. Only reads, so a read-only API call never waits
    for the database's write lock; `note_token_use` writes the last use when `use_due`."""
    row = session.execute(_TOKEN_HOLDER, {"token_hash": _token_hash(token)}).unique().first()
    if row is None:
        return None
    token_id, last_used_at, user = row
    due = last_used_at is None or at - last_used_at > TOKEN_USE_RESOLUTION
    return TokenHolder(user=user, token_id=token_id, use_due=due)


def user_for_token(session: Session, token: str, *, at: datetime) -> User | None:
    """The active user a (non-revoked) API token belongs to, or None."""
    holder = token_holder(session, token, at=at)
    return holder.user if holder else None


def note_token_use(session: Session, token_id: int, *, at: datetime) -> None:
    """Record that the token was used at `at`: a short write of its own, at most once per `TOKEN_USE_RESOLUTION`."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < at - TOKEN_USE_RESOLUTION))
        .values(last_used_at=at)
    )


def change_password(
    session: Session,
    *,
    user: User,
    new_password: str,
    at: datetime,
    current_password: str | None = None,
    keep_token: str | None = None,
    actor: str | None = None,
) -> None:
    """Set a new password (checked against the policy) and end the user's other sessions.

    `current_password` is required from the user themself; `keep_token` is the session that made the change.
    """
    fields: dict[str, list[str]] = {}
    if current_password is not None and not verify_password(user, current_password):
        fields["huidig_wachtwoord"] = ["Het huidige wachtwoord klopt niet."]
    if problems := password_problems(new_password, username=user.username):
        fields["nieuw_wachtwoord"] = problems
    if fields:
        raise InvalidInput("Het wachtwoord is niet gewijzigd.", fields)
    user.password_hash = hash_password(new_password)
    end_sessions_of(session, user=user, at=at, keep_token=keep_token)
    record(
        session,
        actor=actor or user.username,
        action="password",
        at=at,
        summary=f"Changed the password of {user.username}",
    )


def disable_user(session: Session, *, username: str, at: datetime, actor: str = "system") -> User:
    """Stop a user from signing in: ends their sessions; their API tokens stop working with the account."""
    user = get_user(session, username)
    user.active = False
    ended = end_sessions_of(session, user=user, at=at)
    record(
        session,
        actor=actor,
        action="user_disable",
        at=at,
        summary=f"Disabled user {username} ({ended} session(s) ended)",
    )
    return user


def revoke_api_tokens(
    session: Session, *, user: User, at: datetime, name: str | None = None, actor: str = "system"
) -> int:
    """Revoke the user's live API tokens (only those called `name`, when given); returns how many."""
    statement = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if name is not None:
        statement = statement.where(ApiToken.name == name)
    revoked = int(session.execute(statement.values(revoked_at=at)).rowcount)  # type: ignore[attr-defined]
    which = f" '{name}'" if name is not None else ""
    record(
        session,
        actor=actor,
        action="token_revoke",
        at=at,
        summary=f"Revoked {revoked} API token(s){which} of {user.username}",
    )
    return revoked
