"""deadline pauses (opschorting of a case's legal deadlines)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_deadline_pauses_instance_id"), "deadline_pauses", ["instance_id"], unique=False)
    op.create_index(op.f("ix_deadline_pauses_ended_at"), "deadline_pauses", ["ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_deadline_pauses_ended_at"), table_name="deadline_pauses")
    op.drop_index(op.f("ix_deadline_pauses_instance_id"), table_name="deadline_pauses")
    op.drop_table("deadline_pauses")
