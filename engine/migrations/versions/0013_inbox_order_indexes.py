"""inbox: an index per order of the inbox, per audience and for the team view

Every order the inbox offers (deadline, received, case number, process) is one index range per audience, so a page
reads its 50 rows from each range instead of sorting every task the user may see.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_human_tasks_inbox_received": ["audience", "created_at", "id"],
    "ix_human_tasks_inbox_case": ["audience", "case_number", "id"],
    "ix_human_tasks_inbox_process": ["audience", "process_name", "due_sort", "id"],
    "ix_human_tasks_team_due": ["due_sort", "created_at", "id"],
    "ix_human_tasks_team_process": ["process_name", "due_sort", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "human_tasks", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="human_tasks")
