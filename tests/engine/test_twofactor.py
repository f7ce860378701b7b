"""TOTP codes (window, replay), recovery codes (one-time), the secret encrypted at rest, reset and the demo helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text

from engine.accounts import account_review, disable_account, reset_account_second_factor
from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.demo import demo_code, enrol_demo_second_factors, mark_demo_database
from engine.errors import Conflict, InvalidInput, PermissionDenied
from engine.models import AuditEvent, RecoveryCode, User
from engine.twofactor import (
    code_at,
    confirm_enrolment,
    enrolment,
    has_second_factor,
    regenerate_recovery_codes,
    stored_secret,
    verify_second_factor,
)
from tests.conftest import UserFactory

STEP = timedelta(seconds=30)


def _enrolled(db: Database, clock: FixedClock, username: str = "mariska") -> tuple[str, list[str]]:
    """Enrol `username` (a manager) at the clock's moment; its secret and recovery codes."""
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        secret = enrolment(session, user=user, at=clock.now()).secret
        codes = confirm_enrolment(session, user=user, code=code_at(secret, clock.now()), at=clock.now())
    clock.advance(STEP)  # the enrolment used the code of this step
    return secret, codes


def _verify(db: Database, code: str, at_clock: FixedClock, username: str = "mariska") -> str | None:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return verify_second_factor(session, user=user, code=code, at=at_clock.now())


@pytest.fixture
def mariska(make_user: UserFactory) -> User:
    return make_user("mariska", "manager")


def test_totp__matches_pyotp_and_accepts_one_step_either_side(db: Database, clock: FixedClock, mariska: User) -> None:
    secret, _codes = _enrolled(db, clock)
    clock.advance(5 * STEP)
    assert code_at(secret, clock.now()) == pyotp.TOTP(secret).at(clock.now())

    assert _verify(db, code_at(secret, clock.now() - STEP), clock) == "totp", "the previous step"
    assert _verify(db, code_at(secret, clock.now() + STEP), clock) == "totp", "the next step"
    assert _verify(db, code_at(secret, clock.now() + 3 * STEP), clock) is None, "two steps ahead is too far"
    clock.advance(10 * STEP)
    assert _verify(db, code_at(secret, clock.now() - 2 * STEP), clock) is None, "two steps back is too old"
    assert _verify(db, "12345", clock) is None and _verify(db, "", clock) is None


def test_totp__a_code_works_once_and_an_older_step_never_after_a_newer_one(
    db: Database, clock: FixedClock, mariska: User
) -> None:
    secret, _codes = _enrolled(db, clock)
    current = code_at(secret, clock.now())

    assert _verify(db, current, clock) == "totp"
    assert _verify(db, current, clock) is None, "replayed"
    assert _verify(db, code_at(secret, clock.now() - STEP), clock) is None, "a step before the one used"
    clock.advance(STEP)
    assert _verify(db, code_at(secret, clock.now()), clock) == "totp"


def test_enrolment__needs_a_valid_code_and_keeps_its_secret_until_confirmed(
    db: Database, clock: FixedClock, mariska: User
) -> None:
    with db.transaction() as session:
        user = session.get(User, mariska.id)
        assert user is not None
        first = enrolment(session, user=user, at=clock.now()).secret
        again = enrolment(session, user=user, at=clock.now()).secret
        with pytest.raises(InvalidInput):
            confirm_enrolment(session, user=user, code="000000", at=clock.now())
        assert not has_second_factor(user)
        not_yet = verify_second_factor(session, user=user, code=code_at(first, clock.now()), at=clock.now())
        assert not_yet is None, "not enabled before the first code confirms it"
        codes = confirm_enrolment(session, user=user, code=code_at(first, clock.now()), at=clock.now())
        with pytest.raises(Conflict):
            enrolment(session, user=user, at=clock.now())

    assert first == again
    assert len(codes) == 10 and len(set(codes)) == 10
    with db.reader() as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("totp%")).order_by(AuditEvent.id))
        )
        summaries = " ".join(session.scalars(select(AuditEvent.summary)))
    assert actions == ["totp_enrol", "totp_confirm"]
    assert first not in summaries and not any(code in summaries for code in codes)


def test_recovery_codes__each_works_once_and_new_ones_replace_the_old(
    db: Database, clock: FixedClock, mariska: User
) -> None:
    secret, codes = _enrolled(db, clock)

    assert _verify(db, codes[0].upper().replace("-", " "), clock) == "recovery", "typed loosely"
    assert _verify(db, codes[0], clock) is None, "used"
    with db.transaction() as session:
        user = session.get(User, mariska.id)
        assert user is not None
        with pytest.raises(InvalidInput):
            regenerate_recovery_codes(session, user=user, code="000000", at=clock.now())
        fresh = regenerate_recovery_codes(session, user=user, code=code_at(secret, clock.now()), at=clock.now())

    assert _verify(db, codes[1], clock) is None, "the old codes stopped working"
    assert _verify(db, fresh[0], clock) == "recovery"
    with db.reader() as session:
        stored = list(session.scalars(select(RecoveryCode.code_hash)))
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action == "totp_recovery")))
    assert len(stored) == 10 and all(len(value) == 64 for value in stored)
    assert not set(stored) & {*codes, *fresh}
    assert actions == ["totp_recovery", "totp_recovery"]


