"""Accounts: the password policy, sign-in without a timing tell, password change, disabling, API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from engine.db import Database
from engine.errors import InvalidInput
from engine.models import User
from engine.sessions import active_session, live_sessions, start_session
from engine.users import (
    authenticate,
    change_password,
    create_api_token,
    create_user,
    disable_user,
    get_user,
    revoke_api_tokens,
    user_for_token,
)
from tests.conftest import START

GOOD = "lange-zin-over-koffie"
IDLE = timedelta(minutes=15)


def _create(db: Database, username: str, password: str) -> User:
    with db.transaction() as session:
        return create_user(session, username=username, display_name="Anna", roles=["melder"], password=password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort-wwoord", "Gebruik minstens 12 tekens."),
        ("1qaz2wsx3edc", "veelgebruikte wachtwoorden"),
        ("Q1W2E3R4T5Y6", "veelgebruikte wachtwoorden"),
        ("anna.jansen-2026", "mag uw gebruikersnaam niet bevatten"),
        ("anna.jansen", "Gebruik minstens 12 tekens."),
    ],
)
def test_create_user__refuses_a_weak_password_with_a_dutch_field_error(
    db: Database, password: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _create(db, "anna.jansen", password)

    assert any(message in text for text in refused.value.fields["password"])


def test_create_user__accepts_a_long_uncommon_password(db: Database) -> None:
    user = _create(db, "anna", GOOD)

    with db.reader() as session:
        assert authenticate(session, username="anna", password=GOOD) is not None
    assert user.password_hash and GOOD not in user.password_hash


def test_authenticate__an_unknown_or_disabled_user_costs_one_argon2_verification(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(db, "anna", GOOD)
    calls: list[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str, password: Any) -> bool:
        calls.append(hash)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    with db.reader() as session:
        assert authenticate(session, username="anna", password="fout-wachtwoord") is None
        assert authenticate(session, username="niemand", password="fout-wachtwoord") is None
    with db.transaction() as session:
        disable_user(session, username="anna", at=START)
    with db.reader() as session:
        assert authenticate(session, username="anna", password=GOOD) is None

    assert len(calls) == 3, "a wrong password, an unknown user and a disabled user each cost one verification"
    assert all(hash.startswith("$argon2id$") for hash in calls)


def test_change_password__checks_the_policy_and_the_current_password_and_ends_other_sessions(db: Database) -> None:
    anna = _create(db, "anna", GOOD)
    with db.transaction() as session:
        here = start_session(session, user=anna, at=START)
        elsewhere = start_session(session, user=anna, at=START)

    with pytest.raises(InvalidInput) as refused, db.transaction() as session:
        change_password(
            session,
            user=get_user(session, "anna"),
            current_password="niet-het-wachtwoord",
            new_password="anna-nieuw-wachtwoord",
            at=START,
        )
    assert set(refused.value.fields) == {"huidig_wachtwoord", "nieuw_wachtwoord"}

    with db.transaction() as session:
        change_password(
            session,
            user=get_user(session, "anna"),
            current_password=GOOD,
            new_password="een-heel-ander-wachtwoord",
            keep_token=here,
            at=START,
        )

    with db.reader() as session:
        assert active_session(session, token=here, at=START, idle=IDLE) is not None
        assert active_session(session, token=elsewhere, at=START, idle=IDLE) is None
        assert authenticate(session, username="anna", password="een-heel-ander-wachtwoord") is not None
        assert authenticate(session, username="anna", password=GOOD) is None


def test_disable_user__ends_sessions_and_stops_api_tokens(db: Database) -> None:
    anna = _create(db, "anna", GOOD)
    with db.transaction() as session:
        browser = start_session(session, user=anna, at=START)
        token = create_api_token(session, user=get_user(session, "anna"), name="script", at=START)

    with db.transaction() as session:
        disable_user(session, username="anna", at=START, actor="zvh-cli")

    with db.reader() as session:
        assert active_session(session, token=browser, at=START, idle=IDLE) is None
        assert user_for_token(session, token, at=START) is None
        assert not get_user(session, "anna").active


def test_revoke_api_tokens__all_or_only_the_named_ones(db: Database) -> None:
    _create(db, "anna", GOOD)
    with db.transaction() as session:
        user = get_user(session, "anna")
        script = create_api_token(session, user=user, name="script", at=START)
        report = create_api_token(session, user=user, name="rapport", at=START)

    with db.transaction() as session:
        assert revoke_api_tokens(session, user=get_user(session, "anna"), name="script", at=START) == 1
    with db.reader() as session:
        assert user_for_token(session, script, at=START) is None
        assert user_for_token(session, report, at=START) is not None

    with db.transaction() as session:
        assert revoke_api_tokens(session, user=get_user(session, "anna"), at=START + timedelta(minutes=1)) == 1
    with db.reader() as session:
        assert user_for_token(session, report, at=START) is None


def test_active_session__an_idle_session_signs_in_no_one_and_is_not_listed(db: Database) -> None:
    anna = _create(db, "anna", GOOD)
    with db.transaction() as session:
        token = start_session(session, user=anna, at=START)

    with db.reader() as session:
        assert active_session(session, token=token, at=START + IDLE, idle=IDLE) is not None
        assert len(live_sessions(session, at=START + IDLE, idle=IDLE, user=anna)) == 1
        assert active_session(session, token=token, at=START + IDLE + timedelta(minutes=2), idle=IDLE) is None
        assert live_sessions(session, at=START + IDLE + timedelta(minutes=2), idle=IDLE) == []
