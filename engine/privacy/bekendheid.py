"""The bekendheidscheck: is a person known to the ZVH, and whom to contact — never what the other cases hold.

A person is found through the person index (`engine.privacy.persons`: pseudonymous keys and the cases they appear
in). The answer names, per other case, its procesregisseur (or, without one, the role the case waits for) and their
organisation; no case numbers, no case content, no BSN. A secret case (vertrouwelijkheid `geheim` or higher) counts
as known but names no one: its people are known only to its participants, so the answer points to the ZVH's
privacyfunctionaris, who can ask them. Every check is in the access log with the asker, the reason,
the person key and the outcome.

A user task asks for the check with the property `bekendheidscheck`, whose value names the data field that holds the
persons (a list of objects with `bsn`, `naam`, `geboortedatum`). The task page shows the answer per person; on
completion the engine stores `bekend_bij_zvh` and `bekendheid_contacten` in the task data itself. On a task the
lane's role authorises the check (the process model asks for it); anywhere else only `ASKING_ROLES` may ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engine.audit import record
from engine.config import Keys
from engine.db import session_keys
from engine.errors import InvalidInput, PermissionDenied
from engine.forms import is_valid_bsn, required_text
from engine.i18n import N_
from engine.models import HumanTask, Instance, InstancePerson, Participant, User, UserRole
from engine.privacy.organisations import ORGANISATIONS
from engine.privacy.persons import person_key
from engine.privacy.visibility import SECRET_LEVELS

#: The ZVH roles that may ask whether a person is known (partners ask the ZVH).
ASKING_ROLES = frozenset(
    {"screener", "triagetafel", "procesregisseur", "coordinator", "manager", "privacyfunctionaris"}
)
#: The user-task property that asks for the check; its value names the data field with the persons.
PROPERTY = "bekendheidscheck"
#: The data keys the engine fills on completion of such a task (posted values for them are ignored).
KNOWN_FIELD, CONTACTS_FIELD = "bekend_bij_zvh", "bekendheid_contacten"
#: The access-log action of a check.
ACTION = "bekendheidscheck"
#: The object type of its entries (and of a refused check).
OBJECT_TYPE = "persoon"
CONTACT_ROLE = "procesregisseur"
#: Whom a secret case names instead of its own people.
CLOSED_CASE_CONTACT_ROLE = "privacyfunctionaris"
ZVH = ORGANISATIONS["zvh"].name

_BSN_INVALID = N_("Geen geldig BSN: negen cijfers die voldoen aan de elfproef.")


@dataclass(frozen=True, order=True)
class Contact:
    """Whom to ask about another case: a person (or a role) and their organisation."""

    naam: str
    organisatie: str

    def as_dict(self) -> dict[str, str]:
        return {"naam": self.naam, "organisatie": self.organisatie}


@dataclass(frozen=True)
class KnownAnswer:
    """Whether the person is known to the ZVH (in another case) and whom to contact."""

    known: bool
    contacts: tuple[Contact, ...]
    person_key: str

    def as_dict(self) -> dict[str, Any]:
        return {"bekend": self.known, "contacten": [contact.as_dict() for contact in self.contacts]}


@dataclass(frozen=True)
class PersonAnswer:
    """The answer for one person of a task's list; `answer` is None when the entry identifies nobody."""

    naam: str
    answer: KnownAnswer | None


def may_ask(user: User) -> bool:
    """Whether `user` may do a bekendheidscheck outside a task (the Bekendheidscheck page, `zvh bekend`)."""
    return bool(user.role_keys & ASKING_ROLES)


def require_may_ask(user: User) -> None:
    """`PermissionDenied` unless `user` may ask (the caller logs the refusal: this unit of work rolls back)."""
    if not may_ask(user):
        raise PermissionDenied(
            "Alleen medewerkers van het Zorg- en Veiligheidshuis (screener, triagetafel, procesregisseur, "
            "coördinator, manager of privacyfunctionaris) mogen een bekendheidscheck doen."
        )


def check_known(
    session: Session,
    *,
    keys: Keys,
    asker: User,
    reason: str,
    bsn: str | None = None,
    name: str | None = None,
    birth_date: str | None = None,
    exclude_case: str | None = None,
    at: datetime,
) -> KnownAnswer:
    """Whether the person (by BSN, or name and birth date) is known in a case other than `exclude_case`; logged."""
    require_may_ask(asker)
    why = required_text(reason or "", field="reden", message="Geef de reden van de bekendheidscheck.", limit=500)
    key = _key_of(keys, bsn=bsn, name=name, birth_date=birth_date)
    return _answer(session, asker=asker, reason=why, key=key, exclude_case=exclude_case, at=at)


