"""inbox rows know whether their case is secret (vertrouwelijkheid geheim or higher), so the inbox filters on the
row instead of looking up each row's case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE human_tasks SET secret = TRUE WHERE instance_id IN "
        "(SELECT id FROM instances WHERE vertrouwelijkheid IN ('geheim', 'zeer_geheim'))"
    )
    op.create_index(
        "ix_human_tasks_secret_audience",
        "human_tasks",
        ["audience"],
        postgresql_where=sa.text("secret"),
        sqlite_where=sa.text("secret = 1"),
    )


def downgrade() -> None:
    op.drop_index("ix_human_tasks_secret_audience", table_name="human_tasks")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("secret")
