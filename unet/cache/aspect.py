"""Mode resize stretches every image to one width x height: a warning when the data's aspect
ratios are mixed, so that objects are stretched differently from image to image."""

from __future__ import annotations

import logging
from collections import Counter

from unet.cache.settings import PreprocessSettings

log = logging.getLogger(__name__)

TOLERANCE = 1.1  # aspect ratios within 10 % of each other: a stretch the eye barely sees


def _off(aspect: float, target: float) -> bool:
    """Whether `aspect` differs from `target` by more than TOLERANCE, either way."""
    return max(aspect / target, target / aspect) > TOLERANCE


def warn_stretched(sizes: list[tuple[int, int]], settings: PreprocessSettings) -> None:
    """Warn once when mode resize stretches images of mixed aspect ratios (w, h `sizes`) to
    the cache's: how many, their range, and the keys that keep the aspect. Data of one
    aspect is stretched alike (the masks are resized back): no warning then."""
    if settings.mode == "native" or not sizes:
        return
    aspects = [w / h for w, h in sizes]
    cache = settings.width / settings.height
    stretched = [a for a in aspects if _off(a, cache)]
    if not stretched or not _off(max(aspects), min(aspects)):
        return
    common = Counter(round(a, 2) for a in aspects).most_common(1)[0][0]
    log.warning(
        "%d of %d images have an aspect ratio (width/height; %.2f to %.2f over the data) more "
        "than 10%% off the cache's %dx%d (%.2f): preprocess.mode resize stretches each to it, "
        "so the model sees one object's shape stretched differently from image to image. To "
        "keep each image's aspect, set preprocess.mode: native (each image at its own size "
        "times preprocess.scale; train on patches with train.patch.size, predict with sliding "
        "windows)%s", len(stretched), len(aspects), min(aspects), max(aspects),
        settings.width, settings.height, cache,
        f", or give preprocess.width and preprocess.height the data's most common aspect "
        f"({common:.2f}) to stretch fewer" * _off(common, cache))
