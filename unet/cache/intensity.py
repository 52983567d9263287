"""The one intensity range wide images are scaled by: from the lower of 0 and the darkest to
the higher of 1 and the brightest pixel of the training images (16-bit, 32-bit, float grey
and colour, and multi-band TIFFs wider than 8 bits). Each image by its own range stretched the
noise of a field without objects to full white; one range keeps it as dark as the background
it is."""

from __future__ import annotations

import logging
import os

import numpy as np

from unet.cache.hounsfield import unwindowed_ct_note
from unet.cache.settings import PreprocessSettings
from unet.common.bad_files import kept, raise_all
from unet.common.bands import bands_dtype, raw_bands
from unet.common.decoders import (
    band_count,
    is_tiff,
    pil_reads_faithfully,
    read_wide,
    value_range,
    wide_header,
)
from unet.common.dicom import FROM_FILES, dicom_wide_colour, files_window, is_dicom
from unet.common.imageio import BANDS, GREY16, ImageReadError, image_header, open_image
from unet.common.parallel import parallel_map

log = logging.getLogger(__name__)


def training_range(
    images: list[str], multi: bool, settings: PreprocessSettings, processes: int
) -> list[float] | None:
    """[lo, hi] over the training `images` (`multi`: multi-band TIFFs), or
    `preprocess.intensity_window` as set; None when none is wider than 8 bits or
    `preprocess.intensity` is `image`."""
    # a hyperstack of 3 channels is read as bands, though its model has 3 as a colour one has
    multi = multi or bool(images and band_count(images[0]))  # one count in a data set
    if settings.intensity_window:
        return _window(images, multi, settings.intensity_window)
    own = settings.intensity == "image"  # intensity_top unused: each image's brightest pixel
    jobs = [(path, multi, 100.0 if own else settings.intensity_top) for path in images]
    found = list(parallel_map(_kept_range, jobs, processes, "intensity range"))
    if own:  # unreadable images: named by the cache pass
        warn_own_outliers({p: s for p, s in zip(images, found, strict=True)
                           if isinstance(s, tuple)})
        return None
    # every image that cannot be read, at once: stopping at the first meant a rerun per file
    raise_all([(path, s) for path, s in zip(images, found, strict=True)
               if isinstance(s, ImageReadError)], "images cannot be read", "image(s)")
    stats = {path: s for path, s in zip(images, found, strict=True) if s}
    spans = {path: s[:2] for path, s in stats.items()}
    if not spans:
        return None
    span = [min(lo for lo, _ in spans.values()), max(hi for _, hi in spans.values())]
    _refuse_dark_floats(spans, multi, span)
    note = hot_pixel_note(spans, {path: s[2] for path, s in stats.items()}, span)
    note = note or _dim_images(spans, {path: s[3] for path, s in stats.items()}, span)
    note = note or unwindowed_ct_note(span)
    if note:
        log.warning(note)
    return span


def intensity_units(images: list[str]) -> str | None:
    """'dicom' where the training images are DICOM files, read in the modality's units
    (RescaleSlope and RescaleIntercept applied, MONOCHROME1 inverted: common.dicom), which
    the intensity range and the model's input are then in; None for other images."""
    return FROM_FILES if any(is_dicom(path) for path in images) else None


def _window(images: list[str], multi: bool, window: tuple[float, float] | str
            ) -> list[float] | None:
    """The set window (or, `dicom`, the DICOM files' own), for images of which one at least is
    wider than 8 bits (from headers); None for 8-bit ones, which are never rescaled: a window
    recorded for them would scale only the wide images given to the model later."""
    window = files_window(images) if window == FROM_FILES else window
    if any(wider_than_8_bits(path, multi) for path in images):
        return [float(window[0]), float(window[1])]
    log.warning("preprocess.intensity_window %s is unused: the training images are 8-bit, "
                "which are never rescaled; set it to null", list(window))
    return None


# Each image's bulk: its 99.99th percentile, the top that preprocess.intensity_top: 99.99 gives
BULK = 99.99
# A range whose top is over this many times what the images' bulk reaches (from its low end)
# squeezes every image into under a quarter of the 255 grey levels: a hot pixel, not data.
SQUEEZE = 4


