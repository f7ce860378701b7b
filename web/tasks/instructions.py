"""Task instructions: a Markdown template over process data, rendered without code and without HTML injection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nh3
from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

# Placeholders only see plain data and cannot call anything unsafe; HTML written in the text is not rendered
# (html=False) and the result is sanitized once more before it reaches the page.
_TEMPLATES = ImmutableSandboxedEnvironment(autoescape=False)
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
_ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "a", "hr"}


def render_instructions(template: str | None, data: Mapping[str, Any]) -> Markup | None:
    """The instructions of a task as safe HTML, or None when it has none."""
    if not template or not template.strip():
        return None
    try:
        text = _TEMPLATES.from_string(template).render(**{k: v for k, v in data.items() if not k.startswith("_")})
    except TemplateError:
        text = template  # show the raw text rather than failing the task page
    html = _MARKDOWN.render(text)
    sanitized = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "mailto"})
    return Markup(sanitized)  # noqa: S704 - sanitized by nh3 just above
