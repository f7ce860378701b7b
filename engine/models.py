"""Typed ORM models: users and roles, process versions, instances, the inbox projection and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from engine.db import Base, UTCDateTime

JsonType = JSON().with_variant(JSONB(), "postgresql")


class User(Base):
    """A person who signs in; roles decide which lanes' tasks they may do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the organisation the user works for (a key of `engine.privacy.organisations.ORGANISATIONS`); NULL: none yet
    organisation: Mapped[str | None] = mapped_column(String(64))
    #: last successful sign-in (the beheerder's account review)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the language the user chose for the app (`nl`, `en`); None: Dutch, the default
    language: Mapped[str | None] = mapped_column(String(8))
    #: TOTP second factor: the base32 secret (encrypted at rest), when enrolment was confirmed, the last time step used
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )
    gemeenten: Mapped[list[UserGemeente]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserGemeente.gemeente"
    )

    @property
    def role_keys(self) -> frozenset[str]:
        return frozenset(role.role for role in self.roles)

    @property
    def gemeente_keys(self) -> frozenset[str]:
        """The gemeenten the user works for (keys of `engine.privacy.organisations.GEMEENTEN`)."""
        return frozenset(g.gemeente for g in self.gemeenten)

    # The session-user protocol of web sign-in libraries, by duck typing (engine/ imports no web framework).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, role: str | None) -> bool:
        return role is not None and role in self.role_keys


class UserRole(Base):
    """One role held by a user (role key = lane name lower-cased, spaces to underscores)."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class UserGemeente(Base):
    """A gemeente a user works for: tasks scoped to a case's gemeente reach only its holders of the role."""

    __tablename__ = "user_gemeenten"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: a key of `engine.privacy.organisations.GEMEENTEN` (`breda`, `zundert`, …, `overig`)
    gemeente: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[User] = relationship(back_populates="gemeenten")


class RecoveryCode(Base):
    """A one-time recovery code for the second factor; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProcessVersion(Base):
    """An immutable deployment: the BPMN, DMN and form files of one process, keyed by their content hash."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        UniqueConstraint("process_key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    #: {"bpmn": {filename: xml}, "dmn": {filename: xml}, "forms": {filename: json text}}
    files: Mapped[dict[str, dict[str, str]]] = mapped_column(JsonType, deferred=True)
    main_file: Mapped[str] = mapped_column(String(255))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: why this version was published (from the browser: mandatory), and who approved it (four eyes)
    change_note: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))


