"""The printed record of a works item for 竣工验收 and the archive: A4, Chinese, every event with its hash.

fpdf2, as for the invitation sheet: pure Python, embeds a subset of the CJK font (the file reads on any reader,
phones included), and its output is a function of its input once the creation date is fixed, so the same item
version prints the same bytes. WeasyPrint would let the console's HTML templates print as they are, but it
needs Pango from apt and its output embeds the run's time and font paths; the record instead shares the
console's *words* (domain.templates.reading, domain.wording), which is what must agree.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from domain.actors import ROLE_NAMES_ZH
from domain.templates.reading import checks, measurements
from domain.wording import (
    DECISION_ZH,
    EVENT_NAMES_ZH,
    RESULT_ZH,
    ROUND_STATUS_ZH,
    SEVERITY_ZH,
    STATE_NAMES_ZH,
    word,
)
from services.pdf_drawing import add_cjk_font, draw_qr
from services.records.item_record import ItemRecord, PhotoFact

MARGIN = 15.0
THUMB_MM = 38.0
THUMBS_PER_ROW = 4
GREY = 95
HEADINGS = FontFace(emphasis="", fill_color=(235, 240, 245))  # the CJK font has no bold face to emphasise with


class RecordPdf(FPDF):
    """A4 with the record's name and page numbers on every page."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.section = 0
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font("cjk", size=8)
        self.set_text_color(GREY)
        self.cell(0, 5, f"{self.footer_text}    第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)


def render(records: Sequence[ItemRecord], font_path: Path, title: str) -> bytes:
    """One record per item, each from a new page; the document's date is the newest event's, not now."""
    newest = max(datetime.fromisoformat(e["server_time"]) for r in records for e in r.events)
    pdf = RecordPdf(title)
    add_cjk_font(pdf, font_path)
    pdf.set_creation_date(newest)
    pdf.set_title(title)
    pdf.set_author("SiteLedger")
    pdf.set_creator("SiteLedger")
    pdf.set_producer("SiteLedger")
    for record in records:
        pdf.add_page()
        pdf.section = 0
        _item(pdf, record)
    return bytes(pdf.output())


def _item(pdf: RecordPdf, r: ItemRecord) -> None:
    item, project = r.item, r.project
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 9, f"工程事项记录：{item.title}", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(GREY)
    pdf.multi_cell(0, 5, f"本记录截至事件版本 {item.version}，由 SiteLedger 依据事件日志生成；"
                         "每条事件的哈希可用 siteledger-verify 独立核验。", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(2)
    supervisors = [r.name(u) for u, role in project.assignments.items() if role == "supervisor"]
    details = project.details
    _pairs(pdf, [
        ("改造项目", project.name), ("所在区", project.district),
        ("街道办事处", str(details.get("street_office") or "—")), ("地址", str(details.get("address") or "—")),
        ("工程类型", item.parsed_template.name_zh), ("位置", item.location),
        ("施工单位", r.name(item.contractor_id) if item.contractor_id else "—"),
        ("现场监理", "、".join(supervisors) or "—"),
        ("当前状态", word(STATE_NAMES_ZH, item.state)), ("事项编号", str(item.id)),
    ])
    _hold_points(pdf, r)
    _defects(pdf, r)
    _stop_work(pdf, r)
    _rounds(pdf, r)
    _event_log(pdf, r)
    _verification(pdf, r)


NUMERALS = "一二三四五六七八九十"


def _heading(pdf: RecordPdf, text: str) -> None:
    """Numbered in order of what the record holds (an item without defects has no empty section)."""
    if pdf.get_y() > pdf.h - MARGIN - 40:  # never a heading alone at the foot of a page
        pdf.add_page()
    pdf.section += 1
    text = f"{NUMERALS[pdf.section - 1]}、{text}"
    pdf.ln(3)
    pdf.set_font("cjk", size=13)
    pdf.set_fill_color(235, 240, 245)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", fill=True)
    pdf.set_font("cjk", size=10)
    pdf.ln(1)


def _line(pdf: RecordPdf, text: str, size: float = 10, grey: bool = False, indent: float = 0) -> None:
    pdf.set_font("cjk", size=size)
    if grey:
        pdf.set_text_color(GREY)
    pdf.set_x(MARGIN + indent)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.set_text_color(0)


def _pairs(pdf: RecordPdf, pairs: Iterable[tuple[str, str]]) -> None:
    pdf.set_font("cjk", size=10)
    with pdf.table(col_widths=(22, 68, 22, 68), line_height=6, first_row_as_headings=False,
                   wrapmode=WrapMode.CHAR) as table:
        row = None
        for index, (label, value) in enumerate(pairs):
            if index % 2 == 0:
                row = table.row()
            assert row is not None
            row.cell(label)
            row.cell(value)


def _role(event: dict[str, Any]) -> str:
    """The role in Chinese; a role this code does not know is shown as recorded, never an error in print."""
    code = str(event["actor_role"] or "")
    named = {str(role): zh for role, zh in ROLE_NAMES_ZH.items()}
    return named.get(code, code)


def _who(r: ItemRecord, event: dict[str, Any]) -> str:
    role = _role(event)
    device = f" · 设备 {event['device_id']}" if event.get("device_id") else ""
    return (f"{event.get('actor_name') or '已删除'}（{role}）{device} · 设备时间 {r.local(event['device_time'])}"
            f" · 服务器时间 {r.local(event['server_time'])}")


def _hold_points(pdf: RecordPdf, r: ItemRecord) -> None:
    _heading(pdf, "检查点")
    passed = set(r.item.passed_hold_points())
    for number, spec in enumerate(r.item.parsed_template.hold_points, start=1):
        state = "已通过" if spec.code in passed else "未通过"
        inspections = [e for e in r.of_type("InspectionRecorded") if e["data"]["hold_point"] == spec.code]
        if not inspections:
            state = "未检查"
        _line(pdf, f"{number}. {spec.name_zh}（{state}）", size=11)
        for event in inspections:
            data = event["data"]
            _line(pdf, f"检查结果：{word(RESULT_ZH, data['result'])}", indent=4)
            _line(pdf, _who(r, event), size=8, grey=True, indent=4)
            values = data.get("measurements") or {}
            for reading in measurements(spec, values):
                _line(pdf, f"{reading.name_zh}：{reading.text}", size=9, indent=8)
            for check in checks(spec, values):
                _line(pdf, check.zh, size=9, indent=8)
            for item in spec.checklist:
                if item.code in (data.get("checklist") or {}):
                    _line(pdf, f"{item.text_zh}：{'是' if data['checklist'][item.code] else '否'}", size=9, indent=8)
            if data.get("notes"):
                _line(pdf, f"备注：{data['notes']}", size=9, indent=8)
            _photos(pdf, r, data.get("photos") or [], event)


def _defects(pdf: RecordPdf, r: ItemRecord) -> None:
    raised = list(r.of_type("DefectRaised"))
    if not raised:
        return
    _heading(pdf, "整改通知")
    for event in raised:
        data = event["data"]
        due = f"，整改期限 {data['due_date']}" if data.get("due_date") else ""
        _line(pdf, f"【{word(SEVERITY_ZH, data['severity'])}】{data['description']}{due}", size=11)
        _line(pdf, "开具：" + _who(r, event), size=8, grey=True, indent=4)
        _photos(pdf, r, data.get("photos") or [], event, caption="整改前")
        for later in r.events:
            if later["data"].get("defect_id") != data["defect_id"] or later is event:
                continue
            what = EVENT_NAMES_ZH.get(later["type"], later["type"])
            said = later["data"].get("description") or later["data"].get("reason") or later["data"].get("notes")
            _line(pdf, f"{what}{'：' + said if said else ''}", size=10, indent=4)
            _line(pdf, _who(r, later), size=8, grey=True, indent=4)
            _photos(pdf, r, later["data"].get("photos") or [], later, caption="整改后")


def _stop_work(pdf: RecordPdf, r: ItemRecord) -> None:
    orders = list(r.of_type("StopWorkOrdered", "StopWorkLifted"))
    if not orders:
        return
    _heading(pdf, "停工令")
    for event in orders:
        data = event["data"]
        said = data.get("reason") or data.get("notes")
        _line(pdf, f"{EVENT_NAMES_ZH[event['type']]}{'：' + said if said else ''}", indent=0)
        _line(pdf, _who(r, event), size=8, grey=True, indent=4)


def _rounds(pdf: RecordPdf, r: ItemRecord) -> None:
    if not r.item.rounds:
        return
    _heading(pdf, "居民验收")
    for rnd in r.item.rounds:
        opened = next(e for e in r.of_type("AcceptanceRequested") if e["data"]["round_no"] == rnd["round_no"])
        _line(pdf, f"第 {rnd['round_no']} 轮（{word(ROUND_STATUS_ZH, rnd['status'])}）："
                   f"应签 {len(rnd['electorate'])} 人，签字内容编码 {opened['data']['subject_hash'][:12]}", size=11)
        _line(pdf, "发起：" + _who(r, opened), size=8, grey=True, indent=4)
        for signed in r.of_type("ResidentSigned"):
            data = signed["data"]
            if data["round_no"] != rnd["round_no"]:
                continue
            reason = f"，理由：{data['reason']}" if data.get("reason") else ""
            _line(pdf, f"成员 {data['member_id'][:8]}：{word(DECISION_ZH, data['decision'])}{reason}；"
                       f"签字编码 {data['signature_digest'][:16]}", size=9, indent=4)
            _line(pdf, f"签字时间 {r.local(signed['server_time'])}", size=8, grey=True, indent=8)
        for outcome in r.of_type("AcceptanceGranted", "AcceptanceRejected", "AcceptanceRoundCancelled"):
            if outcome["data"]["round_no"] == rnd["round_no"]:
                tally = outcome["data"].get("tally") or {}
                counts = "，".join(f"{word(DECISION_ZH, k)} {v}" for k, v in sorted(tally.items()))
                _line(pdf, f"{EVENT_NAMES_ZH[outcome['type']]}{'（' + counts + '）' if counts else ''}", indent=4)


def _event_log(pdf: RecordPdf, r: ItemRecord) -> None:
    _heading(pdf, "事件日志（按顺序，含每条事件的哈希）")
    pdf.set_font("cjk", size=7)
    with pdf.table(col_widths=(9, 26, 30, 29, 29, 57), line_height=3.6, wrapmode=WrapMode.CHAR,
                   headings_style=HEADINGS) as table:
        heading = table.row()
        for text in ("版本", "事件", "操作人", "设备时间", "服务器时间", "事件哈希（SHA-256）"):
            heading.cell(text)
        for event in r.events:
            row = table.row()
            role = _role(event)
            row.cell(str(event["version"]))
            row.cell(EVENT_NAMES_ZH.get(event["type"], event["type"]))
            row.cell(f"{event.get('actor_name') or '已删除'}\n{role}")
            row.cell(r.local(event["device_time"]))
            row.cell(r.local(event["server_time"]))
            row.cell(event["event_hash"])


def _verification(pdf: RecordPdf, r: ItemRecord) -> None:
    _heading(pdf, "核验信息")
    chain = r.chain
    verdict = "完整，未发现篡改" if chain["valid"] else f"异常：第 {chain.get('broken_at_version')} 条事件处断开"
    _line(pdf, f"哈希链核验：{verdict}（共 {chain['events']} 条事件）")
    _line(pdf, f"链头哈希：{chain['head']}", size=8)
    if r.checkpoint:
        cp = r.checkpoint
        _line(pdf, f"透明日志：最新事件为第 {cp['leaf_index']} 号叶子，包含于检查点 {cp['origin']}"
                   f"（树大小 {cp['size']}，根哈希 {cp['root']}）", size=8)
        _line(pdf, "签名检查点原文：", size=8)
        _line(pdf, cp["note"].strip(), size=7, indent=4)
    else:
        _line(pdf, "透明日志：日志与监督站已见证的检查点不一致，本记录不给出检查点（请联系监督站）", size=8)
    replaced = [p.sha256 for p in r.photos.values() if p.matches is False]
    if replaced:
        _line(pdf, f"照片异常：{len(replaced)} 张照片的内容与其 SHA-256 不符（可能被替换）：{'、'.join(replaced)}",
              size=9)
    payload: dict[str, Any] = {"v": 1, "works_item": str(r.item.id), "version": r.item.version,
                               "chain_head": chain["head"]}
    if r.checkpoint:
        payload["checkpoint"] = {k: r.checkpoint[k] for k in ("origin", "size", "root", "leaf_index")}
    size = 38.0
    if pdf.get_y() + size > pdf.h - MARGIN - 5:
        pdf.add_page()
    y = pdf.get_y() + 2
    draw_qr(pdf, json.dumps(payload, separators=(",", ":"), sort_keys=True), MARGIN, y, size)
    pdf.set_xy(MARGIN + size + 4, y + 6)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, "二维码内含事项编号、事件版本、链头哈希和检查点。核验方法：导出本事项的证据包后运行 "
                         "siteledger-verify pack 证据包.zip --key 服务器验证公钥", wrapmode=WrapMode.CHAR)
    pdf.set_y(y + size + 2)


def _photos(pdf: RecordPdf, r: ItemRecord, shas: Sequence[str], event: dict[str, Any], caption: str = "") -> None:
    """Thumbnails in rows, each with its SHA-256 and EXIF time under it."""
    if not shas:
        return
    for start in range(0, len(shas), THUMBS_PER_ROW):
        row = [r.photos.get(sha) or PhotoFact(sha, None, None, None, None, None)
               for sha in shas[start:start + THUMBS_PER_ROW]]
        height = THUMB_MM + 16
        if pdf.get_y() + height > pdf.h - MARGIN - 5:
            pdf.add_page()
        y = pdf.get_y() + 1
        for column, photo in enumerate(row):
            x = MARGIN + 4 + column * (THUMB_MM + 5)
            if photo.thumbnail:
                pdf.image(io.BytesIO(photo.thumbnail), x=x, y=y, w=THUMB_MM, h=THUMB_MM, keep_aspect_ratio=True)
            else:
                pdf.rect(x, y, THUMB_MM, THUMB_MM)
                pdf.set_xy(x, y + THUMB_MM / 2 - 3)
                pdf.set_font("cjk", size=8)
                pdf.cell(THUMB_MM, 6, "照片不在存储中", align="C")
            pdf.set_xy(x, y + THUMB_MM + 1)
            pdf.set_font("cjk", size=5.5)
            taken = f"拍摄 {r.local(photo.taken_at)}" if photo.taken_at else "无拍摄时间"
            label = f"{caption} · " if caption else ""
            pdf.multi_cell(THUMB_MM, 2.6, f"{label}{taken}\n{photo.sha256}", wrapmode=WrapMode.CHAR)
        pdf.set_y(y + height)
