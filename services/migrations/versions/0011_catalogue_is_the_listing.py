"""The catalogue read model is gone: its rows (a project's name and district, an item's project, kind, title and
location) are a subset of the listing's (`lst_projects`, `lst_items`), which its readers now use. Its tables and
its position are dropped; nothing rebuilds them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

from services.migrations.read_models import rebuild_from_the_log

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The catalogue's tables at revision 0010 (frozen here).
DROPPED = {"catalog": ("catalog_projects", "catalog_items")}


def upgrade() -> None:
    rebuild_from_the_log(DROPPED)  # drops the tables and the position; with no read model left to rebuild them


def downgrade() -> None:
    pass  # the old code makes the catalogue's tables and rebuilds them from the log on its next start
