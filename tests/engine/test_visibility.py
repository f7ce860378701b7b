"""Field visibility classes (`x-zvh-visibility`) and the case's vertrouwelijkheid, enforced."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import emergency_access, may_view, take_part
from engine.db import Database
from engine.errors import DeploymentRefused, PermissionDenied
from engine.forms import Form, check_schema
from engine.inbox import Count, InboxQuery, inbox, list_tasks, tab_counts
from engine.models import HumanTask, Instance
from engine.privacy.visibility import (
    MARKER,
    REDACTED,
    Redacted,
    case_classes,
    confidential_filter,
    confidential_parameters,
    confidential_readers,
    confidential_task_clause,
    confidential_task_filter,
    emergency_refusal,
    form_values,
    hidden_fields,
    is_exportable,
    may_see_confidential,
    protect_submission,
    redact,
    redact_case_data,
    user_classes,
)
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.bpmn import flow, process, user_task, write
from tests.engine.test_runtime import complete, deploy, open_tasks, start

SECRET_DELICT = "Inbraak met geweld, 2024"
SECRET_CARE = "Behandeling bij de verslavingszorg"

DOSSIER = Form(
    name="dossier.json",
    schema={
        "type": "object",
        "$defs": {"detentie": {"type": "object", "x-zvh-visibility": "justitieel", "properties": {}}},
        "properties": {
            "naam": {"type": "string"},
            "detentie": {
                "$ref": "#/$defs/detentie",
                "properties": {"pi": {"type": "string"}, "datum_uit": {"type": "string"}},
            },
            "zorg": {
                "type": "object",
                "properties": {
                    "huisarts": {"type": "string"},
                    "behandeling": {"type": "string", "x-zvh-visibility": "medisch"},
                },
            },
            "veroordelingen": {"type": "array", "items": {"type": "string", "x-zvh-visibility": "justitieel"}},
            "contacten": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "naam": {"type": "string"},
                        "diagnose": {"type": "string", "x-zvh-visibility": "medisch"},
                    },
                },
            },
            "delict": {"type": "string", "readOnly": True, "x-zvh-visibility": "justitieel"},
        },
    },
)
VALUES: dict[str, Any] = {
    "naam": "Xander Voorbeeld",
    "detentie": {"pi": "PI Breda", "datum_uit": "2026-12-01"},
    "zorg": {"huisarts": "Dokter Dirk", "behandeling": SECRET_CARE},
    "veroordelingen": [SECRET_DELICT, "Diefstal 2023"],
    "contacten": [{"naam": "Broer", "diagnose": "Depressie"}, {"naam": "Zus"}],
    "delict": SECRET_DELICT,
}


def person(organisation: str | None, *roles: str) -> Any:
    """A stand-in user: the visibility rules read only the organisation and the roles."""
    return SimpleNamespace(organisation=organisation, role_keys=frozenset(roles or {"melder"}))


@pytest.mark.parametrize(
    ("organisation", "roles", "expected"),
    [
        ("politie", (), {"justitieel"}),
        ("om", (), {"justitieel"}),
        ("ggz", (), {"medisch"}),
        ("zvh", (), {"justitieel", "medisch"}),
        ("gemeente", (), set()),
        (None, ("procesregisseur",), set()),
        ("gemeente", ("privacyfunctionaris",), {"justitieel", "medisch"}),
    ],
)
def test_user_classes__come_from_the_organisation_and_the_fg_role(
    organisation: str | None, roles: tuple[str, ...], expected: set[str]
) -> None:
    assert user_classes(person(organisation, *roles)) == expected


def test_user_classes__none_without_a_user() -> None:
    assert user_classes(None) == frozenset()


def test_hidden_fields__follow_defs_nested_groups_and_list_items() -> None:
    assert hidden_fields(DOSSIER, person("gemeente")) == {
        "detentie",
        "zorg.behandeling",
        "veroordelingen.*",
        "contacten.*.diagnose",
        "delict",
    }
    assert hidden_fields(DOSSIER, person("politie")) == {"zorg.behandeling", "contacten.*.diagnose"}
    assert hidden_fields(DOSSIER, person("zvh")) == set()


def test_redact__replaces_every_hidden_value_at_any_depth_with_the_marker() -> None:
    redacted = redact(DOSSIER, VALUES, person("gemeente"))

    assert redacted == {
        "naam": "Xander Voorbeeld",
        "detentie": REDACTED,
        "zorg": {"huisarts": "Dokter Dirk", "behandeling": REDACTED},
        "veroordelingen": REDACTED,  # a classified list is one marker: not even its length shows
        "contacten": [{"naam": "Broer", "diagnose": REDACTED}, {"naam": "Zus"}],
        "delict": REDACTED,
    }
    assert isinstance(redacted["detentie"], Redacted)
    text = json.dumps(redacted)
    for secret in ("PI Breda", "2026-12-01", SECRET_CARE, SECRET_DELICT, "Diefstal 2023", "Depressie"):
        assert secret not in text
    assert VALUES["detentie"] == {"pi": "PI Breda", "datum_uit": "2026-12-01"}  # the input is not changed


def test_redact__a_justice_partner_sees_justice_data_but_not_care_data() -> None:
    redacted = redact(DOSSIER, VALUES, person("politie"))

    assert redacted["detentie"] == VALUES["detentie"]
    assert redacted["veroordelingen"] == VALUES["veroordelingen"]
    assert redacted["zorg"]["behandeling"] == REDACTED


def test_form_values__redacts_read_only_context_and_shows_the_editable_fields() -> None:
    shown = form_values(DOSSIER, VALUES, person("gemeente"))

    assert shown["delict"] is MARKER
    assert shown["detentie"] == VALUES["detentie"]  # asked of this lane's role: they maintain it


def test_protect_submission__the_marker_sent_back_never_replaces_a_value() -> None:
    sent = {
        "detentie": REDACTED,
        "zorg": {"huisarts": "Dokter Dirk", "behandeling": REDACTED},
        "veroordelingen": REDACTED,
        "contacten": [{"naam": "Broer", "diagnose": REDACTED}, {"naam": "Nieuw", "diagnose": REDACTED}],
    }

    kept = protect_submission(DOSSIER, sent, VALUES, person("gemeente"))

    assert kept["detentie"] == VALUES["detentie"]
    assert kept["zorg"] == VALUES["zorg"]
    assert kept["veroordelingen"] == VALUES["veroordelingen"]
    assert kept["contacten"] == [{"naam": "Broer", "diagnose": "Depressie"}, {"naam": "Nieuw"}]


def test_protect_submission__a_user_who_may_see_it_can_change_it() -> None:
    sent = {"zorg": {"behandeling": "Afgerond"}}

    assert protect_submission(DOSSIER, sent, VALUES, person("ggz")) == sent


def test_redact_case_data__uses_the_classes_of_every_form() -> None:
    data = {**VALUES, "onbekend_veld": "blijft"}

    redacted = redact_case_data([DOSSIER], data, person("gemeente"))

    assert redacted["delict"] == REDACTED and redacted["onbekend_veld"] == "blijft"


def test_check_schema__refuses_an_unknown_visibility_class() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "x-zvh-visibility": "geheim"}}}

    reason = check_schema(schema, name="a.json")

    assert reason is not None
    assert "x-zvh-visibility 'geheim' at /properties/a is not a visibility class" in reason
    assert "justitieel, medisch" in reason


def test_deploy__refuses_a_form_with_an_unknown_visibility_class(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "f.json", {"type": "object", "properties": {"x": {"type": "string", "x-zvh-visibility": "x"}}})
    body = '<bpmn:startEvent id="S"/>' + user_task("T", "Taak", "f") + flow("F1", "S", "T")
    with pytest.raises(DeploymentRefused, match="not a visibility class"):
        deploy(db, write(tmp_path, "p.bpmn", process(body, process_id="p")))


# --- vertrouwelijkheid --------------------------------------------------------------------------------------------

MELDING = {
    "type": "object",
    "properties": {
        "gemeente": {"type": "string"},
        "vertrouwelijkheid": {"type": "string"},
        "delict": {"type": "string", "x-zvh-visibility": "justitieel"},
    },
}


@pytest.fixture
def confidential(db: Database, tmp_path: Path) -> str:
    """The melder fills in a melding (with its vertrouwelijkheid) → a task for the case's gemeente."""
    write(tmp_path, "melding.json", MELDING)
    body = (
        '<bpmn:startEvent id="S"/>'
        + user_task("T0", "Melding", "melding")
        + user_task("T1", "Woonplek regelen")
        + '<bpmn:endEvent id="E"/>'
        + flow("F0", "S", "T0")
        + flow("F1", "T0", "T1")
        + flow("F2", "T1", "E")
    )
    deploy(
        db,
        write(
            tmp_path,
            "vertrouwelijk.bpmn",
            process(body, process_id="vertrouwelijk", lanes={"Melder": ["S", "T0"], "Gemeente": ["T1", "E"]}),
        ),
    )
    return "vertrouwelijk"


