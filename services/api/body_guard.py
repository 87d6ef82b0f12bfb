"""A request body must arrive in time and within its size before anything parses it, and say each key once.

Pure ASGI, counting bytes as they arrive (a `Content-Length` may lie or be absent). Starlette's own
`RequestBodyLimitMiddleware` counts too, but answers a declared oversize in plain text and has no read timeout;
a client that opens a request and never finishes its body would hold a worker and a connection for ever.

- JSON and other small bodies are read here in full, against `json_body_max_bytes` and one deadline
  (`request_body_timeout_s`), then handed on; JSON with a key given twice is refused (for a system of record,
  `{"name": "a", "name": "b"}` is ambiguous evidence, and `json.loads` would silently keep the last), and so
  is a body that is not JSON at all (400 `malformed_json`, one code whether the syntax, the encoding or the
  nesting is wrong; FastAPI would answer a syntax error 422 and the others 400 in English). A body without a
  `Content-Type` counts as JSON, as FastAPI reads it.
- Photo uploads stream on to their routes: each piece must arrive within the timeout, and the total stays under
  the photo limit plus multipart overhead (the routes enforce the exact photo and chunk limits).

A refused body is answered 413/408 with `Connection: close`, since the rest of it will not be read.

The deadline is asyncio's own `timeout` (uvicorn, and the test client's portal, run the app on asyncio): anyio's
cancel scope did the same at ~10 us more per request, on the event loop, the server's serial part.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import malformed_json, problem_body, send_problem
from services.settings import Settings

# Photo bodies, allowed up to the photo limit: the API's and a resident's reject form (camera photos are sent
# as they are when the phone's browser runs no JavaScript to shrink them).
UPLOAD_PREFIXES = ("/api/v1/photos", "/api/v1/photo-uploads", "/api/v1/tus/photos", "/residents/upload/",
                   "/api/v1/imports/", "/console/import/")  # a district's workbook: those routes stop at 20 MiB
MULTIPART_OVERHEAD = 1024 * 1024


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def declared_length(headers: Headers) -> int | None:
    """The `Content-Length` a client declares (h11 has checked it is digits); absurd lengths count as huge."""
    value = headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value) if len(value) <= 18 else 10**18


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen.add(key)
    return dict(pairs)


def json_fault(body: bytes) -> DuplicateKey | str | None:
    """What is wrong with this JSON: a key given twice, or why it is not JSON (in Chinese), or nothing."""
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except DuplicateKey as found:
        return found
    except json.JSONDecodeError as error:
        return f"第 {error.lineno} 行第 {error.colno} 列附近有误（{error.msg[:60]}）"
    except UnicodeDecodeError:
        return "含有不是 UTF-8 编码的字节"
    except (ValueError, RecursionError):  # nesting deeper than the parser goes
        return "嵌套层数过深，无法解析"
    return None


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.json_body_max_bytes
        self.upload_limit = settings.photo_max_bytes + MULTIPART_OVERHEAD
        self.timeout = settings.request_body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        streamed = scope["path"].startswith(UPLOAD_PREFIXES) and not is_json(content_type)
        limit = self.upload_limit if streamed else self.json_limit
        declared = declared_length(headers)
        if declared is not None and declared > limit:
            await self.too_large(scope, send, limit)
        elif streamed:
            guarded_receive, guarded_send = self.guarded(scope, receive, send, limit)
            await self.app(scope, guarded_receive, guarded_send)
        else:
            await self.read_then_call(scope, receive, send, limit, is_json(content_type) or not content_type)

    async def read_then_call(self, scope: Scope, receive: Receive, send: Send, limit: int, json_body: bool) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                body = await read_body(receive, limit)
        except TimeoutError:
            await self.timed_out(scope, send)
            return
        except BodyTooLarge:
            await self.too_large(scope, send, limit)
            return
        except ClientGone:
            return
        fault = json_fault(body) if json_body and body else None
        if isinstance(fault, DuplicateKey):
            key = fault.key[:64]
            await send_problem(send, problem_body(
                422, "duplicate_json_key", "A JSON object gives the same key twice",
                f"请求内容中字段“{key}”出现了不止一次；同一字段只能给一个值", scope["path"], key=key))
            return
        if fault is not None:
            await send_problem(send, malformed_json(scope["path"], fault))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: only a disconnect is left to hear
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> tuple[Receive, Send]:
        """An upload's receive with a timeout per piece and a running total; once refused, the app's own
        answer is dropped (it sees the client as gone)."""
        state = {"size": 0, "body_done": False, "started": False, "refused": False}

        async def guarded_receive() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:
                return await receive()
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                if not state["started"]:
                    state["refused"] = True
                    await self.timed_out(scope, send)
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                state["body_done"] = not message.get("more_body", False)
                if state["size"] > limit:
                    if not state["started"]:
                        state["refused"] = True
                        await self.too_large(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        return guarded_receive, guarded_send

    async def too_large(self, scope: Scope, send: Send, limit: int) -> None:
        await send_problem(send, problem_body(
            413, "body_too_large", "The request body is larger than allowed",
            f"请求内容超过上限 {limit} 字节（约 {limit / 1048576:.1f} MB）", scope["path"], max_bytes=limit),
            close=True)

    async def timed_out(self, scope: Scope, send: Send) -> None:
        await send_problem(send, problem_body(
            408, "body_timeout", "The request body did not arrive in time",
            f"请求内容未在 {self.timeout:g} 秒内传完，连接已关闭；请检查网络后重试", scope["path"],
            timeout_s=self.timeout), close=True)
