"""Drafts keep what was typed, also text the database or a page could not take (it is made storable)."""

from __future__ import annotations

from engine.db import Database
from engine.drafts import load_draft, save_draft
from tests.conftest import START, UserFactory


def test_save_draft__text_that_cannot_be_stored_is_kept_readable(db: Database, make_user: UserFactory) -> None:
    mila = make_user("mila")
    typed = {"aanleiding": "Overlast\x00 in de wijk \ud800", "rijen": [{"naam\x01": "Fenna"}]}

    with db.transaction() as session:
        save_draft(session, user=mila, data=typed, at=START, process_key="melding")
    with db.reader() as session:
        draft = load_draft(session, user=mila, process_key="melding")

    assert draft is not None
    assert draft.data == {"aanleiding": "Overlast\ufffd in de wijk \ufffd", "rijen": [{"naam\ufffd": "Fenna"}]}
