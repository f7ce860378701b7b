"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "process_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "files", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("main_file", sa.String(length=255), nullable=False),
        sa.Column("deployed_by", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_key", "content_hash"),
        sa.UniqueConstraint("process_key", "version"),
    )
    with op.batch_alter_table("process_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_versions_process_key"), ["process_key"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("parent_instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(length=32), nullable=False),
        sa.Column("library_version", sa.String(length=32), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("gemeente", sa.String(length=100), nullable=True),
        sa.Column("subject_person", sa.String(length=200), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_progress_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("next_timer_due_at", UTCDateTime(), nullable=True),
        sa.Column("error_element", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_instance_id"],
            ["instances.id"],
        ),
        sa.ForeignKeyConstraint(
            ["process_version_id"],
            ["process_versions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instances_case_number"), ["case_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_gemeente"), ["gemeente"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_last_progress_at"), ["last_progress_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_next_timer_due_at"), ["next_timer_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_parent_instance_id"), ["parent_instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_process_key"), ["process_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_process_version_id"), ["process_version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_started_by_id"), ["started_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_status"), ["status"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column("process_version_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
        ),
        sa.ForeignKeyConstraint(
            ["process_version_id"],
            ["process_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_instance_id"), ["instance_id"], unique=False)

    op.create_table(
        "human_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("form", sa.String(length=255), nullable=True),
        sa.Column("ui_form", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("due_sort", UTCDateTime(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("gemeente", sa.String(length=100), nullable=True),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("process_name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_human_tasks_case_number"), ["case_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_tasks_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_human_tasks_inbox", ["audience", "due_sort", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_tasks_instance_id"), ["instance_id"], unique=False)

    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    """Refuse UPDATE and DELETE on audit_events in the database itself, not only in the application."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_tasks_instance_id"))
        batch_op.drop_index("ix_human_tasks_inbox")
        batch_op.drop_index(batch_op.f("ix_human_tasks_created_at"))
        batch_op.drop_index(batch_op.f("ix_human_tasks_case_number"))

    op.drop_table("human_tasks")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_instance_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    op.drop_table("user_roles")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_status"))
        batch_op.drop_index(batch_op.f("ix_instances_started_by_id"))
        batch_op.drop_index(batch_op.f("ix_instances_process_version_id"))
        batch_op.drop_index(batch_op.f("ix_instances_process_key"))
        batch_op.drop_index(batch_op.f("ix_instances_parent_instance_id"))
        batch_op.drop_index(batch_op.f("ix_instances_next_timer_due_at"))
        batch_op.drop_index(batch_op.f("ix_instances_last_progress_at"))
        batch_op.drop_index(batch_op.f("ix_instances_gemeente"))
        batch_op.drop_index(batch_op.f("ix_instances_case_number"))

    op.drop_table("instances")
    op.drop_table("users")
    with op.batch_alter_table("process_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_versions_process_key"))

    op.drop_table("process_versions")
    op.drop_table("counters")
