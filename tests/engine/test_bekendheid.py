"""The bekendheidscheck: known across cases by BSN or name and birth date, whom to contact, never case content;
every check in the access log with the person key (never the BSN); a destroyed case is gone from the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import FixedClock
from engine.db import Database, session_keys
from engine.errors import DeploymentRefused, InvalidInput, PermissionDenied
from engine.models import AuditEvent, Instance, InstancePerson, User
from engine.privacy.bekendheid import ZVH, Contact, KnownAnswer, check_known
from engine.privacy.destruction import destroy_case
from engine.privacy.persons import person_key
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.bpmn import linear, user_task, write
from tests.engine.test_runtime import complete, deploy, start

KEY = "bekendheidtest"
BSN = "999990019"  # elfproef: 9*9+8*9+7*9+6*9+5*9+4*0+3*0+2*1-1*9 = 363 = 33*11
OTHER_BSN = "123456782"  # elfproef: 154 = 14*11
WRONG_BSN = "123456789"  # 147: not a multiple of 11
PERSON = {"naam": "Yvo Bekendtest", "bsn": BSN, "rol": "hoofdbetrokkene"}
NAMED = {"naam": "Wies  van der Testen", "geboortedatum": "1990-04-01", "rol": "betrokkene"}
PERSON_ITEMS = {
    "type": "object",
    "properties": {n: {"type": "string"} for n in ("naam", "bsn", "geboortedatum", "rol")},
}
MELDING = {"type": "object", "properties": {"betrokkenen": {"type": "array", "items": PERSON_ITEMS}}}
CHECK = {"type": "object", "properties": {"bekend_bij_partners": {"type": "string"}}}


def check_task(field: str = "betrokkenen") -> str:
    return (
        '<bpmn:userTask id="T2" name="Bekendheid checken"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="check.json"/>'
        f'<spiffworkflow:property name="bekendheidscheck" value="{field}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def deploy_check_process(db: Database, folder: Path, *, field: str = "betrokkenen") -> None:
    """start → melding (the persons) → the check task → afronden → end."""
    write(folder, "melding.json", MELDING)
    write(folder, "check.json", CHECK)
    body = linear(user_task("T1", "Melding", "melding"), check_task(field), user_task("T3", "Afronden"), process_id=KEY)
    deploy(db, write(folder, f"{KEY}.bpmn", body), search_paths=[folder])


def open_case(db: Database, runtime: Runtime, actor: User, persons: list[dict[str, str]]) -> tuple[int, str, Any]:
    """A case by `actor` about `persons`, waiting at the check task: its id, number and the check task."""
    started = start(db, runtime, KEY, actor)
    outcome = complete(db, runtime, started.next_tasks[0].id, actor, {"betrokkenen": persons})
    return started.instance.id, started.instance.case_number, outcome.next_tasks[0]


def ask(db: Database, clock: FixedClock, asker: User, **who: Any) -> KnownAnswer:
    with db.transaction() as session:
        return check_known(session, keys=session_keys(session), asker=asker, reason="Screening", at=clock.now(), **who)


def checks(db: Database) -> list[AuditEvent]:
    with db.reader() as session:
        query = select(AuditEvent).where(AuditEvent.action == "bekendheidscheck").order_by(AuditEvent.id)
        return list(session.scalars(query))


def test_bekend__across_cases_by_bsn_and_by_name_with_the_procesregisseur_to_contact(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy_check_process(db, tmp_path)
    regisseur = make_user("pia", "procesregisseur", organisation="zvh")
    melder = make_user("mo", "melder", organisation="politie")
    screener = make_user("sam", "screener", organisation="zvh")
    _, own_case, _ = open_case(db, runtime, regisseur, [PERSON, NAMED])
    open_case(db, runtime, melder, [{"naam": "Yvo Bekendtest", "bsn": BSN}])

    answer = ask(db, clock, screener, bsn=BSN)
    # Pia works on the first case; the second waits for nobody with a name: the ZVH's procesregie.
    assert answer.as_dict() == {
        "bekend": True,
        "contacten": [{"naam": "Pia", "organisatie": ZVH}, {"naam": "Procesregisseur", "organisatie": ZVH}],
    }
    by_name = ask(db, clock, screener, name="wies van der  TESTEN", birth_date="1990-04-01")
    assert by_name.contacts == (Contact("Pia", ZVH),)
    # The asker's own case (the chain with that case number) does not count.
    assert not ask(db, clock, screener, name=NAMED["naam"], birth_date="1990-04-01", exclude_case=own_case).known
    assert ask(db, clock, screener, bsn=OTHER_BSN).as_dict() == {"bekend": False, "contacten": []}

    logged = checks(db)
    assert [(e.actor, e.outcome, e.object_type) for e in logged] == [("sam", "allowed", "persoon")] * 4
    assert logged[0].person_key == person_key(db.keys.pseudonym, bsn=BSN)
    assert logged[0].details == {"reason": "Screening", "known": True, "cases": 2, "contacts": 2}
    assert all(BSN not in f"{e.summary} {e.details}" and "Wies" not in f"{e.summary} {e.details}" for e in logged)


def test_bekend__refuses_a_bsn_failing_the_elfproef_no_reason_and_partners(
    db: Database, clock: FixedClock, make_user: UserFactory
) -> None:
    screener = make_user("sam", "screener", organisation="zvh")
    with pytest.raises(InvalidInput) as wrong:
        ask(db, clock, screener, bsn=WRONG_BSN)
    assert wrong.value.fields == {"bsn": ["Geen geldig BSN: negen cijfers die voldoen aan de elfproef."]}
    with pytest.raises(InvalidInput, match="Geef een BSN"):
        ask(db, clock, screener, name="Alleen Een Naam")
    with db.transaction() as session, pytest.raises(InvalidInput, match="reden"):
        check_known(session, keys=session_keys(session), asker=screener, reason="  ", bsn=BSN, at=clock.now())
    with pytest.raises(PermissionDenied, match="Alleen medewerkers van het Zorg- en Veiligheidshuis"):
        ask(db, clock, make_user("mo", "melder", organisation="politie"), bsn=BSN)
    assert checks(db) == []  # nothing was looked up (the caller logs a refusal: see the web and CLI tests)


def test_bekend__a_destroyed_case_leaves_the_index(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy_check_process(db, tmp_path)
    regisseur = make_user("pia", "procesregisseur", organisation="zvh")
    case_id, _, _ = open_case(db, runtime, regisseur, [PERSON])
    assert ask(db, clock, regisseur, bsn=BSN).known
    with db.transaction() as session:
        destroy_case(
            session, instance_id=case_id, actor=regisseur, reason="Termijn verstreken", rule=None, at=clock.now()
        )
    with db.reader() as session:
        assert session.scalars(select(InstancePerson).where(InstancePerson.instance_id == case_id)).all() == []
    assert not ask(db, clock, regisseur, bsn=BSN).known


def test_bekend__a_secret_case_counts_as_known_but_names_only_the_privacyfunctionaris(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy_check_process(db, tmp_path)
    regisseur = make_user("pia", "procesregisseur", organisation="zvh")
    case_id, _, _ = open_case(db, runtime, regisseur, [PERSON])
    with db.transaction() as session:
        instance = session.get(Instance, case_id)
        assert instance is not None
        instance.vertrouwelijkheid = "geheim"
    answer = ask(db, clock, make_user("sam", "screener", organisation="zvh"), bsn=BSN)
    assert answer.as_dict() == {"bekend": True, "contacten": [{"naam": "Privacyfunctionaris", "organisatie": ZVH}]}


def test_bekend__a_check_task_stores_the_answer_run_as_the_completing_user(
    db: Database, runtime: Runtime, clock: FixedClock, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy_check_process(db, tmp_path)
    regisseur = make_user("pia", "procesregisseur", organisation="zvh")
    open_case(db, runtime, regisseur, [PERSON])
    _, case_number, task = open_case(db, runtime, regisseur, [PERSON, NAMED, {"naam": "Zonder Gegevens"}])

    posted = {"bekend_bij_partners": "Nee", "bekend_bij_zvh": False, "bekendheid_contacten": [{"naam": "x"}]}
    outcome = complete(db, runtime, task.id, regisseur, posted)
    with db.reader() as session:
        data = dict(runtime.load(session, outcome.instance.id).find_task(outcome.next_tasks[0].id).data)
    assert data["bekend_bij_zvh"] is True
    assert data["bekendheid_contacten"] == [{"naam": "Pia", "organisatie": ZVH}]
    assert data["bekend_bij_partners"] == "Nee"
    logged = checks(db)
    assert len(logged) == 2  # two persons identify someone; the third names nobody and is not looked up
    assert {e.details["reason"] for e in logged} == {f"Bekendheidscheck Bekendheid checken {case_number}"}


def test_bekend__deploy_refuses_a_check_naming_no_field(db: Database, tmp_path: Path) -> None:
    with pytest.raises(DeploymentRefused, match="bekendheidscheck: 'personen' is not a field"):
        deploy_check_process(db, tmp_path, field="personen")
