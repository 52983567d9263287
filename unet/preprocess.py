"""`preprocess`: resize every pair once and cache each split as memory-mappable `.npy`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from unet.fileio import atomic_path, read_json, write_json
from unet.imageio import open_image, read_mask, to_model_mode
from unet.masks import MaskMapping, MaskValueError, binarise, mapping_from_values
from unet.parallel import parallel_map
from unet.split import SPLITS

log = logging.getLogger(__name__)
GREY_MODES = {"L", "LA", "1", "I", "I;16", "I;16B", "I;16L", "F"}


@dataclass(frozen=True)
class PreprocessSettings:
    """Target size and how mask values become class indices."""

    width: int
    height: int
    mask_values: tuple[int, ...] | None = None  # grey value of class i at position i
    mask_threshold: int | None = None  # binarise: values above it are foreground
    max_mask_values: int = 16  # more distinct values than this looks lossy
    mask_ignore: int | None = None  # grey value skipped by the loss and the metrics


def resize_image(im: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """Area-then-bilinear resize to `size` (w, h); returns uint8 (h, w, channels)."""
    im = to_model_mode(im)
    im = im.convert("L" if channels == 1 else "RGB")
    # reducing_gap: PIL first box-reduces by an integer factor (area filter), then
    # finishes with bilinear, which is both faster and better than bilinear alone.
    arr = np.asarray(im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    return arr[..., None] if arr.ndim == 2 else arr


def resize_mask(raw: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label map (h, w) to `size` (w, h): never invents values."""
    h, w = raw.shape
    # Sample at pixel centres, as PIL's NEAREST does; works for any dtype (8- or 16-bit).
    rows = np.minimum(((np.arange(size[1]) + 0.5) * h / size[1]).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(size[0]) + 0.5) * w / size[0]).astype(np.int64), w - 1)
    return raw[rows[:, None], cols[None, :]]


def _mask_values(path: str) -> set[int]:
    return set(np.unique(read_mask(path)).tolist())


def _load_pair(job: tuple[dict, tuple[int, int], int, MaskMapping, int | None]) -> tuple:
    pair, size, channels, mapping, threshold = job
    image = open_image(pair["image"])
    raw = read_mask(pair["mask"])
    if image.size != (raw.shape[1], raw.shape[0]):
        raise MaskValueError(
            f"image {pair['image']} is {image.size[0]}x{image.size[1]} but its mask "
            f"{pair['mask']} is {raw.shape[1]}x{raw.shape[0]}; masks must match their image"
        )
    if threshold is not None:
        raw = binarise(raw, threshold)
    index = mapping.to_index(resize_mask(raw, size), source=f"mask {pair['mask']}")
    return resize_image(image, size, channels), index


def _channels(pairs: list[dict]) -> int:
    """1 when every image is greyscale, else 3 (read from headers, no decode)."""
    for p in pairs:
        with Image.open(p["image"]) as im:
            if im.mode not in GREY_MODES:
                return 3
    return 1


def preprocess(
    manifest_path: str | os.PathLike,
    split_path: str | os.PathLike,
    cache_dir: str | os.PathLike,
    settings: PreprocessSettings,
    processes: int = 1,
) -> dict:
    """Resize and cache every split; returns (and writes) the cache's meta.json."""
    manifest, split = read_json(manifest_path), read_json(split_path)
    cache_dir = Path(cache_dir)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    pairs = [by_id[i] for s in SPLITS for i in split[s]]
    size = (settings.width, settings.height)
    channels = _channels(pairs)
    found: set[int] = set()
    if settings.mask_values is None and settings.mask_threshold is None:
        for values in parallel_map(
            _mask_values, [p["mask"] for p in pairs], processes, "scan mask values"
        ):
            found |= values
    mapping = mapping_from_values(
        found,
        settings.mask_values,
        settings.mask_threshold,
        settings.max_mask_values,
        settings.mask_ignore,
    )
    log.info(
        "%d channel(s); mask values %s -> classes 0..%d",
        channels,
        list(mapping.values),
        mapping.num_classes - 1,
    )
    meta = {
        "size": list(size),
        "in_channels": channels,
        "class_values": list(mapping.values),
        "num_classes": mapping.num_classes,
        "mask_threshold": settings.mask_threshold,
        "ignore_value": settings.mask_ignore,
        "splits": {},
    }
    for name in SPLITS:
        members = [by_id[i] for i in split[name]]
        meta["splits"][name] = {"ids": split[name], "orig_sizes": [p["size"] for p in members]}
        _cache_split(
            cache_dir, name, members, size, channels, mapping, settings.mask_threshold, processes
        )
    write_json(cache_dir / "meta.json", meta)
    return meta


def _cache_split(
    cache_dir: Path,
    name: str,
    pairs: list[dict],
    size: tuple[int, int],
    channels: int,
    mapping: MaskMapping,
    threshold: int | None,
    processes: int,
) -> None:
    w, h = size
    with (
        atomic_path(cache_dir / f"{name}_images.npy") as img_tmp,
        atomic_path(cache_dir / f"{name}_masks.npy") as mask_tmp,
    ):
        # Written straight into memory-mapped files: memory stays flat as the set grows.
        images = np.lib.format.open_memmap(
            img_tmp, mode="w+", dtype=np.uint8, shape=(len(pairs), h, w, channels)
        )
        masks = np.lib.format.open_memmap(
            mask_tmp, mode="w+", dtype=np.uint8, shape=(len(pairs), h, w)
        )
        jobs = [(p, size, channels, mapping, threshold) for p in pairs]
        for k, (img, mask) in enumerate(parallel_map(_load_pair, jobs, processes, f"cache {name}")):
            images[k], masks[k] = img, mask
        images.flush()
        masks.flush()
        del images, masks


def load_split(cache_dir: str | os.PathLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Memory-map a cached split: images (N, H, W, C) uint8 and masks (N, H, W) uint8."""
    cache_dir = Path(cache_dir)
    return (
        np.load(cache_dir / f"{name}_images.npy", mmap_mode="r"),
        np.load(cache_dir / f"{name}_masks.npy", mmap_mode="r"),
    )