def _key_of(keys: Keys, *, bsn: str | None, name: str | None, birth_date: str | None) -> str:
    """The person key of a valid BSN, or of a name with a valid birth date (`InvalidInput` otherwise)."""
    digits = _bsn_digits(bsn)
    if digits:
        if not is_valid_bsn(digits):
            raise InvalidInput(_BSN_INVALID, {"bsn": [_BSN_INVALID]})
        found = person_key(keys.pseudonym, bsn=digits)
    else:
        if (name or "").strip() and (birth_date or "").strip() and _day(birth_date) is None:
            message = "Geef de geboortedatum als datum (jjjj-mm-dd)."
            raise InvalidInput(message, {"geboortedatum": [message]})
        found = person_key(keys.pseudonym, name=name, birth_date=birth_date)
    if found is None:
        raise InvalidInput(
            "Geef een BSN, of een naam met geboortedatum.",
            {"bsn": ["Geef een BSN van 8 of 9 cijfers, of een naam met geboortedatum."]},
        )
    return found


def _bsn_digits(value: str | None) -> str:
    """A typed BSN without spaces; an old eight-digit BSN gets its leading zero."""
    digits = re.sub(r"\s", "", value or "")
    return digits.zfill(9) if len(digits) == 8 and digits.isdigit() else digits


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


_CASES = select(Instance.id, Instance.vertrouwelijkheid).join(InstancePerson, InstancePerson.instance_id == Instance.id)


def _answer(
    session: Session, *, asker: User, reason: str, key: str, exclude_case: str | None, at: datetime
) -> KnownAnswer:
    query = _CASES.where(InstancePerson.person_key == key, Instance.destroyed_at.is_(None))
    if exclude_case:
        query = query.where(Instance.case_number != exclude_case)
    found = set(session.execute(query).tuples())
    cases = sorted(case for case, level in found if level not in SECRET_LEVELS)
    secret = any(level in SECRET_LEVELS for _, level in found)
    contacts = _contacts(session, cases, at=at) + ([_secret_contact(session)] if secret else [])
    answer = KnownAnswer(bool(found), tuple(contacts), key)
    _log(session, asker=asker, reason=reason, key=key, answer=answer, at=at, cases=len(found))
    return answer


_REGISSEURS = (
    select(Participant.instance_id, User.display_name, User.organisation)
    .join(User, User.id == Participant.user_id)
    .join(UserRole, UserRole.user_id == User.id)
    .where(
        Participant.instance_id.in_(bindparam("cases", expanding=True)),
        or_(Participant.expires_at.is_(None), Participant.expires_at > bindparam("at")),
        Participant.reason != "noodtoegang",  # who looked in once is no contact for the case
        UserRole.role == CONTACT_ROLE,
        User.active.is_(True),
    )
)
_ASSIGNED = (
    select(HumanTask.instance_id, User.display_name, User.organisation)
    .join(User, User.id == HumanTask.assignee_id)
    .join(UserRole, UserRole.user_id == User.id)
    .where(HumanTask.instance_id.in_(bindparam("cases", expanding=True)), UserRole.role == CONTACT_ROLE)
)
_WAITING_ROLES = select(HumanTask.instance_id, HumanTask.role).where(
    HumanTask.instance_id.in_(bindparam("cases", expanding=True)), HumanTask.role.is_not(None)
)


def _contacts(session: Session, cases: list[int], *, at: datetime) -> list[Contact]:
    """Per case its procesregisseur(s); a case without one: the roles it waits for, else the ZVH's procesregie."""
    if not cases:
        return []
    found: dict[int, set[Contact]] = {case: set() for case in cases}
    params = {"cases": cases, "at": at}
    for case, name, organisation in [*session.execute(_REGISSEURS, params), *session.execute(_ASSIGNED, params)]:
        found[case].add(Contact(name, _organisation_name(organisation)))
    without = [case for case, contacts in found.items() if not contacts]
    if without:
        names = _role_names(session)
        for case, role in session.execute(_WAITING_ROLES, {"cases": without}):
            found[case].add(Contact(names.get(role) or role.replace("_", " ").capitalize(), ZVH))
        for case in without:
            found[case] = found[case] or {Contact(names.get(CONTACT_ROLE) or "Procesregisseur", ZVH)}
    return sorted(
        {contact for contacts in found.values() for contact in contacts}, key=lambda c: (c.naam, c.organisatie)
    )


