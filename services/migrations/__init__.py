"""Schema migrations (Alembic) for the tables the event log cannot rebuild.

Users, tokens, photo grants and facts, resumable uploads, relay status and projection positions hold
facts that exist nowhere else, so a change to their columns must reach databases that already exist:
`CREATE TABLE IF NOT EXISTS` would silently keep the old shape. Read models' tables are not defined here:
they are rebuilt from the log by their projectors. When a read model's stored form changes so that its rows
cannot be read on, a revision drops its tables and resets its position, and its projector rebuilds it on start
(`read_models.rebuild_from_the_log`; 0007: per-item state as plain fields, 0009: per-project).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

HERE = Path(__file__).parent


def sqlalchemy_url(database_url: str) -> str:
    """Our `postgresql://` addresses (libpq) as SQLAlchemy's psycopg 3 dialect; SQLite paths unchanged."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["url"] = sqlalchemy_url(database_url)
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; a database already there is left as it is."""
    command.upgrade(config(database_url), revision)


class SchemaBehind(RuntimeError):
    """Production never changes its schema by surprise at start-up: the operator runs `siteledger migrate`."""


def prepare(database_url: str, apply: bool) -> None:
    """At start-up: a database behind the code is upgraded (development) or refused (production)."""
    found, wanted = current(database_url), head()
    if found == wanted:
        return
    if not apply:
        raise SchemaBehind(f"the database schema is at {found or 'nothing'}, this release needs {wanted}: "
                           "run `siteledger migrate` first")
    upgrade(database_url)


def current(database_url: str) -> str | None:
    engine = create_engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    head_revision = ScriptDirectory.from_config(config("sqlite://")).get_current_head()
    assert head_revision is not None
    return head_revision
