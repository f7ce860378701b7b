"""The `zvh` command: every command in text and JSON, errors as exit status 1 with a message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from engine.cli import main
from engine.db import Database
from engine.models import AuditEvent
from engine.privacy.bekendheid import ZVH
from tests.engine.bpmn import linear, user_task, write
from tests.engine.test_bekendheid import BSN, MELDING, OTHER_BSN, WRONG_BSN

BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "three-user-tasks"


@pytest.fixture
def zvh(database_url: str, tmp_path: Path):
    runner = CliRunner()
    env = {"ZVH_DATABASE_URL": database_url, "ZVH_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def bench_file(tmp_path: Path) -> Path:
    folder = tmp_path / "bench"
    shutil.copytree(BENCH, folder)
    return folder / "three_user_tasks.bpmn"


def test_cli__a_case_from_deploy_to_completion(zvh, bench_file: Path) -> None:
    assert zvh("init").exit_code == 0
    deployed = zvh("deploy", str(bench_file), "--json")
    assert as_json(deployed)[0] | {"hash": None, "deployed_at": None} == {
        "key": "Process_three_user_tasks",
        "version": 1,
        "name": "Three user tasks",
        "created": True,
        "hash": None,
        "deployed_at": None,
        "deployed_by": "zvh-cli",
    }
    assert "(unchanged)" in zvh("deploy", str(bench_file)).stdout
    assert as_json(zvh("processes", "--json"))[0]["key"] == "Process_three_user_tasks"
    added = zvh("users", "add", "anna", "--role", "melder", "--name", "Anna Aanmelder", "--organisation", "politie")
    assert added.exit_code == 0
    assert zvh("users", "add", "bo", "--role", "gemeente", "--organisation", "nergens").exit_code != 0
    assert as_json(zvh("users", "--json")) == [
        {
            "username": "anna",
            "display_name": "Anna Aanmelder",
            "roles": ["melder"],
            "organisation": "politie",
            "gemeenten": [],
            "active": True,
        }
    ]

    started = zvh("start", "Process_three_user_tasks", "--as", "anna")
    instance_id = started.stdout.strip()
    assert instance_id.isdigit()
    tasks = as_json(zvh("tasks", "--as", "anna", "--json"))
    assert [t["name"] for t in tasks] == ["Form 1"]
    task_id = tasks[0]["id"]
    assert as_json(zvh("claim", task_id, "--as", "anna", "--json"))["assignee"] == "anna"

    refused = zvh("complete", task_id, "--as", "anna", "--data", "{}", "--json")
    assert refused.exit_code == 1
    assert as_json(refused) == {
        "error": "validation",
        "message": "Het formulier bevat 1 fout(en).",
        "fields": {"field1": ["Dit veld is verplicht."]},
    }
    done = as_json(zvh("complete", task_id, "--as", "anna", "--data", '{"field1": "ja"}', "--json"))
    assert done["status"] == "running" and [t["name"] for t in done["next_tasks"]] == ["Form 2"]

    shown = as_json(zvh("show", instance_id, "--json"))
    assert shown["status"] == "running"
    assert [e["action"] for e in shown["events"]] == ["start", "claim", "complete"]
    assert "Status: running" in zvh("show", instance_id).stdout


def test_cli__errors_exit_1_with_a_message(zvh, bench_file: Path, tmp_path: Path) -> None:
    zvh("init")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<nope")

    refused = zvh("deploy", str(bad), "--json")
    assert refused.exit_code == 1
    assert as_json(refused)["error"] == "deployment_refused"
    unknown = zvh("start", "bestaat_niet", "--as", "niemand")
    assert unknown.exit_code == 1 and "Er is geen gebruiker met de naam 'niemand'" in unknown.stderr
    assert zvh("show", "999", "--json").exit_code == 1
    assert zvh("complete", "x", "--as", "x", "--data", "[1]").exit_code == 1


def test_cli__timers_fire_at_a_given_moment(zvh, tmp_path: Path) -> None:
    from tests.engine.test_timers import deadline_process

    zvh("init")
    (tmp_path / "deadline.json").write_text('{"type": "object", "properties": {}}')
    path = tmp_path / "d.bpmn"
    path.write_text(deadline_process('"P5D"'))
    zvh("deploy", str(path))
    zvh("users", "add", "sven", "--role", "screener")
    started = as_json(zvh("start", "deadline", "--as", "sven", "--json"))
    due = started["next_tasks"][0]["due_at"]

    assert as_json(zvh("timers", "fire", "--now", "2000-01-01T00:00:00+00:00", "--json")) == []
    fired = as_json(zvh("timers", "fire", "--now", due, "--json"))

    assert fired == [{"instance_id": started["id"], "fired": ["Late"]}]
    assert zvh("timers", "fire", "--now", "2026-01-01T00:00").exit_code == 1, "a moment without offset is refused"


def test_cli__instances_lists_the_failed_ones_with_where_and_why(zvh, tmp_path: Path) -> None:
    from tests.engine.test_runtime import SCRIPT_AFTER_TASK

    zvh("init")
    (tmp_path / "deler.json").write_text('{"type": "object", "properties": {"deler": {"type": "integer"}}}')
    (tmp_path / "s.bpmn").write_text(SCRIPT_AFTER_TASK)
    zvh("deploy", str(tmp_path / "s.bpmn"))
    zvh("users", "add", "anna", "--role", "melder")
    running = as_json(zvh("start", "script_error", "--as", "anna", "--json"))
    failing = as_json(zvh("start", "script_error", "--as", "anna", "--json"))
    zvh("complete", failing["next_tasks"][0]["id"], "--as", "anna", "--data", '{"deler": 0}')

    [row] = as_json(zvh("instances", "--status", "error", "--json"))

    assert "division by zero" in row["error_message"]
    assert row | {"last_progress_at": None, "error_message": None} == {
        "id": failing["id"],
        "case_number": failing["case_number"],
        "process_key": "script_error",
        "process_name": "Testproces",
        "status": "error",
        "error_element": "T2",
        "error_message": None,
        "last_progress_at": None,
    }
    text = zvh("instances", "--status", "error").stdout
    assert failing["case_number"] in text and "at T2: " in text and "division by zero" in text
    assert [r["id"] for r in as_json(zvh("instances", "--json"))] == [failing["id"], running["id"]]
    assert [r["id"] for r in as_json(zvh("instances", "--status", "running", "--limit", "5", "--json"))] == [
        running["id"]
    ]
    assert zvh("instances", "--process", "bestaat_niet").stdout.strip() == "(no instances)"
    assert zvh("instances", "--status", "kapot").exit_code == 2, "an unknown status is a usage error"


def test_cli__init_demo_deploys_processes_and_creates_a_user_per_role(zvh) -> None:
    result = zvh("init", "--demo", "--json")

    payload = as_json(result)
    roles = {role for user in payload["users"] for role in user["roles"]}
    assert {"manager", "coordinator", "beheerder"} <= roles
    owners = [user["username"] for user in payload["users"] if "procesbeheerder" in user["roles"]]
    assert sorted(owners) == ["demo.procesbeheerder", "demo.procesbeheerder2"]  # four eyes need two
    assert payload["demo_password"]
    assert len(payload["deployed"]) == len(list(Path("processes").glob("*.bpmn")))


def test_cli__init_creates_the_database_folder_on_a_fresh_checkout(tmp_path: Path) -> None:
    folder = tmp_path / "nieuw" / "instance"
    env = {"ZVH_DATABASE_URL": f"sqlite:///{folder / 'zvh.sqlite3'}", "ZVH_INSTANCE_PATH": str(folder)}

    result = CliRunner().invoke(main, ["init"], env=env, catch_exceptions=False)

    assert result.exit_code == 0 and (folder / "zvh.sqlite3").exists()


def test_cli__users_token_revoke_and_users_disable(zvh) -> None:
    zvh("init")
    added = zvh("users", "add", "anna", "--role", "melder", "--password-stdin", input="anna-123\n")
    assert added.exit_code == 1 and "mag uw gebruikersnaam niet bevatten" in added.stderr
    zvh("users", "add", "anna", "--role", "melder")
    for name in ("script", "rapport", "script"):
        assert zvh("users", "token", "anna", "--name", name).exit_code == 0

    assert as_json(zvh("users", "token", "anna", "--revoke", "--name", "script", "--json"))["revoked"] == 2
    assert zvh("users", "token", "anna", "--revoke").stdout.strip() == "Revoked 1 token(s) of anna"
    assert as_json(zvh("users", "token", "anna", "--revoke", "--json"))["revoked"] == 0

    assert as_json(zvh("users", "disable", "anna", "--json"))["active"] is False
    assert as_json(zvh("users", "--json"))[0]["active"] is False
    unknown = zvh("users", "disable", "niemand")
    assert unknown.exit_code == 1 and "Er is geen gebruiker met de naam 'niemand'" in unknown.stderr


def test_cli__bekend_says_whether_a_person_is_known_and_refuses_a_wrong_bsn(
    zvh, tmp_path: Path, database_url: str
) -> None:

    zvh("init")
    write(tmp_path, "melding.json", MELDING)
    bpmn = write(tmp_path, "bekend.bpmn", linear(user_task("T1", "Melding", "melding"), process_id="bekend"))
    assert zvh("deploy", str(bpmn)).exit_code == 0
    zvh("users", "add", "pia", "--role", "procesregisseur", "--name", "Pia Regie", "--organisation", "zvh")
    zvh("users", "add", "sam", "--role", "screener", "--organisation", "zvh")
    zvh("users", "add", "mo", "--role", "melder", "--organisation", "politie")
    zvh("start", "bekend", "--as", "pia")
    task_id = as_json(zvh("tasks", "--as", "pia", "--json"))[0]["id"]
    persons = json.dumps({"betrokkenen": [{"naam": "Yvo Bekendtest", "bsn": BSN}]})
    assert zvh("complete", task_id, "--as", "pia", "--data", persons).exit_code == 0

    known = zvh("bekend", BSN, "--as", "sam", "--reden", "Screening melding", "--json")
    assert known.exit_code == 0
    assert as_json(known) == {"bekend": True, "contacten": [{"naam": "Pia Regie", "organisatie": ZVH}]}
    assert "Pia Regie (Zorg- en Veiligheidshuis De Baronie)" in zvh("bekend", BSN, "--as", "sam").stdout
    unknown = zvh("bekend", OTHER_BSN, "--as", "sam")
    assert unknown.exit_code == 0 and unknown.stdout.strip() == "Niet bekend bij het Zorg- en Veiligheidshuis."

    wrong = zvh("bekend", WRONG_BSN, "--as", "sam", "--json")
    assert wrong.exit_code == 2 and as_json(wrong)["fields"] == {
        "bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."]
    }
    nobody = zvh("bekend", BSN, "--as", "niemand")
    assert nobody.exit_code == 2 and "Er is geen gebruiker met de naam 'niemand'" in nobody.stdout
    partner = zvh("bekend", BSN, "--as", "mo")
    assert partner.exit_code == 2 and "Alleen medewerkers van het Zorg- en Veiligheidshuis" in partner.stdout
    database = Database(database_url)
    with database.reader() as session:
        logged = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome, AuditEvent.person_key)
            .where(AuditEvent.object_type == "persoon")
            .order_by(AuditEvent.id)
        ).all()
    database.dispose()
    assert [row[:3] for row in logged] == [
        *[("sam", "bekendheidscheck", "allowed")] * 3,
        ("mo", "view", "refused"),
    ]
    assert logged[0].person_key and logged[0].person_key == logged[1].person_key != BSN
