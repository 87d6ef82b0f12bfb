"""Password rules (length over composition, no common or personal passwords) and Argon2id hashing."""

from __future__ import annotations

import pytest

from services import passwords
from services.users import normalize_phone


@pytest.mark.parametrize(("password", "code"), [
    ("short1!", "password_too_short"),
    ("x" * 129, "password_too_long"),
    ("qwertyuiop", "password_too_common"),  # in zxcvbn's list of leaked passwords
    ("Password123", "password_too_common"),  # case does not rescue a common one
    ("woaini1314", "password_too_common"),  # common in Chinese leaks, added beside zxcvbn's list
    ("aaaaaaaaaaaa", "password_too_common"),
    ("abababababab", "password_too_common"),
    ("my13812345678pw", "password_contains_phone"),
])
def test_refused_passwords_say_why_in_chinese(password: str, code: str) -> None:
    with pytest.raises(passwords.WeakPassword) as refused:
        passwords.check(password, phone="138 1234 5678")
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.detail_zh)


@pytest.mark.parametrize("password", ["老房子改造要好好监督", "correct horse battery", "tiles-on-the-roof"])
def test_a_long_uncommon_password_needs_no_digits_or_symbols(password: str) -> None:
    passwords.check(password, phone="13812345678")


def test_argon2id_hash_verifies_only_the_right_password() -> None:
    hashed = passwords.hash_password("老房子改造要好好监督")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "老房子改造要好好监督")
    assert not passwords.verify(hashed, "老房子改造要好好监")
    assert not passwords.verify(None, "老房子改造要好好监督")  # no such person: a dummy hash is checked, False
    assert not passwords.verify("not a hash", "anything")


@pytest.mark.parametrize(("raw", "normal"), [
    ("+86 138-1234-5678", "13812345678"), ("008613812345678", "13812345678"), ("8613812345678", "13812345678"),
    ("13812345678", "13812345678"), ("021 6412 3456", "02164123456"), ("abc", None), ("１３８", None),
])
def test_phone_numbers_are_kept_as_digits(raw: str, normal: str | None) -> None:
    assert normalize_phone(raw) == normal
