"""A resident's own signatures, read back from the item's log, and whether each still matches the record.

"Still matches" is the Electronic Signature Law's question (art. 13: a later change to what was signed must be
detectable): the item's chain verifies from its first event, and the event the round was opened on still
carries the hash the signature bound (`subject_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from domain.application import SiteLedger
from domain.wording import DECISION_ZH
from domain.works_item import WorksItem
from domain.works_item_events import ResidentSigned
from services.web.residents.community import STATUS_ZH, short_code
from services.web.residents.record import minute


@dataclass(frozen=True)
class MySignature:
    item_id: str
    round_no: int
    decision: str
    reason: str
    photos: list[str]
    subject_hash: str
    digest: str
    at: str
    version: int  # the signature's own event on the item's log

    @property
    def decision_zh(self) -> str:
        return DECISION_ZH[self.decision]

    @property
    def code(self) -> str:
        return short_code(self.subject_hash)


@dataclass(frozen=True)
class RoundTally:
    """Counts only: how many may sign, have signed, accepted, rejected."""

    round_no: int
    status: str
    electorate: int
    signed: int
    accepts: int
    rejects: int
    rule: dict[str, str]
    subject_version: int
    subject_hash: str

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)

    @property
    def code(self) -> str:
        return short_code(self.subject_hash)


def tally(item: WorksItem, round_no: int) -> RoundTally:
    rnd: dict[str, Any] = item.rounds[round_no - 1]
    accepts = sum(1 for decision in rnd["signatures"].values() if decision == "accept")
    signed = len(rnd["signatures"])
    return RoundTally(round_no, rnd["status"], len(rnd["electorate"]), signed, accepts, signed - accepts,
                      dict(rnd["rule"]), rnd["subject_version"], rnd["subject_hash"])


def mine(ledger: SiteLedger, item: WorksItem, member_id: str | None, zone: tzinfo) -> dict[int, MySignature]:
    """This member's signatures on the item, by round (a member signs once per round)."""
    if member_id is None:
        return {}
    found = {}
    for event in ledger.item_events(item.id, 0, item.version):
        if isinstance(event, ResidentSigned) and event.member_id == member_id:
            found[event.round_no] = MySignature(str(item.id), event.round_no, event.decision, event.reason,
                                                list(event.photos), event.subject_hash, event.signature_digest,
                                                minute(event.timestamp, zone), event.originator_version)
    return found


def still_matches(ledger: SiteLedger, item: WorksItem, round_no: int) -> bool:
    rnd = item.rounds[round_no - 1]
    if not ledger.verify(item.id).valid:
        return False
    if rnd["subject_version"] == 0:
        return False
    [signed_on] = ledger.item_events(item.id, rnd["subject_version"] - 1, 1)
    return bool(getattr(signed_on, "event_hash", None) == rnd["subject_hash"])
