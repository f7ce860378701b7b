"""Translating the engine's messages without the engine knowing about requests or Flask.

The engine writes its messages in Dutch (the catalogue's source language). Whoever shows a message to a person
installs a translator for the language of that moment — web/ installs flask_babel's — and `translated` uses it; without
one (the CLI, background jobs) a message stays Dutch. `N_` marks a message for the catalogue where it is defined but
translated later, when shown (report titles, labels in tables of definitions).
"""

from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str], str] = str


def install_translator(translator: Callable[[str], str]) -> None:
    """Translate every message from now on with `translator` (msgid → text in the current language)."""
    global _translator
    _translator = translator


def translated(message: str, **params: object) -> str:
    """`message` in the current language, its `%(name)s` placeholders filled from `params`."""
    text = _translator(message)
    return text % params if params else text


def N_(message: str) -> str:
    """Mark `message` for the catalogue; it is translated where it is shown (`translated`)."""
    return message
