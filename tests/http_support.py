"""Talking to the API as real users do: tokens from the directory, commands over HTTP."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from domain.actors import Role
from services.api.app import create_app
from services.bootstrap import Container
from tests import images
from tests.support import VALID

DISTRICT = "徐汇区"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(container: Container) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, for tests that must cross a real socket."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def auth(token: str, key: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}
    headers.update(extra)
    return headers


def inspection_body(hold_point: str, result: str = "pass", photos: list[str] | None = None,
                    **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hold_point": hold_point, "result": result, "photos": photos or []}
    body.update(VALID.get(hold_point, {}))
    body.update(overrides)
    return body


class ApiWorld:
    """An admin (made with the directory, like `siteledger admin create-user`) and users made over HTTP."""

    def __init__(self, client: httpx.Client, container: Container) -> None:
        self.client, self.container = client, container
        admin = container.users.create(Role.ADMIN, "王芳")
        self.admin = container.users.issue_token(admin.user_id)
        self.project_id = self.ok("POST", "/api/v1/projects", self.admin, json={
            "name": "金牛花苑", "district": DISTRICT, "street_office": "长桥街道", "address": "龙川北路",
            "year_built": 1994, "buildings": 12, "households": 430, "categories": ["basic", "improvement"],
        })["id"]
        self.supervisor = self.user("supervisor", project_ids=[self.project_id])
        self.contractor = self.user("contractor", project_ids=[self.project_id])
        self.station = self.user("station", district=DISTRICT)
        self.residents = [self.resident(n) for n in range(1, 4)]

    def call(self, method: str, path: str, token: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**auth(token, key), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def user(self, role: str, **extra: Any) -> str:
        body = {"name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role, **extra}
        return str(self.ok("POST", "/api/v1/users", self.admin, json=body)["token"])

    def me(self, token: str) -> dict[str, Any]:
        return self.ok("GET", "/api/v1/users/me", token)

    def resident(self, n: int) -> str:
        token = self.user("resident")
        self.ok("POST", f"/api/v1/projects/{self.project_id}/residents-group/members", self.admin,
                json={"user_id": self.me(token)["id"], "building": f"{n}号楼", "unit": "2单元"})
        return token

    def item(self, kind: str = "pipe_relocation", **extra: Any) -> str:
        return str(self.ok("POST", f"/api/v1/projects/{self.project_id}/works-items", self.admin,
                           json={"kind": kind, "location": "3号楼北侧", **extra})["id"])

    def photo(self, label: str, token: str | None = None, **form: str) -> str:
        """Upload a real JPEG for this project and return its id (its SHA-256)."""
        response = self.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {token or self.supervisor}"},
                                    files={"file": (f"{label}.jpg", images.jpeg(label), "image/jpeg")},
                                    data={"project_id": self.project_id, **form})
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    def inspect(self, item_id: str, hold_point: str, token: str | None = None, **body: Any) -> httpx.Response:
        kind = self.ok("GET", f"/api/v1/works-items/{item_id}", self.admin)
        spec = next((h for h in kind["hold_points"] if h["code"] == hold_point), {"min_photos": 0})
        if "photos" not in body:
            body["photos"] = [self.photo(f"{hold_point}-{n}") for n in range(spec["min_photos"])]
        return self.call("POST", f"/api/v1/works-items/{item_id}/inspections", token or self.supervisor,
                         json=inspection_body(hold_point, **body))

    def pass_all(self, item_id: str, until: str | None = None) -> None:
        view = self.ok("GET", f"/api/v1/works-items/{item_id}", self.admin)
        for hp in view["hold_points"]:
            if hp["code"] == until:
                return
            response = self.inspect(item_id, hp["code"])
            assert response.status_code == 201, response.text
