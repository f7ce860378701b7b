"""Task instructions: a Markdown template over process data, rendered without code and without HTML injection.

The template comes from the process model, so it gets the same treatment as a script: it is rendered in
the evaluation process under a time and memory budget (`engine.evaluator`), and anything that goes wrong
(a syntax error, `{{ 1/0 }}`, a nested `range` loop, a page of gigabytes) shows a short notice in place of
the instructions instead of failing the task page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import nh3
from flask_babel import gettext as _
from jinja2 import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine.errors import SandboxViolation
from engine.evaluator import run_budgeted
from web.filters import local_datetime

TIME_BUDGET = 1.0
MEMORY_BUDGET_MB = 64
MAX_OUTPUT_CHARACTERS = 100_000

#: What Markdown reads as markup; a placeholder's value gets each one backslash-escaped, so it stays text.
_MARKDOWN_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def dutch_dates(value: Any) -> Any:
    """Dates and moments in process data as the page writes them (`02-03-2026`, `02-03-2026 09:00`), never ISO."""
    if isinstance(value, dict):
        return {key: dutch_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dutch_dates(item) for item in value]
    if isinstance(value, str):  # process data holds ISO text; date objects (a template's own) keep their methods
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value).strftime("%d-%m-%Y")
            except ValueError:
                return value
        if _ISO_MOMENT.fullmatch(value):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return local_datetime(moment) if moment.tzinfo else moment.strftime("%d-%m-%Y %H:%M")
    return value


def _as_text(value: Any) -> str:
    """A placeholder's value as literal Markdown text: data filled in by a form never becomes a link or emphasis."""
    return _MARKDOWN_MARKUP.sub(r"\\\1", str(value))


# Placeholders only see plain data and cannot call anything unsafe, and their values are Markdown-escaped; HTML
# written in the text is not rendered (html=False) and the result is sanitized once more before it reaches the page.
_TEMPLATES = ImmutableSandboxedEnvironment(autoescape=False, finalize=_as_text)
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
_ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "a", "hr"}


@lru_cache(maxsize=256)
def _compiled(template: str) -> Template:
    return _TEMPLATES.from_string(template)


def _render(template: str, data: dict[str, Any]) -> str:
    """Render in the evaluation process; the (cached) compiled template stays there."""
    text = _compiled(template).render(**data)
    if len(text) > MAX_OUTPUT_CHARACTERS:
        raise SandboxViolation(f"Instructions are longer than {MAX_OUTPUT_CHARACTERS} characters.")
    return text


def render_instructions(template: str | None, data: Mapping[str, Any]) -> Markup | None:
    """The instructions of a task as safe HTML, or None when it has none."""
    if not template or not template.strip():
        return None
    plain = {key: dutch_dates(value) for key, value in data.items() if not key.startswith("_")}
    try:
        text = run_budgeted(_render, (template, plain), time_budget=TIME_BUDGET, memory_budget_mb=MEMORY_BUDGET_MB)
    except Exception:  # whatever the template did, the task page must still open
        return Markup("<p><em>{}</em></p>").format(
            _("De instructies bij deze taak konden niet worden getoond. Meld dit bij de beheerder van het proces.")
        )
    html = _MARKDOWN.render(text)
    sanitized = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "mailto"})
    return Markup(sanitized)  # noqa: S704 - sanitized by nh3 just above