def hot_pixel_note(spans: dict[str, tuple[float, float]], bulks: dict[str, float],
                   span: list[float], band: int | None = None) -> str | None:
    """A warning when the range's top is set by a handful of pixels far above every image's
    bulk (a stuck pixel at 65535 in 12-bit fields), naming the images and the fix; else None.
    `band`: the band (from 1) whose own range this is (intensity_bands: each), named."""
    lo, hi = span
    bulk = max(1.0, *bulks.values())  # the top at BULK, floored at 1 as value_range is
    if hi <= 1 or (hi - lo) <= SQUEEZE * (bulk - lo):
        return None  # the floor of 1 is no pixel's doing; or the bulk uses the range
    culprits = sorted((p for p, (_, top) in spans.items() if top - lo > SQUEEZE * (bulk - lo)),
                      key=lambda p: -spans[p][1])
    named = ", ".join(f"{p} (up to {spans[p][1]:g})" for p in culprits[:3])
    more = f" and {len(culprits) - 3} more" if len(culprits) > 3 else ""
    levels = round((bulk - lo) * 255 / (hi - lo))
    of, whose = (f" band {band}", f"'s band {band}") if band else ("", "")
    return (
        f"the training images'{of} intensity range, {lo:g} to {hi:g}, is set by a few pixels "
        f"far above the rest (a stuck or hot pixel, a speck of debris?) in {named}{more}: "
        f"99.99 % of each image's{of} pixels lie at or below {bulk:g}, so every image"
        f"{whose} is cached in at most "
        f"{levels} of 255 grey levels. Set preprocess.intensity_top: {BULK:g} to top the range "
        "at each image's 99.99th percentile (brighter pixels clipped)"
    )


def warn_own_outliers(stats: dict[str, tuple[float, ...]], band: int | None = None) -> None:
    """Under intensity: image, warn naming the training images whose own top (stats: lo, hi,
    bulk, ...) is set by a few pixels far above their bulk (hot_pixel_note's test, per image): no
    intensity_top helps there. `band`: the band (from 1) judged (intensity_bands: each)."""
    hot = {p: (lo, hi, round((bulk - lo) * 255 / (hi - lo))) for p, (lo, hi, bulk, *_) in
           stats.items() if hi > 1 and hi - lo > SQUEEZE * (max(1.0, bulk) - lo)}
    if hot:
        worst = sorted(hot.items(), key=lambda i: i[1][2])[:3]  # fewest grey levels first
        of, whose = (f" band {band}", f"'s band {band}") if band else ("", "")
        named = ", ".join(f"{p} (up to {hi:g}: 99.99 % of its{of} pixels in at most {n} of 255 "
                          "grey levels)" for p, (_, hi, n) in worst)
        more = f" and {len(hot) - 3} more" if len(hot) > 3 else ""
        log.warning(
            f"under preprocess.intensity: image, each image{whose} is scaled by its own range, "
            f"which a few pixels far above the rest (a stuck or hot pixel?) set in {named}{more}; "
            "prediction scales new images so too. Clip those pixels in the files, or set "
            f"preprocess.intensity: dataset with preprocess.intensity_top: {BULK:g}")


# Fewest grey levels each training image's top should reach under the data set's range: MRI
# slices each exported with a scaling of their own left one at 26 of 255 without a word.
DIM_LEVELS = 32
DIM_RATIO = 8  # (1 / DIM_LEVELS of 255, as a ratio of the images' medians)


def _dim_images(spans: dict[str, tuple[float, float]], middles: dict[str, float],
                span: list[float]) -> str | None:
    """A warning naming the training images whose brightest pixel reaches under DIM_LEVELS
    grey levels under the data set's range and whose median is under 1 / DIM_RATIO of the
    median of the image that tops the range (their whole scale differs, not only their
    objects: a bright object in one image is data), with preprocess.intensity: image."""
    lo, hi = span
    levels = {p: (top - lo) * 255 / (hi - lo) for p, (_, top) in spans.items()}
    ref = middles[max(spans, key=lambda p: spans[p][1])] - lo  # the brightest image's median
    dim = sorted((p for p, v in levels.items()
                  if v < DIM_LEVELS and (middles[p] - lo) * DIM_RATIO < ref), key=levels.get)
    if not dim:
        return None
    named = ", ".join(f"{p} (up to {spans[p][1]:g})" for p in dim[:3])
    more = f" and {len(dim) - 3} more" if len(dim) > 3 else ""
    return (
        f"{len(dim)} of {len(spans)} training images are cached in at most "
        f"{round(levels[dim[-1]])} of 255 grey levels by the data set's intensity range, "
        f"{lo:g} to {hi:g}: {named}{more}. "
        "If each image has a scaling of its own (MRI slices exported per scanner or series, "
        "images at other exposures), set preprocess.intensity: image to scale each by its own "
        "range; a field without objects rightly stays dark"
    )


# Fewest grey levels the brightest float image may reach under the data set's range: floats
# normalised to [0, 1] beside 12-bit counts reached 0.06 of 255 and trained as black images.
FLOAT_LEVELS = 16


def _refuse_dark_floats(
    spans: dict[str, tuple[float, float]], multi: bool, span: list[float]
) -> None:
    """Refuse training images of float samples that one range shared with integer images
    would leave nearly black (a value space of their own, such as [0, 1]), naming both."""
    kinds = {path: _float_samples(path, multi) for path in spans}
    floats = [p for p, f in kinds.items() if f]
    counts = [p for p, f in kinds.items() if not f]
    if not floats or not counts:
        return
    lo, hi = span
    brightest = max(floats, key=lambda p: spans[p][1])
    levels = (spans[brightest][1] - lo) * 255 / (hi - lo)
    if levels >= FLOAT_LEVELS:
        return
    top = max(counts, key=lambda p: spans[p][1])
    raise ValueError(
        f"{brightest} holds float values up to {spans[brightest][1]:g}, but {top} holds integer "
        f"values up to {spans[top][1]:g}: scaled by one range for the data set ({lo:g} to "
        f"{hi:g}), every float image would read as nearly black (at most {levels:.1f} of 255 "
        "grey levels). Save the images in one value space (the floats in the integers' "
        "units), or set preprocess.intensity: image to scale each image by its own range"
    )


