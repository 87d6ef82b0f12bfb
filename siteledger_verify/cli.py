"""The verifier's command line (being built)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("siteledger-verify: not built yet", file=sys.stderr)
    return 2
