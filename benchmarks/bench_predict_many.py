"""A folder of many small new images (`unet predict`, the predict_folder rule): images/s with
predict.batch_size 8 (images of one size through the network, the resize and the softmax
together) vs 1 (one image a pass, as every image went before), in the same run.

`python -m benchmarks.bench_predict_many [--quick] [-n 3000]` (300 by default: about 2 minutes on 2
cores; --quick 100).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import Row, interleaved, row
from benchmarks.fixtures import scratch
from unet.infer.forward import PredictSettings
from unet.infer.predict_folder import predict_folder
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig

SIZES = ((64, 64), (64, 64), (64, 64), (48, 40))  # (w, h): mostly one size, some of another


def _folder(n: int) -> Path:
    """n small RGB PNGs of mixed sizes and a model of random weights trained (as its file
    says) at 48x32 beside them."""
    root = scratch() / f"predict_many_{n}"
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        w, h = SIZES[k % len(SIZES)]
        Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(images / f"{k:05d}.png")
    torch.manual_seed(0)
    config = UNetConfig(in_channels=3, num_classes=2, depth=3, base_width=8)
    meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 3, "num_classes": 2,
            "mask_bits": 8, "mode": "resize"}
    net = build_model(config, pretrained=False)
    checkpoint.save(root / "model.pt", checkpoint.model_record(
        config.to_dict(), net.state_dict(), meta, {}, 1, None, [0.5, 0.5], ""))
    return root


def run(quick: bool = False, n: int | None = None) -> list[Row]:
    n = n or (100 if quick else 300)
    root = _folder(n)

    def predict(batch: int) -> None:
        predict_folder([root / "model.pt"], root / "images", root / f"out{batch}",
                       PredictSettings(device="cpu", batch_size=batch), threads=2)

    one, eight = interleaved(1, lambda: predict(1), lambda: predict(8))
    # the masks only: the folder also holds unet predict's resume record
    # (.unet-predict.jsonl), which differs between the two runs
    masks = sorted(p.name for p in (root / "out8").glob("*.png"))
    same = masks == sorted(p.name for p in (root / "out1").glob("*.png")) and all(
        (root / "out1" / m).read_bytes() == (root / "out8" / m).read_bytes() for m in masks)
    return [
        row(f"predict_folder, {n} images of 64x64 and 48x40, batch 1 (baseline)", n / one,
            "images/s"),
        row(f"predict_folder, {n} images, batch 8", n / eight, "images/s", n / one,
            goal=(">=", 2.0, "ratio"),
            note=f"masks byte-identical to batch 1: {same} ({len(masks)} masks)"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="100 images, not 300")
    ap.add_argument("-n", type=int, default=None, help="images (default 300, --quick 100)")
    args = ap.parse_args()
    print_table(run(args.quick, args.n))
