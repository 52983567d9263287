"""The one intensity range wide images are scaled by: from the lower of 0 and the darkest to
the higher of 1 and the brightest pixel of the training images (16-bit, 32-bit, float grey
and colour, and multi-band TIFFs wider than 8 bits). Each image by its own range stretched the
noise of a field without objects to full white; one range keeps it as dark as the background
it is."""

from __future__ import annotations

import numpy as np

from unet.cache.settings import PreprocessSettings
from unet.common.bands import bands_dtype, raw_bands
from unet.common.decoders import is_tiff, pil_reads_faithfully, read_wide, value_range, wide_header
from unet.common.imageio import GREY16, image_header, open_image
from unet.common.parallel import parallel_map


def training_range(
    images: list[str], multi: bool, settings: PreprocessSettings, processes: int
) -> list[float] | None:
    """[lo, hi] over the training `images` (`multi`: multi-band TIFFs), or None when none is
    wider than 8 bits or `preprocess.intensity` is `image`."""
    if settings.intensity == "image":
        return None
    jobs = [(path, multi) for path in images]
    spans = [s for s in parallel_map(_image_range, jobs, processes, "intensity range") if s]
    if not spans:
        return None
    return [min(lo for lo, _ in spans), max(hi for _, hi in spans)]


def _image_range(job: tuple[str, bool]) -> tuple[float, float] | None:
    """One image's value_range, or None for an 8-bit one (never rescaled), which its header
    tells: decoding every 8-bit training image cost more than caching it (draft decode)."""
    path, multi = job
    if multi:
        return None if bands_dtype(path) == np.uint8 else value_range(raw_bands(path))
    mode = image_header(path)[0]
    if mode == "RGB" and _wide_colour(path):  # 16-bit colour: PIL holds no such mode
        return value_range(read_wide(path))
    if not mode.startswith(("I", "F")):  # 8-bit: 1, L, P, RGB, CMYK, ...
        return None
    im = open_image(path, nodata=True)
    return value_range(np.asarray(im)) if im.mode in (*GREY16, "F") else None


def _wide_colour(path: str) -> bool:
    """Colour wider than 8 bits (16-bit RGB TIFFs and PNGs, float colour TIFFs), from the
    header: the files decoders.py reads in their own dtype."""
    if is_tiff(path):
        try:
            shape, dtype = wide_header(path)
        except (OSError, ValueError):  # damaged or unusable: its decode names it
            return False
        return len(shape) == 3 and dtype != np.uint8
    return not pil_reads_faithfully(path)  # a PNG PIL would cut to 8 bits
