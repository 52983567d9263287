"""Cross-validation folds over the cache: which cached rows each fold trains and validates on."""

from __future__ import annotations

from unet.train.dataset import Row

POOL = ("train", "val")  # the cached splits that the folds divide between them


def fold_rows(meta: dict, fold: int) -> tuple[list[Row], list[Row]]:
    """(train rows, val rows) of `fold`: it validates on its own fold, trains on the others."""
    folds = meta.get("folds") or []
    if not 0 <= fold < len(folds):
        raise ValueError(
            f"fold {fold} does not exist: the cache has {len(folds)} folds (split.folds)"
        )
    where = {i: (s, k) for s in POOL for k, i in enumerate(meta["splits"][s]["ids"])}
    held_out = set(folds[fold])
    val = [where[i] for i in folds[fold]]
    train = [where[i] for part in folds for i in part if i not in held_out]
    return train, val


def labelled_rows(meta: dict, rows: list[Row]) -> list[Row]:
    """`rows` less those whose cached mask holds no labelled pixel (meta's `unlabelled`: every
    value masks.ignore, a mask nobody annotated): every pixel of theirs is skipped by the loss,
    so each such row (all its patches) was a step's work that taught nothing."""
    skip: set[Row] = set()
    for split, ids in (meta.get("unlabelled") or {}).items():
        if split in POOL and ids:
            # each id's row by a position table, not list.index: a scan of the split per id
            # (40,000 ids, half unlabelled: 18 s)
            where = {i: k for k, i in enumerate(meta["splits"][split]["ids"])}
            skip.update((split, where[i]) for i in ids)
    return [r for r in rows if r not in skip] if skip else rows
