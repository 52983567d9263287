"""masks.tolerance's refusals: it reads values near listed classes' values, so it needs listed
classes, takes no threshold, and no value may lie near two classes' values at once."""

from __future__ import annotations

from itertools import combinations

from unet.common.labels import MaskMapping, MaskValueError, colour_of


def refuse_tolerance_without_list(
    listed: list | None, threshold: float | None, tolerance: int, rgb: bool
) -> None:
    """Refuse masks.tolerance without listed classes (nothing to be near) or beside
    masks.threshold (which already binarises near values)."""
    if not listed:
        raise MaskValueError(
            f"masks.tolerance {tolerance} reads values near the classes' own, so the classes "
            "must be listed: set masks.colors (or masks.values, or masks.labelmap), or drop "
            "masks.tolerance"
        )
    if threshold is not None:
        key = "masks.colors" if rgb else "masks.values"
        raise MaskValueError(
            f"masks.tolerance {tolerance} and masks.threshold {threshold} both read near values: "
            f"masks.threshold binarises, masks.tolerance reads a value within it of one of "
            f"{key} as that class; drop one of the two"
        )


def _distance(a: int, b: int, rgb: bool) -> int:
    """How far apart two values are: grey levels, or colours' largest channel difference."""
    if not rgb:
        return abs(a - b)
    return max(abs(x - y) for x, y in zip(colour_of(a), colour_of(b), strict=True))


def refuse_overlaps(mapping: MaskMapping) -> None:
    """Refuse a masks.tolerance at which a value lies within it of two classes' values (or of
    a class's and masks.ignore's): naming the nearest two and the largest tolerance allowed."""
    if not mapping.tolerance:
        return
    listed = [*mapping.value_classes()]
    if mapping.ignore is not None:
        listed.append((mapping.ignore, -1))  # its pixels are skipped: a class of its own here
    apart = [(_distance(a, b, mapping.rgb), a, b) for (a, i), (b, j) in combinations(listed, 2)
             if i != j]
    if not apart:
        return
    gap, a, b = min(apart)
    if gap > 2 * mapping.tolerance:
        return
    x, y = (str(colour_of(v)) if mapping.rgb else str(v) for v in (a, b))
    apart = f"{gap} apart in a channel" if mapping.rgb else f"{gap} apart"
    raise MaskValueError(
        f"masks.tolerance {mapping.tolerance} reads a pixel between {x} and {y} ({apart}) as "
        f"near both: masks.tolerance {(gap - 1) // 2} at most keeps every class apart; lower it"
    )


def refuse_tolerance_on_palettes(
    tolerance: int, masks: list[str], palettes: list[tuple[int, ...] | None]
) -> None:
    """Refuse masks.tolerance on palette masks (GIF, palette PNG) read with masks.values: their
    values are colour-table indices, so index 4 is no near colour of index 3; and they are
    lossless, so nothing needs the tolerance."""
    example = next((m for m, p in zip(masks, palettes, strict=True) if p is not None), None)
    if not tolerance or example is None:
        return
    raise MaskValueError(
        f"masks.tolerance {tolerance} reads a value within {tolerance} of a class's as that "
        f"class, but {example} is a palette mask (GIF or palette PNG), whose values are palette "
        "indices: a neighbouring index is another colour, not a near one. Palette masks are "
        "lossless: set masks.tolerance: 0 (to read them by their colours, list those in "
        "masks.colors)"
    )
