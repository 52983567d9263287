"""`preprocess`: resize every pair once and cache each split as memory-mappable `.npy`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from unet.fileio import atomic_dir, read_json, write_json
from unet.imageio import image_header, open_image, pack_rgb, read_mask, to_model_mode
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


def settings_from_config(size: dict, masks: dict) -> PreprocessSettings:
    """PreprocessSettings from the config's `preprocess` and `masks` sections."""
    values = masks["values"]
    if masks.get("colors"):  # RGB masks: a colour per class, as one 0xRRGGBB value each
        values = pack_rgb(np.asarray(masks["colors"], dtype=np.uint8)).tolist()
    return PreprocessSettings(
        width=size["width"],
        height=size["height"],
        mask_values=tuple(values) if values else None,
        mask_threshold=masks["threshold"],
        max_mask_values=masks["max_values"],
        mask_ignore=masks["ignore"],
    )


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
    full = tuple(pair["size"])  # (w, h) from the manifest: the draft decode may shrink it
    image = open_image(pair["image"], draft_to=size)
    raw = read_mask(pair["mask"])
    if full != (raw.shape[1], raw.shape[0]):
        raise MaskValueError(
            f"image {pair['image']} is {full[0]}x{full[1]} but its mask "
            f"{pair['mask']} is {raw.shape[1]}x{raw.shape[0]}; masks must match their image"
        )
    if threshold is not None:
        raw = binarise(raw, threshold)
    index = mapping.to_index(resize_mask(raw, size), source=f"mask {pair['mask']}")
    return resize_image(image, size, channels), index


def _channels(pairs: list[dict]) -> int:
    """1 when every image is greyscale, else 3 (read from headers, no decode)."""
    return 1 if all(image_header(p["image"])[0] in GREY_MODES for p in pairs) else 3


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
        rgb=any(image_header(p["mask"])[0] in ("RGB", "RGBA") for p in pairs),
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
        "mask_rgb": mapping.rgb,
        "folds": split.get("folds", []),  # cross-validation folds (ids), when split.folds >= 2
        "splits": {},
    }
    # Every file goes to a scratch folder first and moves in only when all are written, meta.json
    # last: a failed or killed run never leaves a cache that looks complete.
    with atomic_dir(cache_dir) as tmp_dir:
        jobs = []
        for name in SPLITS:
            members = [by_id[i] for i in split[name]]
            meta["splits"][name] = {"ids": split[name], "orig_sizes": [p["size"] for p in members]}
            paths = _create_split_files(tmp_dir, name, len(members), size, channels)
            jobs += [
                (k, p, size, channels, mapping, settings.mask_threshold, paths)
                for k, p in enumerate(members)
            ]
        # One pool for every split; each worker fills its rows of the files in place, so no
        # decoded image travels back through the pool and memory stays flat as the set grows.
        try:
            for _ in parallel_map(_cache_pair, jobs, processes, "cache", ordered=False):
                pass
        finally:
            _OPEN.clear()  # the serial path's own maps: close them before the files move
        write_json(tmp_dir / "meta.json", meta)
    return meta


def _create_split_files(
    folder: Path, name: str, n: int, size: tuple[int, int], channels: int
) -> tuple[str, str]:
    """Empty folder/<name>_images.npy (n, h, w, C) and <name>_masks.npy (n, h, w), uint8."""
    w, h = size
    paths = (str(folder / f"{name}_images.npy"), str(folder / f"{name}_masks.npy"))
    for path, shape in zip(paths, ((n, h, w, channels), (n, h, w)), strict=True):
        np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape).flush()
    return paths


_OPEN: dict[str, np.memmap] = {}  # per process: maps stay open across the pairs it writes


def _cache_pair(job: tuple) -> int:
    """Decode, resize and map pair k, and write it into row k of its split's `.npy` files."""
    k, pair, size, channels, mapping, threshold, paths = job
    rows = _load_pair((pair, size, channels, mapping, threshold))
    for path, row in zip(paths, rows, strict=True):
        if path not in _OPEN:
            _OPEN[path] = np.load(path, mmap_mode="r+")
        # A shared mapping: the page cache holds the write for every process, no flush needed.
        _OPEN[path][k] = row
    return k


def load_split(cache_dir: str | os.PathLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Memory-map a cached split: images (N, H, W, C) uint8 and masks (N, H, W) uint8."""
    cache_dir = Path(cache_dir)
    return (
        np.load(cache_dir / f"{name}_images.npy", mmap_mode="r"),
        np.load(cache_dir / f"{name}_masks.npy", mmap_mode="r"),
    )
