"""The relay's acknowledged offsets and republish marker; the Kafka workers' gaps and status.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT, BIG, INT = sa.Text(), sa.BigInteger(), sa.Integer()
FLOAT: sa.Double[float] = sa.Double()


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    tables: dict[str, list[sa.Column[Any]]] = {
        "relay_offsets": [sa.Column("topic", TEXT, primary_key=True), sa.Column("partition_no", INT, primary_key=True),
                          sa.Column("first_offset", BIG, nullable=False), sa.Column("end_offset", BIG, nullable=False)],
        "relay_republish": [sa.Column("name", TEXT, primary_key=True),
                            sa.Column("from_position", BIG, nullable=False)],
        "kafka_gaps": [sa.Column("name", TEXT, primary_key=True), sa.Column("aggregate_id", TEXT, primary_key=True),
                       sa.Column("expected", INT, nullable=False), sa.Column("received", INT, nullable=False),
                       sa.Column("position", BIG, nullable=False), sa.Column("since", FLOAT, nullable=False)],
        "kafka_worker_status": [sa.Column("worker", TEXT, primary_key=True),
                                sa.Column("consumer_group", TEXT, nullable=False),
                                sa.Column("state", TEXT, nullable=False), sa.Column("position", BIG),
                                sa.Column("event_type", TEXT), sa.Column("error", TEXT), sa.Column("since", FLOAT),
                                sa.Column("attempts", INT, nullable=False),
                                sa.Column("updated_at", FLOAT, nullable=False)],
    }
    for name, columns in tables.items():
        if name not in existing:  # a development database may have them from before this migration
            op.create_table(name, *columns)


def downgrade() -> None:
    for name in ("kafka_worker_status", "kafka_gaps", "relay_republish", "relay_offsets"):
        op.drop_table(name)
