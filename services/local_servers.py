"""Servers the embedded default and the tests start on loopback: a child process, ready when it answers."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range. A port from `bind(0)` is an ephemeral one, which
    the kernel may also give an outgoing connection before the server we start listens on it: SeaweedFS's parts
    dial each other while starting, and a restart then failed with its filer's "bind: address already in use"."""
    ceiling = min(_ephemeral_low(), 50000)  # kept low so nothing derived from it overflows
    for _ in range(500):
        port = random.randrange(10000, ceiling)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or in TIME_WAIT
                continue
        return port
    raise RuntimeError(f"no free port between 10000 and {ceiling}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the process that started it ends, however it ends
    (uvicorn re-raises SIGTERM after its shutdown, so no `finally` of ours would run)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalServer(ABC):
    """Start a command, wait until `ready()` is true, stop it with a grace period."""

    name = "server"

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @abstractmethod
    def command(self) -> list[str]:
        """How this server is started."""

    @abstractmethod
    def ready(self) -> bool:
        """Whether it answers yet."""

    def launch(self, timeout_s: float, prepare: Callable[[], None] = lambda: None) -> None:
        prepare()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log}")
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout_s}s; see {self.log}")

    def stop(self, grace_s: float = 5) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
