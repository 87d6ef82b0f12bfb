"""Passwords: Argon2id hashes (argon2-cffi) and rules a person can live with — length over composition.

The rules follow NIST SP 800-63B §5.1.1.2: at least 10 characters, no composition rules, and a refusal of
passwords found in lists of the most common ones. The list is zxcvbn's (PyPI `zxcvbn`, the 30,000 most
frequent passwords of public leaks), plus a few that lead Chinese leak analyses and that list lacks.
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 128  # Argon2 takes any length, but a megabyte "password" is a denial of service, not a secret
# Frequent in Chinese leak analyses (e.g. the 2011 CSDN leak) and absent from zxcvbn's mostly Western list.
CHINESE_COMMON = frozenset({
    "woaini1314", "woaini520", "5201314520", "1314520520", "a5201314", "woaini5201314", "1qaz2wsx3edc",
    "qq123456789", "dearbook", "xiazhili", "147258369", "1472583690", "0987654321", "789456123",
    "wangyut2", "123456789a", "a123456789", "123456789abc", "abc123456789", "qwertyuiop123",
})

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: t=3, 64 MiB, p=4).
_hasher = PasswordHasher()


class WeakPassword(ValueError):
    """A password the rules refuse; `code` is stable, `detail_zh` tells the person what to change."""

    def __init__(self, code: str, detail_zh: str) -> None:
        super().__init__(code)
        self.code, self.detail_zh = code, detail_zh


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"]) | CHINESE_COMMON


def check(password: str, phone: str | None = None) -> None:
    """Raise WeakPassword unless the password is long enough and not a well-known or personal one."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword("password_too_short",
                           f"密码至少需要 {MIN_LENGTH} 个字符（可以是一句好记的话，不要求特殊符号）")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("password_too_long", f"密码最多 {MAX_LENGTH} 个字符")
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) <= 2:
        raise WeakPassword("password_too_common", "这个密码太常见，很容易被猜到，请换一个")
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 7 and digits[-7:] in re.sub(r"\D", "", password):
        raise WeakPassword("password_contains_phone", "密码不能包含您的手机号码")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when it matches; with no hash (no such person) a dummy hash is checked anyway, so the answer takes
    as long whether or not the phone number is known."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-password-anyone-has")
