"""Residents' invitations: a QR link and a 6-character short code that sign one phone in as one member.

Each invitation works once (either its link or its code), dies at its expiry, and dies when the admin
issues a new one for the same person. Only hashes are stored.

Guessing a short code. The alphabet has 31 characters (no 0/O, 1/I/L to misread), so a code is one of
31^6 = 887,503,681. Failed codes are limited per address (5 a minute, 30 an hour, 100 a day) and across
the whole server (300 a day, `SHORT_CODE_FAILURES_GLOBAL`), so over a code's 30-day life an attacker with
any number of addresses gets at most 300 × 30 = 9,000 guesses: the chance of hitting one given code is
9,000 / 887,503,681 ≈ 1 in 98,600, and of hitting any of 500 live codes (a large community) ≈ 0.5 %.
A hit signs in as one resident, who sees only their own community. When the global budget is spent, short
codes are refused for the rest of the day (a denial of the fallback only: the QR links, 256-bit random,
keep working).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from services.db import Database
from services.users import User, UserDirectory, token_hash

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
SHORT_CODE_FAILURES_PER_ADDRESS = "5/minute;30/hour;100/day"
SHORT_CODE_FAILURES_GLOBAL = "300/day"


class InvitationRefused(Exception):
    """Unknown, used, superseded, revoked or expired: the page says so without telling which."""


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if not ch.isspace() and ch != "-")


@dataclass(frozen=True)
class IssuedInvitation:
    invitation_id: UUID
    user_id: UUID
    project_id: UUID
    link_token: str  # shown once, on the sheet; only hashes are stored
    code: str
    expires_at: datetime


class Invitations:
    def __init__(self, db: Database, users: UserDirectory, validity: timedelta,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.db, self.users, self.validity = db, users, validity
        self.clock = clock or users.clock

    def issue(self, user_id: UUID, project_id: UUID, created_by: UUID | None = None) -> IssuedInvitation:
        """A new invitation for the member; their earlier ones die (a lost or stolen sheet)."""
        now = self.clock()
        while True:  # a clash with a live code is unlikely (1 in millions) but would make a code ambiguous
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if not self.db.query("SELECT 1 FROM resident_invitations WHERE code_hash = ? AND used_at IS NULL "
                                 "AND expires_at > ?", (token_hash(code), now.isoformat())):
                break
        issued = IssuedInvitation(uuid4(), user_id, project_id, secrets.token_urlsafe(32), code, now + self.validity)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM resident_invitations WHERE user_id = ?", (str(user_id),))
            tx.execute("INSERT INTO resident_invitations (invitation_id, user_id, project_id, link_hash, code_hash, "
                       "created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (str(issued.invitation_id), str(user_id), str(project_id), token_hash(issued.link_token),
                        token_hash(code), str(created_by) if created_by else None, now.isoformat(),
                        issued.expires_at.isoformat()))
        return issued

    def peek(self, link_token: str) -> User:
        """Whom a live link is for, without using it (a chat app's link preview must not spend it)."""
        return self._live("link_hash", link_token)[0]

    def redeem_link(self, link_token: str) -> User:
        return self._redeem("link_hash", link_token)

    def redeem_code(self, code: str) -> User:
        return self._redeem("code_hash", normalize_code(code))

    def revoke(self, user_id: UUID) -> int:
        with self.db.transaction() as tx:
            cursor = tx.execute("DELETE FROM resident_invitations WHERE user_id = ?", (str(user_id),))
            return int(cursor.rowcount or 0)

    def _live(self, column: str, secret: str) -> tuple[User, str]:
        rows = self.db.query(f"SELECT user_id, invitation_id FROM resident_invitations WHERE {column} = ? "
                             "AND used_at IS NULL AND expires_at > ?", (token_hash(secret), self.clock().isoformat()))
        user = self.users.get(rows[0][0]) if rows else None
        if user is None or user.name is None:
            raise InvitationRefused()
        return user, str(rows[0][1])

    def _redeem(self, column: str, secret: str) -> User:
        user, invitation_id = self._live(column, secret)
        with self.db.transaction() as tx:
            cursor = tx.execute("UPDATE resident_invitations SET used_at = ? WHERE invitation_id = ? "
                                "AND used_at IS NULL", (self.clock().isoformat(), invitation_id))
            if not cursor.rowcount:  # the link and the code of one invitation used at once: one wins
                raise InvitationRefused()
        return user
