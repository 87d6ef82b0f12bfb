"""A bearer token on SQLite is checked on the event loop (no thread hop); what would block still hops.

The hop is recorded by wrapping the one `run_in_threadpool` the check uses, not replaced: every request
below is served for real, through the same directory, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.actors import Role
from services.api import authentication
from services.api.app import create_app
from services.bootstrap import Container
from tests.http_support import auth

pytestmark = pytest.mark.integration


class Hops:
    """Counts the identity checks sent to the threadpool (and still runs them there)."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real, self.count = real, 0

    async def __call__(self, func: Callable[..., Any], *args: Any) -> Any:
        self.count += 1
        return await self.real(func, *args)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Hops:
    counted = Hops(authentication.run_in_threadpool)
    monkeypatch.setattr(authentication, "run_in_threadpool", counted)
    return counted


def refused(response: httpx.Response, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (401, code), response.text


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


def test_a_used_token_is_checked_without_a_hop_and_its_last_use_still_noted_once_a_minute(
        container: Container, client: TestClient, hops: Hops) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    container.users.clock = lambda: started
    person = container.users.create(Role.SUPERVISOR, "监理")
    issued = container.users.issue(person.user_id)

    def last_used() -> datetime | None:
        return container.users.tokens(person.user_id)[0].last_used_at

    assert client.get("/api/v1/users/me", headers=auth(issued.token)).status_code == 200
    assert hops.count == 1 and last_used() == started  # first use: written, so through the threadpool

    container.users.clock = lambda: started + timedelta(seconds=59)
    for _ in range(3):
        assert client.get("/api/v1/users/me", headers=auth(issued.token)).json()["role"] == "supervisor"
    assert hops.count == 1 and last_used() == started  # within the minute: no write, no hop

    container.users.clock = lambda: started + timedelta(minutes=1)
    assert client.get("/api/v1/users/me", headers=auth(issued.token)).status_code == 200
    assert hops.count == 2 and last_used() == started + timedelta(minutes=1)


def test_refusals_on_the_loop_are_the_directorys_own(container: Container, client: TestClient, hops: Hops) -> None:
    person = container.users.create(Role.SUPERVISOR, "监理")
    issued = container.users.issue(person.user_id)
    tablet = container.users.issue(person.user_id, device="平板", bound_device_id="tablet-1")
    for token, device in ((issued.token, None), (tablet.token, "tablet-1")):
        headers = {**auth(token), **({"X-Device-Id": device} if device else {})}
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200  # used once: no write due now
    hops.count = 0

    refused(client.get("/api/v1/users/me", headers={**auth(tablet.token), "X-Device-Id": "copied"}), "device_mismatch")
    refused(client.get("/api/v1/users/me", headers=auth("slt_never-issued")), "invalid_token")
    container.users.revoke_token(person.user_id, issued.info.token_id)
    refused(client.get("/api/v1/users/me", headers=auth(issued.token)), "invalid_token")  # at once
    container.users.clock = lambda: tablet.info.expires_at
    refused(client.get("/api/v1/users/me", headers={**auth(tablet.token), "X-Device-Id": "tablet-1"}), "token_expired")
    assert hops.count == 0


def test_a_session_cookie_is_still_checked_in_the_threadpool(container: Container, client: TestClient,
                                                             hops: Hops) -> None:
    client.cookies.set(authentication.SESSION_COOKIE, "no-such-session")
    refused(client.get("/api/v1/users/me"), "unauthenticated")
    assert hops.count == 1  # a session's look-up may write its last-seen time: never on the loop
