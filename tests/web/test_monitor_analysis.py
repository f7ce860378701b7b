"""Heat map, waiting list and throughput pages: managers and coordinators only, figures as charts and tables."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from engine.clock import FixedClock
from tests.web.conftest import login
from tests.web.helpers import start_melding
from tests.web.test_cases import complete_beoordeling

PAGES = [
    "/bewaking/processen/melding/heatmap",
    "/bewaking/processen/melding/heatmap.json",
    "/bewaking/processen/melding/stap/Beoordelen",
    "/bewaking/processen/melding/doorstroom",
]


def test_heatmap__manager_sees_waiting_cases_per_step(app: Flask, as_user, clock: FixedClock) -> None:
    start_melding(app)
    start_melding(app)
    clock.advance(timedelta(hours=5))
    client = as_user("mariska")

    response = client.get("/bewaking/processen/melding/heatmap")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'src="/static/build/heatmap.js"' in page and "<script>" not in page, "no inline script (CSP)"
    assert 'data-bron="/bewaking/processen/melding/heatmap.json"' in page
    assert 'aria-describedby="heat-tabel"' in page and 'id="heat-tabel"' in page, "the table is the fallback"
    row = re.search(r'<tr class="utrecht-table__row" data-stap="Beoordelen">(.*?)</tr>', page, re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[:2] == ["2", "5 uur"], "two cases, waiting five hours (median)"
    assert 'href="/bewaking/processen/melding/stap/Beoordelen"' in row.group(1)


def test_heatmap_json__diagram_and_heat_per_element(app: Flask, as_user, clock: FixedClock) -> None:
    start_melding(app)
    clock.advance(timedelta(days=3))
    client = as_user("coen")

    data = client.get("/bewaking/processen/melding/heatmap.json").get_json()

    assert data["process_key"] == "melding" and data["version"] == 1
    assert data["xml"].lstrip().startswith("<?xml")
    step = data["elements"]["Beoordelen"]
    assert step["waiting"] == 1 and step["median_wait"] == 3 * 86400 and step["median_label"] == "3 dagen"
    assert step["band"] == "ok" and step["norm"] is None, "the test process has no norms"
    assert step["url"] == "/bewaking/processen/melding/stap/Beoordelen"
    assert set(step) >= {"name", "stalled", "band_label", "past_half"}


def test_waiting__lists_the_cases_with_links_to_them(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    client = as_user("mariska")

    page = client.get("/bewaking/processen/melding/stap/Beoordelen").get_data(as_text=True)

    assert "Beoordeel de melding" in page
    assert f'href="/zaken/{instance_id}">ZVH-2026-00001</a>' in page
    assert ">Screener<" in page, "nobody claimed it: the role's queue holds it (named as people know it)"


def test_throughput__charts_with_a_table_fallback(app: Flask, as_user) -> None:
    instance_id = start_melding(app)
    complete_beoordeling(app, instance_id)
    client = as_user("mariska")

    page = client.get("/bewaking/processen/melding/doorstroom").get_data(as_text=True)

    for chart, table in [("grafiek-maanden", "tabel-maanden"), ("grafiek-stappen", "tabel-stappen")]:
        svg = re.search(rf'<svg [^>]*id="{chart}"[^>]*>', page)
        assert svg, chart
        assert 'role="img"' in svg.group(0) and f'aria-describedby="{table}"' in svg.group(0)
        assert f'<title id="{chart}-titel">' in page and f'id="{table}"' in page
    row = re.search(r'scope="row">mrt\.? 2026</th>(.*?)</tr>', page, re.S)
    assert row, page
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["1", "0", "1"], "started, finished, running"
    assert "Beoordeel de melding" in page, "the step's lead time"


@pytest.mark.parametrize("path", PAGES)
def test_analysis__refused_to_other_roles(app: Flask, as_user, path: str) -> None:
    client = as_user("sven")

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_analysis__unknown_process_is_not_found(app: Flask, as_user, path: str) -> None:
    client = as_user("mariska")

    assert client.get(path.replace("melding", "bestaat_niet", 1)).status_code == 404


def test_analysis__needs_a_signed_in_user(app: Flask) -> None:
    client = app.test_client()

    response = client.get(PAGES[0])

    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]


def test_analysis__english_labels(app: Flask, clock: FixedClock) -> None:
    start_melding(app)
    clock.advance(timedelta(hours=3))
    client = app.test_client()
    login(client, "mariska")
    with client.session_transaction() as session:
        session["taal"] = "en"

    data = client.get("/bewaking/processen/melding/heatmap.json").get_json()

    assert data["elements"]["Beoordelen"]["median_label"] == "3 h"
    assert data["elements"]["Beoordelen"]["band_label"] == "no norm", "the test process has no norms"
