"""Server-side web sessions: the cookie holds a random id, the row (found by the id's SHA-256) holds the rest.

A session ends when it is signed out or revoked, when it has been idle too long, or at its absolute expiry,
whichever comes first. Each carries its own synchronizer token for CSRF: a form or a cookie-authenticated
API request that changes state must echo it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, cast
from uuid import UUID, uuid4

from services.db import Database
from services.users import token_hash, utc_now

SessionKind = Literal["password", "invitation"]
# "Last seen" is for a person reviewing their devices: minute precision, so a page view writes at most once a
# minute per session (the idle expiry is measured from it, so it is at most a minute generous).
LAST_SEEN_PRECISION = timedelta(minutes=1)
USER_AGENT_MAX = 256


@dataclass(frozen=True)
class SessionInfo:
    """What a person may see of a session: never its cookie value nor its CSRF token."""

    session_id: UUID
    user_id: UUID
    kind: SessionKind
    user_agent: str | None
    address: str | None
    created_at: datetime
    last_seen_at: datetime
    idle_timeout: timedelta
    expires_at: datetime

    def ends_at(self) -> datetime:
        return min(self.expires_at, self.last_seen_at + self.idle_timeout)

    def public(self, current: UUID | None = None) -> dict[str, object]:
        return {"id": str(self.session_id), "kind": self.kind, "device": self.user_agent,
                "address": self.address, "created_at": self.created_at.isoformat(),
                "last_seen_at": self.last_seen_at.isoformat(), "expires_at": self.ends_at().isoformat(),
                "current": self.session_id == current}


@dataclass(frozen=True)
class OpenedSession:
    cookie: str  # goes to the browser once; only its hash is stored
    csrf_token: str
    info: SessionInfo


@dataclass(frozen=True)
class ActiveSession:
    info: SessionInfo
    csrf_token: str

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token.encode(), (presented or "").encode())


COLUMNS = ("session_id, user_id, kind, user_agent, address, created_at, last_seen_at, idle_timeout_s, expires_at, "
           "csrf_token")


class SessionStore:
    def __init__(self, db: Database, idle: timedelta, absolute: timedelta,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.db, self.idle, self.absolute, self.clock = db, idle, absolute, clock

    def open(self, user_id: UUID, kind: SessionKind = "password", user_agent: str | None = None,
             address: str | None = None, idle: timedelta | None = None,
             absolute: timedelta | None = None) -> OpenedSession:
        cookie, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        info = SessionInfo(uuid4(), user_id, kind, (user_agent or "")[:USER_AGENT_MAX] or None, address, now, now,
                           idle or self.idle, now + (absolute or self.absolute))
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO web_sessions (session_hash, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (token_hash(cookie), str(info.session_id), str(user_id), kind, info.user_agent, address,
                        now.isoformat(), now.isoformat(), info.idle_timeout.total_seconds(),
                        info.expires_at.isoformat(), csrf))
        return OpenedSession(cookie, csrf, info)

    def resolve(self, cookie: str) -> ActiveSession | None:
        """The live session the cookie names, its last use noted; an ended one is removed and gives None."""
        hashed = token_hash(cookie)
        rows = self.db.query(f"SELECT {COLUMNS} FROM web_sessions WHERE session_hash = ?", (hashed,))
        if not rows:
            return None
        info, now = _info(rows[0]), self.clock()
        if info.ends_at() <= now:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", (hashed,))
            return None
        if now - info.last_seen_at >= LAST_SEEN_PRECISION:
            with self.db.transaction() as tx:
                tx.execute("UPDATE web_sessions SET last_seen_at = ? WHERE session_hash = ?", (now.isoformat(), hashed))
            info = replace(info, last_seen_at=now)
        return ActiveSession(info, str(rows[0][9]))

    def sessions(self, user_id: UUID) -> list[SessionInfo]:
        """The person's live sessions, newest first (ended ones are left out; `resolve` removes them)."""
        rows = self.db.query(f"SELECT {COLUMNS} FROM web_sessions WHERE user_id = ? ORDER BY created_at DESC",
                             (str(user_id),))
        now = self.clock()
        return [info for info in map(_info, rows) if info.ends_at() > now]

    def revoke(self, user_id: UUID, session_id: UUID) -> bool:
        with self.db.transaction() as tx:
            cursor = tx.execute("DELETE FROM web_sessions WHERE user_id = ? AND session_id = ?",
                                (str(user_id), str(session_id)))
            return bool(cursor.rowcount)

    def revoke_all(self, user_id: UUID, kind: SessionKind | None = None) -> int:
        with self.db.transaction() as tx:
            if kind is None:
                cursor = tx.execute("DELETE FROM web_sessions WHERE user_id = ?", (str(user_id),))
            else:
                cursor = tx.execute("DELETE FROM web_sessions WHERE user_id = ? AND kind = ?", (str(user_id), kind))
            return int(cursor.rowcount or 0)

    def end(self, cookie: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", (token_hash(cookie),))


def _info(row: tuple[Any, ...]) -> SessionInfo:
    return SessionInfo(UUID(row[0]), UUID(row[1]), cast(SessionKind, row[2]), row[3], row[4],
                       datetime.fromisoformat(row[5]), datetime.fromisoformat(row[6]),
                       timedelta(seconds=float(row[7])), datetime.fromisoformat(row[8]))
