"""Seeded train/val/test split of a manifest's ids, written to a split JSON."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "val", "test")


class SplitError(ValueError):
    """The split settings leave a split empty or name unknown ids."""


def make_split(
    ids: list[str],
    seed: int,
    val_fraction: float,
    test_fraction: float,
    test_ids: list[str] | None = None,
) -> dict[str, list[str]]:
    """Split `ids` reproducibly: same ids, seed and fractions give the same split."""
    ids = sorted(ids)  # order of discovery must not matter
    fixed_test = list(test_ids or [])
    unknown = sorted(set(fixed_test) - set(ids))
    if unknown:
        raise SplitError(f"split.test_ids names ids not in the data set: {unknown[:5]}")
    rest = [i for i in ids if i not in set(fixed_test)]
    rng = np.random.default_rng(seed)
    order = [rest[k] for k in rng.permutation(len(rest))]
    n = len(ids)
    n_test = len(fixed_test) if fixed_test else int(round(test_fraction * n))
    n_val = int(round(val_fraction * n))
    test = fixed_test or order[:n_test]
    start = 0 if fixed_test else n_test
    val = order[start : start + n_val]
    train = order[start + n_val :]
    split = {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
    for name, members in split.items():
        if not members:
            raise SplitError(
                f"the {name} split is empty ({n} images, split.val_fraction={val_fraction}, "
                f"split.test_fraction={test_fraction}); add images or change the fractions"
            )
    return split
