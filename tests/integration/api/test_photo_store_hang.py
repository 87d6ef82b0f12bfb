"""A hung object store (SeaweedFS stopped with SIGSTOP, as a frozen VM or a full disk leaves it) must not
stall the API: commands without photos go on, photo calls answer 503, `/readyz` answers from its
background probe, and everything works again once the store does, without a restart."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests import images
from tests.http_support import ApiWorld, auth, live_server
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration

READS = 48  # more than anyio's 40 shared worker threads


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[SeaweedS3]:
    """A SeaweedFS of this test's own: the session's server is never the one stopped."""
    server = SeaweedS3(tmp_path / "s3").start()
    try:
        yield server
    finally:
        server.stop(grace_s=0.5)


@contextmanager
def hung(server: SeaweedS3) -> Iterator[None]:
    """The store's process frozen: the kernel still accepts connections, nothing ever answers."""
    assert server.process is not None
    pid = server.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def wait_for_photo_store(client: httpx.Client, status: str, bound_s: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + bound_s
    while True:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text  # the event store is fine: ready, photos or not
        if ready.json()["photo_store"] == status or time.monotonic() > deadline:
            return ready.json()
        time.sleep(0.2)


def test_a_hung_store_stalls_no_command_and_photo_calls_answer_503(tmp_path: Path, own_s3: SeaweedS3) -> None:
    # the queue wait as long as the store's read timeout: photo calls on the stuck store answer only after
    # ~6 s, so a command that answers before any of them did not wait for a thread photo work was holding (3 s was
    # too little margin on a machine whose two cores were busy with other work: the command itself took that long)
    container = build(settings_for(tmp_path, own_s3, s3_read_timeout_s=6.0, photo_wait_s=6.0))
    try:
        with live_server(container) as url, httpx.Client(base_url=url, timeout=120) as client:
            api = ApiWorld(client, container)
            files = {"file": ("p.jpg", images.jpeg("before-the-hang"), "image/jpeg")}
            photo_id = client.post("/api/v1/photos", headers=auth(api.supervisor), files=files,
                                   data={"project_id": api.project_id}).json()["id"]
            assert wait_for_photo_store(client, "ok")["photo_store"] == "ok"
            item_id = api.item()

            answered: list[str] = []
            lock = threading.Lock()

            def read_photo(_: int) -> httpx.Response:
                response = client.get(f"/api/v1/photos/{photo_id}?size=thumb", headers=auth(api.station))
                with lock:
                    answered.append(response.json()["code"])
                return response

            with hung(own_s3), ThreadPoolExecutor(READS) as pool:
                reads = [pool.submit(read_photo, n) for n in range(READS)]
                time.sleep(0.5)  # let the reads reach the server and take what threads they can
                command = api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                                   json={"severity": "minor", "description": "井盖松动", "photos": []})
                with lock:
                    answered.append("command")
                ready = wait_for_photo_store(client, "unavailable")
                photo_answers = [read.result(timeout=60) for read in reads]

            assert command.status_code == 201, command.text
            # (reads beyond the photo queue are refused at once, before the command; none that waited on the
            # hung store may answer before it)
            waited = answered[:answered.index("command")]
            assert "object_store_unavailable" not in waited, "the command waited for a thread held by photo work"
            assert ready["status"] == "ready" and ready["photo_store"] == "unavailable"
            codes = {answer.json()["code"] for answer in photo_answers}
            assert {answer.status_code for answer in photo_answers} == {503}
            assert codes <= {"object_store_unavailable", "photo_store_busy"}
            assert all(answer.headers["content-type"] == "application/problem+json" for answer in photo_answers)

            # the store is back: so are photos, in the same process
            assert wait_for_photo_store(client, "ok")["photo_store"] == "ok"
            again = client.post("/api/v1/photos", headers=auth(api.supervisor),
                                files={"file": ("q.jpg", images.jpeg("after-the-hang"), "image/jpeg")},
                                data={"project_id": api.project_id})
            assert again.status_code == 201, again.text
            assert client.get(f"/api/v1/photos/{photo_id}?size=thumb", headers=auth(api.station)).status_code == 200
    finally:
        container.close()