def _float_samples(path: str, multi: bool) -> bool:
    """Whether a wide training image holds floats (else integers), from its header."""
    if multi:
        return bands_dtype(path).kind == "f"
    if not is_tiff(path):  # PNG: integers only
        return False
    try:
        return wide_header(path)[1].kind == "f"
    except (OSError, ValueError):  # damaged or unusable: its decode names it
        return False


def _kept_range(job: tuple) -> tuple[float, float, float, float] | ImageReadError | None:
    """(lo, hi, bulk, median) of one image (_image_range, its bulk_value and _median), or the error
    of an image that cannot be read (returned, not raised)."""
    try:
        arr = wide_pixels(*job[:2])
    except ImageReadError as err:
        return kept(err)  # (its frames held the decoded image)
    return None if arr is None else (*topped_range(arr, job[2]), bulk_value(arr), _median(arr))


def _image_range(job: tuple) -> tuple[float, float] | None:
    """One image's value_range (its top the `top` percentile of its values), or None for an
    8-bit one."""
    path, multi, top = (*job, 100.0)[:3]  # (path, multi[, top]): 100 = the highest value
    arr = wide_pixels(path, multi)
    return None if arr is None else topped_range(arr, top)


def wide_pixels(path: str, multi: bool) -> np.ndarray | None:
    """One image's samples, or None for an 8-bit one (never rescaled), which its header tells:
    decoding every 8-bit training image cost more than caching it (draft decode)."""
    if multi:
        return None if bands_dtype(path) == np.uint8 else raw_bands(path)
    mode = image_header(path)[0]
    if mode == "RGB" and _wide_colour(path):  # 16-bit colour: PIL holds no such mode
        return read_wide(path)
    if not mode.startswith(("I", "F")):  # 8-bit: 1, L, P, RGB, CMYK, ...
        return None
    im = open_image(path, nodata=True)
    return np.asarray(im) if im.mode in (*GREY16, "F") else None


# Most samples the bulk is estimated from: a percentile of a whole 4-megapixel image cost as
# much as its decode, and its copy doubled a large slide's memory.
BULK_SAMPLES = 1 << 20


def bulk_value(arr: np.ndarray) -> float:
    """The BULK percentile of `arr`'s finite values, from every step-th row (a view) where it
    holds more than BULK_SAMPLES values."""
    step = -(-arr.size // BULK_SAMPLES) if arr.ndim > 1 else 1
    return topped_range(arr[::step], BULK)[1]


def _median(arr: np.ndarray) -> float:
    """The median of `arr`'s finite values, sampled as bulk_value samples them (0 with none)."""
    step = -(-arr.size // BULK_SAMPLES) if arr.ndim > 1 else 1
    values = arr[::step]
    values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return float(np.median(values)) if values.size else 0.0


def topped_range(arr: np.ndarray, top: float) -> tuple[float, float]:
    """value_range of `arr`, its top the `top` percentile of its finite values (100: the
    highest), so that a few hot pixels do not set the data set's range."""
    lo, hi = value_range(arr)
    if top >= 100:
        return lo, hi
    values = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if not values.size:
        return lo, hi
    # "lower": a value the image holds, never one interpolated toward the hot pixel above it
    return lo, max(1.0, float(np.percentile(values, top, method="lower")))


def wider_than_8_bits(path: str | os.PathLike, multi: bool = False,
                      mode: str | None = None) -> bool:
    """Whether an image holds samples wider than 8 bits (16-bit, 32-bit or float grey, colour
    or bands), from its header; `mode`: its image_header mode, where read already."""
    mode = None if multi else mode or image_header(path)[0]
    if multi or mode == BANDS:  # BANDS: a hyperstack of 3 channels beside a colour model
        return bands_dtype(path) != np.uint8
    return mode.startswith(("I", "F")) or (mode == "RGB" and _wide_colour(path))


def _wide_colour(path: str | os.PathLike) -> bool:
    """Colour wider than 8 bits (16-bit RGB TIFFs and PNGs, float colour TIFFs), from the
    header: the files decoders.py reads in their own dtype."""
    if is_dicom(path):  # PIL cannot open one: it is no sign of a wide PNG
        return dicom_wide_colour(path)
    if is_tiff(path):
        try:
            shape, dtype = wide_header(path)
        except (OSError, ValueError):  # damaged or unusable: its decode names it
            return False
        return len(shape) == 3 and dtype != np.uint8
    return not pil_reads_faithfully(path)  # a PNG PIL would cut to 8 bits
