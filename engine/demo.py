"""Demo set-up for `make run`: the ZVH processes deployed and one invented person per role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.errors import NotFound, PermissionDenied
from engine.inbox import COORDINATOR_ROLES
from engine.models import AuditEvent, User
from engine.privacy.organisations import DEFAULT_SCOPES, GEMEENTEN
from engine.registry import Deployment, deploy_file, list_processes, load_version
from engine.twofactor import enrol_now, has_second_factor, next_unused_code, second_factor_required, stored_secret
from engine.users import create_user, get_user

#: Shown by `zvh init --demo`; demo accounts exist only in a demo database.
DEMO_PASSWORD = "zvh-demo-wachtwoord"  # noqa: S105 - a published demo password, never used outside demo data

#: The roles of ZVH De Baronie (lane name -> role key, see `engine.spiff.role_key`) with an invented demo person
#: for each; no real person is meant. Every lane in processes/ must name one of these roles.
DEMO_PEOPLE = {
    "melder": "Mila Melder",
    "screener": "Sven Screener",
    "triagetafel": "Tara Triage",
    "ketenpartner": "Kees Ketenpartner",
    "procesregisseur": "Pim Regisseur",
    "casusregisseur": "Cas de Regie",
    "expert_radicalisering": "Evi Expert",
    "weegploeg": "Wim Weegploeg",
    "lokale_driehoek": "Lotte Driehoek",
    "re_integratiecoordinator": "Ruud Re-integratie",
    "dji": "Dirk Justitieel",
    "reclassering": "Rosa Reclassering",
    "gemeente": "Gijs Gemeente",
    "burgemeester": "Bram Burgemeester",
    "om": "Olga Officier",
    "politie": "Piet Politie",
    "zorgcoordinator": "Zoë Zorgcoördinator",
    "opvang": "Otto Opvang",
    "privacyfunctionaris": "Pien Privacy",
    "manager": "Mariska Manager",
    "coordinator": "Coen Coördinator",
    "beheerder": "Bea Beheer",
    "procesbeheerder": "Paul Procesbeheer",
    "onafhankelijk_voorzitter": "Olivier Voorzitter",
    "adviseur": "Ada Adviseur",
    "secretariaat": "Sanne Secretariaat",
}
SYSTEM_ROLES = frozenset({*COORDINATOR_ROLES, "beheerder", "procesbeheerder", "secretariaat"})
#: The organisation each demo role works for (others: the ZVH itself).
DEMO_ORGANISATIONS = {
    "melder": "politie",
    "ketenpartner": "politie",
    "casusregisseur": "ggz",
    "expert_radicalisering": "gemeente",
    "lokale_driehoek": "gemeente",
    "dji": "dji",
    "reclassering": "reclassering",
    "gemeente": "gemeente",
    "burgemeester": "gemeente",
    "om": "om",
    "politie": "politie",
    "opvang": "opvang",
}
#: A gemeente's own people work for that gemeente only; partners' demo people cover the whole district.
DEMO_OWN_GEMEENTE = {"gemeente": "breda", "burgemeester": "breda", "expert_radicalisering": "breda"}
#: Demo people beyond one per role: publishing with four eyes needs a second process owner, and need-to-know
#: between gemeenten shows with a gemeente user of Zundert beside the one of Breda.
SECOND_DEMO_PEOPLE = {
    "demo.procesbeheerder2": ("Petra Procesbeheer", "procesbeheerder", "zvh", ()),
    "demo.gemeente.zundert": ("Zara Zundert", "gemeente", "gemeente", ("zundert",)),
    # A partner's coordinator runs the partner's own overleg (Veilig Thuis: huiselijk geweld) in ZVH Regie.
    "demo.coordinator.veiligthuis": ("Vera Veilig", "coordinator", "veilig_thuis", ()),
}


def deploy_directory(session: Session, folder: Path, *, actor: str, forms: Path) -> list[Deployment]:
    """Deploy every BPMN file in `folder` (forms looked up beside each file, then in `forms`)."""
    return [deploy_file(session, path, actor=actor, search_paths=[forms]) for path in sorted(folder.glob("*.bpmn"))]


def roles_in_use(session: Session) -> set[str]:
    """Every role named by a lane of a deployed process, plus the system roles."""
    roles = set(SYSTEM_ROLES)
    for version in list_processes(session):
        roles |= load_version(version).roles
    return roles


def _demo_gemeenten(role: str) -> tuple[str, ...]:
    if role in DEMO_OWN_GEMEENTE:
        return (DEMO_OWN_GEMEENTE[role],)
    return tuple(GEMEENTEN) if role in DEFAULT_SCOPES else ()


def create_demo_users(session: Session, roles: set[str]) -> list[User]:
    """One demo user per role that has none yet; returns the users created."""
    existing = {u.username for u in session.scalars(select(User))}
    created = []
    for role in sorted(roles):
        username = f"demo.{role}"[:64]
        if username in existing:
            continue
        created.append(
            create_user(
                session,
                username=username,
                display_name=DEMO_PEOPLE.get(role, f"Demo {role.replace('_', ' ')}"),
                roles=[role],
                password=DEMO_PASSWORD,
                organisation=DEMO_ORGANISATIONS.get(role, "zvh"),
                gemeenten=_demo_gemeenten(role),
            )
        )
    for username, (display, role, organisation, gemeenten) in SECOND_DEMO_PEOPLE.items():
        if role in roles and username not in existing:
            created.append(
                create_user(
                    session,
                    username=username,
                    display_name=display,
                    roles=[role],
                    password=DEMO_PASSWORD,
                    organisation=organisation,
                    gemeenten=gemeenten,
                )
            )
    return created


#: The audit entry that marks a demo database (`zvh init --demo`); audit entries cannot be deleted, so a database
#: once filled with demo accounts and their published password stays recognisable as one.
DEMO_MARK = "demo_init"


def is_demo_database(session: Session) -> bool:
    """Whether `zvh init --demo` set this database up."""
    return session.scalar(select(AuditEvent.id).where(AuditEvent.action == DEMO_MARK).limit(1)) is not None


def mark_demo_database(session: Session, *, at: datetime) -> None:
    """Record that this is a demo database (once)."""
    if not is_demo_database(session):
        record(session, actor="zvh-init", action=DEMO_MARK, at=at, summary="Set up as a demo database")


def enrol_demo_second_factors(session: Session, *, at: datetime) -> dict[str, str]:
    """The TOTP secrets (base32) of the demo users whose role needs one, by username: set up now where missing,
    the existing ones again (`make run` runs `zvh init --demo` every time and should say them every time)."""
    users = session.scalars(select(User).where(User.username.startswith("demo.")).order_by(User.username))
    return {
        user.username: stored_secret(session, user) if has_second_factor(user) else enrol_now(session, user=user, at=at)
        for user in users
        if second_factor_required(user)
    }


def demo_code(session: Session, *, username: str, at: datetime) -> str:
    """The code a demo user can sign in with now (one not used yet); refused outside a demo database."""
    if not is_demo_database(session):
        raise PermissionDenied("Codes worden alleen gegeven voor demodatabases (gemaakt met `zvh init --demo`).")
    user = get_user(session, username)
    if not has_second_factor(user):
        raise NotFound("%(naam)s heeft geen authenticator-app.", naam=username)
    return next_unused_code(session, user=user, at=at)
