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


def elastic_fits(elastic: float, sigma: float, side: tuple[int, int] | None) -> bool:
    """Whether torchvision's elastic deformation takes inputs of a (w, h) `side` (None:
    unknown): it blurs its displacement field with a kernel of int(8 sigma + 1) px, made odd,
    and reflect-pads by half of it, which torch allows only below the input's side."""
    return not elastic or side is None or (int(8 * sigma + 1) | 1) // 2 < min(side)


def elastic_refusal(sigma: float, side: tuple[int, int], key: str) -> str:
    """The message for elastic_fits' refusal of a `side` (w, h) given by `key`."""
    most = (2 * min(side) - 1) / 8  # int(8 sigma + 1) <= 2 side - 1: the pad below the side
    return (f"train.augment.elastic_sigma {sigma:g} blurs the elastic displacement over "
            f"{int(8 * sigma + 1) | 1} px, wider than the {side[0]}x{side[1]} training inputs "
            f"({key}) allow; lower it to below {most:g} or enlarge them")
