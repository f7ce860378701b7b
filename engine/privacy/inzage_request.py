"""The inzageverzoek that asks for a package: the person it names, its redaction choices, and the FG's search
and redaction steps completed from the package page.

Need-to-know: a package is only assembled for the person an actual inzageverzoek names (by BSN, or name and
birth date, in its step "Betrokkene vastleggen voor het zoeken"); the keys are computed from the request's data,
so no BSN travels in a URL or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import session_keys
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import HumanTask, Instance, User
from engine.privacy.destruction import Destroyed, destroy_case
from engine.privacy.inzage import GROUNDS, Package, assemble_package, require_fg
from engine.privacy.organisations import ORGANISATIONS
from engine.privacy.persons import person_key as make_person_key
from engine.runtime import Runtime

REQUEST_PROCESS = "inzageverzoek"
SEARCH_STEP, REDACTION_STEP = "Task_zoeken", "Task_afscherming"
DECISION_FORM = "inzage_besluit.json"


#: the decisions on a request for erasure that mean it is carried out
ERASURE_GRANTED = frozenset({"toegewezen", "deels"})


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RequestPackage:
    """An inzageverzoek with the package of the person it names, redacted as its data says."""

    request: Instance
    data: Mapping[str, Any]
    package: Package
    #: the package with the FG's choices applied: what the person receives
    redacted: Package
    #: the titles of the refusal grounds of the decision form (for the letters)
    refusal_grounds: Mapping[str, str] = field(default_factory=dict)
    #: the request's open steps (element ids): the package page completes the search and the redaction step
    open_steps: frozenset[str] = frozenset()


def request_keys(secret: bytes, data: Mapping[str, Any]) -> list[str]:
    """The person keys an inzageverzoek names: by BSN and by name with birth date (cases may hold either)."""
    name, birth = _str(data.get("naam_betrokkene")), _str(data.get("geboortedatum_betrokkene"))
    keys = [
        make_person_key(secret, bsn=_str(data.get("bsn_betrokkene"))),
        make_person_key(secret, name=name, birth_date=birth),
    ]
    return [key for key in keys if key is not None]


def _request(
    session: Session, runtime: Runtime, instance_id: int, actor: User
) -> tuple[Instance, dict[str, Any], dict[str, str]]:
    """An inzageverzoek and its data: for the FG only (need-to-know: the FG works an actual request)."""
    require_fg(actor)
    row = session.get(Instance, instance_id)
    if row is None or row.process_key != REQUEST_PROCESS:
        raise NotFound("Dit inzageverzoek bestaat niet.")
    if row.destroyed_at is not None:
        raise NotFound("De gegevens van dit inzageverzoek zijn vernietigd.")
    loaded = runtime.load(session, instance_id)
    decision = loaded.version.forms.get(DECISION_FORM)
    spec = decision.resolved_schema["properties"].get("weigeringsgrond", {}) if decision else {}
    grounds = {str(option["const"]): str(option.get("title", "")) for option in spec.get("oneOf", [])}
    return row, loaded.current_data(), grounds


def request_package(
    session: Session, runtime: Runtime, *, instance_id: int, actor: User, at: datetime
) -> RequestPackage:
    """The package of the person an inzageverzoek names, with the redaction choices recorded in it."""
    row, data, grounds = _request(session, runtime, instance_id, actor)
    keys = request_keys(session_keys(session).pseudonym, data)
    if not keys:
        raise Conflict("Leg eerst vast over wie het verzoek gaat (stap 'Betrokkene vastleggen voor het zoeken').")
    package = assemble_package(
        session, runtime, person_key=keys[0], also=keys[1:], actor=actor, at=at, exclude_instance_id=row.id
    )
    choices = {
        str(choice.get("onderdeel")): str(choice.get("grond"))
        for choice in data.get("afscherming") or []
        if isinstance(choice, dict)
    }
    steps = frozenset(session.scalars(select(HumanTask.element_id).where(HumanTask.instance_id == row.id)))
    return RequestPackage(row, data, package, package.redacted(choices), grounds, steps)


def _open_step(session: Session, instance_id: int, element_id: str, step_name: str) -> HumanTask:
    task = session.scalar(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.element_id == element_id)
    )
    if task is None:
        raise Conflict("Dit kan alleen in de stap '%(stap)s', en die staat nu niet open.", stap=step_name)
    return task


def record_search(session: Session, runtime: Runtime, *, instance_id: int, actor: User, at: datetime) -> None:
    """Complete the search step from the package: what was found, and the partners to ask for their position."""
    found = request_package(session, runtime, instance_id=instance_id, actor=actor, at=at).package
    task = _open_step(session, instance_id, SEARCH_STEP, "Gegevens en logging doorzoeken")
    partners = [ORGANISATIONS[key].form_value for key in found.organisations if key in ORGANISATIONS]
    data = {
        "doorzochte_bronnen": ["casusdossiers", "registratiesysteem", "toegangslogging"],
        "gegevens_aangetroffen": bool(found.cases),
        "aantal_documenten": len(found.cases),
        "logging_overzicht_gemaakt": True,
        "partner_organisaties": [value for value in partners if value],
    }
    runtime.complete_task(session, task_id=task.id, actor=actor, data=data)


def record_redactions(
    session: Session, runtime: Runtime, *, instance_id: int, actor: User, at: datetime, choices: Mapping[str, str]
) -> None:
    """Complete the redaction step with the items the FG withholds (item id -> ground), kept in the request."""
    package = request_package(session, runtime, instance_id=instance_id, actor=actor, at=at).package
    known = {item.id for item in package.items}
    wrong = sorted(item for item, ground in choices.items() if item not in known or ground not in GROUNDS)
    if wrong:
        raise InvalidInput("Kies onderdelen uit het pakket, elk met een grond.", {"afscherming": wrong})
    task = _open_step(session, instance_id, REDACTION_STEP, "Gegevens van derden afschermen")
    chosen = [{"onderdeel": item, "grond": ground} for item, ground in sorted(choices.items())]
    runtime.complete_task(session, task_id=task.id, actor=actor, data={"afscherming": chosen})


def erase_for_request(
    session: Session,
    runtime: Runtime,
    *,
    instance_id: int,
    case_instance_id: int,
    actor: User,
    reason: str,
    at: datetime,
) -> Destroyed:
    """Carry out a granted request for erasure: destroy one of the person's cases (logged with the request)."""
    found = request_package(session, runtime, instance_id=instance_id, actor=actor, at=at)
    if found.data.get("soort") != "vernietiging" or found.data.get("besluit") not in ERASURE_GRANTED:
        raise Conflict("Vernietigen kan pas na een (deels) toegewezen verzoek om vernietiging.")
    cases = {case.instance_id: case for case in found.package.cases if case.destroyed_at is None}
    if case_instance_id not in cases:
        raise NotFound("Deze zaak hoort niet bij de persoon van dit verzoek, of is al vernietigd.")
    rule = f"verzoek tot vernietiging {found.request.case_number}"
    return destroy_case(session, instance_id=case_instance_id, actor=actor, reason=reason, rule=rule, at=at)
