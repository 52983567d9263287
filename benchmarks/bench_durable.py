"""What making outputs survive a power cut costs: fsync before the rename, per file or batched.

The preprocess cache (a few large `.npy` files, meta.json last) and a folder of per-image mask
files (predict_masks, refine_crf), each written with and without fsync."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from benchmarks.common import Row, best_of, interleaved, row
from benchmarks.fixtures import scratch, synthetic_pairs
from unet.cache.preprocess import load_pair
from unet.cache.values import mapping_from_values
from unet.common.fileio import atomic_dir, atomic_path

SIZES = {False: (200, 512, 3), True: (40, 256, 2)}  # (images, side, repeats); True: --quick


def _images(n: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` noisy RGB images (n, side, side, 3) and 0/1 masks (n, side, side), uint8."""
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (n, side, side, 3), np.uint8),
            rng.integers(0, 2, (n, side, side), np.uint8))


def write_cache(folder: Path, images: np.ndarray, masks: np.ndarray, durable: bool) -> None:
    """The cache as preprocess() writes it: memory-mapped stacks in a scratch folder, filled
    row by row, moved in by atomic_dir with meta.json last."""
    shutil.rmtree(folder, ignore_errors=True)
    with atomic_dir(folder, durable=durable) as tmp:
        for name, arr in (("train_images", images), ("train_masks", masks)):
            out = np.lib.format.open_memmap(tmp / f"{name}.npy", "w+", np.uint8, arr.shape)
            for k in range(len(arr)):
                out[k] = arr[k]
            del out
        (tmp / "meta.json").write_text("{}\n")


def write_files(folder: Path, masks: np.ndarray, durable: bool) -> None:
    """One `.npy` per mask, each through atomic_path (durable: its own fsync, then the
    folder's, before the next file is written)."""
    shutil.rmtree(folder, ignore_errors=True)
    for k, mask in enumerate(masks):
        with atomic_path(folder / f"{k:05d}.npy", durable=durable) as tmp, open(tmp, "wb") as f:
            np.save(f, mask)


def write_files_batched(folder: Path, masks: np.ndarray) -> None:
    """The same files in a scratch folder, every one fsynced at the end of the step, then
    moved in, and one fsync of the folder: the batched alternative."""
    shutil.rmtree(folder, ignore_errors=True)
    with atomic_dir(folder, durable=True) as tmp:
        for k, mask in enumerate(masks):
            np.save(tmp / f"{k:05d}.npy", mask)


def decode_ms(side: int, n: int = 4) -> float:
    """Milliseconds per pair of preprocess's own decode and resize (load_pair), on synthetic
    PNG pairs of side x side: what the cache's fsync adds to."""
    pairs = synthetic_pairs(scratch() / "decode", n, side, side)
    mapping = mapping_from_values(set(), (0, 255), None, 16, None)
    jobs = [(p, (side, side), 3, mapping, None) for p in pairs]
    return best_of(2, lambda: [load_pair(j) for j in jobs]) / n * 1e3


def run(quick: bool = False) -> list[Row]:
    """Seconds to write the cache and a folder of masks, fsynced vs not."""
    n, side, repeats = SIZES[quick]
    images, masks = _images(n, side)
    where = scratch() / "durable"
    plain, synced = interleaved(repeats, lambda: write_cache(where / "a", images, masks, False),
                                lambda: write_cache(where / "b", images, masks, True))
    mb = (images.nbytes + masks.nbytes) / 1e6
    loose, each, batched = interleaved(
        repeats, lambda: write_files(where / "c", masks, False),
        lambda: write_files(where / "d", masks, True),
        lambda: write_files_batched(where / "e", masks))
    shutil.rmtree(where, ignore_errors=True)
    what = f"{n} images {side}x{side}"
    added = (synced - plain) / n * 1e3
    return [
        row("durable: cache fsynced vs not", synced, "s", plain,
            note=f"{what} + masks, {mb:.0f} MB in 2 .npy + meta.json"),
        row("durable: cache fsync, ms added per pair vs its decode", added, "ms",
            decode_ms(side), goal=("<=", 0.2, "ratio"), note="load_pair of a PNG pair"),
        row("durable: mask files, fsync each vs none", each, "s", loose,
            note=f"{n} files of {side}x{side}, fsync + folder fsync per file"),
        row("durable: mask files, fsync batched vs none", batched, "s", loose,
            note="every file fsynced at the end, one folder fsync"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
