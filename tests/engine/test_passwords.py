"""Password hashing: the OWASP argon2id parameters, rehash on sign-in, a bound on concurrent hashing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from engine import users
from engine.db import Database
from engine.models import User
from engine.users import authenticate, create_user, get_user, hash_password, verify_password

GOOD = "lange-zin-over-koffie"
WAIT = 10  # seconds; only a guard against hanging when the code under test is broken, never a pause


def _parameters(encoded: str) -> dict[str, int]:
    """The m, t and p of an encoded hash `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`."""
    variant, version, parameters = encoded.split("$")[1:4]
    assert (variant, version) == ("argon2id", "v=19")
    return {name: int(value) for name, value in (pair.split("=") for pair in parameters.split(","))}


def _create(db: Database, username: str = "anna") -> None:
    with db.transaction() as session:
        create_user(session, username=username, display_name="Anna", roles=["melder"], password=GOOD)


def _stored_hash(db: Database, username: str = "anna") -> str:
    with db.reader() as session:
        stored = get_user(session, username).password_hash
    assert stored is not None
    return stored


def _give_old_hash(db: Database, username: str = "anna") -> str:
    """Store a hash made with the argon2-cffi defaults (64 MiB, t=3, p=4), as every hash was before."""
    old = PasswordHasher().hash(GOOD)
    with db.transaction() as session:
        get_user(session, username).password_hash = old
    return old


def test_hash_password__uses_the_owasp_minimum_for_argon2id() -> None:
    assert _parameters(hash_password(GOOD)) == {"m": 19456, "t": 2, "p": 1}


def test_authenticate__rehashes_an_old_parameter_hash_and_the_password_keeps_working(db: Database) -> None:
    _create(db)
    old = _give_old_hash(db)

    with db.reader() as session:
        signed_in = authenticate(session, username="anna", password=GOOD)
    assert signed_in is not None and users.password_outdated(signed_in)
    assert _stored_hash(db) == old, "signing in only reads"
    with db.transaction() as session:
        users.rehash_if_outdated(session, user=signed_in, password=GOOD)

    new = _stored_hash(db)
    assert new != old
    assert _parameters(new) == {"m": 19456, "t": 2, "p": 1}
    assert PasswordHasher().verify(new, GOOD)
    with db.reader() as session:
        assert authenticate(session, username="anna", password=GOOD) is not None


def test_authenticate__a_wrong_password_or_a_current_hash_is_not_rehashed(db: Database) -> None:
    _create(db)
    current = _stored_hash(db)
    with db.transaction() as session:
        signed_in = authenticate(session, username="anna", password=GOOD)
        assert signed_in is not None and not users.password_outdated(signed_in)
        users.rehash_if_outdated(session, user=signed_in, password=GOOD)
    assert _stored_hash(db) == current, "a hash with today's parameters stays as it is"

    old = _give_old_hash(db)
    with db.transaction() as session:
        assert authenticate(session, username="anna", password="fout-wachtwoord") is None
    assert _stored_hash(db) == old


def test_authenticate__the_rehash_does_not_overwrite_a_password_changed_meanwhile(db: Database) -> None:
    _create(db)
    _give_old_hash(db)
    changed = hash_password("een-heel-ander-wachtwoord")

    with db.reader() as session:
        user = get_user(session, "anna")  # the sign-in read the user (and verified the old hash) ...
    with db.transaction() as session:  # ... another request changed the password ...
        get_user(session, "anna").password_hash = changed
    with db.transaction() as session:  # ... and only then the sign-in stores its rehash
        users.rehash_if_outdated(session, user=user, password=GOOD)

    assert _stored_hash(db) == changed


def test_authenticate__an_unknown_user_costs_one_verification_with_the_same_parameters(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(db)
    checked: list[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str, password: Any) -> bool:
        checked.append(hash)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    with db.reader() as session:
        assert authenticate(session, username="niemand", password=GOOD) is None

    assert len(checked) == 1
    assert _parameters(checked[0]) == _parameters(_stored_hash(db))


class _Watched:
    """The real hashing semaphore, noting whether a thread found every permit taken and had to wait."""

    def __init__(self, inner: threading.BoundedSemaphore) -> None:
        self.inner = inner
        self.waited = threading.Event()

    def __enter__(self) -> None:
        if not self.inner.acquire(blocking=False):
            self.waited.set()
            self.inner.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.inner.release()


class _HeldHasher:
    """A stand-in for argon2 that keeps every computation inside until `gate` opens, counting who is inside."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.gate = threading.Event()
        self.inside = 0
        self.most_inside = 0

    def _hold(self) -> None:
        with self.changed:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.changed.notify_all()
        assert self.gate.wait(WAIT)
        with self.changed:
            self.inside -= 1

    def hash(self, password: str) -> str:
        self._hold()
        return "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

    def verify(self, hash: str, password: str) -> bool:
        self._hold()
        return True


@pytest.mark.parametrize(
    "compute",
    [
        pytest.param(lambda: hash_password(GOOD), id="hash"),
        pytest.param(
            lambda: verify_password(User(password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), GOOD),
            id="verify",
        ),
    ],
)
def test_hashing__at_most_two_computations_at_once_a_third_thread_waits(
    monkeypatch: pytest.MonkeyPatch, compute: Callable[[], object]
) -> None:
    held = _HeldHasher()
    watched = _Watched(users._HASHING)
    monkeypatch.setattr(users, "_HASHER", held)
    monkeypatch.setattr(users, "_HASHING", watched)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(compute())) for _ in range(3)]

    try:
        for thread in threads[:2]:
            thread.start()
        with held.changed:
            assert held.changed.wait_for(lambda: held.inside == 2, WAIT)
        threads[2].start()
        assert watched.waited.wait(WAIT), "the third computation waits for a permit"
        with held.changed:
            assert held.inside == 2
    finally:
        held.gate.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(WAIT)

    assert len(results) == 3
    assert held.most_inside == users.HASHING_PERMITS == 2


def test_hashing__a_failed_verification_gives_its_permit_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: PasswordHasher, hash: str, password: Any) -> bool:
        raise VerificationError("no")

    monkeypatch.setattr(PasswordHasher, "verify", refuse)
    for _ in range(users.HASHING_PERMITS + 1):
        assert not verify_password(User(password_hash=hash_password(GOOD)), "fout-wachtwoord")
