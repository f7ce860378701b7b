"""casusoverleg: overleg types, meetings, agenda items, per-case invitations and action points

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "overleg_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("chair_role", sa.String(64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("interval_weeks", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("cutoff_working_days", sa.Integer(), nullable=False),
        sa.Column("cutoff_time", sa.String(5), nullable=False),
        sa.Column("feeds", _JSON, nullable=False),
        sa.Column("secretariaat_hours", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "overleg_type_members",
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["type_id"], ["overleg_types.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("type_id", "user_id"),
    )
    op.create_table(
        "overleg_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("by_hand", sa.Boolean(), nullable=False),
        sa.Column("planned_by", sa.String(64), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("held_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["type_id"], ["overleg_types.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("type_id", "starts_at"),
    )
    op.create_index(op.f("ix_overleg_meetings_type_id"), "overleg_meetings", ["type_id"], unique=False)
    op.create_index(op.f("ix_overleg_meetings_starts_at"), "overleg_meetings", ["starts_at"], unique=False)
    op.create_table(
        "overleg_meeting_members",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["overleg_meetings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "user_id"),
    )
    op.create_index(op.f("ix_overleg_meeting_members_user_id"), "overleg_meeting_members", ["user_id"], unique=False)
    op.create_table(
        "overleg_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("step_name", sa.String(255), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("attendance", _JSON, nullable=False),
        sa.Column("outcome_at", UTCDateTime(), nullable=True),
        sa.Column("outcome_by", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["overleg_meetings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "instance_id"),
    )
    op.create_index(op.f("ix_overleg_items_meeting_id"), "overleg_items", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_overleg_items_instance_id"), "overleg_items", ["instance_id"], unique=False)
    op.create_index("ix_overleg_items_task", "overleg_items", ["task_id"], unique=False)
    op.create_table(
        "overleg_item_invites",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.String(64), nullable=False),
        sa.Column("invited_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["overleg_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "user_id"),
    )
    op.create_index(op.f("ix_overleg_item_invites_user_id"), "overleg_item_invites", ["user_id"], unique=False)
    op.create_table(
        "overleg_action_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_organisation", sa.String(64), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["overleg_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["owner_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_overleg_action_points_item_id"), "overleg_action_points", ["item_id"], unique=False)
    op.create_index(
        op.f("ix_overleg_action_points_instance_id"), "overleg_action_points", ["instance_id"], unique=False
    )
    op.create_index(
        op.f("ix_overleg_action_points_owner_user_id"), "overleg_action_points", ["owner_user_id"], unique=False
    )
    op.create_index("ix_overleg_action_points_open", "overleg_action_points", ["status", "deadline"], unique=False)


def downgrade() -> None:
    op.drop_table("overleg_action_points")
    op.drop_table("overleg_item_invites")
    op.drop_table("overleg_items")
    op.drop_table("overleg_meeting_members")
    op.drop_table("overleg_meetings")
    op.drop_table("overleg_type_members")
    op.drop_table("overleg_types")
