"""The residents' pages over HTTP with a real store, S3 and sessions: a neighbour reads an item in plain words,
signs on a form (JavaScript off, as a TestClient is), gets a receipt; a stale page, a double submit, and who is
shown nothing at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from domain import commands as c
from domain.actors import Role
from services.api.app import create_app
from services.api.authentication import invitations, sessions
from services.bootstrap import Container, build
from services.commands.bus import Envelope
from services.seaweed import SeaweedS3
from services.transparency.service import service_for
from services.users import User
from tests import images
from tests.integration.api.conftest import settings_for
from tests.support import VALID

pytestmark = pytest.mark.integration
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


class Community:
    """One community (金牛花苑) with its staff and residents' group, made through the one command path."""

    def __init__(self, container: Container, residents: int = 3, name: str = "金牛花苑") -> None:
        self.container = container
        users = container.users
        self.admin = users.create(Role.ADMIN, "王芳")
        self.supervisor = users.create(Role.SUPERVISOR, "赵监理")
        self.contractor = users.create(Role.CONTRACTOR, "宏达建设工程有限公司")
        self.station = users.create(Role.STATION, "李建国", district="徐汇区")
        self.project_id = UUID(self.run(self.admin, c.RegisterProject(
            name=name, district="徐汇区", street_office="长桥街道", buildings=12, households=430)).aggregate_id)
        for person in (self.supervisor, self.contractor):
            self.run(self.admin, c.AssignUser(project_id=self.project_id, user_id=person.user_id,
                                              role=person.role))
        names = ["张桂英", "刘德明", "陈秀兰", "王建华", "孙玉梅"][:residents]
        self.residents = [users.create(Role.RESIDENT, n) for n in names]
        for n, person in enumerate(self.residents, start=1):
            self.run(self.admin, c.AddGroupMember(project_id=self.project_id, user_id=person.user_id,
                                                  building=f"{n + 10}号楼", unit="1单元"))

    def run(self, user: User, command: c.Command) -> Any:
        return self.container.commands.handle(user, command, Envelope(idempotency_key=f"test-{uuid4()}"))

    def photo(self, label: str, user: User | None = None, size: tuple[int, int] = (640, 480)) -> str:
        meta, _ = self.container.photos.upload(user or self.supervisor, images.jpeg(label, size=size),
                                               f"{label}.jpg", str(self.project_id))
        return str(meta["id"])

    def item(self, title: str = "12号楼给水管线迁移", location: str = "12号楼北侧") -> UUID:
        return UUID(self.run(self.admin, c.RegisterWorksItem(
            project_id=self.project_id, kind="pipe_relocation", title=title, location=location,
            contractor_id=self.contractor.user_id, planned_start="2026-09-01",
            planned_end="2026-10-31")).aggregate_id)

    def inspect(self, item_id: UUID, hold_point: str, **overrides: Any) -> None:
        spec = self.container.ledger.get_item(item_id).spec(hold_point)
        photos = [self.photo(f"{item_id}-{hold_point}-{n}") for n in range(spec.min_photos)]
        self.run(self.supervisor, c.RecordInspection(item_id=item_id, hold_point=hold_point, result="pass",
                                                     photos=photos, **{**VALID.get(hold_point, {}), **overrides}))

    def completed(self, with_history: bool = True) -> UUID:
        """An item passed through every hold point; with a defect raised and fixed (before and after photos)
        and a stop-work order ordered and lifted, as a real one would have."""
        item_id = self.item()
        for spec in self.container.ledger.get_item(item_id).parsed_template.hold_points:
            self.inspect(item_id, spec.code)
            if with_history and spec.code == "excavation":
                self.run(self.supervisor, c.RaiseDefect(
                    item_id=item_id, defect_id="d-1", severity="major", hold_point="excavation",
                    description="沟槽东侧未设围挡", photos=[self.photo(f"{item_id}-before")]))
                self.run(self.contractor, c.ReportRectification(
                    item_id=item_id, defect_id="d-1", description="已补设围挡",
                    photos=[self.photo(f"{item_id}-after", self.contractor)]))
                self.run(self.supervisor, c.CloseDefect(item_id=item_id, defect_id="d-1"))
                self.run(self.station, c.OrderStopWork(item_id=item_id, reason="夜间施工扰民"))
                self.run(self.station, c.LiftStopWork(item_id=item_id, notes="已调整施工时间"))
        self.run(self.supervisor, c.CompleteWorks(item_id=item_id))
        return item_id

    def open_round(self, item_id: UUID) -> int:
        return int(self.run(self.supervisor, c.RequestAcceptance(item_id=item_id)).result["round_no"])


