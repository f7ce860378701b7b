"""A small world for the contactpunt tests: one person (Karel) in several cases, with other people around him.

Karel Testpersoon (BSN 111222333) is the hoofdbetrokkene of a zorgzaak in Breda (a systeemlid and a melder are
named too; a politie ketenpartner worked on it) and a systeemlid in somebody else's case. All invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.db import Database, session_keys
from engine.models import User
from engine.privacy.persons import person_key
from engine.registry import deploy_file
from engine.runtime import Runtime
from engine.users import create_user
from tests.engine.bpmn import flow, process, user_task, write

KAREL = {"bsn": "111222333", "naam": "Karel Testpersoon", "geboortedatum": "1980-05-01", "rol": "hoofdbetrokkene"}
PIET = {"bsn": "123456782", "naam": "Piet Systeemlid", "geboortedatum": "1979-02-02", "rol": "systeemlid"}
MELDER = {"organisatie": "Politie", "naam": "Mila Melder"}

_PERSON = {
    "type": "object",
    "title": "Betrokkene",
    "properties": {
        "bsn": {"type": "string", "title": "BSN"},
        "naam": {"type": "string", "title": "Naam"},
        "geboortedatum": {"type": "string", "title": "Geboortedatum"},
        "rol": {"type": "string", "title": "Rol"},
    },
}
START_FORM = {
    "type": "object",
    "properties": {
        "gemeente": {"type": "string", "title": "Gemeente"},
        "betrokkenen": {"type": "array", "title": "Betrokkenen", "items": _PERSON},
        "melder": {
            "type": "object",
            "title": "Melder",
            "properties": {"organisatie": {"type": "string"}, "naam": {"type": "string", "title": "Naam"}},
        },
    },
}
VERSLAG_FORM = {
    "type": "object",
    "properties": {
        "verslag": {"type": "string", "title": "Verslag"},
        "woonplaats": {"type": "string", "title": "Woonplaats"},
    },
}


def deploy_zorgzaak(db: Database, folder: Path) -> str:
    """A case process: started by a procesregisseur, a report by the partner, a correction by the regisseur."""
    write(folder, "zorg_start.json", START_FORM)
    write(folder, "zorg_verslag.json", VERSLAG_FORM)
    start = (
        '<bpmn:startEvent id="Start_zaak"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="zorg_start.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>"
    )
    body = (
        start
        + user_task("Task_verslag", "Verslag partner", "zorg_verslag")
        + user_task("Task_correctie", "Verslag corrigeren", "zorg_verslag")
        + '<bpmn:endEvent id="End_zaak"/>'
        + flow("F1", "Start_zaak", "Task_verslag")
        + flow("F2", "Task_verslag", "Task_correctie")
        + flow("F3", "Task_correctie", "End_zaak")
    )
    lanes = {"Procesregisseur": ["Start_zaak", "Task_correctie", "End_zaak"], "Ketenpartner": ["Task_verslag"]}
    xml = process(body, process_id="zorgzaak", name="Zorgzaak", lanes=lanes)
    with db.transaction() as session:
        deploy_file(session, write(folder, "zorgzaak.bpmn", xml), actor="tests", search_paths=[folder])
    return "zorgzaak"


@dataclass
class World:
    db: Database
    runtime: Runtime
    fg: User
    regisseur: User
    partner: User
    nosy: User
    main_case: int
    other_case: int
    karel_key: str


def _user(db: Database, username: str, role: str, organisation: str, gemeenten: tuple[str, ...] = ()) -> User:
    with db.transaction() as session:
        return create_user(
            session,
            username=username,
            display_name=username.title(),
            roles=[role],
            organisation=organisation,
            gemeenten=gemeenten,
        )


def complete_step(db: Database, runtime: Runtime, instance_id: int, element: str, actor: User, data: Any) -> None:
    from engine.inbox import list_tasks

    with db.transaction() as session:
        task = next(t for t in list_tasks(session, instance_id=instance_id).tasks if t.element_id == element)
        runtime.complete_task(session, task_id=task.id, actor=actor, data=data)


def build_world(db: Database, runtime: Runtime, folder: Path) -> World:
    """Karel's two cases: his own (with Piet and a melder), and Piet's case in which Karel is a systeemlid."""
    key = deploy_zorgzaak(db, folder)
    fg = _user(db, "fenna", "privacyfunctionaris", "zvh")
    regisseur = _user(db, "rik", "procesregisseur", "zvh")
    partner = _user(db, "paul", "ketenpartner", "politie", ("breda",))
    nosy = _user(db, "nora", "procesregisseur", "zvh")
    cases = []
    for people in ([KAREL, PIET], [{**PIET, "rol": "hoofdbetrokkene"}, {**KAREL, "rol": "systeemlid"}]):
        with db.transaction() as session:
            started = runtime.start_instance(
                session,
                process_key=key,
                actor=regisseur,
                data={"gemeente": "Breda", "betrokkenen": people, "melder": MELDER},
            )
        cases.append(started.instance.id)
        complete_step(
            db, runtime, started.instance.id, "Task_verslag", partner, {"verslag": "Gesprek", "woonplaats": "Breda"}
        )
    complete_step(
        db, runtime, cases[0], "Task_correctie", regisseur, {"verslag": "Gesprek", "woonplaats": "Etten-Leur"}
    )
    with db.reader() as session:
        karel = person_key(session_keys(session).pseudonym, bsn=KAREL["bsn"])
    assert karel is not None
    return World(db, runtime, fg, regisseur, partner, nosy, cases[0], cases[1], karel)


ROOT = Path(__file__).resolve().parents[2]
REQUEST = {
    "ontvangen": "2026-03-02",
    "soort": "inzage",
    "kanaal": "post",
    "verzoeker": {
        "naam": "Karel Testpersoon",
        "hoedanigheid": "betrokkene_zelf",
        "adres": {"straat": "Voorbeeldstraat", "huisnummer": "12", "postcode": "4811 AB", "woonplaats": "Breda"},
    },
    "naam_betrokkene": "Karel Testpersoon",
    "gemeente": "Breda",
}


def start_request(world: World, *, person: bool = True) -> int:
    """An inzageverzoek of Karel, identity established and (with `person`) his BSN recorded: at the search."""
    with world.db.transaction() as session:
        deploy_file(session, ROOT / "processes" / "inzageverzoek.bpmn", actor="tests", search_paths=[ROOT / "forms"])
        request = world.runtime.start_instance(
            session, process_key="inzageverzoek", actor=world.fg, data=REQUEST
        ).instance.id
    identity = {"id_geverifieerd": True, "wijze_verificatie": "id_bewijs_getoond_aan_balie"}
    complete_step(world.db, world.runtime, request, "Task_identiteit", world.fg, identity)
    if person:
        subject = {"naam_betrokkene": KAREL["naam"], "bsn_betrokkene": KAREL["bsn"]}
        complete_step(world.db, world.runtime, request, "Task_persoon", world.fg, subject)
    return request
