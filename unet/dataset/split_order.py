"""The order in which a split's parts take their images (split.order): a seeded shuffle of
all of them, or each one's own place from a hash of the seed and its name.

A shuffle depends on every id: one image added or removed reorders them all, and images a
model trained on move into the test split. A hash gives each id (or group) a place of its
own, so the others keep their order and only those at a part's border can move.
"""

from __future__ import annotations

import hashlib
from unicodedata import normalize

import numpy as np

ORDERS = ("shuffle", "hash")


def _hashed(seed: int, name: str) -> bytes:
    # NFC: a name copied from a Mac (decomposed) keeps its place
    return hashlib.sha256(f"{seed}\0{normalize('NFC', name)}".encode()).digest()


def ordered(
    units: list[list[str]], seed: int, order: str, groups: dict[str, str] | None
) -> list[list[str]]:
    """`units` (sorted lists of ids: one per group, or one per id) in the order the parts take
    them from: shuffled with `seed`, or sorted by the hash of the seed and each unit's name
    (its group's, or its id)."""
    if order == "shuffle":
        rng = np.random.default_rng(seed)
        return [units[k] for k in rng.permutation(len(units))]
    if order != "hash":
        raise ValueError(f"split.order {order!r}: use one of {', '.join(ORDERS)}")
    name = (lambda u: groups[u[0]]) if groups is not None else (lambda u: u[0])
    return sorted(units, key=lambda u: (_hashed(seed, name(u)), name(u)))


def dealt_by_size(units: list[list[str]], folds: int) -> list[list[str]]:
    """Units into `folds` folds: the largest first, each into the smallest fold so far (round
    robin when every unit is one id)."""
    parts: list[list[str]] = [[] for _ in range(folds)]
    for unit in sorted(units, key=len, reverse=True):  # stable: ties keep the seeded order
        min(parts, key=len).extend(unit)
    return [sorted(p) for p in parts]


def dealt_in_blocks(units: list[list[str]], folds: int) -> list[list[str]] | None:
    """`units`, in their hashed order, cut into `folds` runs of about equal image counts: an
    added or removed unit moves only the units at the runs' borders to another fold. None when
    the units' sizes leave a fold empty (a group far larger than the rest)."""
    total = sum(len(u) for u in units)
    parts: list[list[str]] = [[] for _ in range(folds)]
    done = 0
    for unit in units:
        middle = done + len(unit) / 2  # the fold the unit's middle image falls in
        parts[min(folds - 1, int(middle * folds / total))].extend(unit)
        done += len(unit)
    return [sorted(p) for p in parts] if all(parts) else None
