"""The refusals each route can answer, documented as `application/problem+json` with their `code`s.

A route names its family (`READ`, `ITEM_COMMAND`, …) and perhaps a few codes of its own; `problems()`
turns that into FastAPI's `responses=` dict. `install()` completes the OpenAPI document with what FastAPI
cannot derive from the functions: the shared `Problem` schema, the bearer security scheme (instead of an
`authorization` header parameter), and the formats of the command headers, taken from the same constants
the server checks them with. `DocumentedRoute` lists the headers that dependencies read from the request
(`deps.READ_HEADERS`) on the operations that use them, as FastAPI lists the parameters a function declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

import domain.rules
from domain.errors import DomainError, ErrorKind
from services.api import deps
from services.api.authentication import REFUSALS_ZH
from services.api.errors import STATUS
from services.api.models import Problem

Codes = Mapping[int, Iterable[str]]
PROBLEM_REF = "#/components/schemas/Problem"
DESCRIPTIONS = {
    400: "Malformed header or body (请求头或请求体格式无效)", 401: "Not authenticated (未登录或令牌无效)",
    403: "Not permitted (无权操作)", 404: "Not found (不存在)", 409: "Refused by the current state (状态冲突)",
    408: "Request body too slow (请求体超时)", 413: "Request body too large (请求体过大)",
    415: "Unsupported media type (不支持的文件类型)",
    422: "Invalid request (请求内容无效)", 429: "Too many requests (请求过于频繁)",
    503: "Temporarily unavailable (暂时不可用)",
}
IF_MATCH = r'^(W/)?"?[0-9]{1,18}"?$'
HEADERS: dict[str, dict[str, Any]] = {
    "idempotency-key": {"pattern": deps.KEY.pattern, "maxLength": deps.HEADER_MAX,
                        "description": "client-made id of this command (a UUID is best); a retry with the same "
                                       "key answers the first outcome"},
    "if-match": {"pattern": IF_MATCH, "maxLength": 24,
                 "description": "the aggregate version the client saw (its ETag), e.g. `\"7\"`; a stale one is 409"},
    "x-device-id": {"maxLength": deps.HEADER_MAX, "description": "the tablet or device that recorded the command"},
    "x-request-id": {"maxLength": deps.HEADER_MAX, "description": "echoed in the response and stored on the events"},
}


def _domain_codes(kind: ErrorKind, exclude: Iterable[type[DomainError]] = ()) -> list[str]:
    found: list[str] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        error = pending.pop()
        pending.extend(error.__subclasses__())
        if error.kind == kind and error not in exclude:
            found.append(error.code)
    return found


def merge(*families: Codes) -> dict[int, set[str]]:
    merged: dict[int, set[str]] = {}
    for family in families:
        for status, codes in family.items():
            merged.setdefault(status, set()).update(codes)
    return merged


PROJECT_ONLY = (domain.rules.DuplicateMember, domain.rules.MemberNotFound, domain.rules.InvalidAcceptanceRule,
                domain.rules.AcceptanceRuleBelowFloor, domain.rules.UnknownDistrict, domain.rules.UnknownStreet)
DIVISIONS_ONLY = (domain.rules.DivisionCodeTaken, domain.rules.CityAdminOnly)  # the registry's own routes
AUTH: Codes = {401: ("unauthenticated", *REFUSALS_ZH), 429: ("too_many_attempts",)}
BODY: Codes = {400: ("malformed_json",), 408: ("body_timeout",), 413: ("body_too_large",),  # 400: not JSON at all
               422: ("duplicate_json_key", "validation_error")}
SCOPED = merge(AUTH, {403: ("out_of_scope", "role_not_permitted"), 422: ("validation_error",)})
PROJECT_READ = merge(SCOPED, {404: ("project_not_found",)})
ITEM_READ = merge(SCOPED, {404: ("works_item_not_found", "project_not_found")})
AFTER: Codes = {422: ("position_beyond_log",), 503: ("projection_behind",)}
HEADER_CODES: Codes = {400: ("invalid_if_match", "invalid_idempotency_key")}
_COMMAND = merge(SCOPED, BODY, HEADER_CODES, {
    404: ("project_not_found", "works_item_not_found"),
    409: ("version_conflict",), 422: ("idempotency_key_reused", "device_time_in_future"),
})
PROJECT_COMMAND = merge(_COMMAND, {
    STATUS[kind]: [c for c in _domain_codes(kind) if c in {e.code for e in PROJECT_ONLY}
                   or c in ("invalid_item_state",)] for kind in ErrorKind
})
PHOTO_CITATIONS: Codes = {403: ("photo_out_of_scope",), 422: ("photo_not_found",)}
ITEM_COMMAND = merge(_COMMAND, PHOTO_CITATIONS,
                     {STATUS[kind]: _domain_codes(kind, PROJECT_ONLY + DIVISIONS_ONLY) for kind in ErrorKind})
_DIVISIONS = {e.code for e in (*DIVISIONS_ONLY, domain.rules.UnknownDistrict, domain.rules.UnknownStreet)}
DIVISIONS_COMMAND = merge(_COMMAND, {STATUS[kind]: [c for c in _domain_codes(kind) if c in _DIVISIONS]
                                     for kind in ErrorKind})


def problems(*families: Codes) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=`: one problem+json response per status, its `code` limited to those listed."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status, codes in sorted(merge(*families).items()):
        schema = {"allOf": [{"$ref": PROBLEM_REF},
                            {"type": "object", "properties": {"code": {"type": "string", "enum": sorted(codes)}}}]}
        responses[status] = {"description": DESCRIPTIONS.get(status, "Problem"),
                             "content": {"application/problem+json": {"schema": schema}}}
    return responses


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    _name_operations(schema)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema(ref_template=PROBLEM_REF)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "a token from `siteledger admin create-user` "
                                                               "or POST /api/v1/users"}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method == "head":  # FastAPI documents a JSON body; a HEAD answer has none
                for status, response in operation.get("responses", {}).items():
                    if status.startswith("2"):
                        response.pop("content", None)
            params = operation.get("parameters", [])
            if any(p["in"] == "header" and p["name"].lower() == "authorization" for p in params):
                operation["security"] = [{"bearer": []}]
                for status, response in problems(AUTH).items():  # any authenticated route may answer these
                    operation.setdefault("responses", {}).setdefault(str(status), response)
            operation["parameters"] = [p for p in params
                                       if not (p["in"] == "header" and p["name"].lower() == "authorization")]
            if not operation["parameters"]:
                del operation["parameters"]
            for param in operation.get("parameters", []):
                extra = HEADERS.get(param["name"].lower()) if param["in"] == "header" else None
                if extra:
                    param["description"] = extra["description"]
                    param["schema"] = {"type": "string", **{k: v for k, v in extra.items() if k != "description"}}
            default_422 = operation.get("responses", {}).get("422", {}).get("content", {})
            if "application/json" in default_422:  # FastAPI's own, for routes that list no 422 themselves
                operation["responses"]["422"] = problems({422: ("validation_error",)})[422]
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    return schema


def _name_operations(schema: dict[str, Any]) -> None:
    """Operation ids are the functions' names (`get_item`, not `get_item_api_v1_works_items__item_id__get`), so a
    generated client's methods read well; a name served twice (health at / and /api/v1) gets a number."""
    seen: dict[str, int] = {}
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            suffix = re.sub(r"\W", "_", path) + f"_{method}"
            name = operation.get("operationId", "")
            if name.endswith(suffix) and len(name) > len(suffix):  # FastAPI's default, generated from the name
                name = name[:-len(suffix)]
                seen[name] = seen.get(name, 0) + 1
                operation["operationId"] = name if seen[name] == 1 else f"{name}_{seen[name]}"


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


