"""The user directory: roles, scopes and bearer tokens (hashed), and the personal details kept out of the log."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from domain.actors import ROLE_NAMES_ZH, Actor, Role
from projections.listing_queries import ListQuery, like_operator, like_pattern
from services.db import Database

ERASED_NAME = "已删除"
SIGNS_IN = ("user_passwords", "password_links", "web_sessions")  # deleted with the person, as are the tokens
log = logging.getLogger(__name__)
DEFAULT_TOKEN_MAX_AGE_DAYS = 90.0
# "Last used" is for a person reviewing their devices, so minute precision will do: a request writes
# at most once a minute per token instead of on every authentication.
LAST_USED_PRECISION = timedelta(minutes=1)
TokenRefusal = Literal["invalid_token", "token_expired", "device_mismatch"]


def token_hash(token: str) -> str:
    """Tokens are 256-bit random: a plain SHA-256 is enough and lets a lookup use the index."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without the +86/0086 country code; None when it is not a number at all."""
    if raw is None:
        return None
    digits = re.sub(r"[\s\-()]", "", raw).removeprefix("+")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if digits.isascii() and digits.isdigit() and 3 <= len(digits) <= 20 else None


def mask_phone(phone: str) -> str:
    """138****1234: a mobile number's first three and last four digits; a shorter number keeps its last two."""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(0, len(phone) - 2) + phone[-2:]


def sees_phone(viewer: Actor, district: str | None, user_id: str) -> bool:
    """Whether `viewer` sees a person's whole phone number in a list: their own, and the people whose accounts
    the viewer administers as that district's admin (a city-wide admin: the people of no district). The
    admin who hands a person their set-password link and calls them needs the number; a city-wide view of
    every district's people does not, and a list is the easiest way to copy many numbers at once (PIPL:
    no more personal data than the purpose needs), so there they are masked."""
    if user_id == str(viewer.user_id):
        return True
    return viewer.role == Role.ADMIN and district == viewer.district


def utc_now() -> datetime:
    return datetime.now(UTC)


class TokenRefused(Exception):
    """A presented token that does not authenticate: unknown (never issued or revoked) or past its expiry."""

    def __init__(self, reason: TokenRefusal) -> None:
        super().__init__(reason)
        self.reason: TokenRefusal = reason


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


@dataclass(frozen=True)
class TokenInfo:
    """What a person may see of a token: never the token nor its hash."""

    token_id: UUID
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    device: str | None

    def public(self, now: datetime) -> dict[str, object]:
        return {"id": str(self.token_id), "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
                "device": self.device, "expired": self.expires_at <= now}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    info: TokenInfo


@dataclass(frozen=True)
class TokenCheck:
    """A token found good (`UserDirectory.check_token`), and whether its use is due to be noted."""

    user: User
    token_hash: str
    device: str | None
    use_due: bool


