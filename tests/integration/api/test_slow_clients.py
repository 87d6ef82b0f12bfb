"""Clients that open a request and never finish it: answered or closed in bounded time, and the server stays
responsive. Raw sockets against the real app under uvicorn, configured as `siteledger serve` configures it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from services.api.app import create_app
from services.api.connection_limits import uvicorn_limits
from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests.http_support import free_port
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration

WAIT_S = 15.0  # every socket read below gives up after this: a test never hangs


@contextmanager
def served(tmp_path: Path, s3: SeaweedS3) -> Iterator[tuple[str, int]]:
    settings = settings_for(tmp_path, s3, request_body_timeout_s=0.5, request_head_timeout_s=1.0)
    container = build(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning",
                                           **uvicorn_limits(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.close()


def connect(address: tuple[str, int], first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(address, timeout=WAIT_S)
    sock.sendall(first_bytes)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def problem_code(answer: bytes) -> str:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower() and b"connection: close" in head.lower(), head
    return str(json.loads(body)["code"])


HEAD = (b"POST /api/v1/projects HTTP/1.1\r\nHost: siteledger\r\nAuthorization: Bearer nobody\r\n"
        b"Content-Type: application/json\r\n")


def test_a_body_that_does_not_arrive_is_answered_408_and_the_connection_closed(tmp_path: Path,
                                                                              s3_server: SeaweedS3) -> None:
    with served(tmp_path, s3_server) as address, connect(address, HEAD + b'Content-Length: 100\r\n\r\n{"nam') as sock:
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert problem_code(answer) == "body_timeout"


def test_a_declared_gigabyte_is_refused_at_once_and_the_connection_closed(tmp_path: Path,
                                                                         s3_server: SeaweedS3) -> None:
    with served(tmp_path, s3_server) as address, \
            connect(address, HEAD + b"Content-Length: 1073741824\r\n\r\n{\"a\":1}") as sock:
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert problem_code(answer) == "body_too_large"


def test_two_hundred_slowloris_connections_neither_stall_the_server_nor_stay_open(tmp_path: Path,
                                                                                  s3_server: SeaweedS3) -> None:
    with served(tmp_path, s3_server) as address, ExitStack() as stack:
        trickling_heads = [stack.enter_context(connect(address, HEAD[:40])) for _ in range(100)]
        trickling_bodies = [stack.enter_context(connect(address, HEAD + b"Content-Length: 50\r\n\r\n{"))
                            for _ in range(100)]
        # while all 200 hang, a real client is served
        health = httpx.get(f"http://{address[0]}:{address[1]}/healthz", timeout=WAIT_S)
        assert health.status_code == 200
        # and every one of them is let go: the heads closed, the bodies answered 408 and closed
        assert all(read_until_closed(sock) == b"" for sock in trickling_heads)
        assert all(read_until_closed(sock).startswith(b"HTTP/1.1 408") for sock in trickling_bodies)
