"""The authorization matrix: every route × method × subject (each role, gemeente, participant or not) is allowed or
refused exactly as tests/web/authz_matrix.py says — checked on the server, whatever the pages show or hide."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from tests.web.authz_matrix import COORDINATORS, MATRIX, TASK_HOLDERS, Rule
from tests.web.authz_world import ANONYMOUS, COOKIE, SUBJECTS, World, build_world
from tests.web.conftest import PASSWORD

#: Values for route parameters that are not the case or task under test.
FIXED_PARAMS: dict[str, Any] = {
    "key": "melding",
    "process_key": "melding",
    "number": 1,
    "name": "beoordeling.json",
    "element_id": "Beoordelen",
    "kind": "toegewezen",
    "username": "sanne",
    "naam": "meldingen",
    "type_key": "triagetafel",  # overleg (H3): a seeded overleg type (tests/web/authz_world.py build_overleg)
}
PARAM_IDS = {
    "instance_id": "case_breda",
    "task_id": "task_case_breda",
    "user_id": "participant",
    "session_id": "session",
    "substitution_id": "substitution",
    "filter_id": "filter",
    "notification_id": "notification",
    "draft_id": "draft",
    "list_id": "destruction_list",
    "case_instance_id": "case_breda",
    # overleg (issue 14): a triagetafel with one case of its own (tests/web/authz_world.py build_overleg)
    "meeting_id": "meeting",
    "item_id": "agenda_item",
    "point_id": "action_point",
}
REDIRECTS = (301, 302, 303, 307, 308)
#: Input refused after authorization passed: the subject was let in.
INPUT_ERRORS = (400, 409, 422)
#: What every CSRF refusal says, also the task page's (which keeps what was typed).
CSRF_EXPIRED = "Het formulier was verlopen"
SIGN_IN = {"gebruikersnaam": "mila", "wachtwoord": PASSWORD}


@pytest.fixture(scope="module")
def world(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(web_template, tmp_path_factory.mktemp("matrix"))
    yield built
    built.app.extensions["zvh"].db.dispose()


def _routes(world: World) -> dict[str, UrlRule]:
    return {
        f"{method} {rule.endpoint}": rule
        for rule in world.app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }


def _refused_for_csrf(response: TestResponse) -> bool:
    """The CSRF refusal as a page, as JSON (the modeller's calls) or as the task form shown again."""
    if response.status_code != 400:
        return False
    if response.is_json:
        return bool(response.get_json().get("error") == "csrf")
    return CSRF_EXPIRED in response.get_data(as_text=True)


def outcome(response: TestResponse) -> str:
    """What a response means for authorization: allowed, login, 401, 403, 404 or something unexpected."""
    status = response.status_code
    if status in REDIRECTS:
        return "login" if urlsplit(response.headers["Location"]).path == "/inloggen" else "allowed"
    if _refused_for_csrf(response):
        return "csrf"
    if status < 300 or status in INPUT_ERRORS:
        return "allowed"
    if status in (401, 403, 404):
        return str(status)
    return f"unexpected {status}"


def expected(rule: Rule, subject: str, target: str | None, allowed: frozenset[str]) -> str:
    if subject == ANONYMOUS:
        return rule.anonymous
    if subject in allowed:
        return "allowed"
    return "403" if subject in rule.forbidden.get(target, ()) else str(rule.denied)


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return str(ids[value[1:-1]])
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _url(world: World, url_rule: UrlRule, target: str | None) -> str:
    values: dict[str, Any] = {}
    for name in url_rule.arguments:
        if name in FIXED_PARAMS:
            values[name] = FIXED_PARAMS[name]
        elif name in ("instance_id", "task_id") and target is not None:
            values[name] = world.ids[target]
        elif name in PARAM_IDS:
            values[name] = world.ids[PARAM_IDS[name]]
        else:
            raise AssertionError(
                f"no value for route parameter <{name}> of {url_rule.rule}: build the object in "
                "tests/web/authz_world.py and name it in PARAM_IDS (or FIXED_PARAMS)"
            )
    adapter = world.app.url_map.bind("localhost")
    return adapter.build(url_rule.endpoint, values, method=sorted(url_rule.methods or ())[0])


def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = set(_routes(world))
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, (
        "routes without an entry in tests/web/authz_matrix.py (say who may use them):\n  " + "\n  ".join(missing)
    )
    assert not stale, "entries in tests/web/authz_matrix.py for routes that no longer exist:\n  " + "\n  ".join(stale)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_allows_exactly_whom_the_matrix_says(world: World, route: str) -> None:
    url_rule = _routes(world).get(route)
    if url_rule is None:
        pytest.skip(f"{route} is not a route (test_every_route_is_in_the_matrix reports it)")
    rule = MATRIX[route]
    method = route.split(" ", 1)[0]
    is_api = url_rule.rule.startswith("/api/")
    targets: dict[str | None, frozenset[str]] = dict(rule.targets) or {None: rule.allowed}
    mismatches = []
    dirty = True
    for target, allowed in targets.items():
        url = _url(world, url_rule, target)
        body = _fill(rule.body, world.ids)
        for subject in (ANONYMOUS, *SUBJECTS):
            if not rule.check_allowed and subject in allowed:
                continue
            if method == "POST" and dirty:  # a refused request changed nothing (its transaction rolled back)
                world.restore()
            response = world.request(subject, method, url, data=body, api=is_api)
            want, got = expected(rule, subject, target, allowed), outcome(response)
            dirty = method == "POST" and got not in ("401", "403", "404")
            if want != got:
                mismatches.append(f"{subject:<20} {method} {url}: expected {want}, got {got} ({response.status_code})")
    assert not mismatches, f"{route} ({rule.note or 'see tests/web/authz_matrix.py'}):\n  " + "\n  ".join(mismatches)


#: Which cases each subject finds under Mijn zaken: the ones they take part in (not the ones of a task in their queue).
MY_CASES = {
    "case_breda": frozenset({"melder", "deelnemer"}),
    "gm_breda": frozenset({"melder", "procesregisseur"}),
    "gm_zundert": frozenset({"melder"}),
}


def _listed(page: str, prefix: str, ids: dict[str, Any], names: Iterable[str]) -> set[str]:
    return {name for name in names if re.search(rf'href="{prefix}{ids[name]}"', page)}


def test_lists_show_only_what_the_subject_may_see(world: World) -> None:
    """The inbox (also its team tab, asked for by anyone), Mijn zaken and the API's task list, per subject."""
    mismatches = []
    for subject in SUBJECTS:
        team = subject in COORDINATORS
        holds = {name for name, holders in TASK_HOLDERS.items() if subject in holders or team}
        inbox = world.request(subject, "GET", "/taken?tab=team&per_page=100").get_data(as_text=True)
        # a row links its task, or (a manager's team view: rows to reassign, cases opened from the Bewaking) ticks it
        shown = _listed(inbox, "/taken/", world.ids, TASK_HOLDERS) | {
            name for name in TASK_HOLDERS if f'name="taak" value="{world.ids[name]}"' in inbox
        }
        if shown != holds:
            mismatches.append(f"{subject:<20} /taken?tab=team lists {sorted(shown)}, expected {sorted(holds)}")
        api = world.request(subject, "GET", "/api/v1/tasks?per_page=100", api=True).get_json()
        found = {name for name in TASK_HOLDERS if world.ids[name] in {task["id"] for task in api["tasks"]}}
        mine = {name for name, holders in TASK_HOLDERS.items() if subject in holders}
        if found != mine:
            mismatches.append(f"{subject:<20} /api/v1/tasks lists {sorted(found)}, expected {sorted(mine)}")
        cases = world.request(subject, "GET", "/zaken").get_data(as_text=True)
        listed = _listed(cases, "/zaken/", world.ids, MY_CASES)
        expected_cases = {name for name, viewers in MY_CASES.items() if subject in viewers}
        if listed != expected_cases:
            mismatches.append(f"{subject:<20} /zaken lists {sorted(listed)}, expected {sorted(expected_cases)}")
    assert not mismatches, "lists show more or less than need-to-know allows:\n  " + "\n  ".join(mismatches)


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example/", "/\\/evil.example/", "https://evil.example/"]
)
def test_redirect_targets_stay_on_this_site(world: World, target: str) -> None:
    """After signing in or choosing a language, a `next`/`terug` naming another site (browsers read `/\\` as
    `//`) goes to the inbox instead."""
    signed_in = world.request(ANONYMOUS, "POST", "/inloggen", data={**SIGN_IN, "next": target})
    language = world.request("melder", "POST", "/taal", data={"taal": "nl", "terug": target})
    world.restore()

    assert signed_in.headers["Location"] == "/taken"
    assert language.headers["Location"] == "/taken"


def test_every_form_post_needs_a_csrf_token(world: World) -> None:
    """Each POST route outside the API refuses a request without a CSRF token before doing anything."""
    unguarded = []
    for route, url_rule in sorted(_routes(world).items()):
        if not route.startswith("POST ") or url_rule.rule.startswith("/api/") or route not in MATRIX:
            continue
        rule = MATRIX[route]
        url = _url(world, url_rule, next(iter(rule.targets), None))
        response = world.request("melder", "POST", url, data=_fill(rule.body, world.ids), csrf=False)
        if not _refused_for_csrf(response):
            unguarded.append(f"{route}: {response.status_code}")
            world.restore()
    assert not unguarded, "POST routes that work without a CSRF token:\n  " + "\n  ".join(unguarded)


def test_the_api_takes_no_session_cookie(world: World) -> None:
    """A signed-in browser session is no API credential: without a bearer token the API answers 401."""
    client = world.app.test_client()
    client.set_cookie(COOKIE, world.signed["screener"].cookie or "")

    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get(f"/api/v1/instances/{world.ids['case_breda']}").status_code == 401
