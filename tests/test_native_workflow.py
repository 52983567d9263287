"""Native resolution end to end: a folder of mixed sizes, patch training, sliding windows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import copy_workflow, snakemake

pytestmark = pytest.mark.workflow

# (w, h): larger than the 48x48 patch, smaller than it in one side, and not multiples of 16.
SIZES = [(100, 70), (64, 64), (50, 37), (130, 90), (40, 61), (77, 77), (96, 50), (45, 45),
         (120, 64), (58, 83)]

CONFIG = """
dataset: {{name: mixed, source: local, local: {{path: "{path}"}}}}
split: {{seed: 0, val_fraction: 0.2, test_fraction: 0.3}}
preprocess: {{mode: native}}
model: {{depth: 2, base_width: 4}}
train: {{epochs: 2, batch_size: 2, device: cpu,
        patch: {{size: [48, 48], foreground: 0.5, per_image: 2}}}}
predict: {{batch_size: 3, device: cpu, overlap: 0.5}}
crf: {{iterations: 1, tune: {{max_images: 2, grid: {{bilateral_srgb: [5, 13]}}}}}}
"""


def write_mixed_folder(root) -> dict[str, tuple[int, int]]:
    """images/ and masks/ of bright discs on noise, one per size in SIZES; returns id -> size."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    sizes = {}
    for i, (w, h) in enumerate(SIZES):
        yy, xx = np.mgrid[:h, :w]
        cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, min(w, h) / 4
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        image = rng.integers(0, 90, (h, w, 3)).astype(np.uint8)
        image[disc] += 150
        Image.fromarray(image).save(root / "images" / f"m{i}.png")
        Image.fromarray((disc * 255).astype(np.uint8)).save(root / "masks" / f"m{i}.png")
        sizes[f"m{i}"] = (w, h)
    return sizes


def test_mixed_sizes_run_at_native_size(tmp_path):
    sizes = write_mixed_folder(tmp_path / "data")
    wd = copy_workflow(tmp_path / "wf")
    (wd / "mixed.yaml").write_text(CONFIG.format(path=tmp_path / "data"))
    args = ("--cores", "2", "--resources", "gpu=1", "--configfile", "mixed.yaml")
    snakemake(wd, *args)
    data = wd / "results/mixed"
    meta = json.loads((data / "cache/meta.json").read_text())
    assert meta["mode"] == "native" and meta["size"] is None
    for split, entry in meta["splits"].items():
        # Each image is cached at its own size (h, w): nothing was resized.
        assert [tuple(s) for s in entry["shapes"]] == [sizes[i][::-1] for i in entry["ids"]], split
    exp = data / "baseline"
    for image_id in meta["splits"]["test"]["ids"]:
        w, h = sizes[image_id]
        for folder in ("pred/test/masks", "crf/masks", "final/masks"):
            mask = np.asarray(Image.open(exp / folder / f"{image_id}.png"))
            assert mask.shape == (h, w), (folder, image_id)
            assert set(np.unique(mask)) <= {0, 255}  # the data's own values
        probs = np.load(exp / "pred/test/probs" / f"{image_id}.npy")
        assert probs.shape == (2, h, w) and probs.dtype == np.float16
    log = (exp / "logs/predict_masks_test.log").read_text()
    assert "48x48 tiles" in log
    summary = json.loads((exp / "metrics/summary.json").read_text())
    assert summary["images"] == len(meta["splits"]["test"]["ids"])
    out = snakemake(wd, *args, "-n")
    assert "Nothing to be done" in out.stdout + out.stderr
