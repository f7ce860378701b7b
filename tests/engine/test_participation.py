"""Who takes part in a case: claiming a task gives no lasting access, completing it does."""

from __future__ import annotations

from engine.access import may_view
from engine.db import Database
from engine.models import Participant
from engine.runtime import Runtime
from tests.conftest import UserFactory
from tests.engine.test_runtime import complete, lane_process, start

__all__ = ["lane_process"]  # the fixture, used by name


def _takes_part(db: Database, instance_id: int, user_id: int) -> bool:
    with db.reader() as session:
        return session.get(Participant, (instance_id, user_id)) is not None


def test_claim__then_release_leaves_no_participation_behind(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    started = start(db, runtime, lane_process, pim)
    instance_id, task_id = started.instance.id, started.next_tasks[0].id

    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=pia)
    with db.reader() as session:
        assert may_view(session, pia, instance_id), "the claimer sees the case while the task is theirs"
    assert not _takes_part(db, instance_id, pia.id)

    with db.transaction() as session:
        runtime.unclaim_task(session, task_id=task_id, actor=pia)
    with db.reader() as session:
        assert may_view(session, pia, instance_id), "the task is back in her role's queue"
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=pim)
    with db.reader() as session:
        assert not may_view(session, pia, instance_id), "claimed by a colleague: no access left"
    assert not _takes_part(db, instance_id, pia.id)


def test_complete__by_the_claimer_makes_them_a_participant(
    db: Database, runtime: Runtime, make_user: UserFactory, lane_process: str
) -> None:
    pim, pia = make_user("pim", "procesregisseur"), make_user("pia", "procesregisseur")
    started = start(db, runtime, lane_process, pim)
    task_id = started.next_tasks[0].id
    with db.transaction() as session:
        runtime.claim_task(session, task_id=task_id, actor=pia)

    complete(db, runtime, task_id, pia, {"naam": "Jan"})

    assert _takes_part(db, started.instance.id, pia.id)
