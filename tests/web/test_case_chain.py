"""The case page shows the case's chain of hand-overs as one history, with need-to-know per instance."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from engine.registry import deploy_file
from tests.engine.bpmn import linear, user_task, write
from tests.engine.test_runtime import RECEIVER
from tests.web.helpers import user
from web.security import LANGUAGE


def handed_over(app: Flask, tmp_path: Path) -> tuple[int, int]:
    """A screener's case that the procesregisseur handed over to a follow-up (the procesregisseur's queue)."""
    zvh = app.extensions["zvh"]
    first = linear(user_task("T1", "Screenen"), process_id="eerste", name="Eerste toets", lanes={"Screener": ["T1"]})
    with zvh.db.transaction() as session:
        deploy_file(session, write(tmp_path, "eerste.bpmn", first), actor="tests")
        deploy_file(session, write(tmp_path, "receiver.bpmn", RECEIVER), actor="tests")
        session.flush()
        parent = zvh.runtime.start_instance(session, process_key="eerste", actor=user(app, "sven")).instance.id
        child = zvh.runtime.start_follow_up(
            session, instance_id=parent, message="start_vervolg", actor=user(app, "pim"), data={}
        ).id
    return parent, child


def chain_section(page: str) -> str:
    start = page.index('class="zvh-card zvh-case-chain"')
    return page[start : page.index("</section>", start)]


def test_case_chain__shows_the_follow_up_to_who_may_see_it(app: Flask, as_user, tmp_path: Path) -> None:
    parent, child = handed_over(app, tmp_path)
    client = as_user("pim")

    chain = chain_section(client.get(f"/zaken/{child}").get_data(as_text=True))

    assert "Casushistorie" in chain
    assert "een eerdere stap waar u geen toegang toe hebt" in chain, "pim does not take part in the screening"
    assert f"/zaken/{parent}" not in chain and "Eerste toets" not in chain
    assert "Vervolg" in chain and "(deze zaak)" in chain


def test_case_chain__a_follow_up_the_viewer_may_not_see_shows_without_content(
    app: Flask, as_user, tmp_path: Path
) -> None:
    parent, child = handed_over(app, tmp_path)
    client = as_user("sven")

    chain = chain_section(client.get(f"/zaken/{parent}").get_data(as_text=True))

    assert "een vervolg waar u geen toegang toe hebt" in chain
    assert f"/zaken/{child}" not in chain and ">Vervolg<" not in chain
    assert "Eerste toets" in chain
    assert client.get(f"/zaken/{child}").status_code == 404


def test_case_chain__in_english(app: Flask, as_user, tmp_path: Path) -> None:
    parent, _child = handed_over(app, tmp_path)
    client = as_user("sven")
    with client.session_transaction() as session:
        session[LANGUAGE] = "en"

    page = client.get(f"/zaken/{parent}").get_data(as_text=True)

    assert "Case history" in chain_section(page)
    assert "a follow-up you have no access to" in chain_section(page)
