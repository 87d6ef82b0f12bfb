"""`siteledger-verify`: check an evidence pack, or two checkpoints' consistency, with nothing but a pinned key.

Exit 0 with a short summary when everything holds; exit 1 naming what broke; exit 2 for a usage error.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.request
from pathlib import Path

from siteledger_verify import merkle
from siteledger_verify.note import NoteError, VerifierKey, open_checkpoint
from siteledger_verify.pack import verify_pack
from siteledger_verify.receipt import verify_receipt


def _key(text: str) -> VerifierKey:
    """A key given inline, or the path of a file holding it."""
    path = Path(text)
    return VerifierKey.parse(path.read_text() if path.is_file() else text)


def pack(args: argparse.Namespace) -> int:
    report = verify_pack(Path(args.pack), _key(args.key), _key(args.cosigner) if args.cosigner else None,
                         Path(args.witness_state) if args.witness_state else None)
    for line in report.checked:
        print(f"✓ {line}")
    for line in report.broken:
        print(f"✗ {line}")
    print("证据包核验通过 / the pack verifies" if report.ok else "证据包核验失败 / the pack does NOT verify")
    return 0 if report.ok else 1


def receipt(args: argparse.Namespace) -> int:
    holds, why = verify_receipt(json.loads(Path(args.receipt).read_text()), _key(args.key),
                                _key(args.cosigner) if args.cosigner else None, args.event_hash)
    print(f"{'✓' if holds else '✗'} {why}")
    return 0 if holds else 1


def _proof(source: str, old: int, new: int, token: str | None) -> list[bytes]:
    """A consistency proof from a file (JSON with `proof`) or the server's route (the proof proves itself)."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(
            f"{source.rstrip('/')}/api/v1/transparency/proof/consistency?from={old}&to={new}",
            headers={"Authorization": f"Bearer {token}"} if token else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
    else:
        body = json.loads(Path(source).read_text())
    return [base64.b64decode(h) for h in body["proof"]]


def consistency(args: argparse.Namespace) -> int:
    key = _key(args.key)
    try:
        old = open_checkpoint(Path(args.old).read_text(), key)
        new = open_checkpoint(Path(args.new).read_text(), key)
    except NoteError as error:
        print(f"✗ {error}")
        return 1
    if old.size > new.size:
        print(f"✗ 日志缩小了：{old.size} → {new.size}（被截断）/ the log shrank from {old.size} to {new.size} "
              "(truncated)")
        return 1
    if old.size < new.size and not args.proof:
        print("需要一致性证明：--proof 文件或服务器地址 / a consistency proof is needed: --proof FILE or URL",
              file=sys.stderr)
        return 2
    try:
        proof = _proof(args.proof, old.size, new.size, args.token or os.environ.get("SITELEDGER_TOKEN")) \
            if old.size < new.size else []
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    except merkle.ProofError as error:
        print(f"✗ 两个检查点不一致：日志被改写或截断 / the checkpoints are inconsistent: {error}")
        return 1
    except (OSError, ValueError, KeyError) as error:
        print(f"✗ 无法取得一致性证明 / cannot get the consistency proof: {error}")
        return 1
    print(f"✓ 树大小 {old.size} → {new.size}：后者是前者的延续 / the log only grew from {old.size} to {new.size}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="siteledger-verify",
                                     description="核验 SiteLedger 证据 / check SiteLedger's evidence from outside")
    sub = parser.add_subparsers(dest="command", required=True)
    p_pack = sub.add_parser("pack", help="an evidence pack (siteledger export works-item)")
    p_pack.add_argument("pack")
    p_pack.add_argument("--key", required=True, help="the log's verifier key (text or file)")
    p_pack.add_argument("--cosigner", help="the station's verifier key: insist on its cosignature")
    p_pack.add_argument("--witness-state", help="the station's witness state directory (its mirror of the log)")
    p_pack.set_defaults(func=pack)
    p_receipt = sub.add_parser("receipt", help="an event's receipt (存证), e.g. a resident's signature")
    p_receipt.add_argument("receipt", help="the receipt (JSON from /api/v1/transparency/receipt)")
    p_receipt.add_argument("--key", required=True)
    p_receipt.add_argument("--cosigner", help="the station's verifier key: insist on its cosignature")
    p_receipt.add_argument("--event-hash", help="the event hash you kept, if any")
    p_receipt.set_defaults(func=receipt)
    p_cons = sub.add_parser("consistency", help="two signed checkpoints of the same log")
    p_cons.add_argument("old")
    p_cons.add_argument("new")
    p_cons.add_argument("--key", required=True)
    p_cons.add_argument("--proof", help="the consistency proof: a JSON file, or the server's address to ask")
    p_cons.add_argument("--token", help="a sign-in token for the server (default: $SITELEDGER_TOKEN)")
    p_cons.set_defaults(func=consistency)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
