"""`siteledger serve` and its embedded S3 store (SeaweedFS), as an operator meets them: stopped with Ctrl-C or
SIGTERM, killed, started again at once — uploads work every time; a port held by anything not ours is a
clear start-up error, never an S3 server silently used."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.embedded_store import EmbeddedStore
from services.seaweed import SeaweedS3, free_port
from tests import images

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Serve:
    """`python -m services.cli serve` on a data directory and ports of the test's own."""

    def __init__(self, tmp_path: Path, s3_port: int | None = None) -> None:
        self.tmp_path, self.port, self.s3_port = tmp_path, free_port(), s3_port or free_port()
        self.data_dir = tmp_path / "data"
        self.env = {**os.environ, "SITELEDGER_DATA_DIR": str(self.data_dir), "SITELEDGER_PORT": str(self.port),
                    "SITELEDGER_EMBEDDED_S3_PORT": str(self.s3_port), "SITELEDGER_S3_ENDPOINT": "",
                    "PYTHONPATH": str(ROOT)}
        self.runs: list[subprocess.Popen[bytes]] = []
        self.log = tmp_path / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], env=self.env, cwd=self.tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve"], env=self.env,
                                       cwd=self.tmp_path, stdout=subprocess.DEVNULL, stderr=log)
        self.runs.append(process)
        return process

    def started(self, bound_s: float = 90) -> subprocess.Popen[bytes]:
        process = self.start()
        deadline = time.monotonic() + bound_s
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return process
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def exit_code(self, process: subprocess.Popen[bytes], bound_s: float = 60) -> int:
        return process.wait(timeout=bound_s)

    def cleanup(self) -> None:
        for process in self.runs:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        EmbeddedStore(self.data_dir, self.s3_port, grace_s=0.5)._stop_leftovers()  # a store a failure left


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    runner = Serve(tmp_path)
    try:
        yield runner
    finally:
        runner.cleanup()


def upload(serve: Serve, token: str, label: str) -> httpx.Response:
    return httpx.post(f"{serve.url}/api/v1/photos", headers={"Authorization": f"Bearer {token}"},
                      files={"file": (f"{label}.jpg", images.jpeg(label), "image/jpeg")}, timeout=60)


def test_serve_stopped_or_killed_and_started_again_at_once_keeps_uploads_working(serve: Serve) -> None:
    created = serve.cli("admin", "create-user", "--name", "监理", "--role", "supervisor")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    process = serve.started()
    first = upload(serve, token, "first")
    assert first.status_code == 201, first.text

    for n, stop in enumerate([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]):
        process.send_signal(stop)
        code = serve.exit_code(process)
        if stop != signal.SIGKILL:
            assert code == 128 + stop, serve.log.read_text()[-3000:]
        process = serve.started()  # at once: a store still shutting down must not be taken for ours
        again = upload(serve, token, f"after-{stop.name}-{n}")
        assert again.status_code == 201, (stop.name, again.text)
        stored = httpx.get(f"{serve.url}/api/v1/photos/{first.json()['id']}?size=thumb",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert stored.status_code == 200, (stop.name, stored.text)

    process.terminate()
    assert serve.exit_code(process) == 128 + signal.SIGTERM
    leftovers = [pid for pid in _weeds() if f"-dir={serve.data_dir.resolve() / 's3'}" in _cmdline(pid)]
    assert leftovers == [], "serve exited before its store did"


def test_a_second_serve_on_the_same_data_directory_is_refused(serve: Serve) -> None:
    serve.started()
    other_port = free_port()
    second = subprocess.run([sys.executable, "-m", "services.cli", "serve"], cwd=serve.tmp_path,
                            env={**serve.env, "SITELEDGER_PORT": str(other_port)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 2
    assert "in use by another `siteledger serve`" in second.stderr


def test_a_foreign_server_on_the_port_is_a_clear_error(serve: Serve) -> None:
    with socket.socket() as echo:  # anything listening: an echo server, a web server ...
        echo.bind(("127.0.0.1", serve.s3_port))
        echo.listen()
        process = serve.start()
        code = serve.exit_code(process)
    message = serve.log.read_text()
    assert code == 2, message[-3000:]
    assert f"port {serve.s3_port}" in message and "SITELEDGER_EMBEDDED_S3_PORT" in message
    assert "another program" in message


def test_the_store_of_another_data_directory_is_never_used(serve: Serve, tmp_path: Path) -> None:
    other = SeaweedS3(tmp_path / "elsewhere" / "s3", s3_port=serve.s3_port).start()
    try:
        code = serve.exit_code(serve.start())
    finally:
        other.stop(grace_s=0.5)
    message = serve.log.read_text()
    assert code == 2, message[-3000:]
    assert f"port {serve.s3_port}" in message and "SITELEDGER_EMBEDDED_S3_PORT" in message
    assert str(tmp_path / "elsewhere" / "s3") in message


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _weeds() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and "weed" in _cmdline(int(entry.name)).split(" ")[0]]
