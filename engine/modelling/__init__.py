"""Process owners' work: drafts, comparison, impact, checked publishing with four eyes, and migration of cases."""

from __future__ import annotations

from engine.errors import NotFound
from engine.models import User

#: The role that models and publishes processes.
PROCESS_OWNER = "procesbeheerder"


def require_process_owner(user: User) -> None:
    """Only process owners know these pages exist: everyone else gets a 404, as for a case they may not see."""
    if not user.has_role(PROCESS_OWNER):
        raise NotFound("Deze pagina bestaat niet.")