class Instance(Base):
    """One running (or finished) case process: its workflow state as JSON plus business columns."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    #: the instance that handed this case over (a follow-up process of the same case), if any
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(32))
    library_version: Mapped[str] = mapped_column(String(32))
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    gemeente: Mapped[str | None] = mapped_column(String(100), index=True)
    subject_person: Mapped[str | None] = mapped_column(String(200))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_progress_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_timer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error_element: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    #: when the instance counts as stalled if it makes no progress before then (last progress + process norm)
    stall_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: pseudonymous key of the person the case is about (`engine.privacy.persons`), never the BSN itself
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: the case's vertrouwelijkheid as recorded in its data (enforced by `engine.privacy.visibility`)
    vertrouwelijkheid: Mapped[str | None] = mapped_column(String(32))
    #: when the case's data must be destroyed (closure + retention period), and the rule that said so
    retention_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    retention_rule: Mapped[str | None] = mapped_column(String(128))
    #: how often the retention period was extended (each with a recorded reason; limited)
    retention_extensions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: set when the personal data was destroyed: the row stays as an anonymous statistical record
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: the kengetallen already counted for the reports (comma-separated; engine.reports.facts)
    counted: Mapped[str | None] = mapped_column(String(255))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined", innerjoin=True)
    started_by: Mapped[User] = relationship()
    #: the starter's username, read with the row (listing instances needs no user objects); the starter never
    #: changes, so a step's UPDATE need not read it again
    started_by_name: Mapped[str] = column_property(
        select(User.username).where(User.id == started_by_id).correlate_except(User).scalar_subquery(),
        expire_on_flush=False,
    )

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 - SQLAlchemy's declarative convention


#: Sorts tasks without a deadline after all tasks with one.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def task_audience(*, assignee_id: int | None, role: str | None, owner_id: int | None, scope: str | None = None) -> str:
    """Who a task's inbox row is for, as one indexed value: a person, a role's (scoped) queue, or the starter."""
    if assignee_id is not None:
        return f"user:{assignee_id}"
    if role is not None:
        return f"role:{role}|{scope}" if scope else f"role:{role}"
    return f"owner:{owner_id}"


class HumanTask(Base):
    """Inbox projection: one row per open human task, rewritten in the same transaction as its instance."""

    __tablename__ = "human_tasks"
    # An inbox page is one index range per audience in the page's order (engine.inbox), without reading other rows:
    # deadline, received, case number, process; the team view (every audience) has its own.
    __table_args__ = (
        Index("ix_human_tasks_inbox", "audience", "due_sort", "created_at", "id"),
        Index("ix_human_tasks_inbox_received", "audience", "created_at", "id"),
        Index("ix_human_tasks_inbox_case", "audience", "case_number", "id"),
        Index("ix_human_tasks_inbox_process", "audience", "process_name", "due_sort", "id"),
        Index("ix_human_tasks_team_due", "due_sort", "created_at", "id"),
        Index("ix_human_tasks_team_process", "process_name", "due_sort", "id"),
        Index("ix_human_tasks_process_element", "process_key", "element_id", "created_at"),
        # Tasks of secret cases are few: a small index tells the inbox whether it must filter at all.
        Index(
            "ix_human_tasks_secret_audience",
            "audience",
            postgresql_where=text("secret"),
            sqlite_where=text("secret = 1"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    #: the lane's role; NULL for a task without a lane, which belongs to `owner_id` (who started the instance)
    role: Mapped[str | None] = mapped_column(String(64))
    #: which holders of the role: `gm:<gemeente>` or `org:<organisation>` (`engine.privacy.organisations`); NULL: all
    scope: Mapped[str | None] = mapped_column(String(80))
    #: the case is secret (vertrouwelijkheid geheim or higher): only its explicit participants see the task
    secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: derived from assignee_id, role, scope and owner_id by `task_audience`; kept in step by `assign`
    audience: Mapped[str] = mapped_column(String(80))
    form: Mapped[str | None] = mapped_column(String(255))
    ui_form: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: the deadline of a timer on the task or on a sub-process around it
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: the step's norm as written in the model (`P5D`, `5 werkdagen`), and when the task counts as stalled
    norm: Mapped[str | None] = mapped_column(String(64))
    norm_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    due_sort: Mapped[datetime] = mapped_column(UTCDateTime())
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    gemeente: Mapped[str | None] = mapped_column(String(100))
    process_key: Mapped[str] = mapped_column(String(128))
    process_name: Mapped[str] = mapped_column(String(255))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    def assign(self, user_id: int | None) -> None:
        """Give the task to a person (None: back to its role's queue)."""
        self.assignee_id = user_id
        self.audience = task_audience(assignee_id=user_id, role=self.role, owner_id=self.owner_id, scope=self.scope)

    @property
    def queue(self) -> str | None:
        """The role queue the task waits in (`gemeente|gm:zundert`); None for a starter's own task."""
        if self.role is None:
            return None
        return f"{self.role}|{self.scope}" if self.scope else self.role


class AuditEvent(Base):
    """Append-only, keyed hash-chained log of what was done and who saw what (NEN 7513 content).

    Database triggers refuse DELETE, and UPDATE except the one a destruction makes: blanking `summary` and
    `details` (setting `redacted_at`). The chain covers `content_digest` (a hash of summary and details), so a
    redacted entry still verifies while any other change breaks the chain.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    element_id: Mapped[str | None] = mapped_column(String(255))
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    #: the pseudonymous key of the person the data is about (never the BSN)
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: the actor's roles and organisation at the time
    role: Mapped[str | None] = mapped_column(String(255))
    organisation: Mapped[str | None] = mapped_column(String(64))
    #: `allowed` or `refused`
    outcome: Mapped[str] = mapped_column(String(16), default="allowed", server_default="allowed")
    request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(45))
    #: what was touched: `case`, `task`, `field_group`, `search`, `export`, `user`, `process`, …, and its id
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    content_digest: Mapped[str | None] = mapped_column(String(64))
    #: HMAC(key, previous chain_hash || this entry); NULL only for entries written before the chain existed
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InstancePerson(Base):
    """The person index: which pseudonymous person keys appear in which case (no names, no BSNs)."""

    __tablename__ = "instance_persons"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class RetentionExtension(Base):
    """One extension of a case's retention period, with its reason (extensions are limited)."""

    __tablename__ = "retention_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    extended_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    extended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    previous_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)


class DestructionList(Base):
    """A destruction list (vernietigingslijst): proposed by a manager, reviewed by the FG, then executed.

    Status: `proposed` → `approved` or `rejected`; `approved` → `executed`.
    """

    __tablename__ = "destruction_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DestructionListItem(Base):
    """One case on a destruction list, with the retention rule that made it due."""

    __tablename__ = "destruction_list_items"

    list_id: Mapped[int] = mapped_column(ForeignKey("destruction_lists.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), primary_key=True, index=True)
    rule: Mapped[str | None] = mapped_column(String(128))


class Counter(Base):
    """Named sequences (case numbers per year)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Participant(Base):
    """A person who takes part in an instance (started it, worked on it, or was added): need-to-know access."""

    __tablename__ = "participants"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: access that ends (a substitute's need-to-know for the absence period); NULL: for as long as the case lives
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Draft(Base):
    """What a user typed into a task form (or a start form) and saved without submitting.

    Survives logout and session expiry; a task's drafts go when the task leaves the inbox (the database cascades
    the delete of its projection row), so no draft outlives the step it was for.
    """

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "task_id"), UniqueConstraint("user_id", "process_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: the open task the draft is for, or NULL for a start form
    task_id: Mapped[str | None] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True)
    #: the process whose start form the draft is for, or NULL for a task
    process_key: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedFilter(Base):
    """A named inbox filter of one user."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(Base):
    """A signed-in browser: the signed cookie holds a random token whose SHA-256 is this row's id.

    Every request looks its row up by primary key, so ending the row (sign-out, password change, disabling the
    account, or the user or a beheerder ending it) makes a copied cookie worthless.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: written at most once a minute (see engine.sessions.TOUCH_RESOLUTION)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class CompletedTask(Base):
    """One completed human task: when it opened and when it was done (lead times per step, throughput)."""

    __tablename__ = "completed_tasks"
    __table_args__ = (Index("ix_completed_tasks_process_completed", "process_key", "completed_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(128))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Notification(Base):
    """A message in a user's bell: a new task, an assignment, a deadline, a stalled case, an incident.

    `key` makes creating one idempotent (a scan that runs twice notifies once). Titles name the step and the case
    number only: no personal data, also not in e-mail.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(255))
    link: Mapped[str] = mapped_column(String(255))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when this notification went out in an e-mail digest (NULL: not (yet) mailed)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class NotificationPreference(Base):
    """Per user and kind of notification: show it in the app, and/or send it in the e-mail digest."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=False)


class Substitution(Base):
    """Absence cover: while `absent` is away, new work for them goes to `substitute` (vervanging)."""

    __tablename__ = "substitutions"
    __table_args__ = (Index("ix_substitutions_absent_period", "absent_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: set when the cover is withdrawn before its end
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    absent: Mapped[User] = relationship(foreign_keys=[absent_id], lazy="joined")
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id], lazy="joined")


class JobMark(Base):
    """Where a background scan got to (the notification scan's watermark), so each run picks up from there."""

    __tablename__ = "job_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessDraft(Base):
    """A process owner's unpublished change to a process: its files, in the same shape as a version's.

    `revision` counts saves: a save names the revision it started from, so a second editor's save on a stale
    revision is refused instead of overwriting. Status: `draft` → `submitted` (waits for a second process owner)
    → `published` (became `published_version_id`), or `discarded`.
    """

    __tablename__ = "process_drafts"
    __table_args__ = (Index("ix_process_drafts_process_status", "process_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128))
    main_file: Mapped[str] = mapped_column(String(255))
    #: {"bpmn": {filename: xml}, "dmn": {filename: xml}, "forms": {filename: json text}}
    files: Mapped[dict[str, dict[str, str]]] = mapped_column(JsonType, deferred=True)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    change_note: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id], lazy="joined")


class ProcessSetting(Base):
    """Per process: whether publishing needs a second process owner (`auto`: when code changed)."""

    __tablename__ = "process_settings"

    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: "auto" (four eyes when a script, condition or timer changed), "always" or "never"
    four_eyes: Mapped[str] = mapped_column(String(8))


class ReportFact(Base):
    """One counted event of a case for the management reports (engine.reports.facts); no personal data.

    Kept when a case's personal data is destroyed: report figures never change by destruction.
    """

    __tablename__ = "report_facts"
    __table_args__ = (
        UniqueConstraint("instance_id", "kengetal", name="uq_report_facts_instance_kengetal"),
        Index("ix_report_facts_figures", "kengetal", "jaar", "gemeente", "uitsplitsing", "kwartaal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    process_key: Mapped[str] = mapped_column(String(128))
    kengetal: Mapped[str] = mapped_column(String(64))
    #: the value of the mark's split field (e.g. the datalek's registratie_categorie)
    uitsplitsing: Mapped[str | None] = mapped_column(String(64))
    #: the report row: a gemeente key, `overig`, or None for processes without a gemeente
    gemeente: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: local (Europe/Amsterdam) calendar year and quarter of `occurred_at`
    jaar: Mapped[int] = mapped_column(Integer)
    kwartaal: Mapped[int] = mapped_column(Integer)


class ReportPrognosis(Base):
    """A manager's prognosis for one activity theme in one year (the activity report shows result against it)."""

    __tablename__ = "report_prognoses"

    jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    thema: Mapped[str] = mapped_column(String(64), primary_key=True)
    waarde: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeadlinePause(Base):
    """One pause (opschorting) of a case's legal deadlines, with its reason; open while `ended_at` is None.

    At most one pause of an instance is open at a time (`engine.suspension`); resuming moves the legal-deadline
    timers by the paused time.
    """

    __tablename__ = "deadline_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# The casusoverleg tables live with their domain; importing them here registers them on Base.metadata.
from engine.overleg.models import ActionPoint as ActionPoint  # noqa: E402
from engine.overleg.models import AgendaItem as AgendaItem  # noqa: E402
from engine.overleg.models import ItemInvite as ItemInvite  # noqa: E402
from engine.overleg.models import Meeting as Meeting  # noqa: E402
from engine.overleg.models import MeetingMember as MeetingMember  # noqa: E402
from engine.overleg.models import OverlegType as OverlegType  # noqa: E402
from engine.overleg.models import OverlegTypeMember as OverlegTypeMember  # noqa: E402
