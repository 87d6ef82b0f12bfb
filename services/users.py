"""The user directory: roles, scopes and bearer tokens (hashed), and the personal details kept out of the log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from domain.actors import Actor, Role
from projections.sql import Database

DDL = (
    "CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, "
    "name TEXT, phone TEXT, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS user_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
)
ERASED_NAME = "已删除"


def token_hash(token: str) -> str:
    """Tokens are 256-bit random: a plain SHA-256 is enough and lets a lookup use the index."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    user_id: UUID
    role: Role
    district: str | None
    name: str | None
    phone: str | None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role, self.district)

    def public(self) -> dict[str, object]:
        return {"id": str(self.user_id), "role": str(self.role), "district": self.district,
                "name": self.name if self.name is not None else ERASED_NAME}


class UserDirectory:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            for statement in DDL:
                tx.execute(statement)

    def create(self, role: Role, name: str, phone: str | None = None, district: str | None = None) -> User:
        user = User(uuid4(), role, district, name, phone)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                       (str(user.user_id), str(role), district, name, phone, _now()))
        return user

    def issue_token(self, user_id: UUID) -> str:
        token = "slt_" + secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO user_tokens VALUES (?, ?, ?)", (token_hash(token), str(user_id), _now()))
        return token

    def revoke_tokens(self, user_id: UUID) -> int:
        with self.db.transaction() as tx:
            cursor = tx.execute("DELETE FROM user_tokens WHERE user_id = ?", (str(user_id),))
            return int(cursor.rowcount or 0)

    def get(self, user_id: UUID | str) -> User | None:
        rows = self.db.query("SELECT user_id, role, district, name, phone FROM users WHERE user_id = ?",
                             (str(user_id),))
        return _user(rows[0]) if rows else None

    def by_token(self, token: str) -> User | None:
        rows = self.db.query(
            "SELECT u.user_id, u.role, u.district, u.name, u.phone FROM user_tokens t "
            "JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?", (token_hash(token),))
        return _user(rows[0]) if rows else None

    def erase_personal_data(self, user_id: UUID) -> None:
        """PIPL: the person's name and phone go; the id in the immutable log stays meaningful as 已删除."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE users SET name = NULL, phone = NULL WHERE user_id = ?", (str(user_id),))


def _user(row: tuple[str, str, str | None, str | None, str | None]) -> User:
    return User(UUID(row[0]), Role(row[1]), row[2], row[3], row[4])


def _now() -> str:
    return datetime.now(UTC).isoformat()
