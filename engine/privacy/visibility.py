"""Who sees which data of a case: field visibility classes and the case's vertrouwelijkheid.

## Field classes

A form field (in `forms/*.json`) may carry `"x-zvh-visibility": "<class>"`, also on a nested object, on the `items`
of a list, or on a `$defs` definition (it then travels with every `$ref` to it). The classes:

- `justitieel` — detention, convictions, criminal records, the OM's assessment;
- `medisch` — medical and psychological care, GGZ and addiction details.

A user sees a classified field when their organisation holds the class (`ORGANISATIONS[...].classes`: the justice
partners `justitieel`, the care partners `medisch`, the ZVH both) or one of their roles does: the
`privacyfunctionaris` holds every class, because supervising the processing (AVG art. 39) means being able to see it.
ZVH roles get nothing extra: ZVH staff hold both classes through their organisation, and a role such as
`procesregisseur` held by someone employed elsewhere (a gemeente's procesregisseur) must not carry the justice and
care partners' data past the covenant of that organisation. A user without an organisation holds no class.

Everyone else sees the marker "afgeschermd" instead of the value — on the case timeline, the task page, in the API —
never the value, also not inside a group or a list (a list whose items are classified is one marker: even its
length is not shown). The one exception is a task form's own editable fields: the process model asks the lane's
role to maintain them, so the person doing the task sees and edits what the case holds there; its read-only fields
are context and follow the classes (`form_values`). Nothing a user was shown as "afgeschermd" can overwrite the value:
read-only fields are never taken from a submission, and the marker sent back (an API client returning the data it
got) keeps the stored value (`protect_submission`). A modeller who puts a classified field in an editable form of a
lane whose organisations lack the class gives that lane the data: make it `readOnly` there instead.

## Vertrouwelijkheid

The case data field `vertrouwelijkheid` (`forms/definities.json`, set at the procesregie intake) is recorded on
`Instance.vertrouwelijkheid` and enforced:

| level                         | who sees the case                        | field classes | noodtoegang   | exports  |
|-------------------------------|------------------------------------------|---------------|---------------|----------|
| none, openbaar … vertrouwelijk| need-to-know (engine.access)             | apply         | with a reason | included |
| confidentieel                 | need-to-know (engine.access)             | strictly (1)  | with a reason | excluded |
| geheim, zeer_geheim           | explicit participants (2), assignees (3) | strictly (1)  | only the FG   | excluded |

(1) strictly: only the user's organisation (and the FG's role) gives a class; someone who sees the case through
noodtoegang or the monitor's open-case sees its course but no classified field.
(2) explicit participants: those who started it, worked on it, were added or assigned, or cover for one of them —
not those who came in through noodtoegang, unless they hold the `privacyfunctionaris` role.
(3) the assignee of one of its open tasks; its queue tasks reach only queue members who take part explicitly.

Lists (inbox, team view, monitor) show a case by its number and process only, never a person's name; a coordinator
sees a secret case's unassigned tasks in the team view so they can assign them to someone who takes part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session

from engine.models import HumanTask, Instance, Participant, User, UserRole
from engine.privacy.organisations import ORGANISATIONS

if TYPE_CHECKING:
    from engine.forms import Form

VISIBILITY_KEY = "x-zvh-visibility"
#: The field classes and what they cover.
CLASSES: dict[str, str] = {
    "justitieel": "Justitiële gegevens: detentie, veroordelingen, antecedenten, beoordeling door het OM",
    "medisch": "Medische en psychische gegevens: zorg, GGZ, verslaving",
}
FG_ROLE = "privacyfunctionaris"
#: Classes a role gives whatever the organisation.
ROLE_CLASSES: dict[str, frozenset[str]] = {FG_ROLE: frozenset(CLASSES)}

REDACTED = "afgeschermd"


class Redacted(str):
    """The marker shown instead of a hidden value: the text "afgeschermd", recognisable by its type."""

    __slots__ = ()


MARKER = Redacted(REDACTED)

#: The levels of `vertrouwelijkheid`, from open to closed (as in forms/definities.json).
LEVELS = (
    "openbaar",
    "beperkt_openbaar",
    "intern",
    "zaakvertrouwelijk",
    "vertrouwelijk",
    "confidentieel",
    "geheim",
    "zeer_geheim",
)
#: Field classes apply strictly and the case stays out of exports.
STRICT_LEVELS = frozenset({"confidentieel", "geheim", "zeer_geheim"})
#: Only explicit participants and assignees see the case; noodtoegang only for the FG.
SECRET_LEVELS = frozenset({"geheim", "zeer_geheim"})
#: Participant reasons that are no decision by someone who takes part: access asked for by the user themselves.
EMERGENCY_REASONS = frozenset({"noodtoegang", "monitor"})

_MISSING: Any = object()


# --- field classes ------------------------------------------------------------------------------------------------


def user_classes(user: User | None) -> frozenset[str]:
    """The field classes `user` may see: their organisation's and their roles'."""
    if user is None:
        return frozenset()
    organisation = ORGANISATIONS.get(user.organisation or "")
    classes = set(organisation.classes if organisation else ())
    for role in user.role_keys:
        classes |= ROLE_CLASSES.get(role, frozenset())
    return frozenset(classes)


def visibility_problem(schema: object) -> str | None:
    """Why the `x-zvh-visibility` marks of a form schema are not usable (an unknown class), or None."""
    for path, value in _marks(schema, ""):
        if not isinstance(value, str) or value not in CLASSES:
            where = path or "(top level)"
            return f"{VISIBILITY_KEY} {value!r} at {where} is not a visibility class; use one of {', '.join(CLASSES)}"
    return None


def _marks(node: object, path: str) -> Iterable[tuple[str, object]]:
    """Every `x-zvh-visibility` in a schema document with where it is (literal values are data, not schema)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _marks(item, f"{path}/{index}")
    elif isinstance(node, dict):
        if VISIBILITY_KEY in node:
            yield path, node[VISIBILITY_KEY]
        for key, item in node.items():
            if key not in ("const", "enum", "default", "examples", VISIBILITY_KEY):
                yield from _marks(item, f"{path}/{key}")


