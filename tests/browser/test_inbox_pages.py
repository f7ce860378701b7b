"""A screener's inbox with more than a thousand open tasks in a real browser: the count says "meer dan 1.000", and
the next, previous and first-page links walk the pages by cursor, keeping the order chosen."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from engine.models import HumanTask
from engine.users import get_user
from tests.browser.conftest import ClockedServer, assert_accessible
from tests.browser.test_referral import sign_in
from tests.processes.test_aanmelding_triage import AANMELDING

COPIES = 1060


@pytest.fixture(scope="module")
def browser_context_args(clocked_server: ClockedServer) -> dict[str, Any]:
    return {"base_url": clocked_server.url}


def fill_the_screeners_queue(server: ClockedServer) -> None:
    """One real referral, and 1,060 more open completeness checks: copies of its inbox row, which is all the inbox
    reads (filling the queue through the engine would take minutes)."""
    services = server.app.extensions["zvh"]
    with services.db.transaction() as session:
        melder = get_user(session, "demo.melder")
        outcome = services.runtime.start_instance(
            session, process_key="aanmelding_triage", actor=melder, data=AANMELDING
        )
    with services.db.reader() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == outcome.instance.id)).one()
        row = {column.key: getattr(task, column.key) for column in HumanTask.__table__.columns}
    copies = [{**row, "id": str(uuid.uuid4()), "case_number": f"ZVH-2025-{n:05d}"} for n in range(COPIES)]
    with services.db.engine.begin() as connection:
        connection.execute(insert(HumanTask), copies)


def case_numbers(page: Page) -> list[str]:
    return list(dict.fromkeys(re.findall(r"ZVH-\d{4}-\d{5}", page.locator("#inbox-tabel tbody").inner_text())))


def test_inbox__over_a_thousand_tasks_counted_as_1000_plus_and_paged_by_cursor(
    page: Page, clocked_server: ClockedServer, screenshots: Path
) -> None:
    fill_the_screeners_queue(clocked_server)
    sign_in(page, "demo.screener")
    page.goto("/taken?sort=case")

    expect(page.get_by_role("status").filter(has_text="taken")).to_contain_text("Meer dan 1.000 taken")
    expect(page.locator("a[aria-current=page] .utrecht-badge-counter")).to_have_text("1.000+")
    first = case_numbers(page)
    assert first[:2] == ["ZVH-2025-00000", "ZVH-2025-00001"] and len(set(first)) == 50
    expect(page.get_by_role("link", name="Vorige")).to_have_count(0)

    page.get_by_role("link", name="Volgende").click()
    expect(page).to_have_url(re.compile(r"after=.*sort=case|sort=case.*after="))
    second = case_numbers(page)
    assert second[0] == "ZVH-2025-00050" and not set(second) & set(first)
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "inbox-pagina-2.png"), full_page=True)

    page.get_by_role("link", name="Vorige").click()
    assert case_numbers(page) == first
    page.get_by_role("link", name="Volgende").click()
    page.get_by_role("link", name="Volgende").click()
    assert case_numbers(page)[0] == "ZVH-2025-00100"
    page.get_by_role("link", name="Eerste pagina").click()
    assert case_numbers(page) == first
