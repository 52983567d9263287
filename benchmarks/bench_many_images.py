"""Data sets of many small images (nuclei crops, 256x256 satellite chips, video frames): the
per-image work of a step against the same pixels in one image, where a fixed cost per image
(one that does not shrink with the image) shows as a ratio well above 1.

evaluate: `image_scores` (confusion counts, HD95 and boundary F1 of each class) on N pairs of
64x64 vs one pair of the N tiled side by side. Each distance histogram had MARGIN**2 + 1 bins
whatever the image until 2026-12-06: 6.8 ms an image, ratio 1.8 on 2 shared cores; now
3.1 ms, ratio 0.9.

sync: `sync_tree` (the end of predict_masks, refine_crf, finalize_masks) on a folder of N
mask-sized files vs a bare loop that fsyncs them one at a time, as sync_tree did until
2026-12-06 (each waited for its own journal commit: 7-10 s for 1,500 files on ext4).

write: `PredictionWriter` (predict_masks' per-image output: probabilities .npy and mask PNG,
each written atomically with its room reserved first) vs a bare np.save and PIL save of the
same arrays. Until 2026-12-06 the reserved probabilities file was reopened with "wb", which
freed and allocated its blocks again: 3-4 ms an image more on ext4.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np

from benchmarks.common import Row, best_of, interleaved, row
from benchmarks.fixtures import scratch

SMALL = 64  # px a side of each small image
COUNT = {False: 256, True: 64}  # small images; a square number: they tile one large image
FILES = {False: 1500, True: 300}  # files synced: 750 test images' masks and probabilities


def small_pairs(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pred, target) class indices: a disc each, the prediction shifted and speckled."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:SMALL, :SMALL]
    pairs = []
    for _ in range(n):
        cy, cx = rng.uniform(16, 48, 2)
        target = ((yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(6, 14) ** 2).astype(np.uint8)
        pred = np.roll(target, int(rng.integers(-2, 3)), axis=1)
        pred[rng.random(pred.shape) < 0.002] = 1
        pairs.append((pred, target))
    return pairs


def tiled(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The small pairs as one large pair, side by side in a square grid."""
    k = int(np.sqrt(len(pairs)))
    rows = [pairs[r * k:(r + 1) * k] for r in range(k)]
    return tuple(np.block([[p[i] for p in row_] for row_ in rows]) for i in (0, 1))


def _fresh_files(folder: Path, n: int) -> list[Path]:
    """n files of a 64x64 mask's bytes, new (dirty in the page cache) each call."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{k}.png" for k in range(n)]
    for path in paths:
        path.write_bytes(os.urandom(SMALL * SMALL // 4))
    return paths


def _bare_sync(paths: list[Path]) -> None:
    """fsync each file, one after another."""
    for path in paths:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sync_row(quick: bool) -> Row:
    """sync_tree vs the bare loop, each on files written just before it (best of 2)."""
    from unet.common.durable import sync_tree

    n, root = FILES[quick], scratch() / "many_sync"
    tree, bare = interleaved(
        2,
        lambda: (_fresh_files(root / "tree", n), sync_tree(root / "tree")),
        lambda: _bare_sync(_fresh_files(root / "bare", n)),
    )
    writing = best_of(2, lambda: _fresh_files(root / "write", n))  # in both: taken off
    shutil.rmtree(root, ignore_errors=True)
    return row(f"many images: sync_tree of {n} mask-sized files vs fsync one at a time",
               max(tree - writing, 0.0), "s", max(bare - writing, 0.0), goal=("<=", 0.5, "ratio"),
               note="the step's end (predict_masks, refine_crf, finalize_masks); writing the "
               f"files ({writing:.2f} s) taken off both")


def write_row(quick: bool) -> Row:
    """PredictionWriter vs a bare save, per 64x64 image of 2 classes (best of 2)."""
    import torch
    from PIL import Image

    from unet.common.labels import MaskMapping
    from unet.infer.writer import PredictionWriter

    n, root, mapping = FILES[quick] // 2, scratch() / "many_write", MaskMapping(values=(0, 1))
    seeded = torch.Generator().manual_seed(0)
    bands = torch.softmax(torch.randn(n, 2, SMALL, SMALL, generator=seeded), 1)  # (N, 2, H, W)

    def package(k: int, folder: Path) -> None:
        with PredictionWriter(folder / f"m{k}.png", folder / f"p{k}.npy", mapping,
                              (SMALL, SMALL), (SMALL, SMALL)) as writer:
            writer.add(0, bands[k])

    def bare(k: int, folder: Path) -> None:
        half = bands[k].half().numpy()
        np.save(folder / f"p{k}.npy", half)
        Image.fromarray(half.argmax(0).astype(np.uint8)).save(folder / f"m{k}.png")

    def all_of(write, name: str) -> None:
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for k in range(n):
            write(k, folder)

    ours, base = interleaved(2, lambda: all_of(package, "ours"), lambda: all_of(bare, "bare"))
    shutil.rmtree(root, ignore_errors=True)
    return row(f"many images: predict_masks' writer, ms per {SMALL}x{SMALL} image, {n} images",
               1000 * ours / n, "ms", 1000 * base / n, goal=("<=", 2, "ratio"),
               note="probabilities .npy and mask PNG, atomic with room reserved, vs np.save "
               "and PIL save")


def run(quick: bool = False) -> list[Row]:
    from unet.evaluate.boundary import image_scores

    pairs = small_pairs(COUNT[quick])
    large_pred, large_target = tiled(pairs)
    many, one = interleaved(
        3,
        lambda: [image_scores(p, t, 2) for p, t in pairs],
        lambda: image_scores(large_pred, large_target, 2),
    )
    n = len(pairs)
    side = large_target.shape[0]
    return [
        row(f"many images: evaluate, ms per {SMALL}x{SMALL} image scored, {n} alone vs tiled "
            f"into one {side}^2", 1000 * many / n, "ms", 1000 * one / n, goal=("<=", 1.3, "ratio"),
            note="the same pixels and objects; a ratio above 1 is a fixed cost per image"),
        sync_row(quick),
        write_row(quick),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="64 images, not 256")
    print_table(run(ap.parse_args().quick))
