"""privacy under the WGS: organisations and gemeenten, second factor, person index, retention and destruction,
and a keyed hash chain over the audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Every column of audit_events a redaction must leave as it was (everything but summary, details, redacted_at).
_KEPT = (
    "id",
    "at",
    "actor",
    "action",
    "instance_id",
    "task_id",
    "element_id",
    "process_version_id",
    "person_key",
    "role",
    "organisation",
    "outcome",
    "request_id",
    "client",
    "object_type",
    "object_id",
    "content_digest",
    "chain_hash",
)


def upgrade() -> None:
    op.add_column("users", sa.Column("organisation", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("last_login_at", UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("totp_secret", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "user_gemeenten",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("gemeente", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "gemeente"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)

    op.add_column("human_tasks", sa.Column("scope", sa.String(length=80), nullable=True))
    _scope_open_partner_tasks()
    op.add_column("instances", sa.Column("person_key", sa.String(length=64), nullable=True))
    op.add_column("instances", sa.Column("vertrouwelijkheid", sa.String(length=32), nullable=True))
    op.add_column("instances", sa.Column("retention_due_at", UTCDateTime(), nullable=True))
    op.add_column("instances", sa.Column("retention_rule", sa.String(length=128), nullable=True))
    op.add_column("instances", sa.Column("retention_extensions", sa.Integer(), server_default="0", nullable=False))
    op.add_column("instances", sa.Column("destroyed_at", UTCDateTime(), nullable=True))
    op.create_index(op.f("ix_instances_person_key"), "instances", ["person_key"], unique=False)
    op.create_index(op.f("ix_instances_retention_due_at"), "instances", ["retention_due_at"], unique=False)
    op.create_index(op.f("ix_instances_destroyed_at"), "instances", ["destroyed_at"], unique=False)
    op.create_table(
        "instance_persons",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id", "person_key"),
    )
    op.create_index(op.f("ix_instance_persons_person_key"), "instance_persons", ["person_key"], unique=False)
    op.create_table(
        "retention_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("extended_by_id", sa.Integer(), nullable=False),
        sa.Column("extended_at", UTCDateTime(), nullable=False),
        sa.Column("previous_due_at", UTCDateTime(), nullable=False),
        sa.Column("new_due_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["extended_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_retention_extensions_instance_id"), "retention_extensions", ["instance_id"], unique=False)
    op.create_table(
        "destruction_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("executed_by_id", sa.Integer(), nullable=True),
        sa.Column("executed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["executed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_destruction_lists_status"), "destruction_lists", ["status"], unique=False)
    op.create_table(
        "destruction_list_items",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["destruction_lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("list_id", "instance_id"),
    )
    op.create_index(
        op.f("ix_destruction_list_items_instance_id"), "destruction_list_items", ["instance_id"], unique=False
    )

    op.add_column("audit_events", sa.Column("person_key", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("role", sa.String(length=255), nullable=True))
    op.add_column("audit_events", sa.Column("organisation", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("outcome", sa.String(length=16), server_default="allowed", nullable=False))
    op.add_column("audit_events", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("client", sa.String(length=45), nullable=True))
    op.add_column("audit_events", sa.Column("object_type", sa.String(length=32), nullable=True))
    op.add_column("audit_events", sa.Column("object_id", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("content_digest", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("redacted_at", UTCDateTime(), nullable=True))
    op.create_index(op.f("ix_audit_events_person_key"), "audit_events", ["person_key"], unique=False)
    op.create_index(op.f("ix_audit_events_task_id"), "audit_events", ["task_id"], unique=False)
    _allow_redaction_only()


def _scope_open_partner_tasks() -> None:
    """Open tasks of partners' roles that wait in a queue move to their case's gemeente (the new safe default)."""
    from engine.privacy.organisations import DEFAULT_SCOPES, UNKNOWN, gemeente_key

    bind = op.get_bind()
    roles = sorted(role for role, scope in DEFAULT_SCOPES.items() if scope == "gemeente")
    rows = bind.execute(
        sa.text("SELECT id, role, gemeente FROM human_tasks WHERE assignee_id IS NULL AND role IN :roles").bindparams(
            sa.bindparam("roles", expanding=True)
        ),
        {"roles": roles},
    ).all()
    for task_id, role, gemeente in rows:
        scope = f"gm:{gemeente_key(gemeente) or UNKNOWN}"
        bind.execute(
            sa.text("UPDATE human_tasks SET scope = :scope, audience = :audience WHERE id = :id"),
            {"scope": scope, "audience": f"role:{role}|{scope}", "id": task_id},
        )


def _allow_redaction_only() -> None:
    """Keep refusing DELETE; let UPDATE through only when it blanks an entry's content for a destruction."""
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in _KEPT)
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL "
            f"AND NOT ({changed}) THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit_events is append-only'; END $$"
        )
    else:
        kept = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in _KEPT)
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"WHEN NOT (OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL AND {kept}) "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"
        )
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    op.drop_index(op.f("ix_audit_events_task_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_person_key"), table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for column in ("redacted_at", "chain_hash", "content_digest", "object_id", "object_type", "client"):
            batch_op.drop_column(column)
        for column in ("request_id", "outcome", "organisation", "role", "person_key"):
            batch_op.drop_column(column)
    op.drop_table("destruction_list_items")
    op.drop_table("destruction_lists")
    op.drop_table("retention_extensions")
    op.drop_table("instance_persons")
    op.drop_index(op.f("ix_instances_destroyed_at"), table_name="instances")
    op.drop_index(op.f("ix_instances_retention_due_at"), table_name="instances")
    op.drop_index(op.f("ix_instances_person_key"), table_name="instances")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        for column in ("destroyed_at", "retention_extensions", "retention_rule", "retention_due_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("vertrouwelijkheid")
        batch_op.drop_column("person_key")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("scope")
    op.drop_table("recovery_codes")
    op.drop_table("user_gemeenten")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("totp_last_step", "totp_enabled_at", "totp_secret", "last_login_at", "organisation"):
            batch_op.drop_column(column)
