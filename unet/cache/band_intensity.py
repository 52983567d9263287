"""The training images' intensity ranges per band (preprocess.intensity_bands: each, with
intensity: dataset): each band's [lo, hi] over the training images, its top at intensity_top's
percentile of the band's values per image, so that a dim band is not scaled by a bright one;
or a list of windows, one per band (preprocess.intensity_window)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from unet.cache.depths import mixed_depths_note
from unet.cache.intensity import (
    bulk_value,
    hot_pixel_note,
    topped_range,
    training_range,
    warn_own_outliers,
    wide_pixels,
    wider_than_8_bits,
)
from unet.cache.settings import PreprocessSettings
from unet.common.bad_files import kept, raise_all
from unet.common.band_ranges import EACH, per_band
from unet.common.decoders import band_count
from unet.common.imageio import ImageReadError
from unet.common.parallel import parallel_map

log = logging.getLogger(__name__)


def data_range(images: list[str], channels: int, settings: PreprocessSettings, processes: int
               ) -> list | None:
    """meta.json's intensity_range for images of `channels` bands: a [lo, hi] per band under
    intensity_bands each and intensity dataset (one [lo, hi] for grey images, whose one band is
    the joint range) or a window per band, else cache.intensity's training_range (one [lo, hi],
    the window, or None); a warning where they mix 8-bit and wider images (cache.depths)."""
    span, wide = _data_range(images, channels, settings, processes)
    if note := mixed_depths_note(images, channels not in (1, 3), span, settings, wide):
        log.warning(note)
    return span


def _data_range(images: list[str], channels: int, settings: PreprocessSettings, processes: int
                ) -> tuple[list | None, dict[str, bool]]:
    """data_range, before the check of the images' depths; with whether each image it decoded
    is wider than 8 bits (per band passes), so that the check reads no header again."""
    # a hyperstack of 3 channels is read as bands, as cache.intensity's training_range reads it
    multi = channels not in (1, 3) or bool(images and band_count(images[0]))
    if per_band(settings.intensity_window):
        return _band_windows(images, multi, settings.intensity_window, channels), {}
    if settings.intensity_bands == EACH and settings.intensity == "image" and (
            not settings.intensity_window):
        return None, _own_band_outliers(images, multi, processes)
    if settings.intensity_bands != EACH or settings.intensity != "dataset" or (
            settings.intensity_window):
        return training_range(images, multi, settings, processes), {}
    jobs = [(path, multi, settings.intensity_top) for path in images]
    found = list(parallel_map(_band_ranges, jobs, processes, "intensity ranges per band"))
    raise_all([(path, s) for path, s in zip(images, found, strict=True)
               if isinstance(s, ImageReadError)], "images cannot be read", "image(s)")
    per_image = {path: s for path, s in zip(images, found, strict=True) if s}
    wide = {path: s is not None for path, s in zip(images, found, strict=True)}
    if not per_image:
        return None, wide  # 8-bit images: never rescaled
    n = max(len(s) for s in per_image.values())
    # a wide grey image beside colour ones (converted to RGB): its range counts for each band
    bands = [{p: s[k if len(s) > 1 else 0] for p, s in per_image.items()} for k in range(n)]
    ranges = [[min(lo for lo, _, _ in b.values()), max(hi for _, hi, _ in b.values())]
              for b in bands]
    for k, (band, span) in enumerate(zip(bands, ranges, strict=True)):
        # each band's range its own: a hot pixel in one squeezes that band alone
        note = hot_pixel_note({p: s[:2] for p, s in band.items()},
                              {p: s[2] for p, s in band.items()}, span, k + 1 if n > 1 else None)
        if note:
            log.warning(note)
    return (ranges[0] if n == 1 else ranges), wide


def _own_band_outliers(images: list[str], multi: bool, processes: int) -> dict[str, bool]:
    """Under intensity: image with intensity_bands: each, warn of a hot pixel per band of each
    image (cache.intensity's warn_own_outliers, naming the band); no range is recorded. Returns
    whether each image read is wider than 8 bits (one that cannot be read: not there)."""
    jobs = [(path, multi, 100.0) for path in images]  # each band's own brightest pixel
    found = list(zip(images, parallel_map(_band_ranges, jobs, processes,
                                          "intensity ranges per band"), strict=True))
    per_image = {p: s for p, s in found if isinstance(s, list)}  # unreadable: the cache names it
    # each band is scaled by its own range: judged with all bands, a hot pixel in a dim band
    # hid behind a bright one's top
    warn_own_outliers({p: s[0] for p, s in per_image.items() if len(s) == 1})  # grey: as joint
    bands = {p: s for p, s in per_image.items() if len(s) > 1}
    for k in range(max((len(s) for s in bands.values()), default=0)):
        warn_own_outliers({p: s[k] for p, s in bands.items() if k < len(s)}, k + 1)
    return {p: s is not None for p, s in found if not isinstance(s, ImageReadError)}


def bands_record(settings: PreprocessSettings) -> dict:
    """meta.json's intensity_bands entry: written only under each (without a window, which
    scales every band alike), so that joint caches and model.pt files stay as they were."""
    window = settings.intensity_window
    each = per_band(window) or settings.intensity_bands == EACH and not window
    return {"intensity_bands": EACH} if each else {}


def _band_windows(images: list[str], multi: bool, windows: tuple, channels: int
                  ) -> list[list[float]] | None:
    """preprocess.intensity_window's window per band, refused where their count is not the
    images' bands; None for 8-bit images (never rescaled), with a warning."""
    if len(windows) != channels:
        raise ValueError(
            f"preprocess.intensity_window gives {len(windows)} windows, one per band, but the "
            f"training images (e.g. {images[0]}) have {channels} band(s); give one "
            "[low, high] per band, in the images' band order, or one [low, high] for all")
    if any(wider_than_8_bits(path, multi) for path in images):
        return [[float(lo), float(hi)] for lo, hi in windows]
    log.warning("preprocess.intensity_window %s is unused: the training images are 8-bit, "
                "which are never rescaled; set it to null", [list(w) for w in windows])
    return None


