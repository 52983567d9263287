"""Sliding-window prediction of one large image: peak memory at 8192^2 vs 2048^2, and tiles/s.

Each prediction runs in a fresh interpreter. `predict_masks` reads the image from the native
cache (memory-mapped) and writes its probabilities and mask band by band: its anonymous memory
should not grow with the image. `predict_files` (the `unet predict` command and the
predict_folder rule) decodes the image file whole first, so it holds the image once: reported
beside it, without a goal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import Row, child_main, peak_of, row, run_child
from benchmarks.fixtures import scratch
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig

TILE = 256  # patch and tile side
MODEL = {"depth": 4, "base_width": 8}  # small, so that a 8192^2 image takes a minute
SIDES = {False: (2048, 8192), True: (1024, 4096)}  # (baseline, large) side; True: --quick


def _image(path: Path, side: int) -> None:
    """A smooth RGB picture with a disc, fast to encode; its mask beside it."""
    y, x = np.ogrid[:side, :side]
    wave = (127 + 120 * np.sin(x / 37.0) * np.cos(y / 53.0)).astype(np.uint8)
    rgb = np.broadcast_to(wave[..., None], (side, side, 3))
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, compress_level=1)
    disc = ((y - side / 2) ** 2 + (x - side / 2) ** 2 < (side / 4) ** 2).astype(np.uint8) * 255
    Image.fromarray(disc).save(path.with_name(path.stem + "_mask.png"), compress_level=1)


def _setup(side: int, scale: float = 1.0) -> Path:
    """A native cache (times `scale`) whose test split is one side x side image, and a
    patch-trained model."""
    folder = scratch() / f"tiles_{side}_{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for name, s in (("train", 64), ("val", 64), ("test", side)):
        path = folder / f"{name}.png"
        _image(path, s)
        pairs.append({"id": name, "image": str(path),
                      "mask": str(path.with_name(f"{name}_mask.png")), "size": [s, s]})
    write_json(folder / "manifest.json", {"source": "benchmark", "pairs": pairs})
    write_json(folder / "split.json", {"train": ["train"], "val": ["val"], "test": ["test"]})
    meta = preprocess(folder / "manifest.json", folder / "split.json", folder / "cache",
                      PreprocessSettings(mode="native", scale=scale, mask_values=(0, 255)))
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=2, **MODEL)
    torch.manual_seed(0)
    settings = {"patch": {"size": [TILE, TILE], "foreground": 0.33, "per_image": 1}}
    record = checkpoint.model_record(config.to_dict(), UNet(config).state_dict(), meta,
                                     settings, 1, None, [0.0, 0.0], "benchmark")
    checkpoint.save(folder / "model.pt", record)
    return folder


def child(how: str, folder: Path) -> dict:
    """Predict the test image (`cache`: predict_masks; `file`: predict_files); report peaks."""
    from unet.infer.predict import PredictSettings, predict_masks
    from unet.infer.predict_folder import predict_files

    settings = PredictSettings(batch_size=8, device="cpu", overlap=0.5)
    if how == "cache":
        return peak_of(lambda: predict_masks([folder / "model.pt"], folder / "cache", "test",
                                             folder / "pred", settings, threads=2))
    return peak_of(lambda: predict_files([folder / "model.pt"], [folder / "test.png"],
                                         folder / "files", settings, threads=2))


def measure(how: str, folder: Path) -> dict:
    """Run `child` in a fresh interpreter and return the peaks it reports."""
    return run_child("benchmarks.bench_tiles", how, str(folder))


def tiles(side: int) -> int:
    """Tiles one image of side x side takes (overlap 0.5, tile 256, aligned starts)."""
    from unet.infer.tiles import tile_starts

    return len(tile_starts(side, TILE, 0.5, 2 ** MODEL["depth"])) ** 2


def run(quick: bool = False) -> list[Row]:
    small, large = SIDES[quick]
    # The file path grows with the image by design: half the side is enough to show it.
    sides = {"cache": (small, large), "file": (small, large // 2)}
    figures = {(how, s): measure(how, _setup(s)) for how, pair in sides.items() for s in pair}
    # The large image cached at a quarter of its side, the small image's side: the same
    # window work, plus the resize of its probabilities to the original.
    figures["scaled", large] = measure("cache", _setup(large, small / large))
    rows = []
    a, b = figures["cache", small], figures["cache", large]
    rows.append(row(
        f"tiles: predict_masks peak anonymous RSS, {large}^2 vs {small}^2",
        b["peak_anon_kb"] / 1024, "MB", a["peak_anon_kb"] / 1024, goal=("<=", 1.2, "ratio"),
        note=f"{large * large / small / small:.0f}x the pixels; idle interpreter with torch "
        f"{b['idle_kb'] / 1024:.0f} MB",
    ))
    scaled = figures["scaled", large]
    rows.append(row(
        f"tiles: predict_masks of a {large}^2 image cached at {small}^2 (scale "
        f"{small / large:g}) vs a native {small}^2, peak anonymous RSS",
        scaled["peak_anon_kb"] / 1024, "MB", a["peak_anon_kb"] / 1024, goal=("<=", 1.2, "ratio"),
        note="the same sliding window, plus resizing the probabilities to the original band by "
        "band; resized whole they took 1,522 MB at 8192^2",
    ))
    fa, fb = figures["file", small], figures["file", large // 2]
    rows.append(row(
        f"tiles: predict_files peak anonymous RSS, {large // 2}^2 vs {small}^2",
        fb["peak_anon_kb"] / 1024, "MB", fa["peak_anon_kb"] / 1024,
        note="decodes the file whole first: it holds the image, 3 bytes a pixel (48 MB at "
        "4096^2, 192 MB at 8192^2) beside the window's bounded memory",
    ))
    n = tiles(large)
    rows.append(row(
        f"tiles: throughput at {large}^2 (tile {TILE}, overlap 0.5, batch 8, 2 threads)",
        n / b["seconds"], "tiles/s", tiles(small) / a["seconds"],
        note=f"{n} tiles in {b['seconds']:.0f} s; baseline: the {small}^2 image; model depth "
        f"{MODEL['depth']}, width {MODEL['base_width']}",
    ))
    return rows


if __name__ == "__main__":
    child_main(__doc__, run, child, ('HOW', 'FOLDER'))
