"""Staff sign in with a phone and a password set through a one-time link; sessions are server-side records
in an HttpOnly cookie, the same caller as a bearer token, and every state-changing form is CSRF-checked."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.actors import Role
from services.api.authentication import SESSION_COOKIE
from tests.http_support import DISTRICT, ApiWorld

pytestmark = pytest.mark.integration
PASSWORD = "老房子改造要好好监督"
WRONG_ZH = "手机号码或密码不正确"


def staff(api: ApiWorld, phone: str, role: str = "station", district: str | None = DISTRICT,
          name: str = "李建国") -> tuple[str, str]:
    """A person made over HTTP (their bearer token is not used) and their set-password link."""
    body: dict[str, Any] = {"name": name, "role": role, "phone": phone}
    if district:
        body["district"] = district
    user_id = api.ok("POST", "/api/v1/users", api.admin, json=body)["user"]["id"]
    link = api.ok("POST", f"/api/v1/users/{user_id}/password-link", api.admin)
    return user_id, link["url"]


def token_of(url: str) -> str:
    return str(httpx.URL(url).params["token"])


def set_password(api: ApiWorld, url: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return api.client.post("/set-password", data={"token": token_of(url), "password": password,
                                                   "confirm": password}, headers=headers, follow_redirects=False)


def sign_in(api: ApiWorld, phone: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return api.client.post("/sign-in", data={"phone": phone, "password": password}, headers=headers,
                           follow_redirects=False)


def csrf_of(api: ApiWorld) -> str:
    page = api.client.get("/account")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def signed_in(api: ApiWorld, phone: str = "13800000001", **kwargs: Any) -> str:
    user_id, url = staff(api, phone, **kwargs)
    assert set_password(api, url).status_code == 303
    assert sign_in(api, phone).status_code == 303
    return user_id


def test_link_sets_the_password_once_and_the_person_signs_in_and_out(api: ApiWorld) -> None:
    user_id, url = staff(api, "+86 138-0000-0001")
    assert url.startswith("http://testserver/set-password?token=")
    page = api.client.get(url)
    assert page.status_code == 200 and "李建国" in page.text and "尾号 0001" in page.text
    weak = set_password(api, url, "12345678")
    assert weak.status_code == 422 and "至少需要 10 个字符" in weak.text
    done = set_password(api, url)  # a refused password leaves the link usable
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?done=password"
    again = set_password(api, url, "another good password")
    assert again.status_code == 410 and "链接已失效" in again.text

    answer = sign_in(api, "13800000001")
    assert answer.status_code == 303 and answer.headers["location"] == "/console"  # a station's home: its console
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in the test; over TLS it is set (test_secure_cookie_over_tls)
    account = api.client.get("/account")
    assert account.status_code == 200 and "李建国" in account.text and "安全质量监督站" in account.text
    assert account.headers["cache-control"] == "no-store"
    me = api.client.get("/api/v1/users/me")  # the cookie is a caller like a bearer token
    assert me.status_code == 200 and me.json()["id"] == user_id

    out = api.client.post("/sign-out", data={"csrf_token": csrf_of(api)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    api.client.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1])  # the old cookie, replayed
    assert api.client.get("/api/v1/users/me").status_code == 401
    assert api.client.get("/account", follow_redirects=False).headers["location"] == "/sign-in"


def test_wrong_password_and_unknown_phone_answer_alike(api: ApiWorld) -> None:
    _, url = staff(api, "13800000002")
    set_password(api, url)
    wrong, unknown = sign_in(api, "13800000002", "not the password"), sign_in(api, "13999999999")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_ZH in wrong.text and WRONG_ZH in unknown.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    assert api.client.get("/api/v1/users/me").status_code == 401


def test_failed_sign_ins_are_limited_per_phone_with_a_growing_wait(api: ApiWorld) -> None:
    _, url = staff(api, "13800000003")
    set_password(api, url)
    for _ in range(5):
        assert sign_in(api, "13800000003", "wrong password!").status_code == 401
    throttled = sign_in(api, "13800000003")  # even the right password waits: the guesser cannot tell
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text and "秒后再试" in throttled.text
    limits = api.client.app.state.sign_in_limits  # type: ignore[attr-defined]  # TestClient's app is FastAPI
    assert limits.retry_after("13800000003", "other-address") <= 60
    for _ in range(5):  # a minute later (the window cleared), five more make the wait an hour
        limits.phone.record_failure("13800000003")
    assert limits.retry_after("13800000003", "other-address") > 60


def test_failed_sign_ins_are_limited_per_address_across_phones(api: ApiWorld) -> None:
    for n in range(30):
        sign_in(api, f"1390000{n:04d}", "a common password")
    assert sign_in(api, "13900009999").status_code == 429


def test_cookie_writes_need_the_csrf_token_and_a_same_origin(api: ApiWorld) -> None:
    signed_in(api)
    session_id = api.client.get("/api/v1/me/sessions").json()["items"][0]["id"]
    no_token = api.client.delete(f"/api/v1/me/sessions/{session_id}")
    assert no_token.status_code == 403 and no_token.json()["code"] == "csrf_refused"
    token = csrf_of(api)
    forged = api.client.delete(f"/api/v1/me/sessions/{session_id}",
                               headers={"X-CSRF-Token": token, "Origin": "http://evil.example"})
    assert forged.status_code == 403
    cross = api.client.post("/sign-out", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"},
                            follow_redirects=False)
    assert cross.status_code == 403 and "其他网站" in cross.text
    wrong = api.client.post("/sign-out", data={"csrf_token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert api.client.get("/api/v1/users/me").status_code == 200  # none of them ended the session
    ok = api.client.delete(f"/api/v1/me/sessions/{session_id}", headers={"X-CSRF-Token": token,
                                                                          "Origin": "http://testserver"})
    assert ok.status_code == 200 and ok.json()["revoked"] == 1
    assert api.client.get("/api/v1/users/me").status_code == 401


def test_a_foreign_page_cannot_sign_someone_in(api: ApiWorld) -> None:
    _, url = staff(api, "13800000004")
    assert set_password(api, url, Origin="http://evil.example").status_code == 403
    assert set_password(api, url).status_code == 303
    assert sign_in(api, "13800000004", Origin="http://evil.example").status_code == 403
    assert sign_in(api, "13800000004", **{"Sec-Fetch-Site": "same-site"}).status_code == 403


def test_sessions_end_when_idle_and_at_their_absolute_expiry(api: ApiWorld) -> None:
    users = api.container.users
    real = users.clock
    signed_in(api)
    users.clock = lambda: real() + timedelta(hours=11)
    assert api.client.get("/api/v1/users/me").status_code == 200  # used within the idle limit: still on
    users.clock = lambda: real() + timedelta(hours=11 + 13)
    assert api.client.get("/api/v1/users/me").status_code == 401  # 13 h unused ends it (12 h idle)
    users.clock = real
    signed_in(api, "13800000005")
    for hours in range(10, 14 * 24 + 10, 10):  # used every 10 hours, still ended after 14 days
        users.clock = lambda hours=hours: real() + timedelta(hours=hours)  # type: ignore[misc]
        expected = 200 if hours < 14 * 24 else 401
        assert api.client.get("/api/v1/users/me").status_code == expected, hours


def test_links_expire_after_72_hours_and_a_newer_link_kills_the_older(api: ApiWorld) -> None:
    users, real = api.container.users, api.container.users.clock
    user_id, first = staff(api, "13800000006")
    second = api.ok("POST", f"/api/v1/users/{user_id}/password-link", api.admin)["url"]
    assert set_password(api, first).status_code == 410
    users.clock = lambda: real() + timedelta(hours=73)
    assert api.client.get(second).status_code == 410
    users.clock = real
    assert set_password(api, second).status_code == 303
    reset = api.ok("POST", f"/api/v1/users/{user_id}/password-link", api.admin)
    assert reset["purpose"] == "reset" and "只显示这一次" in reset["note_zh"]


def test_a_reset_ends_the_persons_sessions(api: ApiWorld) -> None:
    user_id = signed_in(api, "13800000007")
    reset = api.ok("POST", f"/api/v1/users/{user_id}/password-link", api.admin)["url"]
    assert set_password(api, reset, "a brand new password").status_code == 303
    assert api.client.get("/api/v1/users/me").status_code == 401
    assert sign_in(api, "13800000007").status_code == 401
    assert sign_in(api, "13800000007", "a brand new password").status_code == 303


def test_erasure_removes_the_password_and_sessions(api: ApiWorld) -> None:
    user_id = signed_in(api, "13800000008")
    api.ok("DELETE", f"/api/v1/users/{user_id}/personal-data", api.admin)
    assert api.client.get("/api/v1/users/me").status_code == 401
    assert sign_in(api, "13800000008").status_code == 401


def test_who_may_issue_links_and_manage_sessions(api: ApiWorld) -> None:
    station_id = signed_in(api, "13800000009")
    supervisor_id = api.me(api.supervisor)["id"]
    other_admin_user = api.container.users.create(Role.ADMIN, "赵管理", None, "黄浦区")
    other_admin = api.container.users.issue_token(other_admin_user.user_id)
    link = f"/api/v1/users/{station_id}/password-link"
    assert api.call("POST", link, api.supervisor).json()["code"] == "role_not_permitted"
    assert api.call("POST", link, other_admin).json()["code"] == "out_of_scope"
    assert api.call("POST", f"/api/v1/users/{supervisor_id}/password-link", api.admin).json()["code"] \
        == "phone_required"
    assert api.call("POST", "/api/v1/users/not-a-uuid/password-link", api.admin).status_code == 404
    assert api.call("POST", link, "slt_wrong").status_code == 401

    sessions = f"/api/v1/users/{station_id}/sessions"
    assert api.ok("GET", sessions, api.admin)["total"] == 1
    assert api.call("GET", sessions, api.supervisor).json()["code"] == "role_not_permitted"
    assert api.call("GET", sessions, other_admin).json()["code"] == "out_of_scope"
    mine = api.client.get(sessions).json()  # the person themselves, by cookie
    assert mine["total"] == 1 and mine["items"][0]["current"] is True and mine["items"][0]["device"]
    assert api.call("DELETE", sessions, api.supervisor).status_code == 403
    assert api.ok("DELETE", sessions, api.admin)["revoked"] == 1
    assert api.client.get("/api/v1/users/me").status_code == 401
    assert api.call("DELETE", f"/api/v1/me/sessions/{station_id}", api.supervisor).json()["code"] \
        == "session_not_found"


def test_account_page_lists_devices_and_revokes_another(api: ApiWorld) -> None:
    signed_in(api, "13800000010")
    other = httpx.Client(transport=api.client._transport, base_url="http://testserver")  # a second device
    other.post("/sign-in", data={"phone": "13800000010", "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Mobile"})
    page = api.client.get("/account")
    assert "Chrome · Android" in page.text and "本设备" in page.text
    other_id = re.search(r'action="/account/sessions/([0-9a-f-]+)/revoke"', page.text)
    assert other_id
    done = api.client.post(f"/account/sessions/{other_id.group(1)}/revoke", data={"csrf_token": csrf_of(api)},
                           follow_redirects=False)
    assert done.status_code == 303
    assert other.get("/api/v1/users/me").status_code == 401
    assert api.client.get("/api/v1/users/me").status_code == 200


def test_secure_cookie_over_tls(api: ApiWorld) -> None:
    _, url = staff(api, "13800000011")
    set_password(api, url)
    tls = httpx.Client(transport=api.client._transport, base_url="https://testserver")
    answer = tls.post("/sign-in", data={"phone": "13800000011", "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_phone_number_belongs_to_one_person(api: ApiWorld) -> None:
    staff(api, "13800000012")
    taken = api.call("POST", "/api/v1/users", api.admin,
                     json={"name": "王二", "role": "station", "district": DISTRICT, "phone": "+86 138 0000 0012"})
    assert taken.status_code == 409 and taken.json()["code"] == "phone_in_use" and "手机号码" in taken.json()["detail"]


def test_signing_in_on_a_browser_ends_whoever_was_signed_in_there(api: ApiWorld) -> None:
    signed_in(api, "13800000013")
    first_cookie = api.client.cookies[SESSION_COOKIE]
    _, url = staff(api, "13800000014", name="陈静")
    set_password(api, url)
    assert sign_in(api, "13800000014").status_code == 303
    assert api.client.get("/api/v1/users/me").json()["name"] == "陈静"
    api.client.cookies.set(SESSION_COOKIE, first_cookie)
    assert api.client.get("/api/v1/users/me").status_code == 401
