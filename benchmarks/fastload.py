"""Candidate faster decoding for `preprocess`: JPEG draft mode and masks read as stored.

A proposal for unet/imageio.py and unet/preprocess.py, measured by bench_preprocess.py (the
package has since adopted draft mode; the mask path and in-place writes are still open).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps

from unet.cache.preprocess import resize_image, resize_mask
from unet.common.labels import MaskMapping, MaskValueError

ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def draft_resize(path: str | os.PathLike, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode at the smallest JPEG DCT scale still >= `size` (w, h), then resize_image()."""
    return _draft_decode(path, size, channels)[0]


def _draft_decode(path: str | os.PathLike, size: tuple[int, int], channels: int) -> tuple:
    """draft_resize's array (h, w, C) and the image's original (w, h) after EXIF orientation."""
    with Image.open(path) as im:
        orientation = im.getexif().get(0x0112, 1)
        rotated = orientation in ROTATED
        orig = (im.size[1], im.size[0]) if rotated else im.size  # before draft shrinks it
        if im.format == "JPEG":
            # draft picks a scale of 1/1..1/8 whose result is at least the requested size, so
            # asking for the target itself never upsamples. A rotated image is stored
            # transposed: ask for the transposed size.
            im.draft("L" if channels == 1 else "RGB", (size[1], size[0]) if rotated else size)
        im.load()
        if orientation != 1:  # exif_transpose copies even when there is nothing to do
            im = ImageOps.exif_transpose(im)
        return resize_image(im, size, channels), orig


def read_mask_resized(path: str | os.PathLike, size: tuple[int, int]) -> tuple[np.ndarray, tuple]:
    """Mask values resized (nearest) to `size`, and the mask's original (w, h); no conversion."""
    with Image.open(path) as im:
        orig = im.size
        if im.getexif().get(0x0112, 1) != 1:
            im = ImageOps.exif_transpose(im)
            orig = im.size
        if im.mode in ("L", "P") and size[0] <= orig[0] and size[1] <= orig[1]:
            # Resizing before the array copy saves ~2 ms a Carvana mask. Palette indices stay
            # indices; PIL's NEAREST samples pixel centres as resize_mask does, and agrees with
            # it but for rare rounding ties (19 of 700,000 pixels at 1918x1280 -> 1000x700,
            # none at integer factors such as Carvana's half); the bench counts them.
            return np.asarray(im.resize(size, Image.Resampling.NEAREST)), orig
        if im.mode in ("RGB", "RGBA"):
            raise MaskValueError(f"mask {path} is a colour image ({im.mode})")
        raw = np.asarray(im.getchannel("L") if im.mode == "LA" else im)
        return resize_mask(raw, size), orig


def load_pair_fast(job: tuple[dict, tuple[int, int], int, MaskMapping]) -> tuple:
    """Same contract as unet.preprocess._load_pair: (image (h, w, C), class indices (h, w))."""
    pair, size, channels, mapping = job
    image, image_size = _draft_decode(pair["image"], size, channels)
    mask, mask_size = read_mask_resized(pair["mask"], size)
    if image_size != mask_size:
        raise MaskValueError(
            f"image {pair['image']} is {image_size[0]}x{image_size[1]} but its mask "
            f"{pair['mask']} is {mask_size[0]}x{mask_size[1]}; masks must match their image"
        )
    return image, mapping.to_index(mask, source=f"mask {pair['mask']}")


_OPEN: dict[str, np.ndarray] = {}  # memmaps opened by this worker process, by path


def write_pair(task: tuple[int, tuple, str, str]) -> None:
    """Load pair k and write it straight into the memory-mapped cache files; returns nothing.

    Returning 2.4 MB of arrays per Carvana pair through the pool's pipe costs the parent more
    than the decode it waits for: writing in the worker is what lets the work scale.
    """
    k, job, images_path, masks_path = task
    for path in (images_path, masks_path):
        if path not in _OPEN:
            _OPEN[path] = np.load(path, mmap_mode="r+")
    _OPEN[images_path][k], _OPEN[masks_path][k] = load_pair_fast(job)


def cache_in_place(jobs: list[tuple], images_path: str, masks_path: str, processes: int) -> None:
    """Fill existing (N, h, w, C) and (N, h, w) `.npy` files from `jobs`, in worker processes."""
    from unet.common.parallel import parallel_map

    tasks = [(k, job, images_path, masks_path) for k, job in enumerate(jobs)]
    for _ in parallel_map(write_pair, tasks, processes, "cache in place", ordered=False):
        pass
    for path in (images_path, masks_path):
        if path in _OPEN:  # the serial path wrote through this process's own maps
            _OPEN.pop(path).flush()
