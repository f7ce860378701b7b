"""The chain of a case across hand-overs (parent -> follow-ups) as one history, need-to-know per instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cases import ChainLink, case_chain
from engine.db import Database
from engine.errors import NotFound
from engine.models import Instance, User
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.bpmn import linear, user_task, write
from tests.engine.test_runtime import RECEIVER, deploy, start


@pytest.fixture
def chain(db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path) -> dict[str, int]:
    """A referral (the privacy officer's queue) handed over twice to procesregie, and once more from the first
    follow-up: first -> (vervolg -> nog een vervolg), tweede vervolg."""
    deploy(
        db,
        write(
            tmp_path,
            "eerste.bpmn",
            linear(user_task("T1", "Toets"), process_id="eerste", name="Eerste", lanes={"Privacyfunctionaris": ["T1"]}),
        ),
    )
    deploy(db, write(tmp_path, "receiver.bpmn", RECEIVER))
    anna, triage = make_user("anna"), make_user("triage", "triagetafel")
    first = start(db, runtime, "eerste", anna).instance.id

    def hand_over(parent: int) -> int:
        with db.transaction() as session:
            return runtime.start_follow_up(
                session, instance_id=parent, message="start_vervolg", actor=triage, data={}
            ).id

    follow_up = hand_over(first)
    grandchild = hand_over(follow_up)
    second = hand_over(first)
    return {"first": first, "follow_up": follow_up, "grandchild": grandchild, "second": second}


def links(db: Database, instance_id: int, viewer: User) -> list[ChainLink]:
    with db.reader() as session:
        return case_chain(session, instance_id, user=viewer)


def test_case_chain__lists_parent_then_each_follow_up_after_the_one_that_handed_over(
    db: Database, make_user: UserFactory, chain: dict[str, int]
) -> None:
    fenna = make_user("fenna", "privacyfunctionaris", "procesregisseur")

    result = links(db, chain["follow_up"], fenna)

    assert [(link.instance_id, link.depth) for link in result] == [
        (chain["first"], 0),
        (chain["follow_up"], 1),
        (chain["grandchild"], 2),
        (chain["second"], 1),
    ]
    assert [link.process_name for link in result] == ["Eerste", "Vervolg", "Vervolg", "Vervolg"]
    assert [link.current for link in result] == [False, True, False, False]
    assert [link.earlier for link in result] == [True, False, False, False]
    assert all(link.visible and link.status == "running" and link.started_at for link in result)


def test_case_chain__an_instance_the_viewer_may_not_see_keeps_only_its_place(
    db: Database, make_user: UserFactory, chain: dict[str, int]
) -> None:
    pim = make_user("pim", "procesregisseur")  # the follow-ups' queue, not the referral's

    result = links(db, chain["grandchild"], pim)

    hidden = result[0]
    assert (hidden.instance_id, hidden.visible, hidden.earlier) == (chain["first"], False, True)
    assert (hidden.process_name, hidden.status, hidden.started_at, hidden.ended_at) == (None, None, None, None)
    assert [link.visible for link in result[1:]] == [True, True, True]


def test_case_chain__a_destroyed_follow_up_shows_no_content(
    db: Database, make_user: UserFactory, chain: dict[str, int], runtime: Runtime
) -> None:
    fenna = make_user("fenna", "privacyfunctionaris", "procesregisseur")
    with db.transaction() as session:
        session.get_one(Instance, chain["second"]).destroyed_at = runtime.clock.now()

    result = links(db, chain["first"], fenna)

    assert [link.visible for link in result] == [True, True, True, False]


def test_case_chain__a_single_instance_is_a_chain_of_one_and_an_unknown_id_is_refused(
    db: Database, runtime: Runtime, make_user: UserFactory, tmp_path: Path
) -> None:
    deploy(db, write(tmp_path, "los.bpmn", linear(user_task("T1", "Doe"), process_id="los", name="Los")))
    anna = make_user("anna")
    alone = start(db, runtime, "los", anna).instance.id

    assert [(link.instance_id, link.current) for link in links(db, alone, anna)] == [(alone, True)]
    with pytest.raises(NotFound):
        links(db, alone + 1000, anna)