def phone(container: Container, person: User, project_id: UUID) -> TestClient:
    """A phone signed in by the invitation link, as a resident scans it."""
    client = TestClient(create_app(container))
    token = invitations(container).issue(person.user_id, project_id).link_token
    answer = client.post(f"/invite/{token}", follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def fields(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(html):
        found.setdefault(name, []).append(value)
    return found


def confirm_form(client: TestClient, item_id: UUID, round_no: int) -> dict[str, Any]:
    page = client.get(f"/residents/items/{item_id}/rounds/{round_no}/sign?decision=accept")
    assert page.status_code == 200 and "请确认您的签字" in page.text
    return {k: v if k == "photo" else v[0] for k, v in fields(page.text).items()}


@pytest.fixture
def container(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Container]:
    built = build(settings_for(tmp_path, s3_server))
    yield built
    built.close()


@pytest.fixture
def community(container: Container) -> Community:
    return Community(container)


def test_an_item_reads_in_plain_words_with_its_photos_defects_and_stop_work(
        community: Community) -> None:
    item_id = community.completed()
    round_no = community.open_round(item_id)
    client = phone(community.container, community.residents[0], community.project_id)
    awaiting = client.get("/residents")
    assert "12号楼给水管线迁移" in awaiting.text and "宏达建设工程有限公司" in awaiting.text
    assert "已有 <strong>0</strong> 位邻居签字，共 3 位" in awaiting.text
    page = client.get(f"/residents/items/{item_id}")
    assert page.status_code == 200
    assert "试验压力 0.6 MPa，要求不低于 0.6 MPa，合格" in page.text
    assert "沟槽东侧未设围挡" in page.text and "整改前" in page.text and "整改后" in page.text
    assert "夜间施工扰民" in page.text and "解除停工" in page.text
    assert f"第 {round_no} 轮居民验收</h2>" in page.text and "正在签字" in page.text
    assert page.headers["cache-control"] == "no-store"
    thumbs = re.findall(r'/api/v1/photos/([0-9a-f]{64})\?size=thumb', page.text)
    assert len(set(thumbs)) == 5  # three hold points' photos, the defect's before and after
    photo = client.get(f"/api/v1/photos/{thumbs[0]}?size=thumb")  # the session cookie reads it, in scope
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    full = client.get(f"/residents/items/{item_id}/photos/{thumbs[0]}")
    assert full.status_code == 200 and f"/api/v1/photos/{thumbs[0]}?size=preview" in full.text
    assert client.get(f"/residents/items/{item_id}/photos/{'0' * 64}").status_code == 404


def test_a_resident_signs_with_javascript_off_once_and_gets_a_receipt(
        community: Community) -> None:
    item_id = community.completed(with_history=False)
    round_no = community.open_round(item_id)
    client = phone(community.container, community.residents[0], community.project_id)
    form = confirm_form(client, item_id, round_no)
    item = community.container.ledger.get_item(item_id)
    assert form["subject_hash"] == item.rounds[0]["subject_hash"]
    first = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign", data=form, follow_redirects=False)
    assert first.status_code == 303, first.text
    again = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign", data=form, follow_redirects=False)
    assert again.status_code == 303  # a double tap: the same key replays the first outcome
    receipt = client.get(first.headers["location"])
    code = f"{form['subject_hash'][:4].upper()} {form['subject_hash'][4:8].upper()}"
    assert "签字回执" in receipt.text and code in receipt.text and "同意" in receipt.text
    assert 'id="tally-signed">1</strong>' in receipt.text
    signed = [e for e in community.container.ledger.item_events(item_id, 0, 1000)
              if type(e).__name__ == "ResidentSigned"]
    assert len(signed) == 1
    mine = client.get("/residents/mine")
    assert code in mine.text and "✓ 与记录一致" in mine.text


def test_a_rejection_needs_a_reason_and_carries_a_photo_from_the_phone(
        community: Community) -> None:
    item_id = community.completed(with_history=False)
    client = phone(community.container, community.residents[1], community.project_id)
    url = f"/residents/upload/items/{item_id}/rounds/{community.open_round(item_id)}/reject"
    csrf = fields(client.get(f"/residents/items/{item_id}/rounds/1/sign?decision=reject").text)["csrf_token"][0]
    empty = client.post(url, data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 422 and "请写下不同意的理由" in empty.text
    camera = images.noise_jpeg((2400, 1800), quality=97)  # a phone's photo as it is, no script to shrink it
    assert len(camera) > 2 * 1024 * 1024  # beyond the JSON body limit: the reject form takes photo-sized bodies
    review = client.post(url, data={"csrf_token": csrf, "reason": "路面没有恢复，下雨积水"},
                         files={"photo": ("puddle.jpg", camera, "image/jpeg")})
    assert review.status_code == 200 and "不同意验收" in review.text
    form = fields(review.text)
    [photo_id] = form["photo"]
    assert form["reason"] == ["路面没有恢复，下雨积水"]
    signed = client.post(f"/residents/items/{item_id}/rounds/1/sign",
                         data={k: v if k == "photo" else v[0] for k, v in form.items()}, follow_redirects=False)
    assert signed.status_code == 303
    [event] = [e for e in community.container.ledger.item_events(item_id, 0, 1000)
               if type(e).__name__ == "ResidentSigned"]
    assert event.decision == "reject" and event.photos == [photo_id]


def test_a_page_shown_before_the_record_changed_is_not_signed(
        community: Community) -> None:
    item_id = community.completed(with_history=False)
    round_no = community.open_round(item_id)
    client = phone(community.container, community.residents[0], community.project_id)
    form = confirm_form(client, item_id, round_no)
    community.run(community.station, c.OrderStopWork(item_id=item_id, reason="发现安全隐患"))  # cancels the round
    stale = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign", data=form)
    assert stale.status_code == 409 and "内容已更新，请刷新后再签" in stale.text
    assert f'href="/residents/items/{item_id}"' in stale.text  # the reload button
    assert not [e for e in community.container.ledger.item_events(item_id, 0, 1000)
                if type(e).__name__ == "ResidentSigned"]


def test_a_forged_form_from_another_site_is_refused(community: Community) -> None:
    item_id = community.completed(with_history=False)
    round_no = community.open_round(item_id)
    client = phone(community.container, community.residents[0], community.project_id)
    form = confirm_form(client, item_id, round_no)
    forged = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign", data={**form, "csrf_token": "x"})
    assert forged.status_code == 403
    other_origin = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign", data=form,
                               headers={"Origin": "http://evil.example"})
    assert other_origin.status_code == 403
    assert community.container.ledger.get_item(item_id).rounds[0]["signatures"] == {}


def test_nobody_else_sees_anything(community: Community, container: Container) -> None:
    item_id = community.completed()
    round_no = community.open_round(item_id)
    photo = community.photo(f"{item_id}-excavation-0")
    pages = ["/residents", f"/residents/items/{item_id}", f"/residents/items/{item_id}/photos/{photo}",
             f"/residents/items/{item_id}/rounds/{round_no}/sign", "/residents/mine", "/residents/results",
             f"/residents/items/{item_id}/rounds/{round_no}/receipt"]
    anonymous = TestClient(create_app(container))
    elsewhere = Community(container, residents=1, name="桂花苑")
    foreign = phone(container, elsewhere.residents[0], elsewhere.project_id)
    revoked = phone(container, community.residents[2], community.project_id)
    assert revoked.get(f"/residents/items/{item_id}").status_code == 200
    member_id = container.ledger.get_project(community.project_id).member_of(community.residents[2].user_id)
    admin = {"Authorization": f"Bearer {container.users.issue_token(community.admin.user_id)}"}
    revoking = anonymous.delete(f"/api/v1/projects/{community.project_id}/invitations/{member_id}", headers=admin)
    assert revoking.json()["sessions_ended"] == 1  # the admin revokes the lost phone's invitation
    for who, client in (("anonymous", anonymous), ("revoked", revoked)):
        for path in pages:
            answer = client.get(path, follow_redirects=False)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/sign-in"), (who, path)
        assert client.get(f"/api/v1/photos/{photo}?size=thumb").status_code == 401, who
    for path in pages[1:4] + pages[6:]:
        answer = foreign.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/sign-in"), path
    assert foreign.get(f"/api/v1/photos/{photo}?size=thumb").status_code in (403, 404)
    assert "12号楼给水管线迁移" not in foreign.get("/residents").text + foreign.get("/residents/results").text
    refused = foreign.post(f"/residents/items/{item_id}/rounds/{round_no}/sign",
                           data={"decision": "accept", "subject_hash": "0" * 64, "key": f"k-{uuid4()}"},
                           follow_redirects=False)
    assert refused.status_code in (303, 403)
    staff = TestClient(create_app(container))
    opened = sessions(container).open(community.supervisor.user_id, "password", None, "127.0.0.1")
    staff.cookies.set("siteledger_session", opened.cookie)
    assert staff.get("/residents", follow_redirects=False).headers["location"] == "/account"


def test_a_member_who_joined_after_the_round_opened_reads_but_is_not_asked_to_sign(community: Community) -> None:
    item_id = community.completed(with_history=False)
    round_no = community.open_round(item_id)
    newcomer = community.container.users.create(Role.RESIDENT, "周玉兰")
    community.run(community.admin, c.AddGroupMember(project_id=community.project_id, user_id=newcomer.user_id,
                                                    building="9号楼"))
    client = phone(community.container, newcomer, community.project_id)
    page = client.get(f"/residents/items/{item_id}")
    assert page.status_code == 200 and "这一轮不需要您签字" in page.text and "您同意验收吗" not in page.text
    assert "查看并签字" not in client.get("/residents").text
    refused = client.get(f"/residents/items/{item_id}/rounds/{round_no}/sign?decision=accept")
    assert refused.status_code == 403 and "确认签字" not in refused.text


def test_the_receipt_carries_the_transparency_logs_word_once_a_checkpoint_covers_it(community: Community) -> None:
    item_id = community.completed(with_history=False)
    round_no = community.open_round(item_id)
    client = phone(community.container, community.residents[0], community.project_id)
    signed = client.post(f"/residents/items/{item_id}/rounds/{round_no}/sign",
                         data=confirm_form(client, item_id, round_no))
    assert "会在下一个检查点" in signed.text and "proof/inclusion" not in signed.text
    service_for(community.container).checkpoint(fresh=True)
    receipt = client.get(f"/residents/items/{item_id}/rounds/{round_no}/receipt")
    assert "您的签字是公开核验日志的第" in receipt.text
    [proof_url] = re.findall(r'href="(/api/v1/transparency/proof/inclusion\?[^"]+)"', receipt.text)
    proof = client.get(proof_url.replace("&amp;", "&"))
    assert proof.status_code == 200 and proof.json()["included"] is True
    [event] = [e for e in community.container.ledger.item_events(item_id, 0, 1000)
               if type(e).__name__ == "ResidentSigned"]
    assert proof.json()["event_hash"] == event.event_hash
