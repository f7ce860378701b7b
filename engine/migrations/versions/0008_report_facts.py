"""management reports: facts counted when a case reaches a marked element, and the managers' prognoses

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instances", sa.Column("counted", sa.String(length=255), nullable=True))
    op.create_table(
        "report_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=128), nullable=False),
        sa.Column("kengetal", sa.String(length=64), nullable=False),
        sa.Column("uitsplitsing", sa.String(length=64), nullable=True),
        sa.Column("gemeente", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("jaar", sa.Integer(), nullable=False),
        sa.Column("kwartaal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "kengetal", name="uq_report_facts_instance_kengetal"),
    )
    op.create_index(
        "ix_report_facts_figures", "report_facts", ["kengetal", "jaar", "gemeente", "uitsplitsing", "kwartaal"]
    )
    op.create_table(
        "report_prognoses",
        sa.Column("jaar", sa.Integer(), nullable=False),
        sa.Column("thema", sa.String(length=64), nullable=False),
        sa.Column("waarde", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("jaar", "thema"),
    )


def downgrade() -> None:
    op.drop_table("report_prognoses")
    op.drop_index("ix_report_facts_figures", table_name="report_facts")
    op.drop_table("report_facts")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("counted")
