"""Photos: upload (whole or in resumable chunks), existence check by hash, derivatives and meta."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.api import models as m
from services.api import responses as r
from services.api.deps import ContainerDep, CurrentUser
from services.api.errors import ApiError
from services.api.responses import DocumentedRoute
from services.observability import PHOTO_REFUSALS, PHOTO_UPLOADS
from services.photos import refusals
from services.photos.uploads import UploadStart

router = APIRouter(route_class=DocumentedRoute, prefix="/photos", tags=["photos"])


def read_limited(upload: UploadFile, limit: int) -> bytes:
    """Stop reading one byte past the limit: a huge upload is refused without being held in memory."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise refusals.too_large(len(data), limit)
    return data


@router.post("", status_code=201, response_model=m.PhotoMeta, responses={
    200: {"model": m.PhotoMeta, "description": "the same bytes were stored before"}, **r.problems(r.PHOTO_UPLOAD)})
async def upload_photo(
    user: CurrentUser, container: ContainerDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or HEIC")],
    project_id: Annotated[str | None, Form()] = None,
    works_item_id: Annotated[str | None, Form()] = None,
    sha256: Annotated[str | None, Form(description="SHA-256 computed at capture; checked")] = None,
) -> JSONResponse:
    """Checked, derived and stored on the photo threads (never the threads commands run on)."""
    def store() -> tuple[dict[str, Any], bool]:
        data = read_limited(file, container.photos.max_bytes)
        return container.photos.upload(user, data, file.filename, project_id, works_item_id, sha256)

    try:
        meta, created = await container.photos.workers.run(store)
    except ApiError as refusal:
        PHOTO_UPLOADS.labels("refused").inc()
        PHOTO_REFUSALS.labels(refusal.code).inc()
        raise
    PHOTO_UPLOADS.labels("stored" if created else "deduplicated").inc()
    return JSONResponse(meta, status_code=201 if created else 200, headers={"ETag": f'"{meta["id"]}"'})


@router.head("/{photo_id}", responses=r.problems(r.PHOTO_READ))
async def photo_exists(photo_id: str, user: CurrentUser, container: ContainerDep) -> Response:
    """200 when the photo is stored and visible to you: a client that hashed it at capture skips the upload."""
    meta = await container.photos.workers.run(container.photos.readable, user, photo_id)
    return Response(status_code=200, headers={"ETag": f'"{meta["id"]}"', "X-Photo-Bytes": str(meta["bytes"])})


@router.get("/{photo_id}/meta", response_model=m.PhotoMeta, responses=r.problems(r.PHOTO_READ))
async def photo_meta(photo_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return await container.photos.workers.run(container.photos.readable, user, photo_id)


@router.get("/{photo_id}", response_class=Response, responses=r.image_responses(r.PHOTO_READ))
async def photo_bytes(photo_id: str, user: CurrentUser, container: ContainerDep, request: Request,
                      size: Literal["thumb", "preview", "original"] = Query("preview")) -> Response:
    """Streamed through the API (not a presigned URL), so every read is checked against the caller's scope.
    Each chunk is read on a photo thread: a store that hangs mid-stream holds none of the API's threads."""
    workers = container.photos.workers
    meta = await workers.run(container.photos.readable, user, photo_id)
    etag = f'"{meta["id"]}-{size}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    chunks, length = await workers.run(container.photos.store.open, meta["id"], size)
    content_type = meta["content_type"] if size == "original" else "image/jpeg"

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await workers.run(next, chunks, b""):
                yield chunk
        finally:
            chunks.close()  # releases the store's connection, also when the client went away

    return StreamingResponse(body(), media_type=content_type, headers={
        "Content-Length": str(length), "ETag": etag, "Cache-Control": "private, max-age=86400, immutable"})


uploads = APIRouter(route_class=DocumentedRoute, prefix="/photo-uploads", tags=["photos"])


@uploads.post("", status_code=201, response_model=m.UploadState, responses=r.problems(r.UPLOAD_SCOPE, r.BODY))
def start_upload(user: CurrentUser, container: ContainerDep, body: UploadStart) -> dict[str, Any]:
    """Begin a resumable upload (tus-like): send chunks with PATCH and `Upload-Offset`; resume from HEAD."""
    return container.uploads.start(user, body.model_dump())


@uploads.head("/{upload_id}", responses=r.problems(r.UPLOAD_STATE))
async def upload_offset(upload_id: str, user: CurrentUser, container: ContainerDep) -> Response:
    state = await container.photos.workers.run(container.uploads.state, user, upload_id)  # expired: pieces removed
    return Response(status_code=200, headers={"Upload-Offset": str(state["offset"]),
                                              "Upload-Length": str(state["size"])})


@uploads.get("/{upload_id}", response_model=m.UploadState, responses=r.problems(r.UPLOAD_STATE))
async def upload_state(upload_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return await container.photos.workers.run(container.uploads.state, user, upload_id)


@uploads.patch("/{upload_id}", response_model=m.UploadState | m.PhotoMeta, responses={
    201: {"model": m.PhotoMeta, "description": "the last chunk: the photo is stored"}, **r.problems(r.UPLOAD_CHUNK)})
async def upload_chunk(upload_id: str, user: CurrentUser, container: ContainerDep, request: Request,
                       upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0)]) -> JSONResponse:
    declared = int(request.headers.get("content-length") or 0)
    if declared > container.uploads.chunk_max:
        raise refusals.refused(413, "upload_chunk_too_large", "The chunk is larger than allowed",
                               f"分块大小超过上限 {container.uploads.chunk_max} 字节",
                               max_chunk_bytes=container.uploads.chunk_max)
    data = bytearray()
    async for part in request.stream():  # a chunked request has no Content-Length: stop at the limit
        data += part
        if len(data) > container.uploads.chunk_max:
            raise refusals.refused(413, "upload_chunk_too_large", "The chunk is larger than allowed",
                                   f"分块大小超过上限 {container.uploads.chunk_max} 字节",
                                   max_chunk_bytes=container.uploads.chunk_max)

    status, body = await container.photos.workers.run(container.uploads.append, user, upload_id, upload_offset,
                                                      bytes(data))  # object-store work: on the photo threads
    return JSONResponse(body, status_code=status, headers={"Upload-Offset": str(body.get("offset", 0))})
