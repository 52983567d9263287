"""Seeded train/val/test split of a manifest's ids, written to a split JSON.

With `folds` = k >= 2, the ids outside the test split are dealt into k folds for
cross-validation: fold i is the validation set of model i, trained on the other folds. The
split's `val` is then fold 0 and `train` the rest, so the cache and single-model steps read
it as an ordinary split, and `folds` lists every fold's ids.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from unet.common.fileio import read_json, write_json

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class SplitError(ValueError):
    """The split settings leave a split empty or name unknown ids."""


def make_split(
    ids: list[str],
    seed: int,
    val_fraction: float,
    test_fraction: float,
    test_ids: list[str] | None = None,
    folds: int = 0,
) -> dict[str, list]:
    """Split `ids` reproducibly: same ids, seed, fractions and folds give the same split."""
    if folds == 1 or folds < 0:
        raise SplitError(f"split.folds={folds}: use 0 for one train/val split, or k >= 2 folds")
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
    if folds:
        pool = order[start:]
        if len(pool) < 2 * folds:
            raise SplitError(
                f"split.folds={folds} needs at least {2 * folds} images outside the test split "
                f"(two per fold); there are {len(pool)}: lower split.folds or add images"
            )
        parts = [sorted(pool[k::folds]) for k in range(folds)]
        train = [i for part in parts[1:] for i in part]
        split = {"train": sorted(train), "val": parts[0], "test": sorted(test), "folds": parts}
        return _checked(split, n, val_fraction, test_fraction)
    val = order[start : start + n_val]
    train = order[start + n_val :]
    split = {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
    return _checked(split, n, val_fraction, test_fraction)


def split_dataset(
    manifest_path: str | os.PathLike, out_path: str | os.PathLike, settings: dict
) -> dict:
    """Split the manifest's ids with the config's `split` section; write and return the split
    (its seed recorded beside the ids)."""
    ids = [pair["id"] for pair in read_json(manifest_path)["pairs"]]
    split = make_split(
        ids,
        seed=settings["seed"],
        val_fraction=settings["val_fraction"],
        test_fraction=settings["test_fraction"],
        test_ids=settings["test_ids"],
        folds=settings["folds"],
    )
    write_json(out_path, {"seed": settings["seed"], **split})
    log.info("split %s", {k: len(v) for k, v in split.items()})
    return split


def _checked(split: dict, n: int, val_fraction: float, test_fraction: float) -> dict:
    for name in SPLITS:
        if not split[name]:
            raise SplitError(
                f"the {name} split is empty ({n} images, split.val_fraction={val_fraction}, "
                f"split.test_fraction={test_fraction}); add images or change the fractions"
            )
    return split
