"""mensenhandel facts split by regio: earlier signals were all recorded as the ZVH's own district

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The mensenhandel kengetal is split by `regio` since this version; before it, a signal from the neighbouring
    # district was not recorded as such, so every counted signal was one of the own district (`de_baronie`).
    op.execute(
        "UPDATE report_facts SET uitsplitsing = 'de_baronie' WHERE kengetal = 'mensenhandel' AND uitsplitsing IS NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE report_facts SET uitsplitsing = NULL WHERE kengetal = 'mensenhandel'")
