"""Why a split left a part empty, said with the setting and the value that fills it (or that
no value can: fewer images or groups than the three parts)."""

from __future__ import annotations

import math
from collections import Counter

PARTS = ("train", "val", "test")  # split.SPLITS, in the order they are checked


def least_fraction(n: int) -> float:
    """The smallest fraction in hundredths that the split rounds to one of `n` images (Python
    rounds half to even: 0.05 of 10 images is 0.5 image, rounded to none)."""
    share = math.ceil(50 / n) / 100
    while int(round(share * n)) < 1:
        share = round(share + 0.01, 2)
    return share


def empty_ungrouped(split: dict, name: str, fractions: dict[str, float]) -> str:
    """Why part `name` of an ungrouped split is empty: too few images, every image taken by
    val and test, or a fraction of too few images to round to one."""
    n = sum(len(split[part]) for part in PARTS)
    head = (f"the {name} split is empty ({n} images, split.val_fraction={fractions['val']}, "
            f"split.test_fraction={fractions['test']})")
    if n < len(PARTS):
        return (f"{head}: train, val and test need an image each, so 3 images at least; "
                "add images")
    if name == "train":
        return (f"{head}: val and test took every image; lower split.val_fraction or "
                "split.test_fraction")
    key = f"split.{name}_fraction={fractions[name]}"
    return (f"{head}: {key} of {n} images rounds to none; raise it to "
            f"{least_fraction(n):g} (one image) or more, or add images")


def empty_grouped(
    split: dict, name: str, groups: dict[str, str], by: str, fractions: dict[str, float]
) -> str:
    """Why a grouped split left part `name` empty: too few groups, or groups too large for
    the part's share."""
    ids = [i for part in PARTS for i in split[part]]
    sizes = Counter(groups[i] for i in ids)
    head = (f"the {name} split is empty: split.group_by {by!r} makes {len(sizes)} groups of "
            f"the {len(ids)} images, and each part takes whole groups")
    if len(sizes) < len(PARTS):
        return (f"{head}, so each of train, val and test needs one: add images of other "
                "groups (patients), or a group_by that makes more groups")
    if name == "train":
        return f"{head}; val and test took them all: lower split.val_fraction or test_fraction"
    smallest = min(sizes.values())
    return (f"{head}; the smallest group holds {smallest} images, and split.{name}_fraction="
            f"{fractions[name]} asks for {int(round(fractions[name] * len(ids)))}, nearer none "
            f"than a whole group: raise it to about {smallest / len(ids):.2f}")


def named_empty(split: dict, name: str, named: dict[str, int], left_units: int) -> str | None:
    """Why part `name` is empty where split.test_ids or val_ids (`named`: part -> ids named)
    took the images it needed, with the fix (name fewer); None where the names are not the
    cause. `left_units`: the images (groups) the names left to the other parts."""
    keys = [f"split.{part}_ids" for part in named if named[part]]
    if not keys:
        return None
    n = sum(len(split[part]) for part in PARTS)
    left = n - sum(named.values())
    said = " and ".join(f"split.{part}_ids names {k}" for part, k in named.items() if k)
    fix = f"name fewer in {' or '.join(keys)}"
    if name == "val" and left_units < 2:
        whole = f" in {left_units} group" if left_units < left else ""  # groups stay whole
        return (f"the val split is empty: {said} of the {n} images and leaves {left}{whole} for "
                f"train and val, which need one each: {fix}")
    if name != "train":
        return None
    other = next((part for part in ("test", "val") if not named[part]), None)  # by fraction
    took = f"the {other} split took the {left} left" if left else "none is left"
    if other == "val" and left_units >= 2:
        fix += ", or lower split.val_fraction"
    return f"the train split is empty: {said} of the {n} images, and {took}: {fix}"
