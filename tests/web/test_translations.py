"""Every text the web app shows through the translation layer has an English translation."""

from __future__ import annotations

from pathlib import Path

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
