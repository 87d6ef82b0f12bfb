"""Photo uploads over the tus 1.0 resumable upload protocol (https://tus.io/protocols/resumable-upload).

Core, creation, expiration, checksum (sha1, sha256) and termination, so a standard client (tus-js-client in
the coming PWA, tuspy, the field client) resumes a photo from the server's offset after a dropped link:

    POST   /api/v1/tus/photos        Upload-Length, Upload-Metadata (filename, project_id, works_item_id, sha256)
    HEAD   /api/v1/tus/photos/{id}   Upload-Offset: where to resume
    PATCH  /api/v1/tus/photos/{id}   Upload-Offset + application/offset+octet-stream
    DELETE /api/v1/tus/photos/{id}   give it up

Authorization is that of `POST /api/v1/photos`: a bearer token, and the project (or works item) named in the
metadata must be in the caller's scope, checked at creation. A PATCH without `Upload-Checksum` keeps whatever
arrived before its connection broke (as tusd does): on a link that drops every few seconds a photo advances
with each connection instead of starting its piece again. A PATCH with a checksum is all or nothing. The last
byte runs the photo pipeline; a refusal there (a corrupt image, a wrong sha256) is the pipeline's problem,
and the upload is gone. The body is read in pieces of `SITELEDGER_UPLOAD_CHUNK_BYTES`, so a client may send
the whole file in one PATCH.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from services.api.deps import ContainerDep, CurrentUser
from services.api.errors import ApiError, refusal_body
from services.photos import refusals
from services.photos.uploads import ResumableUploads, Upload, Written

log = logging.getLogger("siteledger.uploads")

VERSION = "1.0.0"
EXTENSIONS = "creation,expiration,checksum,termination"
CHECKSUMS = ("sha1", "sha256")
METADATA_KEYS = ("filename", "project_id", "works_item_id", "sha256")
OFFSET_STREAM = "application/offset+octet-stream"

router = APIRouter(prefix="/tus/photos", tags=["photos"])


def _refused(status: int, code: str, title: str, detail_zh: str) -> ApiError:
    return refusals.refused(status, code, title, detail_zh)


def _problem(error: ApiError, request: Request) -> JSONResponse:
    """The usual problem body, with the tus headers a tus client looks for on every answer."""
    headers = {"Tus-Resumable": VERSION, "Cache-Control": "no-store"}
    if error.status == 412:
        headers["Tus-Version"] = VERSION
    return JSONResponse(refusal_body(error, request.url.path), status_code=error.status,
                        media_type="application/problem+json", headers=headers)


def _require_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != VERSION:
        raise _refused(412, "tus_version_unsupported", "Tus-Resumable 1.0.0 required",
                       "仅支持 tus 1.0.0 协议：请求须带 Tus-Resumable: 1.0.0")


def _integer(request: Request, name: str) -> int:
    raw = request.headers.get(name, "")
    if not raw.isdigit():
        raise _refused(400, "tus_invalid_header", f"{name} must be a non-negative integer",
                       f"{name} 头缺失或不是非负整数")
    return int(raw)


def parse_metadata(raw: str) -> dict[str, str]:
    """`key base64(value)` pairs, comma-separated; a key alone means an empty value."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _refused(400, "tus_invalid_metadata", "Upload-Metadata values must be base64",
                           f"Upload-Metadata 中 {key[:40]} 的值不是有效的 base64 编码") from None
    return found


def encode_metadata(values: dict[str, str | None]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items() if v)


def _checksum(raw: str | None) -> tuple[str, bytes] | None:
    if not raw:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise _refused(400, "tus_checksum_unsupported", "Checksum algorithm not supported",
                       f"不支持的校验算法 {algorithm[:20]}；可用：{', '.join(CHECKSUMS)}")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise _refused(400, "tus_invalid_header", "Upload-Checksum must be base64",
                       "Upload-Checksum 的值不是有效的 base64 编码") from None


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Upload-Offset": str(upload.offset), "Cache-Control": "no-store"}
    if not upload.complete:
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


@asynccontextmanager
async def _locked(uploads: ResumableUploads, upload_id: str) -> AsyncIterator[None]:
    """The upload's lock, waited for off the event loop."""
    held = uploads.lock(upload_id)
    await run_in_threadpool(held.__enter__)
    try:
        yield
    finally:
        held.__exit__(None, None, None)


@router.options("", include_in_schema=False)
@router.options("/{upload_id}", include_in_schema=False)
def discover(container: ContainerDep) -> Response:
    """What this server speaks; no token needed to ask."""
    return Response(status_code=204, headers={
        "Tus-Resumable": VERSION, "Tus-Version": VERSION, "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(container.photos.max_bytes), "Tus-Checksum-Algorithm": ",".join(CHECKSUMS)})


@router.post("", status_code=201)
def create_upload(request: Request, user: CurrentUser, container: ContainerDep,
                  upload_metadata: Annotated[str | None, Header(alias="Upload-Metadata")] = None) -> Response:
    """Creation: `Upload-Length` and `Upload-Metadata`; the answer's `Location` is where to PATCH."""
    try:
        _require_version(request)
        if "upload-defer-length" in request.headers:
            raise _refused(400, "tus_defer_length_unsupported", "Upload-Defer-Length is not supported",
                           "须在创建时给出 Upload-Length（不支持延后声明长度）")
        length = _integer(request, "upload-length")
        if length == 0:
            raise refusals.empty()
        meta = parse_metadata(upload_metadata or "")
        sha = meta.get("sha256")
        if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha)):
            raise _refused(400, "tus_invalid_metadata", "sha256 must be 64 hex digits",
                           "Upload-Metadata 中的 sha256 应为 64 位十六进制")
        upload = container.uploads.create(user, length, sha, meta.get("project_id") or None,
                                          meta.get("works_item_id") or None, (meta.get("filename") or "")[:255] or None)
    except ApiError as error:
        return _problem(error, request)
    return Response(status_code=201, headers={
        **_state_headers(upload), "Location": f"{request.url.path.rstrip('/')}/{upload.upload_id}"})