class UserDirectory:
    def __init__(self, db: Database, token_max_age_days: float = DEFAULT_TOKEN_MAX_AGE_DAYS,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.token_max_age = timedelta(days=token_max_age_days)
        self.clock = clock  # settable, so expiry is testable without waiting

    def create(self, role: Role, name: str, phone: str | None = None, district: str | None = None) -> User:
        user = User(uuid4(), role, district, name, normalize_phone(phone) or phone)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                       (str(user.user_id), str(role), district, name, user.phone, _iso(self.clock())))
        return user

    def issue(self, user_id: UUID, device: str | None = None, bound_device_id: str | None = None) -> IssuedToken:
        """A new token, valid for the configured age; only its SHA-256 is kept. A device credential (a tablet's)
        is bound to its device id: it authenticates only with that `X-Device-Id`."""
        token, now = "slt_" + secrets.token_urlsafe(32), self.clock()
        info = TokenInfo(uuid4(), now, now + self.token_max_age, None, device)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO user_tokens (token_hash, user_id, created_at, token_id, expires_at, device, "
                       "bound_device_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (token_hash(token), str(user_id), _iso(now), str(info.token_id), _iso(info.expires_at), device,
                        bound_device_id))
        return IssuedToken(token, info)

    def devices(self, user_id: UUID) -> list[tuple[str, TokenInfo]]:
        """The person's device credentials: each bound device id with its token's facts."""
        rows = self.db.query("SELECT bound_device_id, token_id, created_at, expires_at, last_used_at, device "
                             "FROM user_tokens WHERE user_id = ? AND bound_device_id IS NOT NULL "
                             "ORDER BY created_at, token_id", (str(user_id),))
        return [(row[0], self._info(*row[1:])) for row in rows]

    def issue_token(self, user_id: UUID) -> str:
        return self.issue(user_id).token

    def tokens(self, user_id: UUID) -> list[TokenInfo]:
        rows = self.db.query("SELECT token_id, created_at, expires_at, last_used_at, device FROM user_tokens "
                             "WHERE user_id = ? ORDER BY created_at, token_id", (str(user_id),))
        return [self._info(*row) for row in rows]

    def revoke_token(self, user_id: UUID, token_id: UUID) -> bool:
        with self.db.transaction() as tx:
            cursor = tx.execute("DELETE FROM user_tokens WHERE user_id = ? AND token_id = ?",
                                (str(user_id), str(token_id)))
            return bool(cursor.rowcount)

    def revoke_tokens(self, user_id: UUID) -> int:
        with self.db.transaction() as tx:
            cursor = tx.execute("DELETE FROM user_tokens WHERE user_id = ?", (str(user_id),))
            return int(cursor.rowcount or 0)

    def get(self, user_id: UUID | str) -> User | None:
        rows = self.db.query("SELECT user_id, role, district, name, phone FROM users WHERE user_id = ?",
                             (str(user_id),))
        return _user(rows[0]) if rows else None

    def authenticate(self, token: str, device: str | None = None) -> User:
        """The token's user, or TokenRefused; notes when (and, if unnamed, from which device) it was used."""
        checked = self.check_token(token, device)
        if checked.use_due:
            self.note_use(checked)
        return checked.user

    def check_token(self, token: str, device: str | None = None) -> TokenCheck:
        """`authenticate` without its write: one indexed read, so a caller on an event loop can check a token
        there and send only the write (`note_use`, at most once a minute per token) to a thread."""
        hashed = token_hash(token)
        rows = self.db.query(
            "SELECT u.user_id, u.role, u.district, u.name, u.phone, t.token_id, t.created_at, t.expires_at, "
            "t.last_used_at, t.device, t.bound_device_id FROM user_tokens t JOIN users u ON u.user_id = t.user_id "
            "WHERE t.token_hash = ?", (hashed,))
        if not rows:
            raise TokenRefused("invalid_token")
        info, now = self._info(*rows[0][5:10]), self.clock()
        if info.expires_at <= now:
            raise TokenRefused("token_expired")
        if rows[0][10] is not None and rows[0][10] != device:  # a lost tablet's token copied elsewhere
            raise TokenRefused("device_mismatch")
        due = (info.last_used_at is None or now - info.last_used_at >= LAST_USED_PRECISION
               or (info.device is None and bool(device)))
        return TokenCheck(_user(rows[0][:5]), hashed, device, due)

    def note_use(self, checked: TokenCheck) -> None:
        """When the token was last used, and from which device if it named none."""
        device = checked.device[:128] if checked.device else None
        with self.db.transaction() as tx:
            tx.execute("UPDATE user_tokens SET last_used_at = ?, device = COALESCE(device, ?) WHERE token_hash = ?",
                       (_iso(self.clock()), device, checked.token_hash))

    def by_token(self, token: str) -> User | None:
        try:
            return self.authenticate(token)
        except TokenRefused:
            return None

    def erase_personal_data(self, user_id: UUID) -> int:
        """PIPL: the person's name and phone go, and so do their tokens, password, links and sessions (an erased
        person no longer signs in); the id in the immutable log stays meaningful as 已删除. The store is then
        scrubbed (`Database.scrub`), so no old copy of the row stays in its files. Returns how many tokens were
        revoked."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE users SET name = NULL, phone = NULL WHERE user_id = ?", (str(user_id),))
            for table in SIGNS_IN:
                tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (str(user_id),))
            revoked = int(tx.execute("DELETE FROM user_tokens WHERE user_id = ?", (str(user_id),)).rowcount or 0)
        if not self.db.scrub(("users", *SIGNS_IN, "user_tokens")):
            log.warning("erasure of %s: a reader held the old rows; the next checkpoint scrubs them", user_id)
        return revoked

    def people(self, viewer: Actor, role: Role | None = None, district: str | None = None,
               q: str | None = None) -> ListQuery:
        """The people `viewer` may list, oldest account first, as one query (scope and filters in SQL): a
        city-wide admin everyone, a district admin the people of its district (whom it administers, as
        `_target` in the users routes says), anyone else only themselves. `q` is part of a name, or digits of
        a phone number. Read the rows with `ListQuery.page` and show each with `person`."""
        query = ListQuery("people", "users", "users.user_id, users.role, users.district, users.name, users.phone, "
                          "users.created_at", ("created_at", "user_id"))
        if viewer.role != Role.ADMIN:
            query.when("users.user_id = ?", str(viewer.user_id))
        elif viewer.district is not None:
            query.when("users.district = ?", viewer.district)
        query.equal("role", str(role) if role else None).equal("district", district)
        text = (q or "").strip()
        if text:
            name = f"COALESCE(users.name, ?) {like_operator(self.db, text)} ? ESCAPE '\\'"
            digits = re.sub(r"[\s\-()+]", "", text)
            if digits.isascii() and digits.isdigit():
                query.when(f"({name} OR users.phone LIKE ? ESCAPE '\\')", ERASED_NAME, like_pattern(text),
                           like_pattern(digits))
            else:
                query.when(name, ERASED_NAME, like_pattern(text))
        return query

    @staticmethod
    def person(viewer: Actor, row: Any) -> dict[str, Any]:
        """One row of `people` as listed: an erased person as 已删除 without a phone; a phone masked unless
        `sees_phone`."""
        user_id, role, district, name, phone, created_at = row[:6]
        whole = phone is not None and sees_phone(viewer, district, user_id)
        return {"id": user_id, "role": role, "role_zh": ROLE_NAMES_ZH[Role(role)], "district": district,
                "name": name if name is not None else ERASED_NAME, "erased": name is None,
                "phone": None if name is None or phone is None else phone if whole else mask_phone(phone),
                "phone_masked": phone is not None and name is not None and not whole, "created_at": created_at}

    def _info(self, token_id: str, created_at: str, expires_at: str | None, last_used_at: str | None,
              device: str | None) -> TokenInfo:
        created = datetime.fromisoformat(created_at)
        expires = datetime.fromisoformat(expires_at) if expires_at else created + self.token_max_age
        return TokenInfo(UUID(token_id), created, expires,
                         datetime.fromisoformat(last_used_at) if last_used_at else None, device)


def _user(row: tuple[str, str, str | None, str | None, str | None]) -> User:
    return User(UUID(row[0]), Role(row[1]), row[2], row[3], row[4])


def _iso(moment: datetime) -> str:
    return moment.isoformat()