def classified_fields(form_schema: Form | Mapping[str, Any]) -> dict[str, str]:
    """Dotted path (`*` for a list item, as in validation messages) → class, for every classified part of a form.

    Give a `Form` (its answer is kept) or a resolved schema (every `$ref` inlined), so classes on `$defs` are found
    where they are used.
    """
    if not isinstance(form_schema, Mapping):
        return form_schema.visibility_classes
    found: dict[str, str] = {}
    _classify(form_schema, "", found)
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _classify(node: Any, path: str, found: dict[str, str]) -> None:
    if not isinstance(node, Mapping):
        return
    mark = node.get(VISIBILITY_KEY)
    if isinstance(mark, str):
        found.setdefault(path, mark)
    properties = node.get("properties")
    for name, spec in properties.items() if isinstance(properties, Mapping) else ():
        _classify(spec, _join(path, str(name)), found)
    # Branches and combinations describe the same value: their properties live at the same level.
    for keyword in ("then", "else", "not"):
        _classify(node.get(keyword), path, found)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in _list(node.get(keyword)):
            _classify(part, path, found)
    dependent = node.get("dependentSchemas")
    for part in dependent.values() if isinstance(dependent, Mapping) else ():
        _classify(part, path, found)
    _classify(node.get("items"), _join(path, "*"), found)
    for part in _list(node.get("prefixItems")):
        _classify(part, _join(path, "*"), found)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def hidden_fields(
    form_schema: Form | Mapping[str, Any], user: User | None, *, classes: Iterable[str] | None = None
) -> set[str]:
    """The dotted paths of a form's fields `user` may not see (`classes`: what they hold for this case)."""
    held = user_classes(user) if classes is None else frozenset(classes)
    return {path for path, mark in classified_fields(form_schema).items() if mark not in held}