@router.head("/{upload_id}")
def upload_offset(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Where to resume. A finished upload answers offset = length until it expires: its last answer may
    have been lost on the way."""
    try:
        _require_version(request)
        with container.uploads.lock(upload_id):  # after a drop, wait for the old request to store what it got
            upload = container.uploads.get(user, upload_id)
    except ApiError as error:
        return Response(status_code=error.status, headers={"Tus-Resumable": VERSION, "Cache-Control": "no-store"})
    return Response(status_code=200, headers={
        **_state_headers(upload), "Upload-Length": str(upload.size),
        "Upload-Metadata": encode_metadata({"filename": upload.filename, "project_id": upload.project_id,
                                            "works_item_id": upload.works_item_id, "sha256": upload.sha256})})


@router.patch("/{upload_id}", status_code=204)
async def upload_bytes(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Bytes from `Upload-Offset` on; 204 with the new offset (and `X-Photo-Id` once the photo is stored)."""
    try:
        return await _patch(upload_id, request, user, container.uploads)
    except ApiError as error:
        return _problem(error, request)


@router.post("/{upload_id}", include_in_schema=False)
async def upload_bytes_override(upload_id: str, request: Request, user: CurrentUser,
                                container: ContainerDep) -> Response:
    """`X-HTTP-Method-Override: PATCH`, for clients behind proxies that drop PATCH (a tus option)."""
    if request.headers.get("x-http-method-override", "").upper() != "PATCH":
        return _problem(_refused(405, "method_not_allowed", "Method not allowed", "不支持该请求方法"), request)
    return await upload_bytes(upload_id, request, user, container)


@router.delete("/{upload_id}", status_code=204)
def terminate_upload(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Termination: the pieces and the row go now instead of at expiry."""
    try:
        _require_version(request)
        with container.uploads.lock(upload_id):
            container.uploads.terminate(user, upload_id)
    except ApiError as error:
        return _problem(error, request)
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})


async def _patch(upload_id: str, request: Request, user: CurrentUser, uploads: ResumableUploads) -> Response:
    _require_version(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
        raise _refused(415, "tus_content_type", f"Content-Type must be {OFFSET_STREAM}",
                       f"PATCH 的 Content-Type 须为 {OFFSET_STREAM}")
    offset = _integer(request, "upload-offset")
    checksum = _checksum(request.headers.get("upload-checksum"))
    async with _locked(uploads, upload_id):
        upload = await run_in_threadpool(uploads.get, user, upload_id)
        if offset != upload.offset:
            raise refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                                   f"续传位置不符：服务器已收到 {upload.offset} 字节", offset=upload.offset)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and offset + int(declared) > upload.size:
            raise _too_long(upload)
        if checksum is not None and declared.isdigit() and int(declared) > uploads.chunk_max:
            raise _checksummed_too_large(uploads.chunk_max)
        written, piece = Written(upload), bytearray()
        try:
            async for part in request.stream():
                piece += part
                if written.upload.offset + len(piece) > upload.size:
                    raise _too_long(upload)
                if checksum is not None:
                    if len(piece) > uploads.chunk_max:
                        raise _checksummed_too_large(uploads.chunk_max)
                elif len(piece) >= uploads.chunk_max:
                    written = await _write(uploads, user, written, bytes(piece))
                    piece = bytearray()
        except ClientDisconnect:
            if checksum is None and piece:  # keep what arrived: the client resumes right after it
                try:
                    await _write(uploads, user, written, bytes(piece))
                except ApiError as error:
                    log.info("piece from a dropped connection not kept", extra={"code": error.code})
            return Response(status_code=400)  # nobody is listening any more
        if checksum is not None:
            algorithm, expected = checksum
            if hashlib.new(algorithm, piece).digest() != expected:
                raise _refused(460, "tus_checksum_mismatch", "Checksum mismatch",
                               "分块校验和不符（传输中可能损坏），请从服务器的位置重新发送")
        if piece:
            written = await _write(uploads, user, written, bytes(piece))
    headers = _state_headers(written.upload)
    if written.photo is not None:
        headers["X-Photo-Id"] = str(written.photo["id"])
    return Response(status_code=204, headers=headers)


async def _write(uploads: ResumableUploads, user: CurrentUser, written: Written, piece: bytes) -> Written:
    return await run_in_threadpool(uploads.write, user, written.upload, written.upload.offset, piece)


def _too_long(upload: Upload) -> ApiError:
    return refusals.refused(413, "upload_beyond_length", "More bytes than the upload's declared length",
                            f"上传内容超出声明的文件大小 {upload.size} 字节", offset=upload.offset, size=upload.size)


def _checksummed_too_large(limit: int) -> ApiError:
    return refusals.refused(413, "upload_chunk_too_large", "A checksummed PATCH is larger than allowed",
                            f"带校验和的分块不能超过 {limit} 字节（不带校验和时无此限制）", max_chunk_bytes=limit)
