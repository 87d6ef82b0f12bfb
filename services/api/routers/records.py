"""The evidence a reader takes away: an item's evidence pack (zip, checked by `siteledger-verify pack`) and the
printed records for 竣工验收 and the archive — an item's, or a project's (every item's), signed PDF."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from services.api.deps import ContainerDep, CurrentUser, as_uuid
from services.api.errors import ApiError
from services.api.responses import ITEM_READ, PROJECT_READ, DocumentedRoute, merge, problems
from services.bootstrap import Container
from services.operations import export_item
from services.pdf_drawing import FontMissing
from services.records import item_record, pdf, signing
from services.records.signing import SigningIdentity

router = APIRouter(route_class=DocumentedRoute, tags=["records"])
NOT_READY = {503: ("record_signing_not_configured", "record_font_missing")}
ZIP: dict[int | str, dict[str, Any]] = {200: {"content": {"application/zip": {}},
                                              "description": "The evidence pack: events as hashed, photos, proofs"}}
SPOOL_BYTES = 8 * 1024 * 1024  # a pack smaller than this is built in memory, a larger one in a temporary file
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}},
                                              "description": "The record, signed (PAdES)"}}


@router.get("/works-items/{item_id}/export", response_class=StreamingResponse, responses={**ZIP, **problems(ITEM_READ)})
def export_pack(item_id: str, user: CurrentUser, container: ContainerDep) -> StreamingResponse:
    """What `siteledger export works-item` writes, for anyone who may read the item: built whole before the
    first byte is sent, so a store failure is a problem response, never a truncated zip."""
    item, _ = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by the stream)
    try:
        size = export_item(container, item.id, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="works-item-{item.id}-v{item.version}.zip"',
        "Content-Length": str(size), "Cache-Control": "no-store"})


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(256 * 1024):
            yield chunk
    finally:
        spool.close()


@router.get("/works-items/{item_id}/record.pdf", response_class=Response,
            responses={**PDF, **problems(merge(ITEM_READ, NOT_READY))})
def item_record_pdf(item_id: str, user: CurrentUser, container: ContainerDep) -> Response:
    item, project = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    records = [item_record.gather(container, item, project)]
    return _signed(container, records, f"{project.name} {item.title} 工程事项记录", f"record-{item.id}-v{item.version}")


@router.get("/projects/{project_id}/record.pdf", response_class=Response,
            responses={**PDF, **problems(merge(PROJECT_READ, NOT_READY))})
def project_record_pdf(project_id: str, user: CurrentUser, container: ContainerDep) -> Response:
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    container.projections.refresh("listing")  # an item registered a moment ago is in the printed record
    rows = container.db.query("SELECT item_id FROM lst_items WHERE project_id = ? ORDER BY registered_at, item_id",
                              (str(project.id),))
    records = [item_record.gather(container, container.ledger.get_item(item_id), project) for (item_id,) in rows]
    if not records:
        raise ApiError(404, "works_item_not_found", "The project has no works items to print",
                       "该项目还没有登记工程事项，暂无记录可打印")
    return _signed(container, records, f"{project.name} 工程记录", f"record-project-{project.id}-v{project.version}")


def identity(container: Container) -> SigningIdentity | None:
    settings = container.settings
    if settings.record_signing_key and settings.record_signing_cert:
        return SigningIdentity(settings.record_signing_key, settings.record_signing_cert)
    if settings.env == "development":
        return signing.development_identity(settings.data_dir)
    return None


def _signed(container: Container, records: list[item_record.ItemRecord], title: str, filename: str) -> Response:
    signer = identity(container)
    if signer is None:
        raise ApiError(503, "record_signing_not_configured", "No certificate is configured to sign records",
                       "服务器未配置记录签名证书，暂不能生成记录，请联系系统管理员")
    try:
        rendered = pdf.render(records, container.settings.cjk_font_path, title)
    except FontMissing as missing:
        raise ApiError(503, "record_font_missing", "The CJK font for printing is not installed",
                       f"服务器缺少中文字体（{missing}），暂不能生成记录，请联系系统管理员") from None
    body = signing.sign(rendered, signer)
    disposition = f"attachment; filename=\"{filename}.pdf\"; filename*=UTF-8''{quote(title)}.pdf"
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": disposition,
                                                                 "Cache-Control": "no-store"})
