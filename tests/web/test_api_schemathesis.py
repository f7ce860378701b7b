"""Schemathesis fuzzes every operation of the OpenAPI document: the API never fails and answers as documented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlalchemy.orm import Session

from engine.models import OverlegType, User
from engine.overleg.meetings import plan_meeting
from engine.users import create_api_token, create_user
from tests.web.test_api import MELDING
from web import create_app

# The document is read from an app of its own (no database behind it: requests sent to it by mistake fail loudly);
# every test sends its requests to the `app` fixture, which has the seeded data.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", create_app({"ZVH_DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "openapi"})
)

#: Checks that would fail for documented reasons, not for bugs in the API:
#: - negative_data_rejection: like the web inbox, GET /tasks falls back to defaults for filter values it does not
#:   understand (tests/web/test_api.py pins that down) instead of refusing them;
EXCLUDED_CHECKS = [negative_data_rejection]


@dataclass(frozen=True)
class Seeded:
    """What the fuzzed requests can hit: a token of someone who may start melding and assess it, and an open task."""

    headers: dict[str, str]
    path_parameters: dict[str, Any]


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    services = app.extensions["zvh"]
    with services.db.transaction() as session:
        fuzzer = create_user(session, username="fuzzer", display_name="Fuzzer", roles=["melder", "screener"])
        token = create_api_token(session, user=fuzzer, name="schemathesis", at=services.runtime.clock.now())
        outcome = services.runtime.start_instance(session, process_key="melding", actor=fuzzer, data=MELDING)
        ids = {"key": "melding", "task_id": outcome.next_tasks[0].id, "instance_id": outcome.instance.id}
        ids["meeting_id"] = _meeting(session, fuzzer, now=services.runtime.clock.now())  # overleg (H3)
    return Seeded({"Authorization": f"Bearer {token}"}, ids)


def _meeting(session: Session, chair: User, *, now: datetime) -> int:
    """overleg (H3): a meeting the fuzzer chairs, with the open melding task on its agenda."""
    kind = OverlegType(
        key="fuzzoverleg",
        name="Fuzzoverleg",
        organisation="zvh",
        chair_role="screener",
        cutoff_working_days=0,
        cutoff_time="23:59",
        feeds=["melding:Beoordelen"],
        updated_at=now,
        updated_by="tests",
    )
    session.add(kind)
    session.flush()
    return plan_meeting(session, type_key=kind.key, actor=chair, at=now + timedelta(hours=1), now=now).id


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api__never_fails_and_answers_as_documented(case: Case[Any], app: Flask, seeded: Seeded) -> None:
    # One app (and database) per operation, shared by its examples: state may move on (a task gets completed),
    # which is fine, since every answer must be a documented one.
    case.call_and_validate(app=app, headers=seeded.headers, excluded_checks=EXCLUDED_CHECKS)
    if case.path_parameters:
        # Generated ids almost never exist: send the same request once more to the seeded objects.
        real = {name: seeded.path_parameters[name] for name in case.path_parameters}
        replay = case.operation.Case(
            path_parameters=real, query=case.query, headers=case.headers, body=case.body, media_type=case.media_type
        )
        replay.call_and_validate(app=app, headers=seeded.headers, excluded_checks=EXCLUDED_CHECKS)
