"""Every page in English: no text the English catalogue knows is left in Dutch, and `<html lang>` says "en".

Each GET page of the authorization matrix is rendered for a subject allowed to see it, with English chosen. The
page's visible text (and the attributes people read: labels, titles, placeholders, the idle warning's texts) must not
contain a Dutch message from web/translations/en/LC_MESSAGES/messages.po — such a message on an English page is a
string that bypassed translation (a Dutch engine message, a `_()` missing in a template, a plural built by hand).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.web.authz_matrix import MATRIX
from tests.web.authz_world import ANONYMOUS, COOKIE, World, build_world
from tests.web.helpers import lock_version, open_task_id, page_token, start_melding
from tests.web.test_authorization_matrix import _routes, _url
from web.security import LANGUAGE

CATALOGUE = Path(__file__).resolve().parents[2] / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
#: Attributes whose text people read or hear.
READ_ATTRIBUTES = {
    "aria-label",
    "title",
    "placeholder",
    "alt",
    "data-bijna",
    "data-bijna-een",
    "data-verlopen",
    "data-fout",
    "data-knoppen",
    "data-zoom-in",
    "data-zoom-uit",
    "data-passend",
}
#: A Dutch fragment shorter than this may well be data (a name, a gemeente) rather than an untranslated message.
MIN_FRAGMENT = 14


class _Text(HTMLParser):
    """The text of a page as people get it: text nodes and the attributes they read, not scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.lang: str | None = None
        self._skip = 0
        self._dutch: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        elif self._dutch is not None and tag == self._dutch[0]:
            self._dutch = (tag, self._dutch[1] + 1)
        elif self._dutch is None and dict(attrs).get("lang") == "nl":
            # A document that is Dutch whatever the screen's language (the inzagepakket for the data subject)
            self._dutch = (tag, 1)
        if tag in ("script", "style"):
            self._skip += 1
        if self._dutch is None:
            self.parts.extend(value for name, value in attrs if name in READ_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if self._dutch is not None and tag == self._dutch[0]:
            self._dutch = (tag, self._dutch[1] - 1) if self._dutch[1] > 1 else None

    def handle_data(self, data: str) -> None:
        if not self._skip and self._dutch is None:
            self.parts.append(data)


def _dutch_fragments() -> dict[str, str]:
    """Per Dutch fragment (the static parts of a message around its placeholders): the message it comes from."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    fragments: dict[str, str] = {}
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for dutch in ids:
            if dutch in strings:  # the same in both languages ("Dashboard", "Status")
                continue
            for fragment in re.split(r"%\(\w+\)[sd]|\{\w+\}|%[sd]", dutch):
                fragment = " ".join(fragment.split())
                if len(fragment) >= MIN_FRAGMENT and not any(fragment in english for english in strings):
                    fragments[fragment] = dutch
    return fragments


@pytest.fixture(scope="module")
def world(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(web_template, tmp_path_factory.mktemp("english"))
    yield built
    built.app.extensions["zvh"].db.dispose()


def _pages(world: World) -> Iterator[tuple[str, str, str]]:
    """(route, subject, url) for every HTML page, as the first subject the matrix lets in."""
    routes = _routes(world)
    for route, rule in sorted(MATRIX.items()):
        url_rule = routes.get(route)
        if url_rule is None or not route.startswith("GET ") or url_rule.rule.startswith("/api/"):
            continue
        if not rule.check_allowed:  # slow to make (a PDF) and not a page
            continue
        targets = dict(rule.targets) or {None: rule.allowed}
        for target, allowed in targets.items():
            subjects = sorted(allowed - {ANONYMOUS}) or ([ANONYMOUS] if rule.anonymous == "allowed" else [])
            if subjects:
                yield route, subjects[0], _url(world, url_rule, target)
                break


def _english_get(world: World, subject: str, url: str) -> tuple[int, str, str]:
    client = world.app.test_client()
    signed = world.signed[subject]
    if signed.cookie is not None:
        client.set_cookie(COOKIE, signed.cookie)
    with client.session_transaction() as session:
        session[LANGUAGE] = "en"
    response = client.get(url)
    html = response.content_type.startswith("text/html")
    return response.status_code, response.content_type, response.get_data(as_text=True) if html else ""


def test_every_page__in_english__shows_no_dutch_message_from_the_catalogue(world: World) -> None:
    fragments = _dutch_fragments()
    assert len(fragments) > 300  # the catalogue was read
    pattern = re.compile("|".join(re.escape(f) for f in sorted(fragments, key=len, reverse=True)))
    problems, checked = [], 0
    for route, subject, url in _pages(world):
        status, content_type, body = _english_get(world, subject, url)
        if not content_type.startswith("text/html") or status >= 300:
            continue
        checked += 1
        parser = _Text()
        parser.feed(body)
        if parser.lang != "en":
            problems.append(f'{route} ({url} as {subject}): <html lang="{parser.lang}">')
        text = " ".join(" ".join(parser.parts).split())
        for found in sorted(set(pattern.findall(text))):
            problems.append(f"{route} ({url} as {subject}): Dutch {found!r} (from {fragments[found]!r})")
    assert checked > 40, f"only {checked} pages were rendered"
    assert not problems, "untranslated text on English pages:\n  " + "\n  ".join(problems)


def test_engine_message__shows_in_english_on_an_english_page(app: Flask, as_user: Callable[[str], FlaskClient]) -> None:
    """A stale submit is refused by the engine with a Dutch message; the English page shows its English text."""
    instance_id = start_melding(app)
    task_id = open_task_id(app, instance_id)
    client = as_user("sven")
    with client.session_transaction() as session:
        session[LANGUAGE] = "en"
    page = client.get(f"/taken/{task_id}").get_data(as_text=True)
    token = page_token(client, f"/taken/{task_id}")

    response = client.post(
        f"/taken/{task_id}",
        data={
            "csrf_token": token,
            "_actie": "afronden",
            "besluit": "afwijzen",
            "toelichting": "Mijn toelichting",
            "_lock_version": str(int(lock_version(page)) - 1),
        },
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The case changed since you opened this task" in body
    assert "gewijzigd sinds u deze taak opende" not in body
    assert "Mijn toelichting" in body
