"""Predicted probabilities on disk: one float16 (C, H, W) `.npy` per image, memory-mappable.

Uncompressed on purpose: a large image's probabilities are written band by band as they are
predicted and read back (CRF, tuning, final choice) a tile at a time, never whole in memory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from unet.common.fileio import atomic_path


def probs_path(pred_dir: str | os.PathLike, image_id: str) -> Path:
    """pred_dir/probs/<id>.npy: where predict_masks writes an image's probabilities."""
    return Path(pred_dir) / "probs" / f"{image_id}.npy"


def check_room(
    out_dir: str | os.PathLike,
    classes: int,
    sizes: list[tuple[int, int]],
    scratch: list[tuple[str, int]] | None = None,
) -> None:
    """Refuse, before anything is written, when the probabilities of images of these (w, h)
    sizes would not fit the free space of `out_dir`'s disk (float16, `classes` a pixel);
    `scratch`: each image's (id, bytes of the scratch files held beside its probabilities while
    it is written, 0 for none), on top of the probabilities written before it."""
    files = [2 * classes * w * h + 128 for w, h in sizes]  # 128: the .npy header
    need = peak = sum(files)
    worst, held = None, 0
    for size, (image_id, extra) in zip(files, scratch or [], strict=False):
        held += size  # written in order: the later images' files are not there yet
        if extra and held + extra > peak:
            peak, worst = held + extra, (image_id, extra)
    free = free_room(out_dir)
    if peak <= free:
        return
    size = _sizes(peak)
    what = (f"predicting writes {size(need)} of probabilities (float16, {len(sizes)} images at "
            f"their original size, {classes} classes, for the CRF and the final choice) into "
            f"{out_dir}")
    if need < peak:  # the probabilities alone may fit, not with a large image's scratch files
        image_id, extra = worst
        what += (f", and while it writes {image_id}, {size(extra)} of scratch files beside "
                 "them (its mask's values; its probabilities at the cached size, or in bands "
                 f"of columns): {size(peak)} at most")
    raise OSError(f"{what}, but its disk has {size(free)} free: free space, or run the "
                  "workflow from a larger disk")


def free_room(out_dir: str | os.PathLike) -> int:
    """Bytes free on the disk of `out_dir`, or of the nearest folder above it that exists."""
    where = Path(out_dir).absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    return shutil.disk_usage(where).free


def _sizes(peak: int):
    """A formatter of byte counts in one unit (GB, or MB below 1 GB): figures to compare."""
    unit, scale = ("GB", 1e9) if peak >= 1e9 else ("MB", 1e6)
    return lambda n: f"{n / scale:,.1f} {unit}"


def check_mask_room(out_dir: str | os.PathLike, held: list[tuple[str, int]]) -> None:
    """Refuse, before anything is written, when the files one new image's mask is written with
    (`held`: each image's (id, bytes): scratch files and the mask, at most its values) would not
    fit the free space of `out_dir`'s disk; the masks before it are compressed PNGs, uncounted."""
    if not held:
        return
    image_id, peak = max(held, key=lambda one: one[1])
    free = free_room(out_dir)
    if peak <= free:
        return
    size = _sizes(peak)
    raise OSError(f"predicting {len(held)} new images into {out_dir} holds {size(peak)} at most "
                  f"while it writes {image_id} (its mask, with scratch files beside it: its "
                  "values, its probabilities at the model's size), but its disk has "
                  f"{size(free)} free: free space, or write the masks to a larger disk")


def write_probs(path: str | os.PathLike, probs) -> None:
    """Write one image's probabilities (C, H, W) as float16 `.npy`, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(probs, dtype=np.float16))


# A file replaced or damaged inside an output folder does not make Snakemake rerun its step,
# so "rerun prediction" alone did nothing: the command that does.
RERUN_PREDICTION = ("rerun prediction: `snakemake --forcerun predict_masks` with your usual "
                    "options (a file changed by hand inside its folder does not make it stale)")


def read_probs(path: str | os.PathLike) -> np.ndarray:
    """Memory-map one image's probabilities (C, H, W) float16; a clear error if not that."""
    try:
        probs = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as err:
        raise ValueError(
            f"cannot read probabilities {path}: {err}; {RERUN_PREDICTION}"
        ) from err
    if not isinstance(probs, np.ndarray):  # np.load opens an .npz by content, whatever its name
        probs.close()
        raise ValueError(
            f"{path} is an .npz archive, not one .npy array of (C, H, W) probabilities; "
            f"{RERUN_PREDICTION}, or save the array alone with np.save"
        )
    if probs.ndim != 3 or not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(
            f"{path} holds a {probs.dtype} array of shape {probs.shape}, not (C, H, W) "
            f"probabilities; {RERUN_PREDICTION}"
        )
    return probs


def labels_of(probs: np.ndarray, rows: int = 256) -> np.ndarray:
    """argmax(0) of (C, H, W) probabilities (a memory-mapped file) as uint8 (int16 beyond 256
    classes), `rows` rows at a time: numpy's argmax over the first axis copies the whole array
    and gives int64, 1 GB above the file for 2 classes at 8192x8192."""
    out = np.empty(probs.shape[1:], np.uint8 if len(probs) <= 256 else np.int16)
    for y in range(0, out.shape[0], rows):
        out[y : y + rows] = np.asarray(probs[:, y : y + rows]).argmax(0)
    return out


def blank_probs(path: str | os.PathLike, void: np.ndarray, rows: int = 256) -> None:
    """Rewrite one image's probabilities (atomically) with NaN where `void` (H, W) is set: a
    scene's no-data, written into its masks as masks.ignore, had the model's answer to input 0
    (a class for sure) for a user thresholding them; `rows` rows at a time, never whole."""
    src = read_probs(path)
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=src.dtype, shape=src.shape)
        for y in range(0, src.shape[1], rows):
            block = np.array(src[:, y : y + rows])  # (C, rows, W), a copy to blank
            block[:, void[y : y + rows]] = np.nan
            out[:, y : y + rows] = block
        out.flush()
        del out  # closed before the rename
