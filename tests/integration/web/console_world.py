"""A district as the station finds it on a Monday: one item whose inspection reached the server two days late,
one with a defect past its due date, one clean, and a project in another district. Seeded over the API (as
tablets and the station's integrations do), with device times; people signed in get real session cookies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.actors import Role
from services.api.authentication import sessions
from services.bootstrap import Container
from services.deadline_scan import site_today
from tests import images
from tests.http_support import ApiWorld, inspection_body

OTHER_DISTRICT = "黄浦区"


@dataclass
class ConsoleWorld:
    api: ApiWorld
    late: str  # its survey reached the server two days after it was recorded
    overdue: str  # a defect three days past its due date
    clean: str
    foreign: str  # an item of a project in another district
    foreign_project: str
    photo: str  # a real JPEG (EXIF time, GPS, camera model) cited by the late item's inspection

    @property
    def project(self) -> str:
        return self.api.project_id


def seed(client: httpx.Client, container: Container) -> ConsoleWorld:
    api = ApiWorld(client, container)
    late = api.item(title="2号楼给水管线迁移", location="2号楼东侧")
    overdue = api.item(title="5号楼燃气管线迁移", location="5号楼南侧")
    clean = api.item(title="8号楼排水管线迁移", location="8号楼北侧")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    photo = _photo(api)
    response = api.call("POST", f"/api/v1/works-items/{late}/inspections", api.supervisor,
                        json=inspection_body("survey_and_marking", photos=[photo], recorded_at=two_days_ago))
    assert response.status_code == 201, response.text
    response = api.call("POST", f"/api/v1/works-items/{overdue}/defects", api.station, json={
        "severity": "major", "description": "沟槽未设置围挡，夜间无警示灯",
        "due_date": (site_today(container.settings) - timedelta(days=3)).isoformat()})  # the console's today
    assert response.status_code == 201, response.text
    assert api.inspect(clean, "survey_and_marking").status_code == 201
    foreign_project = api.ok("POST", "/api/v1/projects", api.admin, json={
        "name": "外滩花园", "district": OTHER_DISTRICT, "street_office": "外滩街道", "households": 200})["id"]
    foreign = api.ok("POST", f"/api/v1/projects/{foreign_project}/works-items", api.admin,
                     json={"kind": "pipe_relocation", "title": "外滩花园给水管", "location": "1号楼"})["id"]
    return ConsoleWorld(api, late, overdue, clean, foreign, foreign_project, photo)


def _photo(api: ApiWorld) -> str:
    data = images.jpeg("survey", size=(640, 480), gps=(31.1832, 121.4365), taken="2026:11:20 09:30:00",
                       model="HUAWEI MatePad 11")
    response = api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                               files={"file": ("survey.jpg", data, "image/jpeg")},
                               data={"project_id": api.project_id})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def user_id(api: ApiWorld, token: str) -> str:
    return str(api.me(token)["id"])


def session_for(container: Container, user: str) -> tuple[str, str]:
    """A signed-in browser's cookie and CSRF token for this user."""
    opened = sessions(container).open(user, "password", "pytest", "127.0.0.1")  # type: ignore[arg-type]
    return opened.cookie, opened.csrf_token


def person(container: Container, role: Role, district: str | None = None, **extra: Any) -> str:
    return str(container.users.create(role, extra.pop("name", f"{role}-测试"), None, district).user_id)