def test_secret__is_encrypted_at_rest(db: Database, clock: FixedClock, mariska: User) -> None:
    secret, _codes = _enrolled(db, clock)

    with db.reader() as session:
        raw = session.execute(text("SELECT totp_secret FROM users WHERE username = 'mariska'")).scalar_one()
        user = session.get(User, mariska.id)
        assert user is not None
        decrypted = stored_secret(session, user)
    assert secret not in raw and secret.lower() not in raw.lower()
    assert decrypted == secret


def test_reset__by_a_beheerder_removes_the_app_and_is_logged(
    db: Database, clock: FixedClock, mariska: User, make_user: UserFactory
) -> None:
    _enrolled(db, clock)
    bea = make_user("bea", "beheerder")
    with db.transaction() as session, pytest.raises(PermissionDenied):
        reset_account_second_factor(session, actor=mariska, username="mariska", at=clock.now())

    with db.transaction() as session:
        reset_account_second_factor(session, actor=bea, username="mariska", at=clock.now())

    with db.reader() as session:
        user = session.get(User, mariska.id)
        assert user is not None and user.totp_secret is None and not has_second_factor(user)
        assert session.scalar(select(RecoveryCode.id)) is None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "totp_reset"))
    assert event is not None and event.actor == "bea"


def test_account_review__flags_accounts_idle_for_ninety_days_or_never_used(
    db: Database, clock: FixedClock, mariska: User, make_user: UserFactory
) -> None:
    bea = make_user("bea", "beheerder", organisation="zvh", gemeenten=("breda",))
    make_user("sven", "screener")
    with db.transaction() as session:
        for name, days in (("mariska", 91), ("bea", 2)):
            user = session.scalar(select(User).where(User.username == name))
            assert user is not None
            user.last_login_at = clock.now() - timedelta(days=days)
        disable_account(session, actor=bea, username="sven", at=clock.now())

    with db.reader() as session:
        rows = {row.username: row for row in account_review(session, at=clock.now())}
    assert rows["mariska"].inactive and rows["mariska"].second_factor == "vereist"
    assert not rows["bea"].inactive and rows["bea"].gemeenten == ["Breda"]
    assert rows["bea"].organisation == "Zorg- en Veiligheidshuis De Baronie"
    assert not rows["sven"].active and not rows["sven"].inactive and rows["sven"].second_factor == "uit"


def test_demo__secrets_for_the_roles_that_need_them_and_codes_only_in_a_demo_database(
    db: Database, clock: FixedClock, make_user: UserFactory
) -> None:
    make_user("demo.manager", "manager")
    make_user("demo.screener", "screener")
    with db.transaction() as session:
        with pytest.raises(PermissionDenied):
            demo_code(session, username="demo.manager", at=clock.now())
        secrets = enrol_demo_second_factors(session, at=clock.now())
        mark_demo_database(session, at=clock.now())

    assert list(secrets) == ["demo.manager"]
    with db.reader() as session:
        first = demo_code(session, username="demo.manager", at=clock.now())
    assert first == code_at(secrets["demo.manager"], clock.now())
    assert _verify(db, first, clock, "demo.manager") == "totp"
    with db.reader() as session:
        second = demo_code(session, username="demo.manager", at=clock.now())
    assert second == code_at(secrets["demo.manager"], clock.now() + STEP), "the next step once this one is used"


def test_cli__init_demo_prints_secrets_totp_code_works_for_demo_databases_only(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": database_url, "ZVH_INSTANCE_PATH": str(tmp_path / "instance")}

    def zvh(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    assert zvh("init").exit_code == 0
    assert zvh("users", "add", "mira", "--role", "manager").exit_code == 0
    refused = zvh("users", "totp-code", "mira")
    assert refused.exit_code == 1 and "demodatabases" in refused.stderr

    init = json.loads(zvh("init", "--demo", "--json").stdout)
    secrets = init["totp_secrets"]
    before = datetime.now(UTC)
    code = json.loads(zvh("users", "totp-code", "demo.beheerder", "--json").stdout)["code"]
    after = datetime.now(UTC)
    review = {row["username"]: row for row in json.loads(zvh("users", "review", "--json").stdout)}
    text_review = zvh("users", "review").stdout

    assert {"demo.beheerder", "demo.procesregisseur", "demo.privacyfunctionaris", "demo.procesbeheerder2"} <= set(
        secrets
    )
    assert "demo.melder" not in secrets and "mira" not in secrets, "demo users whose role needs 2FA only"
    app = pyotp.TOTP(secrets["demo.beheerder"])
    assert code in {app.at(before), app.at(after), app.at(after + STEP)}
    assert review["demo.beheerder"]["second_factor"] == "aan" and review["demo.melder"]["inactive"]
    assert review["mira"]["second_factor"] == "vereist"
    assert "demo.beheerder" in text_review and secrets["demo.beheerder"] not in text_review
