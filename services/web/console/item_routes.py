"""The item page's reads: the page, the hash chain's verification, the record as a zip, a photo's preview."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.api.errors import ApiError
from services.operations import export_item
from services.web.console.access import container_of, page, refused, viewer
from services.web.console.item_page import item_route, load
from services.web.console.overview import clock

router = APIRouter(include_in_schema=False)
CHUNK = 1 << 16


@router.get("/console/items/{item_id}")
def item_page(request: Request, item_id: str, spot: str | None = None, after: str | None = None,
              done: str | None = None, flagged: str | None = None,
              everything: Annotated[str | None, Query(alias="all")] = None) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    return item_route(request, who, item_id, spot, after, done, only_flagged=flagged == "1", show_all=everything == "1")


@router.get("/console/items/{item_id}/verify")
def verify(request: Request, item_id: str) -> Response:
    """Recompute the item's hash chain from the stored records; htmx swaps the result into the page, and
    without JavaScript the link opens it as a page of its own."""
    who = viewer(request)
    if isinstance(who, Response):
        return who
    loaded = load(request, who, item_id)
    if isinstance(loaded, Response):
        return loaded
    item, _ = loaded
    report = container_of(request).ledger.verify(item.id)
    fragment = request.headers.get("hx-request") == "true"
    return page(request, "_verify.html" if fragment else "verify.html", viewer=who, item=item,
                report=report.as_dict(), checked_at=clock(container_of(request)).now().strftime("%Y-%m-%d %H:%M:%S"))


@router.get("/console/items/{item_id}/record.zip")
def record(request: Request, item_id: str) -> Response:
    """The item's events, photos and a SHA-256 manifest: the export the CLI makes, spooled then streamed."""
    who = viewer(request)
    if isinstance(who, Response):
        return who
    loaded = load(request, who, item_id)
    if isinstance(loaded, Response):
        return loaded
    item, _ = loaded
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed when the stream ends
    try:
        export_item(container_of(request), item.id, spool)
    except ApiError as refusal:  # the photo store is unreachable: say so rather than send half a record
        spool.close()
        return refused(request, refusal.detail_zh, refusal.status)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while data := spool.read(CHUNK):
                yield data
        finally:
            spool.close()

    filename = f"works-item-{item.id}.zip"
    return StreamingResponse(chunks(), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@router.get("/console/photos/{photo_id}")
def photo(request: Request, photo_id: str, item: str | None = None) -> Response:
    """A photo's preview with what its file says: when it was taken, where, on which device."""
    who = viewer(request)
    if isinstance(who, Response):
        return who
    container = container_of(request)
    try:
        meta = container.photos.readable(who.user, photo_id[:64])
    except ApiError as refusal:
        return refused(request, refusal.detail_zh, refusal.status)
    back = f"/console/items/{item}" if item and len(item) == 36 else None
    return page(request, "photo.html", viewer=who, meta=meta, back=back, clock=clock(container))
