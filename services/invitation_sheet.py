"""The residents' invitation sheet: an A4 PDF, one card per member, to hand out or post in the stairwell.

fpdf2 (pure Python, maintained, embeds a subset of a TrueType/OpenType font, so the PDF shows Chinese on
any reader) rather than WeasyPrint (needs pango and friends from apt) or ReportLab (its CJK path uses
Adobe's CID fonts, which many phone readers lack). Font and QR code: services/pdf_drawing.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from services.pdf_drawing import add_cjk_font, draw_qr

COLUMNS, ROWS = 2, 4
MARGIN, GAP = 10.0, 6.0
QR_SIZE = 34.0


@dataclass(frozen=True)
class Card:
    community: str
    building: str
    unit: str
    name: str
    link: str
    code: str
    expires_at: datetime


def render(cards: Sequence[Card], font_path: Path) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    add_cjk_font(pdf, font_path)
    width = (pdf.w - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    height = (pdf.h - 2 * MARGIN - (ROWS - 1) * GAP) / ROWS
    for index, card in enumerate(cards):
        slot = index % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = MARGIN + (slot % COLUMNS) * (width + GAP)
        y = MARGIN + (slot // COLUMNS) * (height + GAP)
        _card(pdf, card, x, y, width, height)
    return bytes(pdf.output())


def _card(pdf: FPDF, card: Card, x: float, y: float, width: float, height: float) -> None:
    pdf.set_draw_color(120)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)  # a cutting line
    pdf.rect(x, y, width, height)
    pdf.set_dash_pattern()
    pad = 4.0
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90)
    pdf.set_xy(x + pad, y + pad)
    pdf.cell(width - 2 * pad, 5, "居民监督小组 · 登录邀请")
    pdf.set_text_color(0)
    pdf.set_font("cjk", size=13)
    pdf.set_xy(x + pad, y + pad + 6)
    pdf.cell(width - QR_SIZE - 2 * pad, 7, card.community[:16])
    pdf.set_font("cjk", size=11)
    pdf.set_xy(x + pad, y + pad + 14)
    pdf.cell(width - QR_SIZE - 2 * pad, 6, f"{card.building} {card.unit}"[:20])
    pdf.set_xy(x + pad, y + pad + 21)
    pdf.cell(width - QR_SIZE - 2 * pad, 6, card.name[:12])
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90)
    pdf.set_xy(x + pad, y + pad + 30)
    pdf.cell(width - QR_SIZE - 2 * pad, 5, "或在登录页输入邀请码：")
    pdf.set_text_color(0)
    pdf.set_font("cjk", size=20)
    pdf.set_xy(x + pad, y + pad + 36)
    pdf.cell(width - QR_SIZE - 2 * pad, 10, " ".join((card.code[:3], card.code[3:])))
    pdf.set_font("cjk", size=8)
    pdf.set_text_color(90)
    pdf.set_xy(x + pad, y + height - pad - 9)
    pdf.multi_cell(width - 2 * pad, 4, f"用手机扫描二维码即可登录，只能使用一次。"
                                       f"有效期至 {card.expires_at:%Y-%m-%d}。请勿转给他人。")
    pdf.set_text_color(0)
    draw_qr(pdf, card.link, x + width - QR_SIZE - pad, y + pad + 6, QR_SIZE)
