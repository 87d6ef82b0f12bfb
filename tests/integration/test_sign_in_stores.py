"""Sessions, passwords and links, invitations and device binding on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.actors import Role
from services.credentials import Credentials, LinkRefused
from services.db import Database
from services.invitations import ALPHABET, InvitationRefused, Invitations
from services.sessions import SessionStore
from services.users import TokenRefused, UserDirectory

pytestmark = pytest.mark.integration
PASSWORD = "老房子改造要好好监督"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(db: Database, clock: Clock) -> UserDirectory:
    return UserDirectory(db, clock=clock)


def test_a_password_set_by_link_signs_in_and_the_link_is_spent(users: UserDirectory, db: Database,
                                                                clock: Clock) -> None:
    person = users.create(Role.SUPERVISOR, "王工", "+86 139 1234 5678")
    credentials = Credentials(db, users)
    link = credentials.issue_link(person.user_id)
    assert link.purpose == "set" and link.expires_at == clock.now + timedelta(hours=72)
    credentials.set_password(link.token, PASSWORD)
    with pytest.raises(LinkRefused):
        credentials.set_password(link.token, PASSWORD)
    signed = credentials.verify("139-1234-5678", PASSWORD)
    assert signed is not None and signed.user_id == person.user_id
    assert credentials.verify("13912345678", "wrong password") is None
    assert credentials.verify("13900000000", PASSWORD) is None
    stored = db.query("SELECT password_hash FROM user_passwords")[0][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert credentials.issue_link(person.user_id).purpose == "reset"


def test_sessions_expire_idle_and_absolute_and_are_revoked(users: UserDirectory, db: Database, clock: Clock) -> None:
    person = users.create(Role.STATION, "李站", "13800001111", "徐汇区")
    store = SessionStore(db, timedelta(hours=12), timedelta(days=14), clock)
    opened = store.open(person.user_id, "password", "Mozilla/5.0 (X11; Linux) Chrome/120", "192.0.2.7")
    clock.now += timedelta(hours=11)
    active = store.resolve(opened.cookie)
    assert active is not None and active.csrf_matches(opened.csrf_token) and not active.csrf_matches("x")
    assert active.info.last_seen_at == clock.now
    clock.now += timedelta(hours=12, minutes=1)
    assert store.resolve(opened.cookie) is None
    assert store.sessions(person.user_id) == []
    other = store.open(person.user_id)
    [listed] = store.sessions(person.user_id)
    assert listed.session_id == other.info.session_id
    assert store.revoke(person.user_id, other.info.session_id)
    assert store.resolve(other.cookie) is None
    assert db.query("SELECT COUNT(*) FROM web_sessions WHERE session_hash = ?", (other.cookie,))[0][0] == 0


def test_an_invitation_is_spent_by_its_link_or_its_code_once(users: UserDirectory, db: Database,
                                                             clock: Clock) -> None:
    resident = users.create(Role.RESIDENT, "张桂英")
    invitations = Invitations(db, users, timedelta(days=30))
    first = invitations.issue(resident.user_id, uuid4())
    assert len(first.code) == 6 and set(first.code) <= set(ALPHABET)
    second = invitations.issue(resident.user_id, uuid4())
    with pytest.raises(InvitationRefused):
        invitations.redeem_link(first.link_token)
    assert invitations.peek(second.link_token).user_id == resident.user_id
    assert invitations.redeem_code(second.code.lower()).user_id == resident.user_id
    with pytest.raises(InvitationRefused):
        invitations.redeem_link(second.link_token)
    third = invitations.issue(resident.user_id, uuid4())
    clock.now += timedelta(days=30)
    with pytest.raises(InvitationRefused):
        invitations.redeem_code(third.code)


def test_a_device_credential_is_bound_to_its_device(users: UserDirectory) -> None:
    person = users.create(Role.SUPERVISOR, "王工")
    issued = users.issue(person.user_id, device="平板", bound_device_id="tablet-0001")
    assert users.authenticate(issued.token, "tablet-0001").user_id == person.user_id
    with pytest.raises(TokenRefused) as refused:
        users.authenticate(issued.token, "tablet-0002")
    assert refused.value.reason == "device_mismatch"
    [(device_id, info)] = users.devices(person.user_id)
    assert device_id == "tablet-0001" and info.device == "平板"


def test_erasure_removes_password_links_and_sessions(users: UserDirectory, db: Database, clock: Clock) -> None:
    person = users.create(Role.SUPERVISOR, "王工", "13912340000")
    credentials = Credentials(db, users)
    credentials.set_password(credentials.issue_link(person.user_id).token, PASSWORD)
    SessionStore(db, timedelta(hours=1), timedelta(days=1), clock).open(person.user_id)
    credentials.issue_link(person.user_id)
    users.erase_personal_data(person.user_id)
    for table in ("user_passwords", "password_links", "web_sessions"):
        assert db.query(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (str(person.user_id),))[0][0] == 0
    assert credentials.verify("13912340000", PASSWORD) is None
