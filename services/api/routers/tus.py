"""Photo uploads over the tus 1.0 resumable upload protocol (https://tus.io/protocols/resumable-upload).

Core, creation, expiration, checksum (sha1, sha256) and termination, so a standard client (tus-js-client in
the coming PWA, tuspy, the field client) resumes a photo from the server's offset after a dropped link:

    OPTIONS /api/v1/tus/photos       what the server speaks (no token needed)
    POST    /api/v1/tus/photos       Upload-Length, Upload-Metadata (filename, project_id, works_item_id, sha256)
    HEAD    /api/v1/tus/photos/{id}  Upload-Offset: where to resume
    PATCH   /api/v1/tus/photos/{id}  Upload-Offset + application/offset+octet-stream
    DELETE  /api/v1/tus/photos/{id}  give it up

Authorization is that of `POST /api/v1/photos`: a bearer token, and the project (or works item) named in the
metadata must be in the caller's scope, checked at creation. A PATCH without `Upload-Checksum` keeps whatever
arrived before its connection broke (as tusd does): on a link that drops every few seconds a photo advances
with each connection instead of starting its piece again. A PATCH with a checksum is all or nothing. The last
byte runs the photo pipeline; a refusal there (a corrupt image, a wrong sha256) is the pipeline's problem,
and the upload is gone. The body is read in pieces of `SITELEDGER_UPLOAD_CHUNK_BYTES`, so a client may send
the whole file in one PATCH.

The protocol's answers have no body, so the OpenAPI document describes them by their headers; its request
headers are documented as parameters (with the patterns checked here) but read by this module, not FastAPI,
so a bad one is the tus status the protocol names (400, 412) rather than FastAPI's 422. Anything that may
touch the object store (a piece, the pipeline, removing an expired or terminated upload's pieces) runs on the
photo service's own bounded threads, so a hung store cannot take the threads every other request runs on.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from services.api import responses as r
from services.api.deps import ContainerDep, CurrentUser
from services.api.errors import ApiError, refusal_body
from services.api.responses import DocumentedRoute
from services.api.validation_zh import reason
from services.photos import refusals
from services.photos.uploads import FILENAME, ResumableUploads, Upload, Written
from services.photos.workers import PhotoWorkers

log = logging.getLogger("siteledger.uploads")

VERSION = "1.0.0"
EXTENSIONS = "creation,expiration,checksum,termination"
CHECKSUMS = ("sha1", "sha256")
OFFSET_STREAM = "application/offset+octet-stream"
INTEGER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: `'²'.isdigit()` is true and `int('²')` fails
BASE64 = r"[A-Za-z0-9+/]*={0,2}"
METADATA_KEY = r"[\x21-\x2B\x2D-\x7E]+"  # printable ASCII without space and comma
METADATA_PAIR = f"{METADATA_KEY}( {BASE64})?"
METADATA_MAX = 4096
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

router = APIRouter(route_class=DocumentedRoute, prefix="/tus/photos", tags=["photos"])


# --- the contract ------------------------------------------------------------------------------------------

def _header(name: str, description: str, example: str, pattern: str | None = None, required: bool = False,
            max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    if max_length:
        schema["maxLength"] = max_length
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema,
            "example": example}


def _answer(description: str, required: Iterable[str] = (), optional: Iterable[str] = ()) -> dict[str, Any]:
    """A bodiless answer: what it says is in its headers."""
    headers = {name: {"required": True, **ANSWER_HEADERS[name]} for name in required}
    headers.update({name: {"required": False, **ANSWER_HEADERS[name]} for name in optional})
    return {"description": description, "headers": headers}


INTEGER_PATTERN = f"^{INTEGER.pattern}$"
RESUMABLE = _header("Tus-Resumable", "the protocol version the client speaks; only `1.0.0` (else 412)", VERSION,
                    pattern=r"^1\.0\.0$", required=True)
ANSWER_HEADERS: dict[str, dict[str, Any]] = {
    "Tus-Resumable": {"description": "the protocol version, `1.0.0`", "schema": {"type": "string", "enum": [VERSION]}},
    "Tus-Version": {"description": "versions this server speaks", "schema": {"type": "string"}},
    "Tus-Extension": {"description": f"extensions this server speaks: `{EXTENSIONS}`", "schema": {"type": "string"}},
    "Tus-Max-Size": {"description": "largest photo in bytes (`SITELEDGER_PHOTO_MAX_BYTES`)",
                     "schema": {"type": "string", "pattern": INTEGER_PATTERN}},
    "Tus-Checksum-Algorithm": {"description": "algorithms `Upload-Checksum` may name",
                               "schema": {"type": "string"}},
    "Location": {"description": "the upload's URL, to HEAD, PATCH or DELETE", "schema": {"type": "string"}},
    "Upload-Offset": {"description": "bytes the server has stored: where to resume",
                      "schema": {"type": "string", "pattern": INTEGER_PATTERN}},
    "Upload-Length": {"description": "the photo's size in bytes, as declared at creation",
                      "schema": {"type": "string", "pattern": INTEGER_PATTERN}},
    "Upload-Expires": {"description": "when an unfinished upload is removed (RFC 9110 HTTP-date); absent once "
                                      "the photo is whole", "schema": {"type": "string"}},
    "Upload-Metadata": {"description": "the metadata given at creation", "schema": {"type": "string"}},
    "X-Photo-Id": {"description": "the stored photo's id (its SHA-256), on the answer to the last piece",
                   "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
}
TUS_DESCRIPTIONS = {
    410: "Upload expired (上传任务已过期)", 412: "Tus-Resumable missing or not 1.0.0 (协议版本不受支持)",
    423: "Another request is writing this upload (另一请求正在写入)", 460: "Checksum mismatch (分块校验和不符)",
}
VERSION_CODES: r.Codes = {412: ("tus_version_unsupported",)}
STORE: r.Codes = {503: r.PHOTO_READ[503]}  # the object store down or every photo thread busy
UPLOAD_CODES = r.merge(VERSION_CODES, STORE, {
    404: ("upload_not_found",), 410: ("upload_expired",), 423: ("upload_locked",)})
PIPELINE = {status: set(codes) - {"malformed_multipart"} for status, codes in r.merge(r.PHOTO_UPLOAD).items()}
CREATE_CODES = r.merge(r.UPLOAD_SCOPE, VERSION_CODES, {
    400: ("tus_invalid_header", "tus_defer_length_unsupported", "tus_invalid_metadata"), 422: ("photo_empty",)})
PATCH_CODES = r.merge(PIPELINE, UPLOAD_CODES, {
    400: ("tus_invalid_header", "tus_checksum_unsupported"), 409: ("upload_offset_mismatch",),
    413: ("upload_beyond_length", "upload_chunk_too_large"), 415: ("tus_content_type",),
    460: ("tus_checksum_mismatch",)})


def _problems(*families: r.Codes) -> dict[int | str, dict[str, Any]]:
    documented = r.problems(*families)
    for status, description in TUS_DESCRIPTIONS.items():
        if status in documented:
            documented[status]["description"] = description
    return documented


# --- reading the request -----------------------------------------------------------------------------------

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
    if not INTEGER.fullmatch(raw):
        raise _refused(400, "tus_invalid_header", f"{name} must be a non-negative integer",
                       f"{name} 头缺失或不是非负整数（最多 18 位数字）")
    return int(raw)


def _bad_metadata(title: str, detail_zh: str) -> ApiError:
    return _refused(400, "tus_invalid_metadata", title, f"Upload-Metadata 无效：{detail_zh}")


def parse_metadata(raw: str) -> dict[str, str]:
    """`key base64(value)` pairs, comma-separated; a key alone means an empty value; each key once (a key
    given twice would leave it to chance which value counts)."""
    if len(raw) > METADATA_MAX:
        raise _bad_metadata("Upload-Metadata is too long", f"超过 {METADATA_MAX} 个字符")
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, encoded = pair.partition(" ")
        shown = key[:40].encode("ascii", "backslashreplace").decode()
        if not re.fullmatch(METADATA_KEY, key):
            raise _bad_metadata("Upload-Metadata keys are printable ASCII", f"键 {shown} 含有不可接受的字符")
        if key in found:
            raise _bad_metadata("Upload-Metadata gives a key twice", f"键 {shown} 出现了不止一次")
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):  # binascii.Error, or a value that is not ASCII at all
            raise _bad_metadata("Upload-Metadata values must be base64 of UTF-8 text",
                                f"{shown} 的值不是 UTF-8 文字的 base64 编码") from None
    return found


def _filename(raw: str | None) -> str | None:
    """Held to the rule of every human-readable field (and of `POST /photo-uploads`), refused before a byte
    of the photo crosses the link."""
    if raw is None:
        return None
    try:
        return FILENAME.validate_python(raw) or None
    except ValidationError as error:
        raise _bad_metadata("Upload-Metadata filename is not acceptable",
                            f"filename {reason(error.errors()[0])}") from None


def _checksum(raw: str | None) -> tuple[str, bytes] | None:
    if not raw:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        shown = algorithm[:20].encode("ascii", "backslashreplace").decode()
        raise _refused(400, "tus_checksum_unsupported", "Checksum algorithm not supported",
                       f"不支持的校验算法 {shown}；可用：{', '.join(CHECKSUMS)}")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except ValueError:  # binascii.Error, or not ASCII at all
        raise _refused(400, "tus_invalid_header", "Upload-Checksum must be base64",
                       "Upload-Checksum 的值不是有效的 base64 编码") from None


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Upload-Offset": str(upload.offset), "Cache-Control": "no-store"}
    if not upload.complete:
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


def encode_metadata(values: dict[str, str | None]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items() if v)


# --- the routes ---------------------------------------------------------------------------------------------

DISCOVERY = _answer("what this server speaks", required=(
    "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"))


@router.options("", status_code=204, response_class=Response, operation_id="tus_discover",
                responses={204: DISCOVERY})
def discover(container: ContainerDep) -> Response:
    """What this server speaks; no token needed to ask."""
    return Response(status_code=204, headers={
        "Tus-Resumable": VERSION, "Tus-Version": VERSION, "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(container.photos.max_bytes), "Tus-Checksum-Algorithm": ",".join(CHECKSUMS)})


@router.options("/{upload_id}", status_code=204, response_class=Response, operation_id="tus_discover_upload",
                responses={204: DISCOVERY})
def discover_upload(upload_id: str, container: ContainerDep) -> Response:
    """The same, asked of an upload's URL (whether or not it exists)."""
    return discover(container)