def _secret_contact(session: Session) -> Contact:
    """The contact a secret case gives: the ZVH's privacyfunctionaris as a role, never a person of the case."""
    return Contact(_role_names(session).get(CLOSED_CASE_CONTACT_ROLE) or "Privacyfunctionaris", ZVH)


def _organisation_name(key: str | None) -> str:
    organisation = ORGANISATIONS.get(key or "")
    return organisation.name if organisation else ZVH


def _role_names(session: Session) -> dict[str, str]:
    from engine.inbox import role_names  # the inbox module imports much more than a check needs

    return role_names(session)


def _log(
    session: Session, *, asker: User, reason: str, key: str, answer: KnownAnswer, at: datetime, cases: int
) -> None:
    """Log the check: who asked, why, about which person key (never the BSN), and what the answer was."""
    record(
        session,
        actor=asker.username,
        action=ACTION,
        at=at,
        summary=f"Bekendheidscheck: {'bekend' if answer.known else 'niet bekend'} ({reason})",
        details={"reason": reason, "known": answer.known, "cases": cases, "contacts": len(answer.contacts)},
        person_key=key,
        object_type=OBJECT_TYPE,
    )


def persons_field(task_spec: Any) -> str | None:
    """The data field a user task names in its `bekendheidscheck` property, or None when it asks for no check."""
    properties = getattr(task_spec, "extensions", {}).get("properties", {})
    value = properties.get(PROPERTY) if isinstance(properties, Mapping) else None
    return value.strip() or None if isinstance(value, str) else None


def check_persons(
    session: Session,
    *,
    keys: Keys,
    asker: User,
    reason: str,
    persons: object,
    exclude_case: str | None,
    at: datetime,
) -> list[PersonAnswer]:
    """The check for each person of a task's list (the task's role authorises it); entries naming nobody get None."""
    answers = []
    for person in _listed(persons):
        key = _listed_key(keys, person)
        naam = _text(person.get("naam")) or _text(person.get("bsn")) or "?"
        answer = None
        if key is not None:
            answer = _answer(session, asker=asker, reason=reason, key=key, exclude_case=exclude_case, at=at)
        answers.append(PersonAnswer(naam, answer))
    return answers


def task_reason(task_name: str, case_number: str) -> str:
    """The reason a task's check is logged with."""
    return f"Bekendheidscheck {task_name} {case_number}"


def completion_values(answers: Iterable[PersonAnswer]) -> dict[str, Any]:
    """What a completed check task stores: known at all, and every contact once."""
    found = [person.answer for person in answers if person.answer is not None]
    contacts = sorted(
        {contact for answer in found for contact in answer.contacts}, key=lambda c: (c.naam, c.organisatie)
    )
    return {KNOWN_FIELD: any(answer.known for answer in found), CONTACTS_FIELD: [c.as_dict() for c in contacts]}


def _listed(persons: object) -> list[Mapping[str, Any]]:
    if isinstance(persons, Mapping):
        return [persons]
    if isinstance(persons, list):
        return [person for person in persons if isinstance(person, Mapping)]
    return []


def _listed_key(keys: Keys, person: Mapping[str, Any]) -> str | None:
    """A listed person's key: by a valid BSN, else by name and birth date; None when neither identifies them."""
    bsn = _bsn_digits(_text(person.get("bsn")))
    if bsn and is_valid_bsn(bsn):
        return person_key(keys.pseudonym, bsn=bsn)
    birth_date = _text(person.get("geboortedatum"))
    if _day(birth_date) is None:
        return None
    return person_key(keys.pseudonym, name=_text(person.get("naam")), birth_date=birth_date)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def with_check_result(
    session: Session,
    *,
    task_spec: Any,
    task_name: str,
    data: Mapping[str, Any],
    values: Mapping[str, Any],
    asker: User,
    case_number: str,
    at: datetime,
) -> dict[str, Any]:
    """A completed task's values; for a check task with the check's result, run now as `asker` (never as posted)."""
    field = persons_field(task_spec)
    if field is None:
        return dict(values)
    persons = values[field] if field in values else data.get(field)
    answers = check_persons(
        session,
        keys=session_keys(session),
        asker=asker,
        reason=task_reason(task_name, case_number),
        persons=persons,
        exclude_case=case_number,
        at=at,
    )
    return {**values, **completion_values(answers)}


def without_check_result(task_spec: Any, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Posted data for a task, without what a check task's engine fills itself (so posting it changes nothing)."""
    if persons_field(task_spec) is None:
        return dict(data or {})
    return {key: value for key, value in (data or {}).items() if key not in (KNOWN_FIELD, CONTACTS_FIELD)}
