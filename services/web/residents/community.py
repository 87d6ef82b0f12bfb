"""The rounds of a resident's community, from the acceptance board, in the words the lists show.

Counts only: the board keeps each member's decision, but a list shows a neighbour nothing but how many have
signed (and, once a round is decided, how many accepted and rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from domain.wording import DECISION_ZH
from projections.acceptance_board import board_for
from services.web.residents.access import Resident
from services.web.residents.record import minute

STATUS_ZH = {"open": "正在签字", "granted": "验收通过", "rejected": "验收未通过",
             "cancelled": "已取消"}
FRACTIONS_ZH = {Fraction(1, 2): "一半", Fraction(2, 3): "三分之二", Fraction(3, 4): "四分之三",
                Fraction(1, 3): "三分之一", Fraction(1): "全部"}


def fraction_zh(text: str) -> str:
    """'2/3' → '三分之二', '4/5' → '80%': the rule as an elderly neighbour says it."""
    value = Fraction(text)
    if value in FRACTIONS_ZH:
        return FRACTIONS_ZH[value]
    percent = value * 100
    return f"{percent.numerator // percent.denominator}%" if percent.denominator == 1 else f"{float(percent):.1f}%"


def rule_zh(rule: dict[str, str]) -> str:
    return (f"小组成员中至少{fraction_zh(rule['min_signed'])}的人签字，"
            f"并且签字的人中至少{fraction_zh(rule['min_accept'])}同意，验收才算通过。")


def short_code(subject_hash: str) -> str:
    """The first 8 hex digits of what was signed, in two groups a person can read out and compare."""
    head = subject_hash[:8].upper()
    return f"{head[:4]} {head[4:]}"


@dataclass(frozen=True)
class RoundLine:
    """One round as a list shows it."""

    item_id: str
    round_no: int
    title: str
    location: str
    kind_zh: str
    contractor: str | None
    status: str
    opened: str
    decided: str | None
    electorate: int
    signed: int
    accepts: int
    rejects: int
    my_decision: str | None
    subject_hash: str

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)

    @property
    def my_decision_zh(self) -> str | None:
        return DECISION_ZH.get(self.my_decision or "")

    @property
    def code(self) -> str:
        return short_code(self.subject_hash)


def board(resident: Resident) -> dict[str, list[RoundLine]]:
    """Awaiting my signature, signed (awaiting the decision) and decided, each newest first."""
    resident.container.projections.refresh("acceptance_board")
    found = board_for(resident.container.db, str(resident.user.user_id))
    names: dict[str, tuple[str, str | None]] = {}
    return {key: [_line(resident, entry, names) for entry in reversed(found[key])]
            for key in ("awaiting_my_signature", "signed_awaiting_decision", "decided")}


def _line(resident: Resident, entry: dict[str, Any], names: dict[str, tuple[str, str | None]]) -> RoundLine:
    if entry["item_id"] not in names:
        item = resident.ledger.get_item(entry["item_id"])
        contractor = resident.container.users.get(item.contractor_id) if item.contractor_id else None
        names[entry["item_id"]] = (item.parsed_template.name_zh, contractor.name if contractor else None)
    kind_zh, contractor_name = names[entry["item_id"]]
    tally, zone = entry["tally"], resident.zone
    decided = minute(datetime.fromisoformat(entry["decided_at"]), zone) if entry["decided_at"] else None
    return RoundLine(entry["item_id"], entry["round_no"], entry["title"] or kind_zh, entry["location"], kind_zh,
                     contractor_name, entry["status"], minute(datetime.fromisoformat(entry["opened_at"]), zone),
                     decided, tally["electorate"], tally["signed"], tally["accepts"], tally["rejects"],
                     entry["my_decision"], entry["subject_hash"])
