"""Staff credentials: a phone number and an Argon2id password, set only through a one-time link.

An admin never sees or types a password: creating a person (or a reset) gives a link valid 72 h that the
person opens to choose one. A newer link for the same person kills the older ones; a used link is dead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID, uuid4

from services import passwords
from services.db import Database
from services.users import User, UserDirectory, normalize_phone, token_hash

LinkPurpose = Literal["set", "reset"]
DEFAULT_LINK_VALIDITY = timedelta(hours=72)


class LinkRefused(Exception):
    """An unknown, used, superseded or expired link: the page says so without telling which."""


@dataclass(frozen=True)
class IssuedLink:
    token: str  # goes into the URL once; only its hash is stored
    link_id: UUID
    purpose: LinkPurpose
    expires_at: datetime


class Credentials:
    def __init__(self, db: Database, users: UserDirectory, link_validity: timedelta = DEFAULT_LINK_VALIDITY,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.db, self.users, self.link_validity = db, users, link_validity
        self.clock = clock or users.clock

    def has_password(self, user_id: UUID) -> bool:
        return bool(self.db.query("SELECT 1 FROM user_passwords WHERE user_id = ?", (str(user_id),)))

    def issue_link(self, user_id: UUID, created_by: UUID | None = None) -> IssuedLink:
        """A one-time link to set (first time) or reset the password; earlier unused links die."""
        token, now = secrets.token_urlsafe(32), self.clock()
        purpose: LinkPurpose = "reset" if self.has_password(user_id) else "set"
        link = IssuedLink(token, uuid4(), purpose, now + self.link_validity)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM password_links WHERE user_id = ?", (str(user_id),))
            tx.execute("INSERT INTO password_links (link_hash, link_id, user_id, purpose, created_by, created_at, "
                       "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (token_hash(token), str(link.link_id), str(user_id), purpose,
                        str(created_by) if created_by else None, now.isoformat(), link.expires_at.isoformat()))
        return link

    def link_user(self, token: str) -> User:
        """The person a live link is for, or LinkRefused."""
        rows = self.db.query("SELECT user_id, expires_at, used_at FROM password_links WHERE link_hash = ?",
                             (token_hash(token),))
        if not rows or rows[0][2] is not None or datetime.fromisoformat(rows[0][1]) <= self.clock():
            raise LinkRefused()
        user = self.users.get(rows[0][0])
        if user is None or user.name is None:  # erased since
            raise LinkRefused()
        return user

    def set_password(self, token: str, password: str) -> User:
        """Use the link once: check the rules, store the Argon2id hash, and end every session of the person's
        (a reset after a stolen password must throw the thief out). WeakPassword leaves the link usable."""
        user = self.link_user(token)
        passwords.check(password, user.phone)
        hashed, now = passwords.hash_password(password), self.clock()
        with self.db.transaction() as tx:
            cursor = tx.execute("UPDATE password_links SET used_at = ? WHERE link_hash = ? AND used_at IS NULL",
                                (now.isoformat(), token_hash(token)))
            if not cursor.rowcount:  # the same link used twice at once: only one wins
                raise LinkRefused()
            tx.execute("DELETE FROM user_passwords WHERE user_id = ?", (str(user.user_id),))
            tx.execute("INSERT INTO user_passwords (user_id, password_hash, updated_at) VALUES (?, ?, ?)",
                       (str(user.user_id), hashed, now.isoformat()))
            tx.execute("DELETE FROM web_sessions WHERE user_id = ?", (str(user.user_id),))
        return user

    def verify(self, phone: str, password: str) -> User | None:
        """The person with this phone and password, or None — as slow for an unknown phone as for a wrong
        password, so timing does not tell whether an account exists."""
        normalized = normalize_phone(phone)
        rows = self.db.query("SELECT p.user_id, p.password_hash FROM users u JOIN user_passwords p "
                             "ON p.user_id = u.user_id WHERE u.phone = ?", (normalized,)) if normalized else []
        if not rows:
            passwords.verify(None, password)
            return None
        for user_id, hashed in rows:  # normally one: a phone is refused to a second staff member
            if passwords.verify(hashed, password):
                if passwords.needs_rehash(hashed):
                    with self.db.transaction() as tx:
                        tx.execute("UPDATE user_passwords SET password_hash = ? WHERE user_id = ?",
                                   (passwords.hash_password(password), user_id))
                return self.users.get(user_id)
        return None

    def phone_in_use(self, phone: str) -> bool:
        normalized = normalize_phone(phone)
        return bool(normalized and self.db.query("SELECT 1 FROM users WHERE phone = ?", (normalized,)))
