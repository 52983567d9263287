"""The label mapping the config and the masks give: the classes' values as listed (a list
making one class of several values), two classes split at a threshold, or the sorted values
the masks hold; settings that cannot work are refused here, before any mask is read."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unet.cache.tolerance import refuse_overlaps, refuse_tolerance_without_list
from unet.common.labels import IGNORE_INDEX, MaskMapping, MaskValueError, colour_of
from unet.common.maskio import pack_rgb

Listed = list[int | list[int]]  # masks.values or packed masks.colors: a value or a list a class


def packed_colours(colour: list) -> int | list[int]:
    """masks.colors' [r, g, b] as one 0xRRGGBB value, or a list of colours as a list of them."""
    if isinstance(colour[0], list):
        return [int(v) for v in pack_rgb(np.asarray(colour, dtype=np.uint8))]
    return int(pack_rgb(np.asarray(colour, dtype=np.uint8)))


def _grouped(explicit: Listed, rgb: bool) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Each class's own (written) value, and the further values of classes made of several
    as (value, class) pairs."""
    key = "masks.colors" if rgb else "masks.values"
    values, merged = [], []
    for i, item in enumerate(explicit):
        group = [int(v) for v in item] if isinstance(item, list | tuple) else [int(item)]
        if not group:
            raise MaskValueError(f"{key}' class {i} is an empty list: give it a value")
        values.append(group[0])
        merged += [(v, i) for v in group[1:]]
    return tuple(values), tuple(merged)


def _thresholded_colours(
    explicit: list[int], threshold: int, ignore: int | None
) -> MaskMapping:
    """Colour classes whose channels are 0 or 255, each mask channel binarised at `threshold`."""
    mapping = MaskMapping(tuple(int(v) for v in explicit), ignore, True, threshold)
    for v, label in zip(mapping.values, mapping.labels(), strict=True):
        if any(c not in (0, 255) for c in colour_of(v)):
            raise MaskValueError(
                f"masks.threshold binarises each channel of colour masks to 0 or 255, so it "
                f"can never give masks.colors' {label}: with a threshold, list colours whose "
                "channels are 0 or 255 only; or drop masks.threshold and list every colour "
                "the masks hold"
            )
    if not 0 <= threshold < 255:
        raise MaskValueError(f"masks.threshold {threshold} must lie in 0..254 for colour masks")
    _check_explicit(mapping)
    return mapping


def _thresholded(
    explicit: list[int] | None, threshold: int, top: int, ignore: int | None
) -> MaskMapping:
    """Two classes split at `threshold`, written back as `explicit` or (0, top)."""
    values = tuple(int(v) for v in explicit) if explicit else (0, top)
    if len(values) != 2:
        raise MaskValueError(
            f"masks.threshold binarises, so masks.values must list two values (class 0, "
            f"class 1), got {list(values)}; or leave masks.values out for (0, {top})"
        )
    if not min(values) <= threshold < max(values):
        raise MaskValueError(
            f"masks.threshold {threshold} must lie between the two class values {list(values)} "
            "(values above it read as the higher one); change masks.threshold or masks.values"
        )
    mapping = MaskMapping(values, ignore, False, threshold)
    if explicit:
        _check_explicit(mapping)
    elif ignore in values:
        raise MaskValueError(
            f"masks.ignore {ignore} is also class {values.index(ignore)}'s value (masks.threshold "
            f"binarises to {list(values)}): its pixels would be skipped by the loss and the "
            "metrics; choose another masks.ignore, or list masks.values"
        )
    return mapping


def _check_explicit(mapping: MaskMapping) -> None:
    """Refuse a class value listed twice (a class no pixel can be) or given as the ignore
    value too (a class the loss and the metrics would skip)."""
    key = "masks.colors" if mapping.rgb else "masks.values"
    seen: dict[int, int] = {}
    for v, i in mapping.value_classes():
        if v in seen:
            raise MaskValueError(
                f"{key} lists {mapping.describe([v])[1:-1]} twice (classes "
                f"{min(seen[v], i)} and {max(seen[v], i)}); "
                "each class needs a value of its own: remove the repeat"
            )
        seen[v] = i
    if mapping.ignore in seen:
        raise MaskValueError(
            f"masks.ignore {mapping.describe([mapping.ignore])[1:-1]} is also class "
            f"{seen[mapping.ignore]}'s value in "
            f"{key}: its pixels would be skipped by the loss and the metrics; remove it from "
            "one of the two"
        )


def _refuse_past_indices(classes: int, found: set[int], explicit: bool, rgb: bool) -> None:
    """Refuse more classes than class indices: 0-254, as 255 marks ignored pixels (with 256
    classes, class 255's pixels were skipped unseen; past it, indices wrapped to other classes)."""
    if classes <= IGNORE_INDEX:
        return
    key = "masks.colors" if rgb else "masks.values"
    what = (f"{key} lists {classes} classes" if explicit else
            f"masks hold {_span(found, rgb)}")
    raise MaskValueError(
        f"{what}, but at most {IGNORE_INDEX} classes can be trained (class index "
        f"{IGNORE_INDEX} marks ignored pixels). Instance labels (0 background, one value per "
        "object) are not classes: set masks.threshold: 0 to make every object foreground. "
        f"Else make several values one class with a list in {key}, and masks.unlisted: "
        "ignore to skip the rest"
    )


def _span(found: set[int], rgb: bool) -> str:
    """How many values the masks hold and their range, as the user sees them (colours as
    (r, g, b), not packed integers)."""
    lo, hi = min(found), max(found)
    if rgb:
        return f"{len(found)} distinct colours, {colour_of(lo)} to {colour_of(hi)}"
    return f"{len(found)} distinct values, {lo} to {hi}"


def _too_many(found: set[int], max_values: int, where: str, rgb: bool) -> str:
    """The refusal of detected masks with more values than masks.max_values."""
    key, what = ("masks.colors", "colours") if rgb else ("masks.values", "values")
    return (
        f"masks hold {_span(found, rgb)} (more than masks.max_values={max_values}{where}). "
        "Lossy (JPEG) or anti-aliased masks do: set masks.threshold: 127 to binarise them by "
        "brightness. Instance labels do ("
        + ("black background, then one colour" if rgb else "0 background, 1, 2, 3, ... one value")
        + " per object): set "
        "masks.threshold: 0 to make every object foreground (127 would drop the objects "
        f"{'darker than mid-grey' if rgb else 'labelled up to 127'}). Or list the class "
        f"{what} in {key}; if they are all real classes, raise masks.max_values (and set "
        f"masks.ignore for a border {what[:-1]} such as VOC's "
        f"{'(224, 224, 192)' if rgb else 255})"
    )


def mapping_from_values(
    found: set[int],
    explicit: Listed | None,
    threshold: int | None,
    max_values: int,
    ignore: int | None = None,
    rgb: bool = False,
    top: int = 255,
    unlisted: bool = False,
    where: str = "",
    tolerance: int = 0,
) -> MaskMapping:
    """Choose the mapping: explicit values, a threshold (binary), or the sorted found values.

    `top`: the largest value the masks' bit depth holds (255, or 65535 for 16-bit masks), the
    foreground value of a thresholded mapping without explicit values. `unlisted`: values no
    class lists are skipped (masks.unlisted: ignore), which needs explicit values. `where`:
    which files hold the most values, for the error when there are too many. `tolerance`:
    values within it of a class's read as that class (masks.tolerance; needs listed classes).
    """
    if tolerance:
        refuse_tolerance_without_list(explicit, threshold, tolerance, rgb)
    found = found - {ignore}
    if unlisted and not explicit:
        raise MaskValueError(
            "masks.unlisted: ignore skips the values no class lists, so the classes must be "
            "listed: set masks.values (or masks.colors), or drop masks.unlisted"
        )
    values, merged = _grouped(explicit, rgb) if explicit else ((), ())
    if threshold is not None and merged:
        raise MaskValueError(
            f"masks.threshold {threshold} binarises, which takes one value per class: drop the "
            "lists in masks.values (or masks.colors), or drop masks.threshold"
        )
    if threshold is not None and rgb and explicit:
        mapping = _thresholded_colours(list(values), threshold, ignore)
        return replace(mapping, skip_unlisted=unlisted)
    if threshold is not None:
        return _thresholded(list(values) or None, threshold, top, ignore)
    if not explicit and len(found) > max_values:  # first: it names the masks holding them
        raise MaskValueError(_too_many(found, max_values, where, rgb))
    _refuse_past_indices(len(values) if explicit else len(found), found, bool(explicit), rgb)
    if explicit:
        mapping = MaskMapping(values, ignore, rgb, merged=merged, skip_unlisted=unlisted,
                              tolerance=tolerance)
        _check_explicit(mapping)
        refuse_overlaps(mapping)
        return mapping
    if len(found) < 2:
        raise MaskValueError(
            f"all masks hold the single value {sorted(found)}; nothing to segment. "
            "Check the mask folder, or list the class values in masks.values"
        )
    return MaskMapping(tuple(sorted(found)), ignore, rgb)
