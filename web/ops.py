"""Operations endpoints: liveness, readiness and Prometheus metrics, plus the request metrics of every route.

`/healthz` and `/readyz` answer anyone (they say nothing but "ok" or which check failed). `/metrics` answers only a
direct connection from loopback or from a network in ZVH_METRICS_NETWORKS; everyone else gets the 404 of a page
that does not exist. A request that came through a reverse proxy (it carries X-Forwarded-For or Forwarded) is
refused even when the proxy runs on loopback, so a proxy that passes /metrics on does not make it public.
"""

from __future__ import annotations

import ipaddress
from functools import cache

import redis
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from engine.ops import health, metrics
from web.security import request_seconds
from web.services import services

bp = Blueprint("ops", __name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Where a scrape may come from when ZVH_METRICS_NETWORKS names nothing else.
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NETWORKS = "ZVH_METRICS_NETWORKS"


def parse_networks(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """Loopback plus the CIDRs given; a malformed one stops the app at start rather than be ignored."""
    try:
        return LOOPBACK + tuple(ipaddress.ip_network(value, strict=False) for value in values)
    except ValueError as error:
        raise ValueError(f"ZVH_METRICS_NETWORKS: {error}") from error


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers (no database, no Redis)."""
    return _no_store(jsonify(status=health.OK))


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: database reachable, migrations at head, Redis reachable when configured (503 otherwise)."""
    outcome = health.check(services().db.engine, current_app.config["ZVH_REDIS_URL"])
    response = jsonify(outcome.as_dict())
    response.status_code = 200 if outcome.ready else 503
    return _no_store(response)


@bp.get("/metrics")
def prometheus() -> Response:
    """The Prometheus text format, for loopback and the configured scrape networks only."""
    if not _may_scrape():
        abort(404)
    body = metrics.exposition(_sources())
    return _no_store(Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE))


def _may_scrape() -> bool:
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    # The peer of the connection itself, also when ProxyFix rewrote REMOTE_ADDR from a forwarded header.
    original = request.environ.get("werkzeug.proxy_fix.orig", {})
    peer = original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in current_app.config[_NETWORKS])


def _sources() -> metrics.Sources:
    zvh = services()
    redis_url = current_app.config["ZVH_REDIS_URL"]
    return metrics.Sources(
        session=zvh.db.reader, now=zvh.runtime.clock.now, queue=_queue(redis_url) if redis_url else None
    )


@cache
def _queue(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=health.CHECK_TIMEOUT, socket_connect_timeout=health.CHECK_TIMEOUT)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _count_request(response: Response) -> Response:
    seconds = request_seconds()
    if seconds is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "(geen route)"
        metrics.observe_request(route=rule, method=request.method, status=response.status_code, seconds=seconds)
    return response


def init_app(app: Flask) -> None:
    """Register the endpoints and count every request; call it before the other hooks are registered (its
    after-request hook then runs last), so the figure covers the whole app (the clock is web.security's)."""
    app.config[_NETWORKS] = parse_networks(list(app.config[_NETWORKS]))
    app.after_request(_count_request)
    app.register_blueprint(bp)
