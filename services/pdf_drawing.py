"""What every PDF we print shares: the embedded Chinese font and vector QR codes.

Noto Sans CJK from Debian's `fonts-noto-cjk`, subset into each file so it reads on any reader; the QR code is
segno's matrix (pure Python) drawn as filled squares, sharp at any print size.
"""

from __future__ import annotations

from pathlib import Path

import segno
from fpdf import FPDF

# Noto Sans CJK's collection holds JP, KR, SC, TC, HK in this order: index 2 is Simplified Chinese.
SIMPLIFIED_CHINESE = 2


class FontMissing(RuntimeError):
    """The CJK font is not installed (Debian's `fonts-noto-cjk`)."""


def add_cjk_font(pdf: FPDF, font_path: Path, family: str = "cjk") -> None:
    if not font_path.exists():
        raise FontMissing(str(font_path))
    pdf.add_font(family, fname=str(font_path), collection_font_number=SIMPLIFIED_CHINESE)


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    code = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in code.matrix]
    module = size / (len(matrix) + 4)  # the quiet zone: four modules on each side
    pdf.set_fill_color(0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + (c + 2) * module, y + (r + 2) * module, module, module, style="F")
