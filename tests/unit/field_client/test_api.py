"""Retries, backoff and keys, against a scripted HTTP server on loopback (a real socket, not a mock)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from field_client.api import Api, RetryPolicy
from field_client.errors import Offline, TokenRevoked


class Scripted(ThreadingHTTPServer):
    """Answers POSTs with the statuses given, in turn, and remembers each request's Idempotency-Key."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple[int, dict[str, str]]] = []
        self.keys: list[str | None] = []


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.keys.append(self.headers.get("Idempotency-Key"))
        status, headers = self.server.script.pop(0)
        body = json.dumps({"code": f"c{status}", "detail": "详情", "title": "t"}).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    threading.Thread(target=scripted.serve_forever, daemon=True).start()
    yield scripted
    scripted.shutdown()
    scripted.server_close()


def api_for(server: Scripted, waits: list[float], attempts: int = 5) -> Api:
    policy = RetryPolicy(attempts=attempts, base_s=0.5, cap_s=4, sleep=waits.append, rng=random.Random(1))
    return Api(f"http://127.0.0.1:{server.server_address[1]}", "slt_x", "field-test", policy)


def test_transient_answers_are_retried_with_the_same_key_and_growing_jittered_waits(server: Scripted) -> None:
    server.script = [(503, {}), (502, {}), (429, {"Retry-After": "3"}), (201, {})]
    waits: list[float] = []
    with api_for(server, waits) as api:
        answer = api.command("/api/v1/works-items/x/inspections", "key-0001-abcd", {"result": "pass"})
    assert answer.status == 201 and api.requests == 4
    assert server.keys == ["key-0001-abcd"] * 4
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0 and waits[2] >= 3, waits


def test_a_refusal_is_not_retried_and_a_revoked_token_stops_at_once(server: Scripted) -> None:
    server.script = [(409, {}), (401, {})]
    waits: list[float] = []
    with api_for(server, waits) as api:
        assert api.command("/p", "key-0002-abcd", {}).body["code"] == "c409"
        with pytest.raises(TokenRevoked):
            api.command("/p", "key-0003-abcd", {})
    assert waits == [] and len(server.keys) == 2


def test_giving_up_after_every_attempt_is_offline_not_a_refusal(server: Scripted) -> None:
    server.script = [(503, {})] * 3
    waits: list[float] = []
    with api_for(server, waits, attempts=3) as api, pytest.raises(Offline, match="HTTP 503"):
        api.command("/p", "key-0004-abcd", {})
    assert len(waits) == 2


def test_the_backoff_is_capped() -> None:
    policy = RetryPolicy(base_s=1, cap_s=5, rng=random.Random(3))
    assert all(0 <= policy.delay(n) <= 5 for n in range(20))
    assert max(policy.delay(10) for _ in range(200)) > 4, "full jitter up to the cap"