class DocumentedRoute(APIRoute):
    """Every API router's route class (`APIRouter(route_class=DocumentedRoute)`): its operation also lists the
    headers its dependencies read from the request, which `_document` then completes like declared ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict.fromkeys(name for call in _calls(self.dependant) for name in deps.READ_HEADERS.get(call, ()))
        if names:
            extra = dict(self.openapi_extra or {})
            extra["parameters"] = [*extra.get("parameters", []), *(
                {"name": name, "in": "header", "required": False, "schema": {"type": "string"}} for name in names)]
            self.openapi_extra = extra


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema


_STORE: Codes = {503: ("object_store_unavailable", "photo_store_busy")}
PHOTO_READ = merge(AUTH, _STORE, {403: ("photo_out_of_scope",), 404: ("photo_not_found",), 422: ("validation_error",)})
UPLOAD_SCOPE = merge(SCOPED, _STORE, {
    404: ("project_not_found", "works_item_not_found"), 413: ("photo_too_large",),
    422: ("invalid_id", "photo_item_not_in_project")})
PHOTO_UPLOAD = merge(UPLOAD_SCOPE, BODY, {
    400: ("malformed_multipart",), 415: ("photo_not_an_image", "photo_unsupported_type"),
    422: ("photo_empty", "photo_too_many_pixels", "photo_truncated", "photo_corrupt", "photo_trailing_data",
          "photo_hash_mismatch")})
UPLOAD_STATE = merge(AUTH, _STORE, {404: ("upload_not_found",), 422: ("validation_error",)})  # 503: expired, removed
UPLOAD_CHUNK = merge(PHOTO_UPLOAD, UPLOAD_STATE, {
    409: ("upload_offset_mismatch",), 413: ("upload_chunk_too_large",), 422: ("upload_chunk_invalid",)})
IMAGE = {"schema": {"type": "string", "format": "binary"}}


def image_responses(*families: Codes) -> dict[int | str, dict[str, Any]]:
    """A photo's bytes (JPEG derivatives; the original in its own type), or 304 when the ETag still holds."""
    return {200: {"description": "the image", "content": {t: IMAGE for t in (
                "image/jpeg", "image/png", "image/webp", "image/heic")}},
            304: {"description": "Not modified (If-None-Match matched the ETag)"}, **problems(*families)}
