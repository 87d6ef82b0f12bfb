"""The residents' acceptance rounds of a works item: opening, signing, deciding (a part of WorksItem)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import works_item_events as ev
from domain.acceptance import AcceptanceRule, Tally, decide
from domain.actors import CommandContext
from domain.canonical import canonical_bytes, sha256_hex
from domain.inspection import check_photo_ids
from domain.rules import (
    AlreadySigned,
    InvalidItemState,
    NotEligibleSigner,
    RejectNeedsReason,
    RoundNotOpen,
    SignedContentMismatch,
)
from domain.works_item_events import STATE_NAMES_ZH


class AcceptanceRounds:
    """Mixed into WorksItem; uses its state (`rounds`, `state`) and its `record` / `_raise_defect`."""

    if TYPE_CHECKING:
        id: Any
        version: int
        chain_head: str
        state: str
        rounds: list[dict[str, Any]]

        def record(self, event_class: Any, ctx: CommandContext, **payload: Any) -> None: ...
        def _refuse_if_closed_out(self) -> None: ...
        def _refuse_while_stopped(self, action_zh: str) -> None: ...
        def _raise_defect(
            self, ctx: CommandContext, defect_id: str, severity: str, description: str,
            photos: list[str], due_date: str | None, hold_point: str | None,
            inspection_id: str | None, source: str,
        ) -> None: ...

    def request_acceptance(
        self, ctx: CommandContext, electorate: list[str], rule: AcceptanceRule
    ) -> int:
        if self.state != "completed":
            self._refuse_if_closed_out()
            raise InvalidItemState(state=STATE_NAMES_ZH[self.state], action="发起验收")
        self._refuse_while_stopped("发起验收")
        round_no = len(self.rounds) + 1
        self.record(
            ev.AcceptanceRequested, ctx, round_no=round_no, electorate=sorted(electorate),
            rule=rule.as_dict(), subject_version=self.version, subject_hash=self.chain_head,
        )
        return round_no

    def _round(self, round_no: int) -> dict[str, Any]:
        self._refuse_if_closed_out()
        if not 1 <= round_no <= len(self.rounds) or self.rounds[round_no - 1]["status"] != "open":
            raise RoundNotOpen(round_no=round_no)
        return self.rounds[round_no - 1]

    def sign(
        self, ctx: CommandContext, round_no: int, member_id: str, decision: str, reason: str,
        comment: str, photos: list[str], subject_hash: str, current_members: set[str],
    ) -> None:
        rnd = self._round(round_no)
        if member_id not in rnd["electorate"] or member_id not in current_members:
            raise NotEligibleSigner()
        if member_id in rnd["signatures"]:
            raise AlreadySigned(round_no=round_no)
        if decision not in ("accept", "reject"):
            raise RejectNeedsReason(detail_zh=f"签字意见只能是 accept 或 reject：{decision}")
        if decision == "reject" and not reason.strip():
            raise RejectNeedsReason()
        if subject_hash != rnd["subject_hash"]:
            raise SignedContentMismatch()
        photos = check_photo_ids(photos)
        signed = {"item": str(self.id), "round_no": round_no, "subject_hash": subject_hash,
                  "member_id": member_id, "decision": decision, "reason": reason,
                  "comment": comment, "photos": photos}
        self.record(
            ev.ResidentSigned, ctx, round_no=round_no, member_id=member_id, decision=decision,
            reason=reason, comment=comment, photos=photos, subject_hash=subject_hash,
            signature_digest=sha256_hex(canonical_bytes(signed)),
        )
        self._decide(ctx, rnd, current_members, closing=False)

    def close_round(self, ctx: CommandContext, round_no: int, current_members: set[str]) -> None:
        """Close a round on what has been signed (e.g. its deadline passed) and decide it."""
        self._decide(ctx, self._round(round_no), current_members, closing=True)

    def _decide(
        self, ctx: CommandContext, rnd: dict[str, Any], current_members: set[str], closing: bool
    ) -> None:
        signatures = rnd["signatures"]
        accepts = sum(1 for d in signatures.values() if d == "accept")
        tally = Tally(len(rnd["electorate"]), accepts, len(signatures) - accepts)
        can_still_sign = sum(
            1 for m in rnd["electorate"] if m not in signatures and m in current_members
        )
        outcome = decide(AcceptanceRule.from_dict(rnd["rule"]), tally, can_still_sign, closing)
        basis = "round_closed" if closing else "outcome_certain"
        if outcome == "granted":
            self.record(ev.AcceptanceGranted, ctx, round_no=rnd["round_no"],
                        tally=tally.as_dict(), basis=basis)
        elif outcome == "rejected":
            self.record(ev.AcceptanceRejected, ctx, round_no=rnd["round_no"],
                        tally=tally.as_dict(), basis=basis)
            for n, (member_id, reason) in enumerate(sorted(rnd["reasons"].items()), start=1):
                self._raise_defect(
                    ctx, defect_id=f"acceptance-{rnd['round_no']}-{n}", severity="major",
                    description=f"居民验收意见（{member_id}）：{reason}", photos=[],
                    due_date=None, hold_point=None, inspection_id=None, source="acceptance",
                )

