"""The Merkle math against RFC 6962's published vectors and an independent recursive restatement of the RFC."""

from __future__ import annotations

import hashlib

import pytest

from siteledger_verify import merkle
from siteledger_verify.merkle import ProofError

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [  # transparency-dev/merkle testonly: the root for each tree size 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {(0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
             (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]}
CONSISTENCY = {(2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]}


# --- an independent restatement of RFC 6962 §2.1, recursive as the RFC writes it ---------------------------

def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    return [*path(m, d[:k]), mth(d[k:])] if m < k else [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return [*subproof(m, d[:k], b), mth(d[k:])] if m <= k else [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof_from_ranges(ranges: list[tuple[int, int]], data: list[bytes]) -> list[bytes]:
    leaf_hashes = [merkle.leaf_hash(x) for x in data]

    def nodes(wanted: object) -> dict[tuple[int, int], bytes]:
        return {(lv, i): merkle.root_of(leaf_hashes[i << lv:(i + 1) << lv]) for lv, i in wanted}  # type: ignore[attr-defined]

    return merkle.range_hashes(ranges, nodes)


DATA = [bytes([i, i * 7 % 256]) for i in range(70)]


def test_roots_match_rfc6962_vectors() -> None:
    for size, root in enumerate(ROOTS):
        assert merkle.root_of([merkle.leaf_hash(x) for x in LEAVES[:size]]).hex() == root


def test_published_proofs_are_planned_and_verified() -> None:
    for (index, size), proof in INCLUSION.items():
        assert [h.hex() for h in proof_from_ranges(merkle.inclusion_ranges(index, size), LEAVES)] == proof
        merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, [bytes.fromhex(h) for h in proof],
                                bytes.fromhex(ROOTS[size]))
    for (old, new), proof in CONSISTENCY.items():
        assert [h.hex() for h in proof_from_ranges(merkle.consistency_ranges(old, new), LEAVES)] == proof
        merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]),
                                  [bytes.fromhex(h) for h in proof])


def test_every_inclusion_proof_agrees_with_the_recursive_rfc_and_verifies() -> None:
    for size in range(1, len(DATA) + 1):
        root = mth(DATA[:size])
        assert merkle.root_of([merkle.leaf_hash(x) for x in DATA[:size]]) == root
        for index in range(size):
            proof = proof_from_ranges(merkle.inclusion_ranges(index, size), DATA)
            assert proof == path(index, DATA[:size])
            merkle.verify_inclusion(merkle.leaf_hash(DATA[index]), index, size, proof, root)


def test_every_consistency_proof_agrees_with_the_recursive_rfc_and_verifies() -> None:
    for new in range(1, 40):
        for old in range(1, new + 1):
            proof = proof_from_ranges(merkle.consistency_ranges(old, new), DATA)
            assert proof == (subproof(old, DATA[:new], True) if old < new else [])
            merkle.verify_consistency(old, new, mth(DATA[:old]), mth(DATA[:new]), proof)


def test_a_wrong_leaf_index_size_or_sibling_is_refused() -> None:
    size, index = 13, 6
    root = mth(DATA[:size])
    proof = path(index, DATA[:size])
    leaf = merkle.leaf_hash(DATA[index])
    for bad in [(merkle.leaf_hash(b"x"), index, size, proof), (leaf, index + 1, size, proof),
                (leaf, index, 7, proof), (leaf, index, size, proof[:-1]),
                (leaf, index, size, [*proof, proof[0]]), (leaf, index, size, [proof[1], proof[0], *proof[2:]]),
                (leaf, size, size, proof)]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*bad, root)


def test_a_rewritten_or_shrunk_tree_is_refused() -> None:
    rewritten = [*DATA[:5], b"edited", *DATA[6:20]]
    proof = subproof(9, rewritten[:20], True)
    with pytest.raises(ProofError, match="rewritten"):
        merkle.verify_consistency(9, 20, mth(DATA[:9]), mth(rewritten[:20]), proof)
    with pytest.raises(ProofError, match="shrank"):
        merkle.verify_consistency(20, 9, mth(DATA[:20]), mth(DATA[:9]), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(9, 9, mth(DATA[:9]), mth(rewritten[:9]), [])