def redact(
    schema: Form | Mapping[str, Any],
    values: Mapping[str, Any],
    user: User | None,
    *,
    classes: Iterable[str] | None = None,
) -> dict[str, Any]:
    """`values` with every value `user` may not see replaced by the marker "afgeschermd" (at any depth)."""
    hidden = frozenset(hidden_fields(schema, user, classes=classes))
    if not hidden:
        return dict(values)
    redacted = _redact(dict(values), "", hidden)
    return redacted if isinstance(redacted, dict) else {}


def redact_with(hidden: frozenset[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with the values at the `hidden` paths replaced by the marker (paths from `hidden_fields`)."""
    redacted = _redact(dict(values), "", hidden) if hidden else dict(values)
    return redacted if isinstance(redacted, dict) else {}


def _redact(value: Any, path: str, hidden: frozenset[str]) -> Any:
    if path in hidden:
        return MARKER
    if isinstance(value, dict):
        return {key: _redact(item, _join(path, str(key)), hidden) for key, item in value.items()}
    if isinstance(value, list):
        if _join(path, "*") in hidden:
            return MARKER
        return [_redact(item, _join(path, "*"), hidden) for item in value]
    return value


def _property(node: Mapping[str, Any], name: str) -> Any:
    """The schema of property `name` of an object schema, also when only a branch or combination defines it."""
    for part in [node, node.get("then"), node.get("else"), *_list(node.get("allOf"))]:
        properties = part.get("properties") if isinstance(part, Mapping) else None
        if isinstance(properties, Mapping) and name in properties:
            return properties[name]
    return None


def _read_only(form: Form, path: str) -> bool:
    """Whether the field at `path` (or a group holding it) is shown read-only: `readOnly` or `ui:readonly`."""
    node: Any = form.resolved_schema
    ui: Any = form.ui_schema
    for segment in path.split(".") if path else ():
        node = node.get("items") if segment == "*" else _property(node, segment)
        ui = ui.get("items" if segment == "*" else segment) if isinstance(ui, Mapping) else None
        if not isinstance(node, Mapping):
            return False
        if node.get("readOnly") is True or (isinstance(ui, Mapping) and ui.get("ui:readonly") is True):
            return True
    return False


def form_values(form: Form, values: Mapping[str, Any], user: User | None) -> dict[str, Any]:
    """What a task form shows `user`: each hidden value in its read-only parts as the marker "afgeschermd".

    The editable fields of a task form show what the case holds: the process model asks the lane's role for them,
    and a value one must maintain cannot be hidden from them. What they did not enter and cannot edit is context,
    and context follows the field classes. The renderer shows the marker read-only, so it is never posted back.
    """
    hidden = frozenset(path for path in hidden_fields(form, user) if _read_only(form, path))
    return redact_with(hidden, values)


def protect_submission(
    form: Form, submitted: Mapping[str, Any], stored: Mapping[str, Any], user: User | None
) -> dict[str, Any]:
    """A submission in which the marker "afgeschermd" sent back for a hidden field never replaces its value.

    An API client that sends a task's data back as it received it sends the marker for what it may not see: the
    case keeps the value it holds there (and a marker where it holds nothing is no value at all).
    """
    hidden = frozenset(hidden_fields(form, user))
    if not hidden:
        return dict(submitted)
    kept = _keep_hidden(dict(submitted), dict(stored), "", hidden)
    return kept if isinstance(kept, dict) else {}


def _keep_hidden(submitted: Any, stored: Any, path: str, hidden: frozenset[str]) -> Any:
    if submitted == REDACTED and (path in hidden or _join(path, "*") in hidden):
        return stored
    if isinstance(submitted, dict):
        held = stored if isinstance(stored, dict) else {}
        kept = {
            key: _keep_hidden(item, held.get(key, _MISSING), _join(path, str(key)), hidden)
            for key, item in submitted.items()
        }
        return {key: item for key, item in kept.items() if item is not _MISSING}
    if isinstance(submitted, list):
        held_rows = stored if isinstance(stored, list) else []
        rows = [
            _keep_hidden(item, held_rows[index] if index < len(held_rows) else _MISSING, _join(path, "*"), hidden)
            for index, item in enumerate(submitted)
        ]
        return [row for row in rows if row is not _MISSING]
    return submitted


def case_hidden_fields(forms: Iterable[Form], classes: Iterable[str]) -> frozenset[str]:
    """Hidden paths over every form of a process: for case data shown outside one form (instructions, exports)."""
    held = frozenset(classes)
    hidden: set[str] = set()
    for form in forms:
        hidden |= {path for path, mark in classified_fields(form).items() if mark not in held}
    return frozenset(hidden)


def redact_case_data(
    forms: Iterable[Form], data: Mapping[str, Any], user: User | None, *, classes: Iterable[str] | None = None
) -> dict[str, Any]:
    """Case data as a whole (what instructions and exports show), redacted by the classes of all its forms."""
    held = user_classes(user) if classes is None else frozenset(classes)
    return redact_with(case_hidden_fields(forms, held), data)


# --- vertrouwelijkheid --------------------------------------------------------------------------------------------


def level(instance: Instance) -> str | None:
    """The case's vertrouwelijkheid, or None when it has none (or one that is not a level)."""
    value = instance.vertrouwelijkheid
    return value if value in LEVELS else None


def is_secret(instance: Instance) -> bool:
    """`geheim` or `zeer_geheim`: only explicit participants and assignees see it."""
    return level(instance) in SECRET_LEVELS


def is_exportable(instance: Instance) -> bool:
    """Whether the case may be part of an export (not from `confidentieel` up)."""
    return level(instance) not in STRICT_LEVELS


def _now(at: datetime | None) -> datetime:
    return datetime.now(UTC) if at is None else at


def _explicit_participant(user_id: Any, is_fg: Any, at: Any) -> ColumnElement[bool]:
    """Participant rows that make a user an explicit participant (see the module docs) at `at`."""
    current = Participant.expires_at.is_(None) | (Participant.expires_at > at)
    return and_(Participant.user_id == user_id, current, or_(Participant.reason.not_in(EMERGENCY_REASONS), is_fg))


def _explicit(user: User, at: datetime | None) -> ColumnElement[bool]:
    return _explicit_participant(user.id, true() if FG_ROLE in user.role_keys else false(), _now(at))


def confidential_filter(user: User, *, at: datetime | None = None) -> ColumnElement[bool]:
    """A condition on `Instance`: the case is not secret, or `user` takes part explicitly or holds one of its tasks.

    Add it to every query that lists or opens instances (`engine.access.may_view`, `my_instances`, search).
    """
    takes_part = exists().where(Participant.instance_id == Instance.id, _explicit(user, at))
    holds_task = exists().where(HumanTask.instance_id == Instance.id, HumanTask.assignee_id == user.id)
    return or_(
        Instance.vertrouwelijkheid.is_(None),
        not_(Instance.vertrouwelijkheid.in_(SECRET_LEVELS)),
        takes_part,
        holds_task,
    )


def _task_clause(user_id: Any, is_fg: Any, at: Any) -> ColumnElement[bool]:
    # The row says whether its case is secret (kept in step by the projection): no lookup of the case per row; and
    # the user's explicit cases are one uncorrelated subquery, computed once per statement, not once per row.
    explicit_cases = select(Participant.instance_id).where(_explicit_participant(user_id, is_fg, at))
    return or_(not_(HumanTask.secret), HumanTask.assignee_id == user_id, HumanTask.instance_id.in_(explicit_cases))


def confidential_task_filter(user: User, *, at: datetime | None = None) -> ColumnElement[bool]:
    """A condition on `HumanTask`: its case is not secret, the task is `user`'s, or they take part explicitly.

    Add it to the inbox's queries for a user (not the coordinators' team view, which must see unassigned tasks
    of a secret case to assign them): a secret case's queue tasks then reach only the queue's participants.
    """
    return _task_clause(user.id, true() if FG_ROLE in user.role_keys else false(), _now(at))


def confidential_task_clause() -> ColumnElement[bool]:
    """`confidential_task_filter` with bound parameters, for statements built once (`confidential_parameters`)."""
    return _task_clause(
        bindparam("confidential_user"),
        bindparam("confidential_fg", type_=Boolean),
        bindparam("confidential_at", type_=Participant.__table__.c.expires_at.type),
    )


def confidential_parameters(user: User, *, at: datetime | None = None) -> dict[str, Any]:
    """The values of `confidential_task_clause`'s parameters for `user` at `at` (None: now)."""
    return {"confidential_user": user.id, "confidential_fg": FG_ROLE in user.role_keys, "confidential_at": _now(at)}


def may_see_confidential(session: Session, user: User, instance: Instance, *, at: datetime | None = None) -> bool:
    """Whether the case's vertrouwelijkheid lets `user` see it (on top of need-to-know, engine.access)."""
    if not is_secret(instance):
        return True
    takes_part = exists().where(Participant.instance_id == instance.id, _explicit(user, at))
    holds_task = exists().where(HumanTask.instance_id == instance.id, HumanTask.assignee_id == user.id)
    return bool(session.scalar(select(takes_part | holds_task)))


def confidential_readers(session: Session, instance: Instance, *, at: datetime | None = None) -> frozenset[int] | None:
    """The ids of the users who may see a secret case (explicit participants, assignees); None when it is not secret.

    For fan-out that does not go through a user's query: a notification of a secret case's new task reaches only
    the queue's holders among these.
    """
    if not is_secret(instance):
        return None
    current = Participant.expires_at.is_(None) | (Participant.expires_at > _now(at))
    participants = session.execute(
        select(Participant.user_id, Participant.reason, User.id.in_(_fg_ids()))
        .join(User, User.id == Participant.user_id)
        .where(Participant.instance_id == instance.id, current)
    ).tuples()
    readers = {user_id for user_id, reason, is_fg in participants if reason not in EMERGENCY_REASONS or is_fg}
    assignees = session.scalars(
        select(HumanTask.assignee_id).where(HumanTask.instance_id == instance.id, HumanTask.assignee_id.is_not(None))
    )
    return frozenset(readers | {user_id for user_id in assignees if user_id is not None})


def _fg_ids() -> Any:
    return select(UserRole.user_id).where(UserRole.role == FG_ROLE)


def emergency_refusal(user: User, instance: Instance) -> str | None:
    """Why `user` may not open this case through noodtoegang because of its vertrouwelijkheid, or None."""
    if is_secret(instance) and FG_ROLE not in user.role_keys:
        return "Deze zaak is geheim: noodtoegang alleen via de privacyfunctionaris."
    return None


def case_classes(session: Session, user: User, instance: Instance, *, at: datetime | None = None) -> frozenset[str]:
    """The field classes `user` holds for this case: their own, none when they see a strict case only by noodtoegang."""
    classes = user_classes(user)
    if level(instance) not in STRICT_LEVELS or FG_ROLE in user.role_keys:
        return classes
    explicit = exists().where(Participant.instance_id == instance.id, _explicit(user, at))
    from engine.inbox import audiences  # not at the top: the inbox filters its queries with this module

    has_task = exists().where(HumanTask.instance_id == instance.id, HumanTask.audience.in_(audiences(user)))
    emergency = exists().where(
        Participant.instance_id == instance.id,
        Participant.user_id == user.id,
        Participant.reason.in_(EMERGENCY_REASONS),
    )
    only_emergency = session.scalar(select(emergency & ~explicit & ~has_task))
    return frozenset() if only_emergency else classes
