"""monitoring norms, completed tasks, notifications, substitutions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stall_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_stall_at"), ["stall_at"], unique=False)

    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("norm", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("norm_due_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_human_tasks_norm_due_at"), ["norm_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_tasks_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            "ix_human_tasks_process_element", ["process_key", "element_id", "created_at"], unique=False
        )

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))

    op.create_table(
        "completed_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=False),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["completed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("completed_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completed_tasks_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index("ix_completed_tasks_process_completed", ["process_key", "completed_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("link", sa.String(length=255), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("emailed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "key"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_emailed_at"), ["emailed_at"], unique=False)
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at", "created_at"], unique=False)

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "kind"),
    )

    op.create_table(
        "substitutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("absent_id", sa.Integer(), nullable=False),
        sa.Column("substitute_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["absent_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["substitute_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("substitutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substitutions_substitute_id"), ["substitute_id"], unique=False)
        batch_op.create_index("ix_substitutions_absent_period", ["absent_id", "starts_at", "ends_at"], unique=False)

    op.create_table(
        "job_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("job_marks")
    op.drop_table("substitutions")
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("completed_tasks")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_process_element")
        batch_op.drop_index(batch_op.f("ix_human_tasks_due_at"))
        batch_op.drop_index(batch_op.f("ix_human_tasks_norm_due_at"))
        batch_op.drop_column("norm_due_at")
        batch_op.drop_column("norm")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_stall_at"))
        batch_op.drop_column("stall_at")
