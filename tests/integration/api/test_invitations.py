"""Residents sign in with an invitation from a printed sheet: its QR link or its 6-character short code,
each once; long sessions; re-issue and revocation; the sheet itself; who may print and revoke."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from domain.actors import Role
from services.api.authentication import SESSION_COOKIE, invitations
from services.invitations import IssuedInvitation
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def members(api: ApiWorld) -> dict[str, dict[str, str]]:
    return dict(api.container.ledger.get_project(UUID(api.project_id)).members)


def issue(api: ApiWorld, n: int = 0) -> IssuedInvitation:
    member = list(members(api).values())[n]
    return invitations(api.container).issue(UUID(member["user_id"]), UUID(api.project_id))


def fresh(api: ApiWorld) -> httpx.Client:
    """Another phone: its own cookie jar."""
    return httpx.Client(transport=api.client._transport, base_url="http://testserver", follow_redirects=False)


def test_the_qr_link_asks_first_then_signs_the_phone_in_once(api: ApiWorld) -> None:
    invitation = issue(api)
    phone = fresh(api)
    page = phone.get(f"/invite/{invitation.link_token}")
    assert page.status_code == 200 and "用这部手机登录" in page.text  # a preview (GET) spends nothing
    assert phone.get(f"/invite/{invitation.link_token}").status_code == 200
    accepted = phone.post(f"/invite/{invitation.link_token}")
    assert accepted.status_code == 303 and accepted.headers["location"] == "/residents"  # 待我签字 first
    assert "HttpOnly" in accepted.headers["set-cookie"] and "Max-Age=31536000" in accepted.headers["set-cookie"]
    me = phone.get("/api/v1/users/me").json()
    assert me["role"] == "resident" and me["id"] == str(invitation.user_id)
    assert phone.get(f"/api/v1/projects/{api.project_id}").status_code == 200  # their community
    other = api.ok("POST", "/api/v1/projects", api.admin, json={
        "name": "锦绣苑", "district": "徐汇区", "street_office": "长桥街道", "address": "百色路", "year_built": 1990,
        "buildings": 3, "households": 90, "categories": ["basic"]})["id"]
    assert phone.get(f"/api/v1/projects/{other}").status_code in (403, 404)  # not another community

    again = fresh(api)
    assert again.post(f"/invite/{invitation.link_token}").status_code == 410
    assert again.post("/sign-in/code", data={"code": invitation.code}).status_code == 401  # the same invitation


def test_the_short_code_works_once_typed_loosely(api: ApiWorld) -> None:
    invitation = issue(api)
    phone = fresh(api)
    typed = f"{invitation.code[:3].lower()} {invitation.code[3:]}"
    assert phone.post("/sign-in/code", data={"code": typed}).status_code == 303
    assert phone.get("/api/v1/users/me").json()["id"] == str(invitation.user_id)
    refused = fresh(api).post("/sign-in/code", data={"code": invitation.code})
    assert refused.status_code == 401 and "邀请码不正确或已失效" in refused.text
    assert fresh(api).post(f"/invite/{invitation.link_token}").status_code == 410


def test_guessing_short_codes_is_limited_per_address_and_for_everyone(api: ApiWorld) -> None:
    invitation = issue(api)
    guesser = fresh(api)
    for guess in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        assert guesser.post("/sign-in/code", data={"code": guess}).status_code == 401
    throttled = guesser.post("/sign-in/code", data={"code": invitation.code})  # even the right one waits
    assert throttled.status_code == 429 and "邀请码错误次数过多" in throttled.text
    limits = api.client.app.state.short_code_limits  # type: ignore[attr-defined]  # TestClient's app is FastAPI
    for n in range(300):  # a botnet: each address under its own limit, the server's budget spent
        limits.everyone.record_failure("all") if n % 2 else limits.record_failure(f"10.0.{n // 250}.{n % 250}")
    assert limits.retry_after("192.0.2.1") is not None  # a new address is refused too
    assert fresh(api).post(f"/invite/{invitation.link_token}").status_code == 303  # the QR link still works


def test_a_reissued_invitation_kills_the_old_and_invitations_expire(api: ApiWorld) -> None:
    old = issue(api)
    new = issue(api)
    assert fresh(api).post(f"/invite/{old.link_token}").status_code == 410
    assert fresh(api).post("/sign-in/code", data={"code": old.code}).status_code == 401
    users, real = api.container.users, api.container.users.clock
    users.clock = lambda: real() + timedelta(days=31)
    assert fresh(api).get(f"/invite/{new.link_token}").status_code == 410


def test_a_resident_stays_signed_in_for_a_year_not_longer(api: ApiWorld) -> None:
    phone = fresh(api)
    phone.post(f"/invite/{issue(api).link_token}")
    users, real = api.container.users, api.container.users.clock
    users.clock = lambda: real() + timedelta(days=300)  # unused for 300 days: still signed in
    assert phone.get("/api/v1/users/me").status_code == 200
    users.clock = lambda: real() + timedelta(days=366)
    assert phone.get("/api/v1/users/me").status_code == 401


def test_the_sheet_is_a_pdf_and_printing_again_issues_new_cards(api: ApiWorld) -> None:
    sheet = api.call("POST", f"/api/v1/projects/{api.project_id}/invitations", api.admin)
    assert sheet.status_code == 201, sheet.text
    assert sheet.headers["content-type"] == "application/pdf" and sheet.content.startswith(b"%PDF")
    rows = api.container.db.query("SELECT user_id, link_hash FROM resident_invitations")
    assert {r[0] for r in rows} == {m["user_id"] for m in members(api).values()}
    first_member = next(iter(members(api)))
    again = api.call("POST", f"/api/v1/projects/{api.project_id}/invitations", api.admin,
                     json={"member_ids": [first_member]})
    assert again.status_code == 201
    after = dict(api.container.db.query("SELECT user_id, link_hash FROM resident_invitations"))
    reissued = members(api)[first_member]["user_id"]
    assert after[reissued] != dict(rows)[reissued]  # the old card died
    assert all(after[u] == h for u, h in rows if u != reissued)  # the others' cards still work


def test_revoking_a_member_signs_their_phones_out(api: ApiWorld) -> None:
    member_id, member = next(iter(members(api).items()))
    phone = fresh(api)
    phone.post(f"/invite/{issue(api).link_token}")
    spare = issue(api)
    revoked = api.ok("DELETE", f"/api/v1/projects/{api.project_id}/invitations/{member_id}", api.admin)
    assert revoked == {"user_id": member["user_id"], "invitations_revoked": 1, "sessions_ended": 1}
    assert phone.get("/api/v1/users/me").status_code == 401
    assert fresh(api).post(f"/invite/{spare.link_token}").status_code == 410


def test_who_may_print_and_revoke_invitations(api: ApiWorld, tmp_path: Path) -> None:
    sheet = f"/api/v1/projects/{api.project_id}/invitations"
    member_id = next(iter(members(api)))
    other_admin = api.container.users.issue_token(api.container.users.create(Role.ADMIN, "赵管理", None, "黄浦区")
                                                  .user_id)
    for token, code in ((api.supervisor, "role_not_permitted"), (api.residents[0], "role_not_permitted"),
                        (api.station, "role_not_permitted"), (other_admin, "out_of_scope")):
        assert api.call("POST", sheet, token).json()["code"] == code
        assert api.call("DELETE", f"{sheet}/{member_id}", token).json()["code"] == code
    assert api.call("POST", sheet, "slt_nope").status_code == 401
    assert api.call("POST", sheet, api.admin, json={"member_ids": ["nobody"]}).json()["code"] == "member_not_found"
    assert api.call("DELETE", f"{sheet}/nobody", api.admin).json()["code"] == "member_not_found"
    assert api.call("POST", sheet, api.admin, json={"member_ids": []}).status_code == 422
    empty = api.ok("POST", "/api/v1/projects", api.admin, json={
        "name": "无人苑", "district": "徐汇区", "street_office": "长桥街道", "address": "田林路", "year_built": 1992,
        "buildings": 2, "households": 40, "categories": ["basic"]})["id"]
    assert api.call("POST", f"/api/v1/projects/{empty}/invitations", api.admin).json()["code"] == "no_members"
    before = api.container.db.query("SELECT link_hash FROM resident_invitations")
    api.container.settings.cjk_font_path = tmp_path / "missing.ttc"
    missing = api.call("POST", sheet, api.admin)
    assert missing.status_code == 503 and missing.json()["code"] == "invitation_font_missing"
    assert api.container.db.query("SELECT link_hash FROM resident_invitations") == before  # nothing issued


def test_a_foreign_page_cannot_spend_an_invitation(api: ApiWorld) -> None:
    invitation = issue(api)
    phone = fresh(api)
    forged = phone.post(f"/invite/{invitation.link_token}", headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    assert phone.post(f"/invite/{invitation.link_token}").status_code == 303
