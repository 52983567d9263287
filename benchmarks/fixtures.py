"""Benchmark data: Carvana-shaped JPEG/GIF pairs, placeholder sets and synthetic caches."""

from __future__ import annotations

import atexit
import functools
import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.parallel import parallel_map
from unet.dataset.split import make_split
from unet.dataset.synthetic import generate_dataset, generate_pair

CARVANA_SIZE = (1918, 1280)  # (w, h) of every Carvana image
CARVANA_HALF = (959, 640)  # milesial/Pytorch-UNet's scale 0.5


@functools.cache
def scratch() -> Path:
    """One temporary folder per process, shared by the benchmarks and removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="unet_bench_"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _carvana_pair(index: int, root: Path, size: tuple[int, int]) -> dict:
    stem = f"{index:012x}_01"
    img, mask = generate_pair(index, size[0], size[1], seed=7, classes=1)
    image_path = root / "train" / f"{stem}.jpg"
    mask_path = root / "train_masks" / f"{stem}_mask.gif"
    Image.fromarray(img).save(image_path, quality=90)
    # Carvana's masks are 2-colour palette GIFs holding indices 0/1.
    gif = Image.fromarray((mask > 0).astype(np.uint8), mode="P")
    gif.putpalette([0, 0, 0, 255, 255, 255])
    gif.save(mask_path)
    return {"id": stem, "image": str(image_path), "mask": str(mask_path), "size": list(size)}


def carvana_like(root: Path, n: int, size: tuple[int, int] = CARVANA_SIZE) -> list[dict]:
    """`n` Carvana-shaped pairs (train/*.jpg, train_masks/*_mask.gif); reused if present."""
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "train_masks").mkdir(parents=True, exist_ok=True)
    done = root / f"pairs_{n}.json"
    if done.exists():
        return json.loads(done.read_text())
    work = functools.partial(_carvana_pair, root=root, size=size)
    pairs = list(parallel_map(work, range(n), 2, "carvana-like pairs"))
    write_json(done, pairs)
    return pairs


def _tiny(fmt: str, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (8, 8)).save(buf, format=fmt)
    return buf.getvalue()


def placeholders(root: Path, n: int) -> Path:
    """`n` tiny Carvana-named pairs (8x8 JPEG, GIF): enough for Snakemake to plan and pair."""
    jpg, gif = _tiny("JPEG", "RGB"), _tiny("GIF", "P")
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "train_masks").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        stem = f"{i:012x}_01"
        (root / "train" / f"{stem}.jpg").write_bytes(jpg)
        (root / "train_masks" / f"{stem}_mask.gif").write_bytes(gif)
    return root


def synthetic_pairs(root: Path, n: int, width: int = 384, height: int = 256) -> list[dict]:
    """`n` pairs of the built-in synthetic data set (PNG), as manifest entries."""
    stems = generate_dataset(root, n, width, height, seed=3, processes=2)
    return [
        {
            "id": s,
            "image": str(root / "images" / f"{s}.png"),
            "mask": str(root / "masks" / f"{s}.png"),
            "size": [width, height],
        }
        for s in stems
    ]


def write_inputs(folder: Path, pairs: list[dict]) -> tuple[Path, Path]:
    """manifest.json and a 70/15/15 split.json for `pairs`, as the data rules write them."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest, split = folder / "manifest.json", folder / "split.json"
    write_json(manifest, {"source": "benchmark", "root": str(folder), "pairs": pairs})
    write_json(split, make_split([p["id"] for p in pairs], 0, 0.15, 0.15))
    return manifest, split


def build_cache(
    folder: Path,
    pairs: list[dict],
    size: tuple[int, int],
    mask_values: tuple[int, ...],
    processes: int = 2,
    **settings,
) -> Path:
    """The `.npy` cache of `pairs` at `size` (w, h), through the package's preprocess();
    `settings`: other PreprocessSettings, e.g. mode="native", scale=0.5 (size then unused)."""
    manifest, split = write_inputs(folder, pairs)
    cache = folder / "cache"
    settings = PreprocessSettings(width=size[0], height=size[1], mask_values=mask_values,
                                  **settings)
    if not (cache / "meta.json").exists():
        preprocess(manifest, split, cache, settings, processes=processes)
    return cache
