"""The embedded S3 store belongs to its data directory, and lives exactly as long as the `serve` that owns it.

`<data_dir>/s3/embedded-s3.lock` is held (flock) by the running `serve` and names its store's pid and
port. So at start-up:

- another `serve` holding the lock: refused (one data directory, one server);
- a store of OUR directory left by a `serve` that died (kill -9, or a store still finishing its slow
  shutdown): stopped, then a fresh one started — never reused, since it is on its way out;
- anything else on the port (another data directory's store, any other server): a clear error naming
  the port and `SITELEDGER_EMBEDDED_S3_PORT` — an S3 server of someone else is never taken for ours.

Only the embedded default: with `SITELEDGER_S3_ENDPOINT` set, none of this runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import IO, Any

from services.seaweed import SeaweedS3

LOCK_NAME = "embedded-s3.lock"
SETTING = "SITELEDGER_EMBEDDED_S3_PORT"


class EmbeddedStoreError(RuntimeError):
    """The embedded store cannot start; the message says why and what to change."""


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True  # no /proc (not Linux): it exists
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _weed_processes() -> dict[int, list[str]]:
    """Every SeaweedFS server we can see, with its command line (Linux; elsewhere none)."""
    found: dict[int, list[str]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                argv = _cmdline(int(entry.name))
                if argv and Path(argv[0]).name == "weed" and "server" in argv:
                    found[int(entry.name)] = argv
    return found


def _flag(argv: list[str], name: str) -> str | None:
    return next((arg.split("=", 1)[1] for arg in argv if arg.startswith(f"-{name}=")), None)


def _terminate(pid: int, grace_s: float) -> None:
    """SIGTERM, then SIGKILL: SeaweedFS takes 15-25 s to deregister from a cluster that is only itself.
    Every write it acknowledged is already in the kernel's hands, so killing it loses nothing."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _port_free(port: int) -> bool:
    """Can a server bind 127.0.0.1:port, as SeaweedFS will (with SO_REUSEADDR, like Go's listeners)?"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedStore:
    """The data directory's SeaweedFS: `start()` claims the directory and the port, `stop()` ends both."""

    def __init__(self, data_dir: Path, port: int, grace_s: float = 3.0) -> None:
        self.directory = data_dir.resolve() / "s3"
        self.port, self.grace_s = port, grace_s
        self.lock_path = self.directory / LOCK_NAME
        self.server: SeaweedS3 | None = None
        self._lock: IO[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _record(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.lock_path.read_text() or "{}"))
        except (OSError, ValueError):
            return {}

    def _write_record(self, record: dict[str, Any]) -> None:
        assert self._lock is not None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(json.dumps(record))
        self._lock.flush()

    def _ours(self, argv: list[str]) -> bool:
        return _flag(argv, "dir") == str(self.directory)

    def _claim_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self.lock_path.open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            holder = self._record().get("serve_pid", "?")
            raise EmbeddedStoreError(
                f"the data directory {self.directory.parent} is in use by another `siteledger serve` (pid {holder}); "
                "stop it first, or give this one its own SITELEDGER_DATA_DIR") from None
        self._lock = lock

    def _stop_leftovers(self) -> None:
        """Stores of our directory whose `serve` is gone (the lock is ours now, so it is gone)."""
        leftovers = {pid for pid, argv in _weed_processes().items() if self._ours(argv)}
        recorded = self._record().get("store_pid")
        if isinstance(recorded, int) and recorded != os.getpid() and self._ours(_cmdline(recorded)):
            leftovers.add(recorded)
        for pid in leftovers:
            _terminate(pid, self.grace_s)

    def _require_port(self, settle_s: float = 10.0) -> None:
        """A port held a moment longer (a store of ours just killed, a short-lived client socket that the
        kernel gave this number) is waited out; one still held after `settle_s` belongs to someone else."""
        deadline = time.monotonic() + settle_s
        while not _port_free(self.port):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        else:
            return
        others = [(pid, _flag(argv, "dir")) for pid, argv in _weed_processes().items()
                  if _flag(argv, "s3.port") == str(self.port)]
        who = (f"the embedded S3 store of another data directory, {others[0][1]} (pid {others[0][0]})" if others
               else "another program")
        raise EmbeddedStoreError(
            f"port {self.port} on 127.0.0.1 is already used by {who}; the embedded S3 store of "
            f"{self.directory.parent} needs it. Set {SETTING} to a free port, stop that program, or set "
            "SITELEDGER_S3_ENDPOINT to use an S3 server you run yourself")

    def start(self, timeout_s: float = 60) -> EmbeddedStore:
        self._claim_directory()
        try:
            self._stop_leftovers()
            self._require_port()
            self.server = SeaweedS3(self.directory, s3_port=self.port).start(timeout_s)
            assert self.server.process is not None
            self._write_record({"serve_pid": os.getpid(), "store_pid": self.server.process.pid, "port": self.port,
                                "directory": str(self.directory)})
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """The store first, then the lock: a `serve` started right after finds the port and directory free."""
        if self.server is not None:
            self.server.stop(self.grace_s)
            self.server = None
        if self._lock is not None:
            self._write_record({})
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