def _band_ranges(job: tuple) -> list[tuple[float, float, float]] | ImageReadError | None:
    """(lo, hi, bulk) of each band of one image (hi topped at the job's percentile; bulk its
    bulk_value), one for grey; None for an 8-bit image; the error of one that cannot be read
    (returned, not raised)."""
    path, multi, top = job
    try:
        arr = wide_pixels(path, multi)
    except ImageReadError as err:
        return kept(err)
    if arr is None:
        return None
    if arr.ndim == 2:
        return [(*topped_range(arr, top), bulk_value(arr))]
    return [(*topped_range(arr[..., k], top), bulk_value(arr[..., k]))
            for k in range(arr.shape[-1])]


# Fewest grey levels a band should reach under one range over the bands (as cache.intensity's
# DIM_LEVELS for images): a 0-300 nucleus channel beside a 0-4000 one reached 20 of 255.
STARVED_LEVELS = 32


def starved_bands_note(meta: dict, train_images: Path, settings: PreprocessSettings
                       ) -> str | None:
    """A warning naming the bands whose brightest cached training pixel reaches under
    STARVED_LEVELS grey levels under the data set's one range over the bands, with
    intensity_bands: each; None otherwise (or with a window, set by the user)."""
    span, c = meta.get("intensity_range"), meta["in_channels"]
    if c == 1 or not span or per_band(span) or settings.intensity_window:
        return None
    pixels = np.load(train_images, mmap_mode="r").reshape(-1, c)  # stacked or flat (native)
    if not pixels.size:
        return None
    tops = pixels.max(axis=0)  # (C,) the brightest cached value of each band
    dim = [k for k in range(c) if tops[k] < STARVED_LEVELS]
    if not dim or len(dim) == c:
        return None  # no band reaches further: the range's, not a band's, doing
    named = ", ".join(f"band {k + 1} in {tops[k] + 1} of 255" for k in dim)
    return (
        f"the training images' bands share one intensity range, {span[0]:g} to {span[1]:g}, "
        f"which a brighter band sets: {named} grey levels. Set preprocess.intensity_bands: "
        "each to scale each band by a range of its own (their ratios are then not kept)")
