"""The invitation sheet: eight cards to an A4 page, the Chinese font embedded, refused without the font."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.invitation_sheet import Card, render
from services.pdf_drawing import FontMissing
from services.settings import Settings

FONT = Settings().cjk_font_path


def cards(n: int) -> list[Card]:
    return [Card("金牛花苑", f"{i}号楼", "2单元", "张桂英", f"http://127.0.0.1:8000/invite/{i:043d}", "7KM4QX",
                 datetime(2026, 12, 23, tzinfo=UTC)) for i in range(n)]


@pytest.mark.skipif(not FONT.exists(), reason=f"no CJK font at {FONT} (apt-get install fonts-noto-cjk)")
def test_eight_cards_to_a_page_with_the_font_embedded() -> None:
    pdf = render(cards(9), FONT)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 2
    assert b"/FontFile" in pdf  # embedded (a subset): the sheet shows Chinese on any reader


def test_without_the_font_nothing_is_rendered(tmp_path: Path) -> None:
    with pytest.raises(FontMissing):
        render(cards(1), tmp_path / "missing.ttc")
