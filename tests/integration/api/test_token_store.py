"""The token store on SQLite and PostgreSQL: expiry by the directory's clock, a round-1 table migrated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Role
from services import migrations
from services.db import Database
from services.users import TokenRefused, UserDirectory, token_hash

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_token_expires_after_the_configured_age_and_records_its_use(db: Database) -> None:
    clock = Clock()
    users = UserDirectory(db, token_max_age_days=90, clock=clock)
    user = users.create(Role.CONTRACTOR, "李工")
    token = users.issue_token(user.user_id)
    clock.now += timedelta(days=89, hours=23)
    assert users.authenticate(token, device="tablet-7").user_id == user.user_id
    [info] = users.tokens(user.user_id)
    assert info.last_used_at == clock.now and info.device == "tablet-7"
    assert info.expires_at == datetime(2026, 7, 30, 8, 0, tzinfo=UTC)
    clock.now += timedelta(hours=1)
    with pytest.raises(TokenRefused) as refused:
        users.authenticate(token)
    assert refused.value.reason == "token_expired"
    assert users.tokens(user.user_id)[0].public(clock.now)["expired"] is True
    with pytest.raises(TokenRefused) as unknown:
        users.authenticate("slt_never-issued")
    assert unknown.value.reason == "invalid_token"


def test_tokens_of_a_round_one_table_keep_working_and_become_revocable_one_by_one(raw_db: Database) -> None:
    db = raw_db
    with db.transaction() as tx:
        tx.execute("CREATE TABLE users (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, "
                   "name TEXT, phone TEXT, created_at TEXT NOT NULL)")
        tx.execute("CREATE TABLE user_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                   "created_at TEXT NOT NULL)")
        tx.execute("INSERT INTO users VALUES ('6f1c1f4e-8d5e-4b0e-9d7a-2d9f6f0c1a11', 'admin', NULL, '王芳', NULL, ?)",
                   (datetime.now(UTC).isoformat(),))
        for secret in ("slt_old-one", "slt_old-two"):
            tx.execute("INSERT INTO user_tokens VALUES (?, '6f1c1f4e-8d5e-4b0e-9d7a-2d9f6f0c1a11', ?)",
                       (token_hash(secret), datetime.now(UTC).isoformat()))
    migrations.upgrade(db.url)
    users = UserDirectory(db)
    admin = users.authenticate("slt_old-one")
    tokens = users.tokens(admin.user_id)
    assert len(tokens) == 2 and all(info.expires_at > datetime.now(UTC) + timedelta(days=89) for info in tokens)
    migrations.upgrade(db.url)  # a second start finds the columns there and changes nothing
    assert [t.token_id for t in users.tokens(admin.user_id)] == [t.token_id for t in tokens]
    assert users.revoke_token(admin.user_id, tokens[0].token_id)
    assert not users.revoke_token(admin.user_id, tokens[0].token_id)
    alive = [secret for secret in ("slt_old-one", "slt_old-two") if users.by_token(secret) is not None]
    assert len(alive) == 1 and len(users.tokens(admin.user_id)) == 1
