"""`zvh overleg plan|agenda|invite|types --json`: the same engine functions as the pages; the agenda printed for a user
holds only the items that user is invited for."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from engine.cli import main
from engine.clock import FixedClock
from engine.db import Database
from engine.models import AuditEvent, Meeting
from tests.engine.test_overleg import World, build_world, waiting_referral

Zvh = Callable[..., Result]


@pytest.fixture
def world(db: Database, clock: FixedClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def zvh(database_url: str, tmp_path: Path) -> Zvh:
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": database_url, "ZVH_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str) -> Result:
        return runner.invoke(main, ["overleg", *args], env=env, catch_exceptions=False)

    return run


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_cli__plan_invite_and_an_agenda_per_user_holds_only_their_items(world: World, zvh: Zvh) -> None:
    case_a = waiting_referral(world, urgent=True, name="Zaak Alfa")
    case_b = waiting_referral(world, urgent=True, name="Zaak Beta")
    number_a, number_b = (world.driver.instance(case).case_number for case in (case_a, case_b))

    planned = zvh("plan", "triagetafel", "--as", "voorzitter", "--json")
    assert planned.exit_code == 0, planned.output
    meeting = as_json(planned)
    assert (meeting["type"], meeting["status"], meeting["by_hand"]) == ("triagetafel", "gepland", False)
    starts = datetime.fromisoformat(meeting["starts_at"])
    assert datetime.now(UTC) < starts < datetime.now(UTC) + timedelta(days=10), "the next Tuesday (or after a day off)"
    assert [(i["case_number"], i["source"], i["waiting"]) for i in meeting["items"]] == [
        (number_a, "wachtend", True),
        (number_b, "wachtend", True),
    ]
    assert meeting["items"][0]["invited"] == ["secretaris", "voorzitter"]

    invited = zvh("invite", str(meeting["id"]), number_a, "anna", "--as", "voorzitter", "--json")
    assert as_json(invited) == {"meeting": meeting["id"], "case": number_a, "user": "anna", "invited": True}
    again = zvh("invite", str(meeting["id"]), str(case_a), "anna", "--as", "voorzitter", "--json")
    assert as_json(again)["invited"] is False
    with world.db.reader() as session:
        logged = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "overleg_invited", AuditEvent.instance_id == case_a)
        ).all()
    assert world.anna.id in {event.details["user_id"] for event in logged}

    for_anna = as_json(zvh("agenda", str(meeting["id"]), "--as", "anna", "--json"))
    assert [item["case_number"] for item in for_anna["items"]] == [number_a]
    assert set(for_anna["items"][0]["invited"]) == {"anna", "secretaris", "voorzitter"}
    text = zvh("agenda", str(meeting["id"]), "--as", "anna").stdout
    assert number_a in text and number_b not in text
    assert as_json(zvh("agenda", str(meeting["id"]), "--as", "bob", "--json"))["items"] == []
    assert "geen agendapunten" in zvh("agenda", str(meeting["id"]), "--as", "bob").stdout
    full = as_json(zvh("agenda", str(meeting["id"]), "--as", "secretaris", "--json"))
    assert [item["case_number"] for item in full["items"]] == [number_a, number_b], "waiting longest first"


def test_cli__refusals_exit_with_status_one_and_change_nothing(world: World, zvh: Zvh) -> None:
    case = waiting_referral(world, urgent=True)
    number = world.driver.instance(case).case_number
    meeting = as_json(zvh("plan", "triagetafel", "--as", "voorzitter", "--json"))["id"]

    hidden = zvh("agenda", str(meeting), "--as", "olaf", "--json")
    assert hidden.exit_code == 1 and as_json(hidden)["error"] == "not_found"
    not_runner = zvh("invite", str(meeting), number, "bob", "--as", "anna", "--json")
    assert not_runner.exit_code == 1 and as_json(not_runner)["error"] == "forbidden"
    not_on_agenda = zvh("invite", str(meeting), "ZVH-2026-99999", "bob", "--as", "voorzitter", "--json")
    assert not_on_agenda.exit_code == 1 and as_json(not_on_agenda)["error"] == "not_found"
    partner = zvh("plan", "huiselijk_geweld", "--as", "voorzitter", "--json")
    assert partner.exit_code == 1 and as_json(partner)["error"] == "forbidden"
    past = zvh("plan", "triagetafel", "--at", "2020-01-07T10:00:00+01:00", "--as", "voorzitter", "--json")
    assert past.exit_code == 1 and "at" in as_json(past)["fields"]
    starts_at = as_json(zvh("agenda", str(meeting), "--as", "voorzitter", "--json"))["starts_at"]
    duplicate = zvh("plan", "triagetafel", "--at", starts_at, "--as", "secretaris", "--json")
    assert duplicate.exit_code == 1 and as_json(duplicate)["error"] == "conflict"
    assert as_json(zvh("agenda", str(meeting), "--as", "bob", "--json"))["items"] == []
    with world.db.reader() as session:
        assert len(session.scalars(select(Meeting)).all()) == 1


def test_cli__types_lists_the_seeded_overleggen(world: World, zvh: Zvh) -> None:
    kinds = {kind["key"]: kind for kind in as_json(zvh("types", "--json"))}
    assert len(kinds) == 12
    assert kinds["triagetafel"]["feeds"] == ["aanmelding_triage:Task_triage"]
    assert (kinds["weegploeg"]["interval_weeks"], kinds["kr8"]["secretariaat_hours"]) == (3, 11)
