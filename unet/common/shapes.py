"""Training input sizes the network and the augmentations can take: one rule each, read by the
config check when the config is read and by training for a direct caller, without torch."""

from __future__ import annotations


def min_side(depth: int) -> int:
    """The smallest input side that survives `depth` poolings with at least 1 pixel."""
    return 2**depth


def crop_fits(crop: tuple[int, int], size: tuple[int, int], depth: int) -> bool:
    """Whether a (w, h) crop lies within a (w, h) input and is deep enough for the network."""
    return crop[0] <= size[0] and crop[1] <= size[1] and min(crop) >= min_side(depth)


def turns_fit(rot90: bool, crop: tuple[int, int] | None, side: tuple[int, int] | None) -> bool:
    """Whether quarter turns keep the training inputs' shape: off, turning a square crop, or
    inputs of a square `side` (either order; None: unknown, left to training)."""
    square_crop = bool(crop) and crop[0] == crop[1]
    return not rot90 or square_crop or side is None or side[0] == side[1]
