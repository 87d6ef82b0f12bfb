"""A person's tokens over HTTP: listed, revoked one by one, expired, revoked by erasure, guessed and throttled."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.actors import Role
from services.api.app import create_app
from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from tests.http_support import ApiWorld, auth
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration


def problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"]
    return body


def test_tokens_are_listed_without_their_secret_and_revoked_one_by_one(api: ApiWorld) -> None:
    contractor_id = api.me(api.contractor)["id"]
    issued = [api.ok("POST", f"/api/v1/users/{contractor_id}/tokens", api.admin, json={"device": device})
              for device in ("平板A", "平板B")]
    tablet_a, tablet_b = (t["token"] for t in issued)
    assert issued[0]["device"] == "平板A" and issued[0]["expires_at"] > issued[0]["created_at"]
    api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tablet_a}", "X-Device-Id": "dev-1"})

    listing = api.call("GET", f"/api/v1/users/{contractor_id}/tokens", api.admin)
    assert listing.status_code == 200
    items = {t["id"]: t for t in listing.json()["items"]}
    assert len(items) == 3  # the one made with the user, and the two tablets'
    assert tablet_a not in listing.text and "token_hash" not in listing.text
    a = items[issued[0]["id"]]
    assert a["device"] == "平板A" and a["last_used_at"] is not None and a["expired"] is False
    assert items[issued[1]["id"]]["last_used_at"] is None

    assert api.ok("DELETE", f"/api/v1/users/{contractor_id}/tokens/{issued[0]['id']}", api.admin)["revoked"] == 1
    problem(api.client.get("/api/v1/users/me", headers=auth(tablet_a)), 401, "invalid_token")
    assert api.me(tablet_b)["id"] == contractor_id and api.me(api.contractor)["id"] == contractor_id
    problem(api.call("DELETE", f"/api/v1/users/{contractor_id}/tokens/{issued[0]['id']}", api.admin),
            404, "token_not_found")
    # a token id of someone else, under this user's path, revokes nothing
    admin_token_id = api.ok("GET", "/api/v1/me/tokens", api.admin)["items"][0]["id"]
    problem(api.call("DELETE", f"/api/v1/users/{contractor_id}/tokens/{admin_token_id}", api.admin),
            404, "token_not_found")

    # the person themselves, under /me
    own = api.ok("GET", "/api/v1/me/tokens", tablet_b)["items"]
    assert {t["id"] for t in own} == set(items) - {issued[0]["id"]}
    assert api.ok("DELETE", f"/api/v1/me/tokens/{issued[1]['id']}", api.contractor)["revoked"] == 1
    problem(api.client.get("/api/v1/users/me", headers=auth(tablet_b)), 401, "invalid_token")
    problem(api.call("DELETE", f"/api/v1/me/tokens/{admin_token_id}", api.contractor), 404, "token_not_found")
    problem(api.call("DELETE", "/api/v1/me/tokens/not-a-uuid", api.contractor), 404, "token_not_found")


def test_only_an_admin_of_the_district_sees_or_revokes_another_persons_tokens(api: ApiWorld,
                                                                               container: Container) -> None:
    contractor_id = api.me(api.contractor)["id"]
    token_id = api.ok("GET", "/api/v1/me/tokens", api.contractor)["items"][0]["id"]
    for other in (api.supervisor, api.station, api.residents[0]):
        problem(api.call("GET", f"/api/v1/users/{contractor_id}/tokens", other), 403, "role_not_permitted")
        problem(api.call("DELETE", f"/api/v1/users/{contractor_id}/tokens/{token_id}", other),
                403, "role_not_permitted")
        problem(api.call("POST", f"/api/v1/users/{contractor_id}/tokens", other), 403, "role_not_permitted")
    district_admin = container.users.create(Role.ADMIN, "区管理员", district="平谷区")
    elsewhere = container.users.issue_token(district_admin.user_id)
    problem(api.call("GET", f"/api/v1/users/{contractor_id}/tokens", elsewhere), 403, "out_of_scope")
    problem(api.call("DELETE", f"/api/v1/users/{contractor_id}/tokens/{token_id}", elsewhere), 403, "out_of_scope")
    problem(api.call("GET", f"/api/v1/users/{uuid.uuid4()}/tokens", api.admin), 404, "user_not_found")
    problem(api.call("POST", f"/api/v1/users/{contractor_id}/tokens", api.admin, json={"device": "a\u001b[31m"}),
            422, "validation_error")
    assert api.me(api.contractor)["id"] == contractor_id  # nothing above touched the token


def test_erasing_a_persons_data_revokes_their_tokens(api: ApiWorld) -> None:
    resident = api.residents[0]
    resident_id = api.me(resident)["id"]
    erased = api.ok("DELETE", f"/api/v1/users/{resident_id}/personal-data", api.admin)
    assert erased["tokens_revoked"] == 1
    problem(api.client.get("/api/v1/users/me", headers=auth(resident)), 401, "invalid_token")
    assert api.ok("GET", f"/api/v1/users/{resident_id}/tokens", api.admin)["items"] == []


@pytest.fixture
def short_lived(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Container]:
    built = build(settings_for(tmp_path, s3_server, token_max_age_days=1, auth_failures_per_minute=5))
    yield built
    built.close()


def test_a_token_expires_after_the_configured_age(short_lived: Container) -> None:
    with TestClient(create_app(short_lived)) as client:
        world = ApiWorld(client, short_lived)
        admin_id, supervisor_id = world.me(world.admin)["id"], world.me(world.supervisor)["id"]
        started = datetime.now(UTC)
        short_lived.users.clock = lambda: started + timedelta(hours=23)
        assert world.me(world.supervisor)["role"] == "supervisor"
        short_lived.users.clock = lambda: started + timedelta(days=1, minutes=1)
        body = problem(client.get("/api/v1/users/me", headers=auth(world.supervisor)), 401, "token_expired")
        assert "过期" in str(body["detail"])
        fresh_admin = short_lived.users.issue_token(uuid.UUID(admin_id))  # issued at the moved clock: valid
        [listed] = world.ok("GET", f"/api/v1/users/{supervisor_id}/tokens", fresh_admin)["items"]
        assert listed["expired"] is True


def test_failed_authentication_is_throttled_per_address_and_counted(short_lived: Container) -> None:
    with TestClient(create_app(short_lived)) as client:
        world = ApiWorld(client, short_lived)
        for _ in range(30):  # successes are not attempts to limit
            assert world.me(world.supervisor)["role"] == "supervisor"
        for n in range(5):
            problem(client.get("/api/v1/users/me", headers=auth(f"slt_guess-{n}")), 401, "invalid_token")
        throttled = client.get("/api/v1/users/me", headers=auth("slt_guess-5"))
        body = problem(throttled, 429, "too_many_attempts")
        wait = int(throttled.headers["retry-after"])
        assert 1 <= wait <= 60 and body["retry_after"] == wait
        assert "秒后再试" in str(body["detail"])
        problem(client.get("/api/v1/users/me", headers=auth(world.supervisor)), 429, "too_many_attempts")
        problem(client.get("/api/v1/users/me"), 401, "unauthenticated")  # no credentials is no attempt
        assert 'siteledger_auth_refusals_total{reason="too_many_attempts"}' in client.get("/metrics").text
    with TestClient(create_app(short_lived), client=("192.0.2.7", 40000)) as elsewhere:
        assert elsewhere.get("/api/v1/users/me", headers=auth(world.supervisor)).status_code == 200