@router.post("", status_code=201, response_class=Response, operation_id="tus_create_upload", responses={
    201: _answer("the upload exists; PATCH its bytes to `Location`",
                 required=("Location", "Tus-Resumable", "Upload-Offset", "Upload-Expires")),
    **_problems(CREATE_CODES)}, openapi_extra={"parameters": [
        RESUMABLE,
        _header("Upload-Length", "the photo's size in bytes (at most `Tus-Max-Size`; `Upload-Defer-Length` is "
                                 "not supported)", "2481152", pattern=INTEGER_PATTERN, required=True),
        _header("Upload-Metadata", "comma-separated `key base64(value)` pairs, each key once: `filename` (one "
                                   "line, at most 200 characters), `project_id`, `works_item_id`, `sha256` "
                                   "(64 hex digits, checked against the bytes); other keys are ignored",
                f"filename {base64.b64encode(b'IMG_0001.jpg').decode()}",
                pattern=f"^{METADATA_PAIR}(, *{METADATA_PAIR})*$", max_length=METADATA_MAX)]})
def create_upload(request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Creation: `Upload-Length` and `Upload-Metadata`; the answer's `Location` is where to PATCH. Only the
    database and the caller's scope are consulted (no object store), so this runs on the API's threads."""
    try:
        _require_version(request)
        if "upload-defer-length" in request.headers:
            raise _refused(400, "tus_defer_length_unsupported", "Upload-Defer-Length is not supported",
                           "须在创建时给出 Upload-Length（不支持延后声明长度）")
        length = _integer(request, "upload-length")
        if length == 0:
            raise refusals.empty()
        meta = parse_metadata(request.headers.get("upload-metadata", ""))
        sha = meta.get("sha256")
        if sha is not None and not SHA256_HEX.fullmatch(sha):
            raise _bad_metadata("sha256 must be 64 hex digits", "sha256 应为 64 位十六进制")
        upload = container.uploads.create(user, length, sha, meta.get("project_id") or None,
                                          meta.get("works_item_id") or None, _filename(meta.get("filename")))
    except ApiError as error:
        return _problem(error, request)
    return Response(status_code=201, headers={
        **_state_headers(upload), "Location": f"{request.url.path.rstrip('/')}/{upload.upload_id}"})


@router.head("/{upload_id}", response_class=Response, operation_id="tus_upload_offset", responses={
    200: _answer("where to resume", required=("Tus-Resumable", "Upload-Offset", "Upload-Length"),
                 optional=("Upload-Expires", "Upload-Metadata")),
    **_problems(UPLOAD_CODES)}, openapi_extra={"parameters": [RESUMABLE]})
async def upload_offset(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Where to resume. A finished upload answers offset = length until it expires: its last answer may
    have been lost on the way. A refusal is the problem a GET would answer, without its body."""
    try:
        _require_version(request)
        async with container.uploads.locked(upload_id):  # after a drop, wait for the old request to store its piece
            upload = await container.photos.workers.run(container.uploads.get, user, upload_id)
    except ApiError as error:
        return _problem(error, request)
    return Response(status_code=200, headers={
        **_state_headers(upload), "Upload-Length": str(upload.size),
        "Upload-Metadata": encode_metadata({"filename": upload.filename, "project_id": upload.project_id,
                                            "works_item_id": upload.works_item_id, "sha256": upload.sha256})})


@router.patch("/{upload_id}", status_code=204, response_class=Response, operation_id="tus_upload_bytes",
              responses={
                  204: _answer("stored; the photo too once this was the last byte", required=(
                      "Tus-Resumable", "Upload-Offset"), optional=("Upload-Expires", "X-Photo-Id")),
                  **_problems(PATCH_CODES)},
              openapi_extra={"parameters": [
                  RESUMABLE,
                  _header("Upload-Offset", "where these bytes go: the server's offset (from HEAD), else 409",
                          "0", pattern=INTEGER_PATTERN, required=True),
                  _header("Upload-Checksum", f"`algorithm base64(digest)` of this request's bytes "
                                             f"({', '.join(CHECKSUMS)}); with it the piece is all or nothing "
                                             "and at most `SITELEDGER_UPLOAD_CHUNK_BYTES`",
                          f"sha256 {base64.b64encode(hashlib.sha256(b'').digest()).decode()}",
                          pattern=f"^({'|'.join(CHECKSUMS)}) {BASE64}$")],
                  "requestBody": {"required": True, "content": {OFFSET_STREAM: {
                      "schema": {"type": "string", "format": "binary"}}}}})
async def upload_bytes(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Bytes from `Upload-Offset` on; 204 with the new offset (and `X-Photo-Id` once the photo is stored).
    A client whose proxy drops PATCH may POST with `X-HTTP-Method-Override: PATCH`."""
    try:
        return await _patch(upload_id, request, user, container.uploads, container.photos.workers)
    except ApiError as error:
        return _problem(error, request)


@router.post("/{upload_id}", include_in_schema=False)
async def upload_bytes_override(upload_id: str, request: Request, user: CurrentUser,
                                container: ContainerDep) -> Response:
    """`X-HTTP-Method-Override: PATCH`, for clients behind proxies that drop PATCH (a tus option)."""
    if request.headers.get("x-http-method-override", "").upper() != "PATCH":
        return _problem(_refused(405, "method_not_allowed", "Method not allowed", "不支持该请求方法"), request)
    return await upload_bytes(upload_id, request, user, container)


@router.delete("/{upload_id}", status_code=204, response_class=Response, operation_id="tus_terminate_upload",
               responses={204: _answer("the upload and its pieces are gone", required=("Tus-Resumable",)),
                          **_problems(UPLOAD_CODES)},
               openapi_extra={"parameters": [RESUMABLE]})
async def terminate_upload(upload_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> Response:
    """Termination: the pieces and the row go now instead of at expiry."""
    try:
        _require_version(request)
        async with container.uploads.locked(upload_id):
            await container.photos.workers.run(container.uploads.terminate, user, upload_id)
    except ApiError as error:
        return _problem(error, request)
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})


async def _patch(upload_id: str, request: Request, user: CurrentUser, uploads: ResumableUploads,
                 workers: PhotoWorkers) -> Response:
    _require_version(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
        raise _refused(415, "tus_content_type", f"Content-Type must be {OFFSET_STREAM}",
                       f"PATCH 的 Content-Type 须为 {OFFSET_STREAM}")
    offset = _integer(request, "upload-offset")
    checksum = _checksum(request.headers.get("upload-checksum"))

    async def write(written: Written, piece: bytes) -> Written:
        return await workers.run(uploads.write, user, written.upload, written.upload.offset, piece)

    async with uploads.locked(upload_id):
        upload = await workers.run(uploads.get, user, upload_id)
        if offset != upload.offset:
            raise refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                                   f"续传位置不符：服务器已收到 {upload.offset} 字节", offset=upload.offset)
        declared = request.headers.get("content-length", "")
        declared_bytes = int(declared) if INTEGER.fullmatch(declared) else None
        if declared_bytes is not None and offset + declared_bytes > upload.size:
            raise _too_long(upload)
        if checksum is not None and declared_bytes is not None and declared_bytes > uploads.chunk_max:
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
                    written = await write(written, bytes(piece))
                    piece = bytearray()
        except ClientDisconnect:
            if checksum is None and piece:  # keep what arrived: the client resumes right after it
                try:
                    await write(written, bytes(piece))
                except ApiError as error:
                    log.info("piece from a dropped connection not kept", extra={"code": error.code})
            return Response(status_code=400)  # nobody is listening any more
        if checksum is not None:
            algorithm, expected = checksum
            if hashlib.new(algorithm, piece).digest() != expected:
                raise _refused(460, "tus_checksum_mismatch", "Checksum mismatch",
                               "分块校验和不符（传输中可能损坏），请从服务器的位置重新发送")
        if piece:
            written = await write(written, bytes(piece))
    headers = _state_headers(written.upload)
    if written.photo is not None:
        headers["X-Photo-Id"] = str(written.photo["id"])
    return Response(status_code=204, headers=headers)


def _too_long(upload: Upload) -> ApiError:
    return refusals.refused(413, "upload_beyond_length", "More bytes than the upload's declared length",
                            f"上传内容超出声明的文件大小 {upload.size} 字节", offset=upload.offset, size=upload.size)


def _checksummed_too_large(limit: int) -> ApiError:
    return refusals.refused(413, "upload_chunk_too_large", "A checksummed PATCH is larger than allowed",
                            f"带校验和的分块不能超过 {limit} 字节（不带校验和时无此限制）", max_chunk_bytes=limit)