def _case(db: Database, runtime: Runtime, melder: Any, level: str) -> int:
    instance_id = int(start(db, runtime, "vertrouwelijk", melder).instance.id)
    data = {"gemeente": "Zundert", "vertrouwelijkheid": level, "delict": SECRET_DELICT}
    complete(db, runtime, open_tasks(db, instance_id)[0].id, melder, data)
    return instance_id


def _sees(db: Database, user: Any, instance_id: int) -> tuple[bool, bool, bool]:
    """(may_see_confidential, the instance passes confidential_filter, its open task passes the task filter)."""
    with db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        may = may_see_confidential(session, user, instance)
        listed = session.scalar(select(Instance.id).where(Instance.id == instance_id, confidential_filter(user)))
        task = session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, confidential_task_filter(user))
        )
        bound = session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, confidential_task_clause()),
            confidential_parameters(user),
        )
    assert (task is None) == (bound is None)  # the inbox's prepared form says the same
    return may, listed is not None, task is not None


def test_geheim__only_explicit_participants_and_assignees_see_the_case(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, clock: Any
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    gemeente = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    collega = make_user("zeno", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    instance_id = _case(db, runtime, melder, "geheim")
    with db.reader() as session:
        assert session.get(Instance, instance_id).vertrouwelijkheid == "geheim"  # type: ignore[union-attr]

    assert _sees(db, melder, instance_id) == (True, True, True)  # started it: an explicit participant
    assert _sees(db, gemeente, instance_id) == (False, False, False)  # the queue alone is not enough

    with db.transaction() as session:
        session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one().assign(gemeente.id)
    assert _sees(db, gemeente, instance_id) == (True, True, True)  # the assignee of an open task
    assert _sees(db, collega, instance_id) == (False, False, False)

    with db.transaction() as session:
        take_part(session, instance_id=instance_id, user_id=collega.id, reason="added", at=clock.now())
    assert _sees(db, collega, instance_id) == (True, True, True)


def test_geheim__noodtoegang_counts_only_for_the_fg(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, clock: Any
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    coordinator = make_user("coen", "coordinator", organisation="zvh")
    fg = make_user("fenna", "privacyfunctionaris", organisation="zvh")
    instance_id = _case(db, runtime, melder, "zeer_geheim")
    with db.transaction() as session:
        for user in (coordinator, fg):
            take_part(session, instance_id=instance_id, user_id=user.id, reason="noodtoegang", at=clock.now())
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert emergency_refusal(coordinator, instance) == (
            "Deze zaak is geheim: noodtoegang alleen via de privacyfunctionaris."
        )
        assert emergency_refusal(fg, instance) is None

    assert _sees(db, coordinator, instance_id)[0] is False
    assert _sees(db, fg, instance_id)[0] is True


@pytest.mark.parametrize("level", [None, "openbaar", "intern", "vertrouwelijk", "confidentieel"])
def test_below_geheim__need_to_know_as_usual(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, level: str | None
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    gemeente = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    instance_id = _case(db, runtime, melder, level or "")

    assert _sees(db, gemeente, instance_id) == (True, True, True)
    with db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert emergency_refusal(gemeente, instance) is None
        assert is_exportable(instance) is (level != "confidentieel")


def test_confidentieel__noodtoegang_shows_the_course_but_no_classified_field(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, clock: Any
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    coordinator = make_user("coen", "coordinator", organisation="zvh")
    instance_id = _case(db, runtime, melder, "confidentieel")
    with db.transaction() as session:
        take_part(session, instance_id=instance_id, user_id=coordinator.id, reason="noodtoegang", at=clock.now())
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert case_classes(session, coordinator, instance) == frozenset()
        assert case_classes(session, melder, instance) == {"justitieel"}
        instance.vertrouwelijkheid = "vertrouwelijk"
        assert case_classes(session, coordinator, instance) == {"justitieel", "medisch"}


def test_confidential_readers__name_who_a_secret_case_may_reach(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, clock: Any
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    gemeente = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    coordinator = make_user("coen", "coordinator", organisation="zvh")
    fg = make_user("fenna", "privacyfunctionaris", organisation="zvh")
    open_case = _case(db, runtime, melder, "vertrouwelijk")
    secret_case = _case(db, runtime, melder, "geheim")
    with db.transaction() as session:
        for user in (coordinator, fg):
            take_part(session, instance_id=secret_case, user_id=user.id, reason="noodtoegang", at=clock.now())
        session.scalars(select(HumanTask).where(HumanTask.instance_id == secret_case)).one().assign(gemeente.id)

    with db.reader() as session:
        assert confidential_readers(session, session.get(Instance, open_case)) is None  # type: ignore[arg-type]
        readers = confidential_readers(session, session.get(Instance, secret_case))  # type: ignore[arg-type]
    assert readers == {melder.id, gemeente.id, fg.id}


def test_geheim__wired_into_need_to_know_the_inbox_and_noodtoegang(
    db: Database, runtime: Runtime, make_user: UserFactory, confidential: str, clock: Any
) -> None:
    melder = make_user("mila", "melder", organisation="politie")
    gemeente = make_user("zara", "gemeente", organisation="gemeente", gemeenten=("zundert",))
    coordinator = make_user("coen", "coordinator", organisation="zvh")
    fg = make_user("fenna", "privacyfunctionaris", organisation="zvh")
    instance_id = _case(db, runtime, melder, "geheim")
    with db.reader() as session:
        assert may_view(session, gemeente, instance_id, at=clock.now()) is False
        assert list_tasks(session, user=gemeente, instance_id=instance_id).tasks == []
        assert inbox(session, user=gemeente, query=InboxQuery(tab="open"), now=clock.now()).total == 0
        assert tab_counts(session, user=gemeente)["open"] == Count(0)
        assert inbox(session, user=coordinator, query=InboxQuery(tab="team"), now=clock.now()).total == 1
    with db.transaction() as session, pytest.raises(PermissionDenied, match="privacyfunctionaris"):
        emergency_access(session, instance_id=instance_id, actor=coordinator, reason="Crisis", at=clock.now())
    with db.transaction() as session:
        emergency_access(session, instance_id=instance_id, actor=fg, reason="Inzageverzoek", at=clock.now())
        assert may_view(session, fg, instance_id, at=clock.now()) is True
    with db.transaction() as session:
        session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one().assign(gemeente.id)
    with db.reader() as session:
        assert may_view(session, gemeente, instance_id, at=clock.now()) is True
        assert len(list_tasks(session, user=gemeente, instance_id=instance_id).tasks) == 1
