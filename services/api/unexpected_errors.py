"""A fault the code did not expect still answers as a problem: JSON, the request id, and no stack trace.

Starlette's `ServerErrorMiddleware` sits outside every other middleware, so its 500 is plain text and runs
after the request id is gone; this one sits just inside `RequestContext`, logs the traceback once (with the
request id, in the JSON log) and tells the caller only what they can quote to an operator.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import problem_body, send_problem
from services.observability import REQUEST_ID

log = logging.getLogger("siteledger.errors")


class UnexpectedErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error", extra={"method": scope.get("method"), "path": scope.get("path")})
            if started:
                raise  # half a response is out: only closing the connection tells the client
            request_id = REQUEST_ID.get()
            await send_problem(send, problem_body(
                500, "internal_error", "Internal server error",
                f"服务器内部错误，操作可能未完成；请稍后重试，如仍失败请将请求编号 {request_id} 告知管理员",
                scope.get("path"), request_id=request_id))
