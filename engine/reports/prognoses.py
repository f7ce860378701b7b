"""Prognoses per activity theme and year, entered by a manager; every change is in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import InvalidInput, PermissionDenied
from engine.i18n import N_
from engine.models import ReportPrognosis, User
from engine.reports.definitions import THEMES_BY_KEY

REPORT_ROLES = frozenset({"manager"})
_MAX = 1_000_000  # the message below says it in words


def may_see_reports(user: User) -> bool:
    """Managers see the management reports."""
    return bool(user.role_keys & REPORT_ROLES)


def require_reports(user: User) -> None:
    """Refuse anyone but a manager (every report route and command checks this on the server)."""
    if not may_see_reports(user):
        raise PermissionDenied("De managementrapportages zijn alleen voor managers.")


def _parse(theme: str, raw: object) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) > _MAX:
        raise ValueError(N_("Vul een geheel aantal in, van 0 tot en met 1.000.000."))
    return int(text)


def set_prognoses(session: Session, *, year: int, values: Mapping[str, object], actor: User, at: datetime) -> int:
    """Store the prognoses for `year` (an empty value removes one); returns how many changed.

    All values are checked first: one wrong value refuses the whole form and stores nothing.
    """
    require_reports(actor)
    if not 2000 <= year <= 2100:
        raise InvalidInput("Kies een jaar tussen 2000 en 2100.", {"jaar": ["Kies een jaar tussen 2000 en 2100."]})
    errors: dict[str, list[str]] = {}
    parsed: dict[str, int | None] = {}
    for theme, raw in values.items():
        if theme not in THEMES_BY_KEY:
            errors[theme] = [f"Onbekend thema '{theme}'."]
            continue
        try:
            parsed[theme] = _parse(theme, raw)
        except ValueError as error:
            errors[theme] = [str(error)]
    if errors:
        raise InvalidInput("Niet alle prognoses zijn geldig; er is niets opgeslagen.", errors)
    changed: dict[str, tuple[int | None, int | None]] = {}
    for theme, value in parsed.items():
        stored = session.get(ReportPrognosis, (year, theme))
        before = stored.waarde if stored else None
        if before == value:
            continue
        if value is None and stored is not None:
            session.delete(stored)
        elif stored is not None and value is not None:
            stored.waarde, stored.set_by_id, stored.set_at = value, actor.id, at
        elif value is not None:
            session.add(ReportPrognosis(jaar=year, thema=theme, waarde=value, set_by_id=actor.id, set_at=at))
        changed[theme] = (before, value)
    if changed:
        record(
            session,
            actor=actor.username,
            action="prognosis",
            at=at,
            summary=f"Prognoses {year} changed: {', '.join(sorted(changed))}",
            details={"jaar": year, "changes": {k: {"from": b, "to": a} for k, (b, a) in changed.items()}},
        )
    return len(changed)
