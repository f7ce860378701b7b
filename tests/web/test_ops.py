"""Liveness, readiness and metrics: /healthz, /readyz and /metrics (loopback and the scrape networks only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.services import Redis, free_port
from tests.web.conftest import login
from tests.web.helpers import open_task_id, page_token, start_melding
from web import create_app


def sample(client: FlaskClient, name: str, **labels: str) -> float:
    """The value of one sample on /metrics (0 when it is not there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for found in family.samples:
            if found.name == name and all(found.labels.get(key) == value for key, value in labels.items()):
                return float(found.value)
    return 0.0


def test_healthz__answers_ok_without_a_session(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz__database_and_migrations_ok_without_redis(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
    }


def test_readyz__a_database_behind_the_code_is_not_ready_one_ahead_is(app: Flask, client: FlaskClient) -> None:
    engine = app.extensions["zvh"].db.engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0011'"))
    behind = client.get("/readyz")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_next_release'"))
    ahead = client.get("/readyz")

    assert behind.status_code == 503
    assert behind.get_json()["status"] == "fail"
    assert behind.get_json()["checks"]["migrations"].startswith("fail: database at 0011")
    assert ahead.status_code == 200, "during a rolling upgrade the old release keeps serving a migrated database"
    assert ahead.get_json()["checks"]["migrations"] == "ok: database at newer revision 9999_next_release"


@pytest.mark.celery
def test_readyz__redis_reachable_or_not(web_template: Path, tmp_path: Path, redis_server: Redis) -> None:
    def readiness(redis_url: str) -> tuple[int, dict[str, str]]:
        app = create_app({"TESTING": True, "ZVH_DATABASE_URL": f"sqlite:///{web_template}", "ZVH_REDIS_URL": redis_url})
        response = app.test_client().get("/readyz")
        return response.status_code, response.get_json()["checks"]

    assert readiness(redis_server.url) == (200, {"database": "ok", "migrations": "ok", "redis": "ok"})
    status, checks = readiness(f"redis://127.0.0.1:{free_port()}/0")
    assert status == 503
    assert checks["redis"] == "fail: ConnectionError"
    assert checks["database"] == "ok"


@pytest.mark.postgres
def test_readyz__an_unreachable_database_is_not_ready(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/zvh"
    app = create_app({"TESTING": True, "ZVH_DATABASE_URL": url})

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": "fail: OperationalError",
        "migrations": "fail: unknown",
        "redis": "not configured",
    }


def test_metrics__requests_completions_and_stored_state(app: Flask, client: FlaskClient) -> None:
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    completions = sample(client, "zvh_task_completions_total", process="melding")
    pages = sample(client, "zvh_http_requests_total", route="/taken/<task_id>", method="GET", status="200")
    login(client, "sven")
    token = page_token(client, f"/taken/{task_id}")
    refused = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "x"})
    assert refused.status_code == 422
    assert sample(client, "zvh_task_completions_total", process="melding") == completions, "nothing was stored"

    done = client.post(f"/taken/{task_id}", data={"csrf_token": token, "_actie": "afronden", "besluit": "oppakken"})

    assert done.status_code in (302, 303)
    assert sample(client, "zvh_task_completions_total", process="melding") == completions + 1
    assert sample(client, "zvh_http_requests_total", route="/taken/<task_id>", method="GET", status="200") == pages + 1
    assert sample(client, "zvh_http_request_duration_seconds_count", route="/taken/<task_id>", method="POST") >= 2
    assert sample(client, "zvh_instances", status="running") == 1
    assert sample(client, "zvh_open_tasks") == 1, "the next task of the melding"
    assert sample(client, "zvh_monitor_items", category="stalled") == 0
    body = client.get("/metrics").get_data(as_text=True)
    assert "zvh_job_queue_length" not in body, "no queue without Redis"
    assert "ZVH-2026" not in body and "Sven" not in body, "labels are routes and process keys, never case data"


def test_metrics__unknown_paths_count_under_one_label(client: FlaskClient) -> None:
    before = sample(client, "zvh_http_requests_total", route="(geen route)", method="GET", status="404")

    assert client.get("/bestaat-niet").status_code == 404
    assert client.get("/ook/niet/ZVH-2026-00001").status_code == 404

    assert sample(client, "zvh_http_requests_total", route="(geen route)", method="GET", status="404") == before + 2
    assert "/bestaat-niet" not in client.get("/metrics").get_data(as_text=True), "no label per unknown path"


@pytest.mark.parametrize(
    ("peer", "headers", "networks", "status"),
    [
        ("127.0.0.1", {}, (), 200),
        ("203.0.113.7", {}, (), 404),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.7"}, (), 404),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.7"}, (), 404),
        ("10.20.30.40", {}, ("10.20.0.0/16",), 200),
        ("10.21.30.40", {}, ("10.20.0.0/16",), 404),
        ("::1", {}, (), 200),
    ],
)
def test_metrics__only_loopback_and_the_scrape_networks(
    web_template: Path, peer: str, headers: dict[str, str], networks: tuple[str, ...], status: int
) -> None:
    app = create_app(
        {"TESTING": True, "ZVH_DATABASE_URL": f"sqlite:///{web_template}", "ZVH_METRICS_NETWORKS": networks}
    )

    response = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer})

    assert response.status_code == status
    if status == 404:
        assert "zvh_" not in response.get_data(as_text=True)


def test_metrics__behind_proxyfix_the_connection_peer_counts_not_the_forwarded_address(web_template: Path) -> None:
    app = create_app({"TESTING": True, "ZVH_DATABASE_URL": f"sqlite:///{web_template}", "ZVH_PROXY_COUNT": 1})

    spoofed = app.test_client().get(
        "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )

    assert spoofed.status_code == 404


def test_metrics__a_malformed_scrape_network_stops_the_app_at_start(web_template: Path) -> None:
    with pytest.raises(ValueError, match="ZVH_METRICS_NETWORKS"):
        create_app({"TESTING": True, "ZVH_DATABASE_URL": f"sqlite:///{web_template}", "ZVH_METRICS_NETWORKS": ["x"]})
