"""RFC 9457 problem details: a stable `code`, an English `title`, a Chinese `detail`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Send

from domain.canonical import to_plain
from domain.errors import DomainError, ErrorKind
from services.api.validation_zh import describe

STATUS = {ErrorKind.INVALID: 422, ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409}


class ApiError(Exception):
    """A refusal decided by the HTTP layer itself (authentication, malformed headers)."""

    def __init__(self, status: int, code: str, title: str, detail_zh: str, **extra: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.title, self.detail_zh, self.extra = status, code, title, detail_zh, extra


def problem_body(status: int, code: str, title: str, detail_zh: str, instance: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    body = {"type": f"https://siteledger.example/problems/{code}", "status": status, "code": code,
            "title": title, "detail": detail_zh, **to_plain(extra)}
    if instance:
        body["instance"] = instance
    return body


def refusal_body(error: DomainError | ApiError, instance: str | None = None) -> dict[str, Any]:
    """The one translation of a refusal into a problem, for single routes and batch entries alike."""
    if isinstance(error, DomainError):
        extra = {k: v for k, v in error.context.items() if k in ("current", "expected", "checks", "missing")}
        return problem_body(STATUS[error.kind], error.code, error.title, error.detail_zh, instance, **extra)
    return problem_body(error.status, error.code, error.title, error.detail_zh, instance, **error.extra)


def malformed_json(instance: str | None = None, why_zh: str = "") -> dict[str, Any]:
    """A body that is not JSON at all: checked in the body guard, and here for what reaches FastAPI's parser."""
    why = f"：{why_zh}" if why_zh else ""
    return problem_body(400, "malformed_json", "The request body is not valid JSON",
                        f"请求内容不是有效的 JSON{why}；请检查客户端发送的内容与编码（UTF-8）", instance)


def malformed_multipart(instance: str | None = None) -> dict[str, Any]:
    return problem_body(400, "malformed_multipart", "The request body is not valid multipart/form-data",
                        "上传内容不是有效的 multipart/form-data 格式（分隔符缺失或内容残缺），请重新选择文件上传",
                        instance)


def problem(status: int, code: str, title: str, detail_zh: str, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = problem_body(status, code, title, detail_zh, instance, **extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _respond(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type="application/problem+json", headers=headers)


async def send_problem(send: Send, body: dict[str, Any], close: bool = False) -> None:
    """Answer a problem straight on the ASGI channel (from middleware, before or instead of the app)."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(payload)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": body["status"], "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def validation_errors(raw: list[Any]) -> list[dict[str, Any]]:
    """Each refused field: where, pydantic's stable `type`, its English message, and its limits."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", ""),
             **({"ctx": {k: str(v) for k, v in e["ctx"].items()}} if e.get("ctx") else {})} for e in raw]


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only the first matching route's)."""
    return ", ".join(method for method in METHODS if any(
        route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.router.routes))


def unauthorized(code: str, detail_zh: str) -> ApiError:
    return ApiError(401, code, "Authentication required", detail_zh)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        return _respond(refusal_body(error, request.url.path))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return _respond(refusal_body(error, request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = validation_errors(list(error.errors()))
        return problem(422, "validation_error", "The request is not valid", describe(errors),
                       instance=request.url.path, errors=errors)

    @app.exception_handler(ValidationError)
    async def invalid_command(request: Request, error: ValidationError) -> JSONResponse:
        """A command assembled from path and body that the domain's model refuses (e.g. round 0)."""
        errors = validation_errors(list(error.errors()))
        return problem(422, "validation_error", "The request is not valid", describe(errors),
                       instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return problem(404, "not_found", "Not found", "请求的资源不存在", instance=request.url.path)
        if error.status_code == 405:
            allow = allowed_methods(request)
            return problem(405, "method_not_allowed", "Method not allowed", f"该地址不支持 {request.method[:16]} 请求"
                           f"，可用：{allow}", instance=request.url.path, headers={"Allow": allow})
        if error.status_code == 400:  # the only 400s Starlette and FastAPI raise: a body they could not parse
            content_type = request.headers.get("content-type", "").lower()
            if content_type.startswith("multipart/"):
                return _respond(malformed_multipart(request.url.path))
            return _respond(malformed_json(request.url.path))
        return problem(error.status_code, "http_error", str(error.detail), str(error.detail),
                       instance=request.url.path)
