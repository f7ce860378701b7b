"""Every text the web app shows through the translation layer has an English translation."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"


def test_english_catalogue__translates_every_message_and_is_compiled_by_make() -> None:
    with (WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    methods = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    used = {message for _, _, message, _, _ in extract_from_dir(str(WEB), methods)}
    ids = {m if isinstance(m, str) else m[0] for m in used}

    untranslated = sorted(i for i in ids if not (catalogue.get(i) and catalogue.get(i).string))

    assert untranslated == []
    assert not catalogue.fuzzy  # `pybabel compile` skips a fuzzy catalogue: English would silently be missing


#: Where the engine hands a message to people: its exceptions and `N_` (engine.i18n), message first, and the helpers
#: that raise a message they are given (its position). A SandboxViolation is a technical report for beheer and the
#: process owner, kept in English like the deployment problems.
ENGINE_KEYWORDS: dict[str, Any] = {
    **{
        name: None
        for name in (
            "N_",
            "ZvhError",
            "NotFound",
            "PermissionDenied",
            "Conflict",
            "InvalidInput",
            "ConfigurationError",
            "BackupRefused",
        )
    },
    "_require": (3,),
    "_required": (3,),
    "_reason": (2,),
}


def _engine_messages() -> list[tuple[str, int, str]]:
    engine = WEB.parent / "engine"
    found = extract_from_dir(str(engine), [("**.py", "python")], keywords=ENGINE_KEYWORDS)
    return [(file, line, message if isinstance(message, str) else message[0]) for file, line, message, _, _ in found]


def test_engine_messages__are_templates_with_an_english_translation() -> None:
    with (WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    messages = _engine_messages()
    assert len(messages) > 80
    untranslated = sorted(
        f"engine/{file}:{line}: {message}"
        for file, line, message in messages
        if not (catalogue.get(message) and catalogue.get(message).string)
    )
    assert untranslated == []


def test_engine_messages__are_never_f_strings() -> None:
    """An f-string cannot be looked up in the catalogue: placeholders go in as `%(name)s`, the values as keywords."""
    engine = WEB.parent / "engine"
    built = []
    for path in engine.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ENGINE_KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.JoinedStr)
            ):
                built.append(f"{path.relative_to(engine.parent)}:{node.lineno}")
    assert built == []
