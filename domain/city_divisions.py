"""Shanghai's 16 districts with their GB/T 2260 codes, and 徐汇区's streets: a list for `LoadDivisions`.

Data, not rules: a deployment for another city loads its own list. The district codes are the national
administrative division codes (民政部 / GB/T 2260). 徐汇区's streets and town are listed by name; their
township codes are not given here because they could not be confirmed from the project's sources (an admin
adds them with the same command).
"""

from __future__ import annotations

from typing import Any

SHANGHAI_DISTRICTS: tuple[tuple[str, str], ...] = (
    ("黄浦区", "310101"), ("徐汇区", "310104"), ("长宁区", "310105"), ("静安区", "310106"),
    ("普陀区", "310107"), ("虹口区", "310109"), ("杨浦区", "310110"), ("闵行区", "310112"),
    ("宝山区", "310113"), ("嘉定区", "310114"), ("浦东新区", "310115"), ("金山区", "310116"),
    ("松江区", "310117"), ("青浦区", "310118"), ("奉贤区", "310120"), ("崇明区", "310151"),
)

XUHUI_STREETS: tuple[str, ...] = (
    "天平路街道", "湖南路街道", "斜土路街道", "枫林路街道", "长桥街道", "田林街道", "虹梅路街道",
    "康健新村街道", "徐家汇街道", "凌云路街道", "龙华街道", "漕河泾街道", "华泾镇",
)


def shanghai() -> list[dict[str, Any]]:
    """The body of a `LoadDivisions` command for Shanghai."""
    return [{"name_zh": name, "code": code,
             "streets": [{"name_zh": street} for street in XUHUI_STREETS] if name == "徐汇区" else []}
            for name, code in SHANGHAI_DISTRICTS]
