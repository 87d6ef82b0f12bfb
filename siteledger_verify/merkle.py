"""RFC 6962 / RFC 9162 Merkle tree hashing, proof planning and proof verification — pure functions, no I/O.

A proof is a list of hashes of *ranges* of leaves. Planning a proof (`inclusion_ranges`, `consistency_ranges`)
says which ranges it needs; a range is a perfect subtree or the right edge of a tree, and `perfect_parts`
splits either into perfect subtrees, which a log stores. So the server computes a proof from O(log² n)
stored nodes and the outsider checks it here with the same code it can read in one sitting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: the hash of an empty tree


class ProofError(Exception):
    """A proof that does not lead to the root it claims: the log changed, or the proof is not its own."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2): where RFC 6962 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


Range = tuple[int, int]  # leaves [start, end)
Node = tuple[int, int]  # (level, index): the perfect subtree of leaves [index·2^level, (index+1)·2^level)


def perfect_parts(start: int, end: int) -> list[Node]:
    """The perfect subtrees a range of RFC 6962's recursion is made of, left to right."""
    parts: list[Node] = []
    while start < end:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            parts.append((level, start >> level))
            return parts
        k = split_point(size)
        level = k.bit_length() - 1
        parts.append((level, start >> level))  # the left part of a split is always perfect and aligned
        start += k
    return parts


def fold_parts(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect parts: RFC 6962 combines them right to left."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]): the ranges whose hashes prove leaf `index` in a tree of `size`."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # the proof lists the sibling nearest the leaf first
    return ranges


def consistency_ranges(old: int, new: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]): the ranges whose hashes prove a tree of `old` leaves a prefix of `new`."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old == 0 or old == new:
        return []
    ranges: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    ranges.reverse()
    return ranges


def range_hashes(ranges: Sequence[Range], node: Callable[[Sequence[Node]], dict[Node, bytes]]) -> list[bytes]:
    """Hashes of ranges, given a reader of stored perfect subtrees (one call for all the nodes needed)."""
    parts = [perfect_parts(start, end) for start, end in ranges]
    stored = node(sorted({n for p in parts for n in p}))
    return [fold_parts([stored[n] for n in p]) for p in parts]


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) computed from all the leaves: for tests, rebuilds and small trees."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    stack: list[tuple[int, bytes]] = []  # (height, hash) of the perfect subtrees on the right edge
    for item in level:
        height, value = 0, item
        while stack and stack[-1][0] == height:
            value = node_hash(stack.pop()[1], value)
            height += 1
        stack.append((height, value))
    return fold_parts([h for _, h in stack])


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: raise ProofError unless `proof` leads from the leaf hash at `index` to `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn, value = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            value = node_hash(value, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if value != root:
        raise ProofError("inclusion proof does not lead to the checkpoint's root hash")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the tree of `old` leaves is a prefix of the tree of `new`."""
    if old > new:
        raise ProofError(f"the tree shrank from {old} to {new} leaves")
    if old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"the log was rewritten: two different root hashes for the same tree size {old}")
        return
    if old == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root itself starts the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"the tree of {old} leaves was rewritten: its root hash differs from the one signed before")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the newer checkpoint's root hash")
