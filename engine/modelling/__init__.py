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


# The services below import `require_process_owner` from this module, so they are imported after it is defined.
from engine.modelling.compare import Comparison, ElementChange, compare_draft, compare_files, compare_versions  # noqa: E402
from engine.modelling.drafts import (  # noqa: E402
    ManagedProcess,
    discard_draft,
    get_draft,
    import_draft,
    managed_processes,
    open_drafts,
    save_draft,
    start_draft,
    validate_xml,
    version_by_number,
    versions,
)
from engine.modelling.impact import ElementImpact, impact  # noqa: E402
from engine.modelling.migrate import MigrationStep, instances_waiting_at, migrate_instances  # noqa: E402
from engine.modelling.publish import (  # noqa: E402
    PublishOutcome,
    approve_draft,
    four_eyes_setting,
    reject_draft,
    set_four_eyes,
    submit_draft,
)

__all__ = [
    "PROCESS_OWNER",
    "Comparison",
    "ElementChange",
    "ElementImpact",
    "ManagedProcess",
    "MigrationStep",
    "PublishOutcome",
    "approve_draft",
    "compare_draft",
    "compare_files",
    "compare_versions",
    "discard_draft",
    "four_eyes_setting",
    "get_draft",
    "impact",
    "import_draft",
    "instances_waiting_at",
    "managed_processes",
    "migrate_instances",
    "open_drafts",
    "reject_draft",
    "require_process_owner",
    "save_draft",
    "set_four_eyes",
    "start_draft",
    "submit_draft",
    "validate_xml",
    "version_by_number",
    "versions",
]
