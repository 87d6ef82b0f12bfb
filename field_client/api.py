"""The API over HTTP, with the patience a construction site needs: retries, backoff, jitter, same keys.

A request that fails at the transport level, or answers 5xx/429/408, is retried with exponential backoff
and full jitter (so tablets regaining signal together do not hammer the server in step). A retried command
carries the same Idempotency-Key, so if the first attempt did reach the server (only the answer was lost)
the server replays its first outcome instead of recording the command twice.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx

from field_client.errors import Offline, TokenRevoked, UnexpectedAnswer

TRANSIENT = {408, 425, 429, 500, 502, 503, 504}
SEND_BUFFER = 32 * 1024


class Answer(NamedTuple):
    """The server's answer to one command; `replayed` when it had recorded that key already."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class RetryPolicy:
    """`attempts` tries in all; the n-th wait is uniform in [0, min(cap, base·2ⁿ)] (full jitter)."""

    attempts: int = 8
    base_s: float = 0.5
    cap_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        wait = self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** attempt))
        if retry_after and retry_after.isdigit():
            wait = max(wait, min(self.cap_s, float(retry_after)))
        return wait


def problem_of(status: int, body: Any) -> dict[str, Any]:
    """The server's RFC 9457 problem reduced to what the tablet shows: code, Chinese detail, English title."""
    body = body if isinstance(body, dict) else {}
    return {"status": status, "code": body.get("code") or f"http_{status}", "title": body.get("title", ""),
            "detail": body.get("detail") or f"服务器拒绝（HTTP {status}）",
            **{k: body[k] for k in ("current", "expected", "missing", "checks", "errors", "photo") if k in body}}


class Api:
    """One keep-alive connection pool to the server; every call either answers or raises a SyncStopped."""

    def __init__(self, server: str, token: str, device_id: str, retry: RetryPolicy | None = None,
                 timeout_s: float = 30.0) -> None:
        # a small send buffer: what the tablet counts as sent is close to what crossed the link (progress and
        # ETA stay true), and a dropped connection strands little in the kernel
        transport = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)])
        self.client = httpx.Client(base_url=server.rstrip("/"), timeout=timeout_s, transport=transport,
                                   headers={"Authorization": f"Bearer {token}", "X-Device-Id": device_id})
        self.device_id = device_id
        self.retry = retry or RetryPolicy()
        self.requests = 0  # every attempt, retries included (photos are sent from several threads)
        self._count = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send until an answer that is not transient; 401 stops everything (the token is gone)."""
        last = "?"
        for attempt in range(self.retry.attempts):
            retry_after = None
            with self._count:
                self.requests += 1
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as error:  # refused, reset, timed out, closed before the answer
                last = f"{type(error).__name__}"
            else:
                if response.status_code == 401:
                    raise TokenRevoked(problem_of(401, json_of(response))["detail"])
                if response.status_code not in TRANSIENT:
                    return response
                last, retry_after = f"HTTP {response.status_code}", response.headers.get("retry-after")
            if attempt + 1 < self.retry.attempts:
                self.retry.sleep(self.retry.delay(attempt, retry_after))
        raise Offline(last)

    def get_json(self, path: str, **params: Any) -> dict[str, Any]:
        return _page(path, self.request("GET", path, params=params or None))

    def paged(self, path: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Every row of a list, page after page by the `Link: rel="next"` address the server gives: a keyset
        cursor costs the server one index walk however deep the page, where an offset makes it count every row
        before it (and a list's `total` is only a lower bound past 1,000 rows)."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            response = self.request("GET", path, params=params)
            page = _page(path, response)
            items.extend(page["items"])
            following = response.links.get("next", {}).get("url")
            if not following or not page["items"]:
                return items
            params = dict(parse_qsl(urlsplit(following).query))  # the server's own address: cursor and filters

    # --- photos ----------------------------------------------------------------------------------------------

    def photo_exists(self, sha: str) -> bool:
        """HEAD: 200 when the server has it and lets us see it, so the bytes need not cross a weak link."""
        return self.request("HEAD", f"/api/v1/photos/{sha}").status_code == 200

    def upload_photo(self, file: Path, sha: str, content_type: str, project_id: str) -> tuple[int, dict[str, Any]]:
        data = file.read_bytes()
        response = self.request("POST", "/api/v1/photos", files={"file": (f"{sha}.img", data, content_type)},
                                data={"project_id": project_id, "sha256": sha})
        return response.status_code, json_of(response)

    # --- commands ----------------------------------------------------------------------------------------------

    def command(self, path: str, key: str, body: dict[str, Any]) -> Answer:
        """One command on its own route."""
        response = self.request("POST", path, json=body, headers={"Idempotency-Key": key})
        return Answer(response.status_code, json_of(response), response.headers.get("idempotent-replayed") == "true")

    def batch(self, commands: list[tuple[str, str, dict[str, Any]]]) -> list[Answer]:
        """Many commands in one request (`POST /api/v1/batch`), each with its own key; one result each."""
        payload = {"commands": [{"path": p, "idempotency_key": k, "body": b, "device_id": self.device_id}
                                for p, k, b in commands]}
        response = self.request("POST", "/api/v1/batch", json=payload)
        body = json_of(response)
        if response.status_code != 200 or len(body.get("results", [])) != len(commands):
            return [Answer(response.status_code, problem_of(response.status_code, body))] * len(commands)
        return [Answer(int(r["status"]), r.get("body") or {},
                       (r.get("headers") or {}).get("idempotent-replayed") == "true") for r in body["results"]]


def json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _page(path: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        code = problem_of(response.status_code, json_of(response))["code"]
        raise UnexpectedAnswer(f"GET {path}: HTTP {response.status_code} {code}")
    return dict(response.json())
