"""Writing the manifest when masks come as a run-length CSV (Kaggle) or COCO polygons: each
image's mask is decoded or drawn into a PNG. Baseline: the same masks read from GIF files and
written as PNGs, what a mask file costs to bring to the same place, so the ratio is the price
of the decoding itself. Carvana-size (1918x1280) cars, one process."""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import Row, row
from benchmarks.fixtures import scratch
from unet.common.maskio import write_mask_png
from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout
from unet.dataset.rle_submission import encode

SIZE = (1918, 1280)
SIZES = {False: (40, 2), True: (8, 1)}  # (images, repeats); True: --quick


def _polygon(i: int) -> list[float]:
    """A car-sized 40-gon, a little different for each image."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    w, h = SIZE
    xs = w / 2 + (0.35 + 0.01 * (i % 5)) * w * np.cos(t)
    ys = h / 2 + 0.3 * h * np.sin(t) * (1 + 0.1 * np.cos(3 * t))
    return np.stack([xs, ys], 1).reshape(-1).round(1).tolist()


def make(root: Path, n: int) -> None:
    """n images with their masks three ways: train_masks/*.gif, rle.csv, coco.json."""
    for d in ("train", "train_masks"):
        (root / d).mkdir(parents=True, exist_ok=True)
    rows, images, annotations = [], [], []
    for i in range(n):
        name = f"{i:04d}.jpg"
        Image.new("RGB", SIZE, (90, 90, 90)).save(root / "train" / name, quality=80)
        mask = Image.new("L", SIZE, 0)
        ImageDraw.Draw(mask).polygon(_polygon(i), fill=1)
        mask.save(root / "train_masks" / f"{i:04d}.gif")
        rows.append((name, encode(np.asarray(mask) > 0, "rows")))
        images.append({"id": i, "file_name": name, "width": SIZE[0], "height": SIZE[1]})
        annotations.append({"id": i, "image_id": i, "category_id": 1, "iscrowd": 0,
                            "area": 1.0, "segmentation": [_polygon(i)]})
    with open(root / "rle.csv", "w", newline="") as f:
        csv.writer(f).writerows([("ImageId", "EncodedPixels"), *rows])
    (root / "coco.json").write_text(json.dumps(
        {"images": images, "annotations": annotations,
         "categories": [{"id": 1, "name": "car"}]}))


def _timed(root: Path, out: Path, layout: Layout, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        write_manifest(out / "manifest.json", "local", root, layout)
        best = min(best, time.perf_counter() - t0)
    return best


def _copied(root: Path, out: Path, repeats: int) -> float:
    """Read every GIF mask and write it as a PNG: the baseline."""
    out.mkdir(parents=True, exist_ok=True)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for gif in sorted((root / "train_masks").glob("*.gif")):
            write_mask_png(out / f"{gif.stem}.png", np.asarray(Image.open(gif)))
        best = min(best, time.perf_counter() - t0)
    return best


def run(quick: bool = False) -> list[Row]:
    n, repeats = SIZES[quick]
    root = scratch() / "manifest"
    make(root, n)
    rle = {"csv": "rle.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
           "class_column": None, "order": "rows", "absent": "unpaired"}
    files = _copied(root, root / "o1", repeats)
    decoded = _timed(root, root / "o2", Layout(images="train", rle=tuple(sorted(rle.items()))),
                     repeats)
    coco = (("json", "coco.json"),)
    try:
        drawn = _timed(root, root / "o3", Layout(images="train", coco=coco), repeats)
    except Exception as err:  # pycocotools missing: the other rows still stand
        drawn, note = None, f"{type(err).__name__}: {err}"
    else:
        note = f"{n} images {SIZE[0]}x{SIZE[1]}, 1 process"
    return [
        row("manifest: masks decoded from a run-length CSV vs GIF masks to PNG", n / decoded,
            "pairs/s", n / files, goal=(">=", 0.5, "ratio"),
            note=f"{n} images {SIZE[0]}x{SIZE[1]}, 1 process"),
        row("manifest: masks drawn from COCO polygons vs GIF masks to PNG",
            None if drawn is None else n / drawn, "pairs/s", n / files, goal=(">=", 0.5, "ratio"),
            note=note),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test")
    print_table(run(ap.parse_args().quick))
