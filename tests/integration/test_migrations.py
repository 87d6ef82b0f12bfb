"""A database made by round 1 (CREATE TABLE IF NOT EXISTS, no Alembic) is upgraded in place, data kept."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from services import migrations
from services.bootstrap import build
from services.cli import main
from services.db import Database
from services.settings import Settings
from tests.pg import postgres_env

pytestmark = pytest.mark.integration

ROUND_ONE_DDL = (  # exactly what round 1's constructors ran: the schema production databases have today
    "CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, "
    "name TEXT, phone TEXT, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS user_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS photo_grants (photo_id TEXT NOT NULL, scope TEXT NOT NULL, "
    "PRIMARY KEY (photo_id, scope))",
    "CREATE TABLE IF NOT EXISTS photo_facts (photo_id TEXT PRIMARY KEY, taken_at TEXT)",
    "CREATE TABLE IF NOT EXISTS photo_uploads (upload_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "size BIGINT NOT NULL, upload_offset BIGINT NOT NULL, sha256 TEXT, project_id TEXT, works_item_id TEXT, "
    "filename TEXT, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projection_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS relay_status (name TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, "
    "published BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projection_versions (name TEXT NOT NULL, aggregate_id TEXT NOT NULL, "
    "version INTEGER NOT NULL, PRIMARY KEY (name, aggregate_id))",
)
USER_ID = "5f0c2a52-3a9b-4a43-9d0f-5f6c1f3b9a10"
TOKEN = "slt_round-one-token-of-a-tablet"


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9")
        return
    for env in postgres_env():
        yield Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9", event_store="postgres",
                       postgres_host=env["POSTGRES_HOST"], postgres_port=int(env["POSTGRES_PORT"]),
                       postgres_user=env["POSTGRES_USER"], postgres_password=env["POSTGRES_PASSWORD"],
                       postgres_db=env["POSTGRES_DBNAME"])


def make_round_one_database(url: str) -> None:
    db = Database(url)
    try:
        with db.transaction() as tx:
            for statement in ROUND_ONE_DDL:
                tx.execute(statement)
            tx.execute("INSERT INTO users VALUES (?, 'supervisor', NULL, '李工', '13800000000', "
                       "'2026-06-01T08:00:00+00:00')", (USER_ID,))
            tx.execute("INSERT INTO user_tokens VALUES (?, ?, ?)",
                       (hashlib.sha256(TOKEN.encode()).hexdigest(), USER_ID, "2026-11-01T08:00:00+00:00"))
            tx.execute("INSERT INTO projection_tracking VALUES ('timeline', 0)")
    finally:
        db.close()


def test_start_up_upgrades_a_round_one_database_and_its_tokens_keep_working(settings: Settings) -> None:
    url = settings.database_url()
    make_round_one_database(url)
    assert migrations.current(url) is None

    with build(settings) as container:
        assert migrations.current(url) == migrations.head()
        user = container.users.by_token(TOKEN)
        assert user is not None and str(user.user_id) == USER_ID and user.name == "李工"
        tokens = container.users.tokens(user.user_id)
        assert len(tokens) == 1 and tokens[0].token_id is not None  # round 1's token got an id: revocable
        assert container.users.revoke_token(user.user_id, tokens[0].token_id)
        assert container.users.by_token(TOKEN) is None


def test_production_refuses_a_database_behind_the_code_and_migrate_brings_it_up(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    url = settings.database_url()
    make_round_one_database(url)

    with pytest.raises(migrations.SchemaBehind, match="siteledger migrate"):
        migrations.prepare(url, apply=False)

    for name, value in settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"SITELEDGER_{name.upper()}", str(value))
    assert main(["migrate"]) == 0
    assert migrations.current(url) == migrations.head()
    migrations.prepare(url, apply=False)  # now at head: production starts
